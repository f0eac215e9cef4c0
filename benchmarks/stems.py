"""Write the shipped stems (bot/understanding/data/stems.json) for the current content and
lexicon, so that a first start with an empty data folder need not stem the sample questions.

    python -m benchmarks.stems
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.accuracy import CONTENT
from bot.content import load_content
from bot.understanding import Understanding
from bot.understanding.normalise import SHIPPED_STEMS, STEM_CACHE_FILE


def main() -> None:
    SHIPPED_STEMS.unlink(missing_ok=True)  # stem every word afresh
    with tempfile.TemporaryDirectory() as folder:
        Understanding(load_content(CONTENT), cache_dir=Path(folder))
        shutil.copyfile(Path(folder) / STEM_CACHE_FILE, SHIPPED_STEMS)
    print(f"wrote {SHIPPED_STEMS}")


if __name__ == "__main__":
    main()
