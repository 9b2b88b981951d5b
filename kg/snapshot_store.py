"""A published snapshot's store, opened read-only and pinned: what every reader of the graph opens.

Kept apart from :mod:`failgraph.kg.build` (which pulls in the mapping, SHACL and the embedder) so that reading the
graph imports only the store.
"""

from __future__ import annotations

from pathlib import Path

from .home import GraphHome, Manifest, SnapshotInfo, SnapshotPin
from .snapshot_pin import STORE_DIR, pinned_snapshot
from .sparql_text import QueryPolicy
from .store import OxigraphStore


class SnapshotStore(OxigraphStore):
    """A published snapshot's store, opened read-only and pinned (no rebuild removes it) until closed."""

    def __init__(self, pin: SnapshotPin, manifest: Manifest, *, policy: QueryPolicy | None = None):
        super().__init__(pin.path / STORE_DIR, read_only=True, policy=policy)
        self.pin = pin
        self.snapshot = SnapshotInfo(name=pin.name, created=manifest.created)

    @property
    def snapshot_dir(self) -> Path:
        return self.pin.path

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.pin.release()


def open_store(home: GraphHome, snapshot: str | None = None, *, policy: QueryPolicy | None = None) -> SnapshotStore:
    """The published graph of ``home`` (or its snapshot called ``snapshot``), opened read-only and pinned until
    closed (refused, with a hint to rebuild, if its layout is older than this failgraph's). Unpinned old snapshots
    are removed on the way, unless a build is running. ``policy`` says which SPARQL SERVICE endpoints its queries may
    call (default: none)."""
    pin = home.pin(snapshot)
    try:
        manifest = home.manifest(pin.path)
        store = SnapshotStore(pin, manifest, policy=policy)
    except BaseException:
        pin.release()
        raise
    home.collect()
    return store


__all__ = ["STORE_DIR", "SnapshotStore", "open_store", "pinned_snapshot"]
