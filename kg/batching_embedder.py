"""Micro-batching of single-text encodes: concurrent requests share one model call."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

log = logging.getLogger(__name__)


class BatchingEmbedder:
    """Encodes the single texts of concurrent requests together in one model call (micro-batching).

    A transformer encodes a batch of texts for little more than the cost of one (on the 2-core CI machine one
    MiniLM call takes ~50 ms for one text and ~600 ms for 64), so under load requests wait at most ``max_wait_s``
    for companions and share a forward pass. Bulk calls (several texts) pass straight through. When a shared call
    fails, its texts are encoded one by one, so a text the model cannot take fails only its own request.
    """

    def __init__(self, inner, *, max_batch: int = 32, max_wait_s: float = 0.003):
        self.inner = inner
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __getattr__(self, name):  # device_name, model, batch_size, ...
        return getattr(self.inner, name)

    def encode(self, texts: list[str], *, show_progress: bool = False):
        if len(texts) != 1:
            return self.inner.encode(texts, show_progress=show_progress)
        if self._worker is None:
            with self._start_lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._run, name="failgraph-encoder", daemon=True)
                    self._worker.start()
        fut: Future = Future()
        self._queue.put((texts[0], fut))
        return fut.result()[None, :]

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                vecs = self.inner.encode([t for t, _ in batch])
            except Exception as e:
                if len(batch) == 1:
                    batch[0][1].set_exception(e)
                else:
                    log.warning("encoding a batch of %d texts failed (%s); encoding them one by one", len(batch),
                                type(e).__name__)
                    self._encode_singly(batch)
                continue
            except BaseException as e:
                for _, fut in batch:
                    fut.set_exception(e)
                continue
            for (_, fut), v in zip(batch, vecs, strict=True):
                fut.set_result(v)

    def _encode_singly(self, batch: list[tuple[str, Future]]) -> None:
        for text, fut in batch:
            try:
                fut.set_result(self.inner.encode([text])[0])
            except Exception as e:
                fut.set_exception(e)


__all__ = ["BatchingEmbedder"]
