"""Regenerate the word lists shipped in bot/understanding/data/ from the wordfreq package.

    pip install -e '.[wordlists]' && python -m benchmarks.wordlists

wordfreq is a development dependency only: importing it costs about a second and 58 MB, so the
bot reads these small lists instead. One word a line with its Zipf frequency (log10 of uses per
billion words); the data is wordfreq's (CC BY-SA 4.0, see the folder's README.md).
"""

from __future__ import annotations

from pathlib import Path

from wordfreq import top_n_list, zipf_frequency

DATA = Path(__file__).resolve().parent.parent / "bot" / "understanding" / "data"
# Below these a "word" is as likely a typo, a name or a foreign word as a word of the language.
MIN_ZIPF = {"en": 2.5, "id": 2.5}
MAX_WORDS = 60_000


def main() -> None:
    for lang, floor in MIN_ZIPF.items():
        lines = []
        for word in top_n_list(lang, MAX_WORDS):
            zipf = zipf_frequency(word, lang)
            if word.isascii() and word.isalpha() and zipf >= floor:
                lines.append(f"{word} {zipf:.1f}")
        (DATA / f"words_{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{lang}: {len(lines)} words")


if __name__ == "__main__":
    main()
