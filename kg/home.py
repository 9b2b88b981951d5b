"""The directory that holds failgraph's built graph and indexes, with atomic publication.

Each build writes a fresh snapshot directory; a ``CURRENT`` file names the published one and is replaced atomically,
so readers always see a complete snapshot and a failed build leaves the previous one in place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import BaseModel

HOME_ENV = "FAILGRAPH_HOME"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
#: Version of the snapshot's graph layout. 2: label profiles and per-source tallies (fg:ProfileTally) that the study
#: queries read (issue #7). A snapshot of an older layout answers those queries wrongly, so it is refused.
GRAPH_LAYOUT = 2


class NoGraphError(Exception):
    """No graph has been built in this home yet."""


class Manifest(BaseModel):
    """What a snapshot holds and where it came from."""

    created: str
    failgraph_version: str
    quads: int
    records: int
    cases: int = 0
    documents: int = 0
    issues: int
    sources: list[str]
    inputs_fingerprint: str
    problems: int = 0
    layout: int = 1  # snapshots written before the field existed have layout 1


def resolve_home(home: str | Path | None = None) -> Path:
    """``home``, else ``$FAILGRAPH_HOME``, else the user's data directory."""
    return Path(home or os.environ.get(HOME_ENV) or user_data_dir("failgraph")).expanduser()


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file through a temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class GraphHome:
    """A failgraph home directory."""

    def __init__(self, root: str | Path | None = None):
        self.root = resolve_home(root)

    def current(self) -> Path:
        """The published snapshot directory; raises :class:`NoGraphError` if there is none."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise NoGraphError(f"no graph built in {self.root} yet: run `failgraph build` first") from None
        snap = self.root / name
        if not snap.is_dir():
            raise NoGraphError(f"{self.root / CURRENT} names {name}, which is missing: rebuild with `failgraph build`")
        return snap

    def manifest(self) -> Manifest:
        """The published snapshot's manifest; raises :class:`NoGraphError` if it predates :data:`GRAPH_LAYOUT`."""
        snap = self.current()
        manifest = Manifest.model_validate_json((snap / MANIFEST).read_text(encoding="utf-8"))
        if manifest.layout < GRAPH_LAYOUT:
            raise NoGraphError(f"the graph in {self.root} was built by failgraph {manifest.failgraph_version} in an "
                               "older layout: run `failgraph build` again")
        return manifest

    def new_snapshot(self) -> Path:
        """A fresh, unpublished snapshot directory."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        return Path(tempfile.mkdtemp(prefix=f"snapshot-{stamp}-", dir=self.root))

    def publish(self, snapshot: Path, manifest: Manifest) -> None:
        """Make ``snapshot`` the current one (atomic), then remove older snapshots."""
        write_atomic(snapshot / MANIFEST, manifest.model_dump_json(indent=2))
        write_atomic(self.root / CURRENT, snapshot.name + "\n")
        for old in self.root.glob("snapshot-*"):
            if old.is_dir() and old.name != snapshot.name:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self, snapshot: Path) -> None:
        shutil.rmtree(snapshot, ignore_errors=True)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def dumps_sorted(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


__all__ = ["CURRENT", "GRAPH_LAYOUT", "GraphHome", "HOME_ENV", "MANIFEST", "Manifest", "NoGraphError", "dumps_sorted", "now_iso",
           "resolve_home", "write_atomic"]
