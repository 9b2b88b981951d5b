"""The server's knowledge base: loaded lazily, once, however many requests ask for it at the same time."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable

from ...assistant.knowledge import KnowledgeBase
from ...kg.batching_embedder import BatchingEmbedder
from ...kg.home import NoGraphError
from ...kg.store import StoreError

log = logging.getLogger("failgraph.api")


class KnowledgeUnavailable(Exception):
    """The knowledge base is not configured or could not be loaded (503)."""


def with_batching(kb: KnowledgeBase) -> KnowledgeBase:
    """A shallow copy of ``kb`` (sharing its corpus and indexes) whose embedder micro-batches concurrent requests."""
    if isinstance(kb.embedder, BatchingEmbedder):
        return kb
    twin = copy.copy(kb)
    twin.embedder = BatchingEmbedder(kb.embedder)
    return twin


class LazyKnowledgeBase:
    """Loads the knowledge base once, on first use, however many threads ask at the same time."""

    #: Seconds between two looks at ``version`` (one small file read).
    VERSION_EVERY_S = 1.0

    def __init__(self, source: KnowledgeBase | Callable[[], KnowledgeBase] | None,
                 wrap: Callable[[KnowledgeBase], KnowledgeBase] = lambda kb: kb,
                 version: Callable[[], object] | None = None):
        """``version``: what the loaded knowledge base was loaded from (e.g. how many learned past failures its
        snapshot's delta holds); when it changes, the knowledge base is loaded again in the background."""
        self._factory = None if isinstance(source, KnowledgeBase) or source is None else source
        self._wrap = wrap
        self._kb = wrap(source) if isinstance(source, KnowledgeBase) else None
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._version = version
        self._seen: object = None
        self._looked = 0.0
        self._loading = False
        self._failed: str | None = None

    @property
    def state(self) -> str:
        """``loaded``, ``loading``, ``not loaded``, ``failed`` or ``none`` (no knowledge base configured)."""
        if self._kb is not None:
            return "loaded"
        if self._factory is None:
            return "none"
        if self._loading:
            return "loading"
        return "failed" if self._failed else "not loaded"

    def get(self) -> KnowledgeBase:
        """The knowledge base, loading it first if needed; raises :class:`KnowledgeUnavailable`."""
        kb = self._kb
        if kb is not None:
            self._look()
            return kb
        if self._factory is None:
            raise KnowledgeUnavailable("this server has no knowledge base configured")
        with self._lock:
            if self._kb is None:
                self._loading = True
                try:
                    self._seen = self._current_version()
                    self._kb = self._wrap(self._factory())
                    self._failed = None
                except NoGraphError as e:
                    log.warning("the knowledge base is not available: %s", e)
                    self._failed = "no graph"
                    raise KnowledgeUnavailable("the knowledge base is not available: the graph home holds no usable "
                                               "graph (run `failgraph build`; details in the server log)") from None
                except (StoreError, OSError, ValueError) as e:  # their text may name files: the log gets it
                    log.warning("the knowledge base is not available: %s", e)
                    self._failed = type(e).__name__
                    raise KnowledgeUnavailable("the knowledge base is not available: the graph could not be read "
                                               "(details in the server log)") from None
                except Exception as e:
                    log.exception("loading the knowledge base failed")
                    self._failed = type(e).__name__
                    raise KnowledgeUnavailable("the knowledge base could not be loaded (see the server log)") from None
                finally:
                    self._loading = False
            return self._kb

    def _current_version(self) -> object:
        try:
            return self._version() if self._version is not None else None
        except (OSError, ValueError):
            return None

    def _look(self) -> None:
        """Reload in the background when the version changed (looked at once a :data:`VERSION_EVERY_S` at most)."""
        if self._version is None or time.monotonic() - self._looked < self.VERSION_EVERY_S:
            return
        self._looked = time.monotonic()
        now = self._current_version()
        if now != self._seen:
            self._seen = now
            self.refresh()

    def refresh(self) -> threading.Thread | None:
        """Load the knowledge base again in the background (after the graph learned a past failure); the loaded one
        answers until the new one is ready, and stays if loading fails. Returns the loading thread (None: nothing
        to reload)."""
        if self._factory is None or self._kb is None:
            return None  # not loaded yet: the first use loads the current graph

        def run() -> None:
            with self._refreshing:
                try:
                    kb = self._wrap(self._factory())
                except Exception:
                    log.warning("reloading the knowledge base failed: the loaded one keeps answering", exc_info=True)
                    return
                self._kb = kb

        t = threading.Thread(target=run, name="failgraph-refresh", daemon=True)
        t.start()
        return t


__all__ = ["KnowledgeUnavailable", "LazyKnowledgeBase", "with_batching"]
