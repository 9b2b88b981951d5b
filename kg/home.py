"""The directory that holds failgraph's built graph and indexes, with atomic publication.

Each build writes a fresh snapshot directory; a ``CURRENT`` file names the published one and is replaced atomically,
so readers always see a complete snapshot and a failed build leaves the previous one in place.

Concurrency (advisory ``flock`` locks, POSIX): a build holds the home's exclusive build lock from its new snapshot to
its publication, so two builds never interleave; a reader pins the snapshot it opened (a shared lock on the
snapshot's pin file, held while it is open), and old snapshots are removed only when nobody pins them (at publish,
and at open when no build is running).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import BaseModel

from ..ingest.files import now_iso, write_atomic
from .locks import PIN, HomeBusy, SnapshotPin, flock_until, open_pin

HOME_ENV = "FAILGRAPH_HOME"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
#: The file in the home whose exclusive lock a build holds.
BUILD_LOCK = ".build.lock"
#: Version of the snapshot's graph layout. 2: label profiles and per-source tallies (fg:ProfileTally) that the study
#: queries read (issue #7). A snapshot of an older layout answers those queries wrongly, so it is refused.
GRAPH_LAYOUT = 2


class NoGraphError(Exception):
    """No graph has been built in this home yet."""


class SnapshotInfo(BaseModel):
    """Which snapshot a reader serves."""

    name: str
    created: str | None = None


class Manifest(BaseModel):
    """What a snapshot holds and where it came from."""

    created: str
    failgraph_version: str
    quads: int
    records: int
    cases: int = 0
    documents: int = 0
    learned: int = 0  # learned past failures the build read from the home's log
    issues: int
    sources: list[str]
    inputs_fingerprint: str
    problems: int = 0
    layout: int = 1  # snapshots written before the field existed have layout 1


def resolve_home(home: str | Path | None = None) -> Path:
    """``home``, else ``$FAILGRAPH_HOME``, else the user's data directory."""
    return Path(home or os.environ.get(HOME_ENV) or user_data_dir("failgraph")).expanduser()


class GraphHome:
    """A failgraph home directory."""

    def __init__(self, root: str | Path | None = None):
        self.root = resolve_home(root)

    def current_name(self) -> str | None:
        """The name ``CURRENT`` holds (None when nothing is published); cheap enough to check per request."""
        try:
            return (self.root / CURRENT).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def current(self) -> Path:
        """The published snapshot directory; raises :class:`NoGraphError` if there is none."""
        name = self.current_name()
        if name is None:
            raise NoGraphError(f"no graph built in {self.root} yet: run `failgraph build` first")
        snap = self.root / name
        if not snap.is_dir():
            raise NoGraphError(f"{self.root / CURRENT} names {name}, which is missing: rebuild with `failgraph build`")
        return snap

    def manifest(self, snapshot: Path | None = None) -> Manifest:
        """The manifest of ``snapshot`` (default: the published one); raises :class:`NoGraphError` if it predates
        :data:`GRAPH_LAYOUT`."""
        snap = snapshot or self.current()
        manifest = Manifest.model_validate_json((snap / MANIFEST).read_text(encoding="utf-8"))
        if manifest.layout < GRAPH_LAYOUT:
            raise NoGraphError(f"the graph in {self.root} was built by failgraph {manifest.failgraph_version} in an "
                               "older layout: run `failgraph build` again")
        return manifest

    def pin(self, name: str | None = None) -> SnapshotPin:
        """Pin the published snapshot (or the one called ``name``) against removal; release the pin when done.

        A snapshot removed between reading ``CURRENT`` and taking the lock is noticed (its pin file is gone) and the
        newly published one is pinned instead."""
        for _ in range(20):
            snap = self.root / name if name else self.current()
            try:
                fd = open_pin(snap)
            except FileNotFoundError:
                if name:
                    raise NoGraphError(f"snapshot {name} of {self.root} is gone: a rebuild replaced it") from None
                continue
            if fd is None:
                return SnapshotPin(snap, None)
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a clean-up is removing this very snapshot
            if os.fstat(fd).st_nlink > 0 and snap.is_dir():
                return SnapshotPin(snap, fd)
            os.close(fd)
            if name:
                raise NoGraphError(f"snapshot {name} of {self.root} is gone: it was replaced by a rebuild")
        raise NoGraphError(f"the graph in {self.root} keeps changing under this reader: try again")

    @contextmanager
    def build_lock(self, wait: bool | float = True, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the home's exclusive build lock. When another build holds it: ``wait=False`` raises
        :class:`HomeBusy` at once, ``True`` waits for it, a number waits that many seconds at most; ``on_wait`` is
        called once before waiting."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / BUILD_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if wait is False:
                    raise HomeBusy(f"another build of {self.root} is running; wait for it or try again later") from None
                if on_wait:
                    on_wait()
                if wait is True:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                else:
                    flock_until(fd, float(wait), self.root)
            yield
        finally:
            os.close(fd)

    def new_snapshot(self) -> Path:
        """A fresh, unpublished snapshot directory (create and publish it under :meth:`build_lock`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        snap = Path(tempfile.mkdtemp(prefix=f"snapshot-{stamp}-", dir=self.root))
        (snap / PIN).touch()
        return snap

    def publish(self, snapshot: Path, manifest: Manifest) -> None:
        """Make ``snapshot`` the current one (atomic), then remove older snapshots nobody pins (call it under
        :meth:`build_lock`)."""
        write_atomic(snapshot / MANIFEST, manifest.model_dump_json(indent=2))
        write_atomic(self.root / CURRENT, snapshot.name + "\n")
        self._collect()

    def collect(self) -> list[str]:
        """Remove the unpublished snapshots nobody pins, unless a build is running (it may be writing one);
        returns the names removed. A home that cannot be written is left alone."""
        try:
            with self.build_lock(wait=False):
                return self._collect()
        except (HomeBusy, OSError):
            return []

    def _collect(self) -> list[str]:
        current = self.current_name()
        removed = []
        for old in sorted(self.root.glob("snapshot-*")):
            if old.name == current or not old.is_dir():
                continue
            try:
                fd = os.open(old / PIN, os.O_RDONLY)
            except FileNotFoundError:
                fd = None  # written before pins existed, or left by a crashed build: nobody can hold it
            except OSError:
                continue
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a reader pins it
                shutil.rmtree(old, ignore_errors=True)  # the pin file goes first-come: a waiting reader sees it gone
                removed.append(old.name)
            finally:
                if fd is not None:
                    os.close(fd)
        return removed

    def discard(self, snapshot: Path) -> None:
        shutil.rmtree(snapshot, ignore_errors=True)


def dumps_sorted(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


__all__ = [
    "BUILD_LOCK",
    "CURRENT",
    "GRAPH_LAYOUT",
    "HOME_ENV",
    "MANIFEST",
    "PIN",
    "GraphHome",
    "HomeBusy",
    "Manifest",
    "NoGraphError",
    "SnapshotInfo",
    "SnapshotPin",
    "dumps_sorted",
    "now_iso",
    "resolve_home",
    "write_atomic",
]
