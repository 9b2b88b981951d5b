"""Advisory file locks (``flock``, POSIX) behind the graph home: a reader's pin on a snapshot, a build's lock on the
home."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from pathlib import Path

#: The file in each snapshot whose shared lock a reader holds while the snapshot is open.
PIN = ".pin"


class HomeBusy(Exception):
    """Another build holds the home's build lock."""


class SnapshotPin:
    """A shared lock on one snapshot, held until :meth:`release` (or garbage collection): while it is held, no
    publish or clean-up removes the snapshot."""

    def __init__(self, path: Path, fd: int | None):
        self.path = path
        self._fd = fd

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops its lock

    def __del__(self):
        with contextlib.suppress(Exception):  # at interpreter exit the descriptor is closed anyway
            self.release()

    def __enter__(self) -> SnapshotPin:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def open_pin(snap: Path) -> int | None:
    """A descriptor on the snapshot's pin file (created for snapshots written before pins existed); None when the
    home cannot be written (then nothing can remove the snapshot either). FileNotFoundError if the snapshot is gone."""
    try:
        return os.open(snap / PIN, os.O_RDONLY)
    except FileNotFoundError:
        if not snap.is_dir():
            raise
    try:
        return os.open(snap / PIN, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as e:
        if e.errno in READ_ONLY:
            return None
        raise


def flock_until(fd: int, seconds: float, root: Path) -> None:
    """Take an exclusive lock on ``fd``, trying for ``seconds`` at most (then :class:`HomeBusy`)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise HomeBusy(f"another build of {root} is still running; gave up waiting for it") from None
            time.sleep(0.1)


__all__ = ["PIN", "READ_ONLY", "HomeBusy", "SnapshotPin", "flock_until", "open_pin"]
