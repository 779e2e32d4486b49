"""Where the bundled case study lives, and replacing a demo database without a half-built window."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import TrackerError


def case_study_dir() -> Path:
    """The bundled catalog and data: inside the installed package, or the repository's `indicators/`."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "case_study", here.parents[1] / "indicators"):
        if (candidate / "observations.csv").is_file():
            return candidate
    raise TrackerError("the bundled case study is missing from this installation")


def replace_atomically(target: Path, build: Callable[[Path], None]) -> Path:
    """`build(tmp)` makes a database at a temporary path beside `target`, which then replaces `target`."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".db")
    os.close(fd)
    os.unlink(tmp_name)  # the database is created by `build` itself
    tmp = Path(tmp_name)
    try:
        build(tmp)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            leftover.unlink(missing_ok=True)
    return target
