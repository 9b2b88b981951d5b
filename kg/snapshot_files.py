"""What a snapshot keeps beside its graph that is derived from it (the corpus, the trained models): each file carries
a format version and the key of what it was derived from. A missing or stale file is rebuilt, and saved when the
snapshot can be written; an unreadable one is rebuilt with a warning. None is ever trusted without its key matching.

Files are written atomically (:func:`failgraph.ingest.files.write_atomic`): a reader sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from pydantic import BaseModel

log = logging.getLogger("failgraph.snapshot")

T = TypeVar("T")

#: What reading a damaged file can raise (a truncated or edited JSON, npz or npy file).
UNREADABLE = (ValueError, KeyError, TypeError, IndexError, EOFError, OSError, zipfile.BadZipFile)


class Header(BaseModel):
    """The first line of a derived file: its format version and the key of its inputs."""

    format: int
    key: str


def key_of(*parts: str | bytes) -> str:
    """A hex SHA-256 over ``parts`` (each length-prefixed, so no two sequences of parts collide)."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()


def source_digest(*modules: ModuleType) -> str:
    """A digest of the modules' source files: code that derives a file is part of its key (a changed recipe is a stale
    file). Falls back to the module names where a source file is not shipped."""
    parts: list[bytes] = []
    for m in modules:
        path = getattr(m, "__file__", None)
        try:
            parts.append(Path(path).read_bytes() if path else m.__name__.encode())
        except OSError:
            parts.append(m.__name__.encode())
    return key_of(*parts)


def writable(directory: Path) -> bool:
    """Whether files can be saved into ``directory`` (or created as it, when it does not exist yet)."""
    d = directory
    while not d.exists() and d != d.parent:
        d = d.parent
    return os.access(d, os.W_OK)


def split_header(data: bytes) -> tuple[Header, bytes]:
    """A keyed file's header and body (``ValueError`` when it has no header line)."""
    head, sep, body = data.partition(b"\n")
    if not sep:
        raise ValueError("no header line")
    return Header.model_validate_json(head), body


def with_header(header: Header, body: bytes) -> bytes:
    return header.model_dump_json().encode("utf-8") + b"\n" + body


def load_or_build(what: str, where: Path, load: Callable[[], T | None], build: Callable[[], T],
                  save: Callable[[T], None]) -> tuple[T, bool]:
    """``load()`` (None: missing or stale), else ``build()`` and, when ``where`` can be written, ``save`` it.

    An unreadable file (``load`` raising one of :data:`UNREADABLE`) is rebuilt with a warning, never a crash.
    Returns (value, built)."""
    try:
        value = load()
    except UNREADABLE as e:
        log.warning("the %s in %s is unreadable (%s: %s): rebuilding it", what, where, type(e).__name__,
                    str(e).splitlines()[0] if str(e) else "")
        value = None
    if value is not None:
        return value, False
    value = build()
    if writable(where):
        try:
            save(value)
        except OSError as e:
            log.warning("could not save the %s in %s (%s): it is rebuilt on the next start", what, where, e)
    else:
        log.warning("the %s in %s is missing or stale and the snapshot cannot be written (read-only): it is rebuilt "
                    "in memory on every start; run `failgraph build` where the home is writable to persist it", what,
                    where)
    return value, True


__all__ = ["UNREADABLE", "Header", "key_of", "load_or_build", "source_digest", "split_header", "with_header",
           "writable"]
