"""Accuracy of the understanding engine on benchmarks/questions.tsv (dev or test split).

python -m benchmarks.accuracy [--split dev|test] [--show-errors]
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.content import load_content
from bot.understanding import Analysis, Understanding

HERE = Path(__file__).resolve().parent
# questions.tsv holds both splits; questions_dev2.tsv and questions_dev3.tsv add dev lines only
# (written later, each without reading the others or the sample questions, to calibrate on more
# than 156 in-scope questions). The test split is never used for tuning.
QUESTION_FILES = (HERE / "questions.tsv", HERE / "questions_dev2.tsv", HERE / "questions_dev3.tsv")
CONTENT = HERE.parent / "content"


@dataclass(frozen=True)
class Row:
    split: str
    expected: str
    lang: str
    kind: str
    question: str


def load_rows(split: str | None = None) -> list[Row]:
    rows: list[Row] = []
    for path in QUESTION_FILES:
        if path.exists():
            with path.open(encoding="utf-8") as f:
                rows += [Row(**r) for r in csv.DictReader(f, delimiter="\t")]
    return [r for r in rows if split is None or r.split == split]


def outcome(row: Row, analysis: Analysis) -> str:
    """One of: right, wrong, clarify-right, clarify-miss, declined (in scope); oos-ok, oos-miss;
    route-ok, route-miss."""
    if row.expected.startswith("route:"):
        return "route-ok" if analysis.route == row.expected[6:] else "route-miss"
    if row.expected == "oos":
        return "oos-ok" if analysis.route == "unknown" else "oos-miss"
    if analysis.route == "topic":
        return "right" if analysis.topic_id == row.expected else "wrong"
    if analysis.route == "clarify":
        return "clarify-right" if row.expected in analysis.candidates else "clarify-miss"
    return "declined"


@dataclass(frozen=True)
class Report:
    counts: Counter[str]
    in_scope: int
    oos: int
    routes: int
    lang_right: int
    total: int

    @property
    def top1(self) -> float:
        return self.counts["right"] / self.in_scope

    @property
    def wrong(self) -> float:
        return self.counts["wrong"] / self.in_scope

    @property
    def oos_recall(self) -> float:
        return self.counts["oos-ok"] / self.oos

    @property
    def oos_precision(self) -> float:
        declined_in_scope = self.counts["declined"] + self.counts["route-miss-unknown"]
        return self.counts["oos-ok"] / max(self.counts["oos-ok"] + declined_in_scope, 1)

    @property
    def route_accuracy(self) -> float:
        return self.counts["route-ok"] / self.routes

    def lines(self) -> list[str]:
        c = self.counts
        return [
            f"in-scope questions: {self.in_scope}",
            f"  answered right (top-1): {self.top1:.1%}",
            f"  answered wrongly: {self.wrong:.1%}",
            f"  clarified, right topic offered: {c['clarify-right'] / self.in_scope:.1%}",
            f"  clarified, right topic missing: {c['clarify-miss'] / self.in_scope:.1%}",
            f"  declined: {c['declined'] / self.in_scope:.1%}",
            f"out-of-scope questions: {self.oos}",
            f"  recall (declined or redirected): {self.oos_recall:.1%}",
            f"  precision: {self.oos_precision:.1%}",
            f"route questions: {self.routes}, accuracy {self.route_accuracy:.1%}",
            f"reply language right: {self.lang_right / self.total:.1%}",
        ]


def evaluate(engine: Understanding, rows: list[Row]) -> tuple[Report, list[str]]:
    counts: Counter[str] = Counter()
    errors: list[str] = []
    lang_right = 0
    for row in rows:
        analysis = engine.analyse(row.question)
        result = outcome(row, analysis)
        counts[result] += 1
        if result == "route-miss" and analysis.route == "unknown":
            counts["route-miss-unknown"] += 1
        lang_right += analysis.lang == row.lang
        if result not in ("right", "oos-ok", "route-ok", "clarify-right"):
            target = analysis.topic_id or analysis.neighbour_id or ",".join(analysis.candidates[:3])
            errors.append(
                f"{result:13} {row.expected:26} -> {analysis.route}:{target}  | {row.question}"
            )
    in_scope = sum(1 for r in rows if not r.expected.startswith("route:") and r.expected != "oos")
    oos = sum(1 for r in rows if r.expected == "oos")
    report = Report(counts, in_scope, oos, len(rows) - in_scope - oos, lang_right, len(rows))
    return report, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    engine = Understanding(load_content(CONTENT))
    report, errors = evaluate(engine, load_rows(args.split))
    print(f"split: {args.split}")
    print("\n".join(report.lines()))
    if args.show_errors:
        print("\n".join(errors))


if __name__ == "__main__":
    main()
