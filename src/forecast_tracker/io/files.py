"""Atomic file writes: a temporary file in the same folder, then a rename, so a crash leaves the old file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: str | bytes, durable: bool = True) -> None:
    """Write `path` whole or not at all. `durable=False` skips the per-file flush to disk, for many
    files followed by one `flush_to_disk()`: a crash still leaves the old file or the new one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a report is shared like any other file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def flush_to_disk() -> None:
    """Everything written so far onto the disk (one call after many `durable=False` writes)."""
    sync = getattr(os, "sync", None)  # not on Windows, where each file was closed and replaced anyway
    if sync is not None:
        sync()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
