"""How the engine does on phrasing it has never seen: each topic's sample questions scored by an
engine built without them (K-fold over every topic's questions).

    python -m benchmarks.heldout

The dev files have been tuned on for many rounds and the blind files show the engine a few
points worse on new writers' phrasing; a sample question left out of the index is new phrasing
in the same sense, and there are thousands of them. Prints the same figures as
benchmarks.accuracy for the held-out questions (a question identical to another sample after
normalising is left out, as it would be seen).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator

from benchmarks.accuracy import CONTENT
from bot.content import Content, load_content
from bot.core import LANGS
from bot.understanding import Understanding
from bot.understanding.engine import decide

FOLDS = 5


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """One left-out sample question and the fused scores an engine without it gave."""

    expected: str
    lang: str
    question: str
    scores: dict[str, float]


def _without(content: Content, fold: int) -> tuple[Content, list[tuple[str, str, str]]]:
    """The content with every FOLDS-th sample question of each topic and language removed,
    and the removed (topic, language, question)."""
    topics = {}
    removed: list[tuple[str, str, str]] = []
    for topic_id, topic in content.topics.items():
        kept: dict[str, list[str]] = {}
        for lang in LANGS:
            questions = topic.questions.get(lang)
            kept[lang] = [q for i, q in enumerate(questions) if i % FOLDS != fold]
            removed += [(topic_id, lang, q) for i, q in enumerate(questions) if i % FOLDS == fold]
        questions = topic.questions.model_copy(update=kept)
        topics[topic_id] = topic.model_copy(update={"questions": questions})
    return dataclasses.replace(content, topics=topics), removed


def held_out(content: Content) -> Iterator[HeldOut]:
    """Every sample question, scored by an engine built without its fold."""
    for fold in range(FOLDS):
        reduced, removed = _without(content, fold)
        engine = Understanding(reduced)
        for topic_id, lang, question in removed:
            if not engine.is_sample(question):
                yield HeldOut(topic_id, lang, question, engine.score(question))


def main() -> None:
    content = load_content(CONTENT)
    thresholds = Understanding(content).thresholds
    counts: Counter[str] = Counter()
    by_lang: Counter[str] = Counter()
    for line in held_out(content):
        route, topic, _, candidates = decide(line.scores, len(line.question.split()), thresholds)
        if route == "topic":
            result = "right" if topic == line.expected else "wrong"
        elif route == "clarify":
            result = "clarify-right" if line.expected in candidates else "clarify-miss"
        else:
            result = "declined"
        counts[result] += 1
        by_lang[f"{line.lang} {result}"] += 1
    total = sum(counts.values())
    print(f"held-out sample questions: {total}")
    for result in ("right", "wrong", "clarify-right", "clarify-miss", "declined"):
        print(f"  {result}: {counts[result] / total:.1%} ({counts[result]})")
    for lang in LANGS:
        n = sum(v for k, v in by_lang.items() if k.startswith(lang))
        right, wrong = by_lang[f"{lang} right"], by_lang[f"{lang} wrong"]
        print(f"  {lang}: right {right / n:.1%}, wrong {wrong / n:.1%} of {n}")


if __name__ == "__main__":
    main()
