"""The webhook service: receives deliveries (already signature-checked), drops repeats, queues jobs, runs a worker.

>>> from failgraph.ui.github.config import BotConfig
>>> seen = Deliveries(2); [seen.add(x) for x in "aba"], "b" in seen, seen.add("c"), "a" in seen
([True, True, False], True, True, False)
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import httpx
from pydantic import BaseModel

from ...assistant.models import Diagnosis, ReportRequest
from ...ingest.learned import LearnedFailure
from .auth import make_auth
from .client import GitHubApi
from .config import BotConfig
from .events import Ignored, route
from .handler import Handler
from .queue import JobQueue, Worker
from .state import StateStore

log = logging.getLogger("failgraph.github")
#: Delivery ids remembered to drop GitHub's redeliveries (most recent first out); 100k ids are a few MB.
REMEMBERED_DELIVERIES = 100_000


class Ack(BaseModel):
    """The webhook's answer."""

    status: Literal["queued", "duplicate", "ignored", "busy", "pong"]
    reason: str | None = None


class Deliveries:
    """The last ``maxlen`` delivery ids (thread-safe); :meth:`add` is False for one already seen."""

    def __init__(self, maxlen: int = REMEMBERED_DELIVERIES):
        self.maxlen = maxlen
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, delivery: str) -> bool:
        with self._lock:
            return delivery in self._ids

    def add(self, delivery: str) -> bool:
        with self._lock:
            if delivery in self._ids:
                return False
            self._ids[delivery] = None
            while len(self._ids) > self.maxlen:
                self._ids.popitem(last=False)
            return True

    def discard(self, delivery: str) -> None:
        with self._lock:
            self._ids.pop(delivery, None)


class GitHubBot:
    """The bot behind ``POST /github/webhook``: ``receive`` queues, a :class:`~.queue.Worker` does the work."""

    def __init__(self, cfg: BotConfig, handler: Handler, state_dir: Path | None, *, threads: int = 1,
                 on_done: Callable[[object, object], None] | None = None, http: httpx.Client | None = None):
        self.cfg = cfg
        self._http = http  # closed by stop() when the bot made it
        self.handler = handler
        self.queue = JobQueue(cfg.queue_size)
        self.worker = Worker(self.queue, handler.handle, state_dir, threads=threads, on_done=on_done)
        self.deliveries = Deliveries()

    @classmethod
    def create(cls, cfg: BotConfig, state_dir: Path, diagnose: Callable[[ReportRequest], Diagnosis], *,
               transport: httpx.BaseTransport | None = None,
               learn: Callable[[LearnedFailure], None] | None = None, **kw) -> GitHubBot:
        """A bot with its own HTTP client (``transport``: tests pass a fake GitHub), state under ``state_dir``;
        ``learn`` adds a thread a maintainer labeled to the knowledge base (None: the bot does not learn)."""
        http = httpx.Client(transport=transport, timeout=20.0, follow_redirects=False)
        api = None if cfg.auth_mode == "none" else GitHubApi(cfg.api_url, make_auth(cfg, http), http)
        handler = Handler(cfg, api, StateStore(state_dir), diagnose, learn)
        return cls(cfg, handler, state_dir, http=http, **kw)

    def __repr__(self) -> str:
        return f"GitHubBot(api_url={self.cfg.api_url!r}, mode={self.cfg.auth_mode!r}, dry_run={self.cfg.dry_run})"

    def start(self) -> None:
        self.worker.start()

    def stop(self, drain_s: float = 10.0) -> int:
        """Drain or persist the queue (see :meth:`~.queue.Worker.stop`), then close the HTTP client."""
        left = self.worker.stop(drain_s)
        if self._http is not None:
            self._http.close()
        return left

    def receive(self, event: str, delivery: str, payload: dict) -> Ack:
        """Route one verified delivery; raises ``pydantic.ValidationError`` on a malformed payload."""
        if event == "ping":
            return Ack(status="pong")
        if delivery in self.deliveries:
            return Ack(status="duplicate", reason=f"delivery {delivery} was received before")
        job = route(event, payload, delivery, self.cfg)
        if isinstance(job, Ignored):
            return Ack(status="ignored", reason=job.reason)
        if not self.deliveries.add(delivery):
            return Ack(status="duplicate", reason=f"delivery {delivery} was received before")
        if not self.queue.put(job):
            self.deliveries.discard(delivery)  # a redelivery must be accepted
            return Ack(status="busy", reason="the bot's queue is full; redeliver later")
        return Ack(status="queued")


__all__ = ["Ack", "Deliveries", "GitHubBot"]
