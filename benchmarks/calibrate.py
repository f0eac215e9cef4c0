"""Fit the confidence that the best topic is right, on the dev split only (never on test or the
blind files).

    python -m benchmarks.calibrate

A logistic regression on `confidence_features` of every dev line (in scope: is the best topic
the label; out of scope and the lines of benchmarks/general_dev_*.txt: never right).
The answer and buttons thresholds are chosen on out-of-fold confidences (5-fold
cross-validation, so a line never judges a model it trained): the most in-scope lines answered
right with at most MAX_WRONG answered wrongly, at least MIN_OOS_RECALL of the out-of-scope lines
declined and at most MAX_GENERAL_TOPIC of each general file's lines answered with a topic.
Prints the cross-validated figures (or that no thresholds meet the constraints) and the weights
fitted on all lines, to copy into bot/understanding/engine.py.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from benchmarks.accuracy import CONTENT, GENERAL_FILES, read_lines, tuning_rows
from bot.content import load_content
from bot.understanding import Understanding
from bot.understanding.engine import GENERAL, confidence_features

MAX_WRONG = 0.015
MIN_OOS_RECALL = 0.90
MAX_GENERAL_TOPIC = 0.005
C = 10.0  # weak regularisation: six features, some 1,500 lines


def _best_topic(scores: dict[str, float]) -> str | None:
    """The best topic when a topic is the best label (the calibrated case), else None."""
    ranked = [kv for kv in scores.items() if kv[0] != GENERAL]
    if not ranked:
        return None
    label = max(ranked, key=lambda kv: kv[1])[0]
    return label[2:] if label.startswith("t:") else None


def main() -> None:
    engine = Understanding(load_content(CONTENT))
    rows = tuning_rows(engine)
    # (group, expected topic) per line; group: in, oos, or the name of a general file
    lines = [("oos" if r.expected == "oos" else "in", r.expected) for r in rows]
    texts = [r.question for r in rows]
    for path in GENERAL_FILES["dev"]:
        general = read_lines([path])
        lines += [(path.name, "oos")] * len(general)
        texts += general
    scores = [engine.score(text) for text in texts]
    best = [_best_topic(s) for s in scores]
    x = np.array(
        [confidence_features(s, len(t.split())) for s, t in zip(scores, texts, strict=True)]
    )
    y = np.array([b is not None and b == e for b, (_, e) in zip(best, lines, strict=True)])
    group = np.array([g for g, _ in lines])
    calibrated = np.array([b is not None for b in best])

    sure = np.zeros(len(y))
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    strata = [f"{g}{int(right)}" for g, right in zip(group, y, strict=True)]
    for train, held in folds.split(x, strata):
        model = LogisticRegression(C=C, max_iter=2000).fit(x[train], y[train])
        sure[held] = model.predict_proba(x[held])[:, 1]

    inside, oos = group == "in", group == "oos"
    print(f"best topic right (ranking): {y[inside].mean():.1%} of {inside.sum()} in scope")
    chosen = None
    for answer, buttons in itertools.product(
        np.arange(0.2, 0.81, 0.05), np.arange(0.1, 0.41, 0.05)
    ):
        if buttons > answer:
            continue
        answered = calibrated & (sure >= answer)
        offered = calibrated & ~answered & (sure >= buttons)
        right = int((answered & inside & y).sum())
        wrong = int((answered & inside & ~y).sum())
        # Out of scope lines a topic was given or offered to; the others are declined or sent
        # to a neighbouring service the same as before.
        oos_missed = int(((answered | offered) & oos).sum())
        general_topic = max(
            (answered & (group == path.name)).sum() / (group == path.name).sum()
            for path in GENERAL_FILES["dev"]
        )
        if (
            wrong > MAX_WRONG * inside.sum()
            or oos_missed > (1 - MIN_OOS_RECALL) * oos.sum()
            or general_topic > MAX_GENERAL_TOPIC
        ):
            continue
        key = (right, -wrong, -oos_missed)
        if chosen is None or key > chosen[0]:
            chosen = (key, answer, buttons, general_topic)
    if chosen is None:
        print(f"no thresholds meet the constraints (at most {MAX_WRONG:.1%} wrong, …)")
    else:
        (right, wrong, oos_missed), answer, buttons, general_topic = chosen
        print(
            f"cross-validated: answer={answer:.2f} sure_enough={buttons:.2f}: right {right}"
            f" ({right / inside.sum():.1%}), wrong {-wrong}, out of scope given a topic"
            f" {-oos_missed} of {oos.sum()} (not counting other routes), general answered"
            f" {general_topic:.2%} (worst file)"
        )
    model = LogisticRegression(C=C, max_iter=2000).fit(x, y)
    weights = ", ".join(f"{w:.4f}" for w in model.coef_[0])
    print(f"CONFIDENCE_BIAS = {model.intercept_[0]:.4f}")
    print(f"CONFIDENCE_WEIGHTS = ({weights})")


if __name__ == "__main__":
    main()
