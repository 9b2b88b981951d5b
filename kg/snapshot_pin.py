"""Pinning a published snapshot to read the files it keeps, without opening its graph store (which loads the store's
libraries): what a reader that needs only the snapshot's persisted files uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .home import GraphHome, SnapshotInfo
from .locks import SnapshotPin

#: The snapshot's sub-directory holding the Oxigraph store.
STORE_DIR = "oxigraph"


@contextmanager
def pinned_snapshot(home: GraphHome, snapshot: str | None = None) -> Iterator[tuple[SnapshotPin, SnapshotInfo]]:
    """Pin the published snapshot of ``home`` (or the one called ``snapshot``) while the block runs, without opening
    its store (refused, with a hint to rebuild, if its layout is older than this failgraph's); unpinned old
    snapshots are removed on the way, as :func:`open_store` does."""
    pin = home.pin(snapshot)
    try:
        manifest = home.manifest(pin.path)
        home.collect()
        yield pin, SnapshotInfo(name=pin.name, created=manifest.created)
    finally:
        pin.release()


__all__ = ["STORE_DIR", "pinned_snapshot"]
