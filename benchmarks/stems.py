"""Write the shipped stems (bot/understanding/data/stems.json) and index (data/index.npz: the
sample questions' tokens, BM25 and n-gram weights, classifier weights) for the current content,
lexicon and general requests, so that a first start with an empty data folder need neither stem
nor tokenise the sample questions nor train.

    python -m benchmarks.stems
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.accuracy import CONTENT
from bot.content import load_content
from bot.understanding import Understanding
from bot.understanding.engine import INDEX_FILE, SHIPPED_INDEX
from bot.understanding.normalise import SHIPPED_STEMS, STEM_CACHE_FILE


def main() -> None:
    SHIPPED_STEMS.unlink(missing_ok=True)  # stem every word and compute the index afresh
    SHIPPED_INDEX.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        Understanding(load_content(CONTENT), cache_dir=Path(folder))
        shutil.copyfile(Path(folder) / STEM_CACHE_FILE, SHIPPED_STEMS)
        shutil.copyfile(Path(folder) / INDEX_FILE, SHIPPED_INDEX)
    print(f"wrote {SHIPPED_STEMS} and {SHIPPED_INDEX}")


if __name__ == "__main__":
    main()
