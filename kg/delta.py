"""A published snapshot's delta: the past failures learned since it was built, appended beside it and applied when
the knowledge base is opened (the next full build compacts them into its base).

``<snapshot>/delta/learned.jsonl`` holds one :class:`DeltaEntry` per line, append-only; ``<snapshot>/delta/delta.json``
(:class:`DeltaManifest`, replaced atomically) says how many of its bytes are published. A reader reads only those
bytes, so a line being appended, or left torn by a crash, is never read; the next append cuts it off first. Appending
costs one line, whatever the size of the snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from ..ingest.files import write_atomic
from ..ingest.learned import LearnedFailure

DELTA_DIR = "delta"
ENTRIES = "learned.jsonl"
MANIFEST = "delta.json"


class DeltaEntry(BaseModel):
    """One learned failure, with the vector of its thread (None: the index embeds it when the delta is applied)."""

    item: LearnedFailure
    vector: list[float] | None = None
    embedder: str | None = None  # the key of the embedding model the vector is from


class DeltaManifest(BaseModel):
    entries: int = 0
    bytes: int = 0


def read_manifest(snapshot: Path) -> DeltaManifest:
    try:
        return DeltaManifest.model_validate_json((snapshot / DELTA_DIR / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DeltaManifest()


def read_delta(snapshot: Path) -> list[DeltaEntry]:
    """The published entries of the snapshot's delta, in the order they were learned."""
    m = read_manifest(snapshot)
    if not m.bytes:
        return []
    with open(snapshot / DELTA_DIR / ENTRIES, "rb") as f:
        data = f.read(m.bytes)
    if len(data) != m.bytes:
        raise ValueError(f"the delta of {snapshot.name} is shorter than its manifest says")
    return [DeltaEntry.model_validate_json(line) for line in data.splitlines() if line.strip()]


def append_delta(snapshot: Path, entries: list[DeltaEntry]) -> DeltaManifest:
    """Append ``entries`` and publish them (call it under the home's build lock: one writer at a time)."""
    d = snapshot / DELTA_DIR
    d.mkdir(exist_ok=True)
    m = read_manifest(snapshot)
    payload = "".join(e.model_dump_json() + "\n" for e in entries).encode("utf-8")
    fd = os.open(d / ENTRIES, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, m.bytes)  # a line a failed append left behind is not part of the delta
        os.lseek(fd, m.bytes, os.SEEK_SET)
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    new = DeltaManifest(entries=m.entries + len(entries), bytes=m.bytes + len(payload))
    write_atomic(d / MANIFEST, new.model_dump_json())
    return new


def delta_generation(snapshot: Path) -> int:
    """How many entries the snapshot's delta publishes (what a server compares to notice new ones)."""
    return read_manifest(snapshot).entries


__all__ = ["DELTA_DIR", "DeltaEntry", "DeltaManifest", "append_delta", "delta_generation", "read_delta",
           "read_manifest"]
