"""The stem cache kept on disk between starts: written atomically, best effort."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


def write_cache(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write `path` through a temporary file in the same folder and a rename, so a reader sees
    the old file or the new one, never half of one. A failure is logged, not raised: the cache
    is rebuilt on the next start."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("cache %s not saved: %s", path.name, type(exc).__name__)
        if tmp is not None:
            tmp.unlink(missing_ok=True)
