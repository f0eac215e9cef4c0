"""`make mutation`'s report: the share of mutants caught per module, from mutmut's results.

mutmut keeps one `mutants/<file>.meta` per mutated file with an exit code per mutant; this
groups them by the families issue 18 sets targets for and prints a Markdown table (the one in
BENCHMARKS.md) and the mutants that survived, so each can be killed or argued equivalent.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")

# Family → (files, target share caught). Order is the table's.
FAMILIES: dict[str, tuple[tuple[str, ...], float | None]] = {
    "bot/queue (state, estimate, desk, api)": (
        ("bot/queue/", "bot/queue_desk.py", "bot/queue_api.py"),
        0.90,
    ),
    "bot/outbox.py": (("bot/outbox.py",), 0.90),
    "bot/store/retention.py (+ store/whatsapp.py)": (
        ("bot/store/retention.py", "bot/store/whatsapp.py"),
        0.90,
    ),
    "handlers/queue.py": (("handlers/queue.py",), 0.90),
    "handlers/handover.py": (("handlers/handover.py",), 0.90),
    "handlers/answer.py": (("handlers/answer.py",), 0.90),
    "bot/channels/whatsapp/": (("bot/channels/whatsapp/",), 0.80),
    "bot/channels/telegram.py": (("bot/channels/telegram.py",), 0.80),
    "bot/broadcast.py": (("bot/broadcast.py",), None),
    "bot/store/queue.py": (("bot/store/queue.py",), None),
    "bot/store/announcements.py": (("bot/store/announcements.py",), None),
}

# mutmut's exit codes (mutmut.stats.status_by_exit_code): 1 and 3 a test failed, 37 mypy
# rejected the mutant, 0 survived, 33 and 5 no test reaches it, 36 and SIGXCPU a timeout.
KILLED = {1, 3}
TYPE_CHECKED = {37}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, 24, -24, 152, 255}


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in TYPE_CHECKED:
        return "mypy"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in TIMEOUT:
        return "timeout"
    return "not run" if code is None else f"exit {code}"


def results() -> dict[str, dict[str, str]]:
    """Source file → mutant name → status."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        source = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        found[source] = {name: status(code) for name, code in codes.items()}
    return found


def family_of(source: str) -> str | None:
    for family, (prefixes, _) in FAMILIES.items():
        if any(source == p or (p.endswith("/") and source.startswith(p)) for p in prefixes):
            return family
    return None


def main() -> int:
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutation` first", file=sys.stderr)
        return 1
    by_family: dict[str, Counter[str]] = {family: Counter() for family in FAMILIES}
    survivors: list[str] = []
    for source, statuses in results().items():
        family = family_of(source)
        if family is None:
            continue
        by_family[family].update(statuses.values())
        survivors += [
            name for name, s in statuses.items() if s not in ("killed", "mypy", "not run")
        ]
    print(
        "| module | mutants | killed by a test | rejected by mypy | not caught | not run | caught "
        "| target |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    total: Counter[str] = Counter()
    for family, counts in by_family.items():
        total.update(counts)
        print(row(family, counts, FAMILIES[family][1]))
    print(row("**all**", total, None))
    if survivors:
        print(f"\n{len(survivors)} not caught (`.venv/bin/mutmut show NAME` shows one):")
        for name in sorted(survivors):
            print(f"  {name}")
    return 0


def row(label: str, counts: Counter[str], target: float | None) -> str:
    mutants = sum(counts.values())
    run = mutants - counts["not run"]
    caught = counts["killed"] + counts["mypy"]
    share = f"{caught / run:.1%}" if run else "-"
    goal = f"≥ {target:.0%}" if target is not None else ""
    return (
        f"| {label} | {mutants} | {counts['killed']} | {counts['mypy']} | {run - caught} | "
        f"{counts['not run']} | {share} | {goal} |"
    )


if __name__ == "__main__":
    sys.exit(main())
