"""First phone screen: does each topic answer its question within the first ≈60 words?
Run: `python -m benchmarks.first_screen [--words 60] [CONTENT_DIR]`.

A phone shows about 60 words before the reader scrolls. A topic passes in a language when its
lead (title + short answer, rendered as a person sees it, caveats included) ends within the
first N words, is at most 3 lines as written (the hours table counts as one), and carries
something to act on: an amount, a time or count, a link, the app or office to use, or a bolded
instruction. Target: ≥ 90 % of topics in each language.

It measures where the answer sits, not whether it is right: that is the writer's and the
content check's job.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from bot.content import Content, load_content
from bot.content.models import Topic
from bot.core import LANGS, Lang
from bot.markup import to_plain

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.90
MAX_LEAD_LINES = 3
BUCKETS = (40, 60, 80, 100)
# Something a person can act on: a number (fee, hour, days), a link, the booking app or a portal,
# or an instruction the writer put in bold.
_ACTIONABLE = re.compile(r"\d|https?://|M-Paspor|evisa|\*\*", re.IGNORECASE)


def lead_words(content: Content, topic: Topic, lang: Lang) -> int:
    """Words a person reads up to the end of the short answer (title included)."""
    title = content.fill(topic.title.get(lang), lang)
    lead = to_plain(content.fill(topic.summary.get(lang), lang))
    return len(title.split()) + len(lead.split())


def passes(content: Content, topic: Topic, lang: Lang, words: int) -> bool:
    written = topic.summary.get(lang).strip()
    return (
        lead_words(content, topic, lang) <= words
        and len(written.splitlines()) <= MAX_LEAD_LINES
        and bool(_ACTIONABLE.search(content.fill(written, lang)))
    )


def bucket(n: int) -> str:
    low = 0
    for high in BUCKETS:
        if n <= high:
            return f"{low + 1 if low else 0}-{high}"
        low = high
    return f">{BUCKETS[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=ROOT / "content")
    parser.add_argument("--words", type=int, default=60)
    args = parser.parse_args()
    content = load_content(args.dir)
    topics = sorted(content.topics.values(), key=lambda t: t.id)
    ok = True
    for lang in LANGS:
        counts = [lead_words(content, t, lang) for t in topics]
        passed = [t for t in topics if passes(content, t, lang, args.words)]
        share = len(passed) / len(topics)
        ok = ok and share >= TARGET
        spread = Counter(bucket(n) for n in counts)
        order = [bucket(b) for b in BUCKETS] + [f">{BUCKETS[-1]}"]
        print(
            f"{lang}: {len(passed)}/{len(topics)} topics answer within {args.words} words "
            f"({share:.0%}, target {TARGET:.0%}); lead words median "
            f"{sorted(counts)[len(counts) // 2]}, max {max(counts)}"
        )
        print("    " + "  ".join(f"{b}: {spread.get(b, 0)}" for b in order))
        for topic in topics:
            if topic not in passed:
                print(f"    over: {topic.id} ({lead_words(content, topic, lang)} words)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
