"""Write the shipped stems (bot/understanding/data/stems.json) and classifier weights
(data/classifier.npz) for the current content and lexicon, so that a first start with an empty
data folder need neither stem the sample questions nor train.

    python -m benchmarks.stems
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.accuracy import CONTENT
from bot.content import load_content
from bot.understanding import Understanding
from bot.understanding.classifier import SHIPPED_WEIGHTS
from bot.understanding.normalise import SHIPPED_STEMS, STEM_CACHE_FILE


def main() -> None:
    SHIPPED_STEMS.unlink(missing_ok=True)  # stem every word and train afresh
    SHIPPED_WEIGHTS.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        engine = Understanding(load_content(CONTENT), cache_dir=Path(folder))
        shutil.copyfile(Path(folder) / STEM_CACHE_FILE, SHIPPED_STEMS)
    engine._index.classifier.save(SHIPPED_WEIGHTS)
    print(f"wrote {SHIPPED_STEMS} and {SHIPPED_WEIGHTS}")


if __name__ == "__main__":
    main()
