"""Models derived once from the bundled MiniLM and cached in the graph home (the static tier's distilled table, the
MiniLM tier's ONNX export): made at first use, under a lock, into a temporary sibling directory renamed into place,
so concurrent first uses wait for one maker and a reader sees either no model or a whole one."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Meta = TypeVar("Meta")


def ensure_cached(final: Path, read_meta: Callable[[Path], Meta | None], make: Callable[[Path], Meta], *,
                  on_make: Callable[[Path], None] | None = None) -> tuple[Path, Meta]:
    """The model cached at ``final`` and its metadata (``read_meta`` returns None for a missing or broken one), made
    first by ``make(tmp_dir)`` if needed (``on_make`` is told before)."""
    meta = read_meta(final)
    if meta is not None:
        return final, meta
    final.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(final.parent / f".{final.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process making it: wait for it, then use its model
        meta = read_meta(final)
        if meta is not None:
            return final, meta
        if on_make:
            on_make(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            meta = make(tmp)
            if final.exists():  # a broken leftover (no metadata): replace it
                shutil.rmtree(final)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return final, meta
    finally:
        os.close(fd)


__all__ = ["ensure_cached"]
