"""The bounded job queue and its worker threads.

- :class:`JobQueue`: at most ``maxsize`` jobs; a job may wait until a time (a retry after a rate limit).
- :class:`Worker`: takes ready jobs and runs them; a :class:`~.client.RateLimited` or :class:`~.client.Unavailable`
  job goes back into the queue after the wait GitHub asked for (at most ``max_attempts`` times); a job that still
  fails, or any other API error, is logged once and kept in ``failed.jsonl``. On :meth:`Worker.stop` the ready jobs
  are drained (up to a timeout) and whatever is left, delayed retries included, is written to ``pending.jsonl``;
  :meth:`Worker.start` queues those again. No delivery is lost.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from ...ingest.files import write_atomic
from .client import ApiError, RateLimited, Unavailable
from .events import Job

log = logging.getLogger("failgraph.github")


class JobQueue:
    """A bounded, thread-safe priority queue of jobs by the time they become ready."""

    def __init__(self, maxsize: int, clock: Callable[[], float] = time.monotonic):
        self.maxsize = maxsize
        self._clock = clock
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()

    def __len__(self) -> int:
        with self._cv:
            return len(self._heap)

    def put(self, job: Job, delay: float = 0.0, *, force: bool = False) -> bool:
        """Queue ``job`` to be ready after ``delay`` seconds; False when full (``force``: a retry is never refused)."""
        with self._cv:
            if len(self._heap) >= self.maxsize and not force:
                return False
            heapq.heappush(self._heap, (self._clock() + max(delay, 0.0), next(self._seq), job))
            self._cv.notify()
            return True

    def get(self, timeout: float) -> Job | None:
        """The next ready job, waiting up to ``timeout`` seconds; None if none became ready."""
        deadline = self._clock() + timeout
        with self._cv:
            while True:
                now = self._clock()
                if self._heap and self._heap[0][0] <= now:
                    return heapq.heappop(self._heap)[2]
                if now >= deadline:
                    return None
                wait = deadline - now
                if self._heap:
                    wait = min(wait, self._heap[0][0] - now)
                self._cv.wait(max(wait, 0.001))

    def ready(self) -> int:
        """How many jobs are ready now."""
        with self._cv:
            now = self._clock()
            return sum(1 for t, _, _ in self._heap if t <= now)

    def take_all(self) -> list[Job]:
        """Empty the queue, returning its jobs in order."""
        with self._cv:
            jobs = [j for _, _, j in sorted(self._heap)]
            self._heap.clear()
            return jobs


def _write_jobs(path: Path, jobs: list[Job], append: bool = False) -> None:
    old = path.read_text(encoding="utf-8") if append and path.exists() else ""
    write_atomic(path, old + "".join(j.model_dump_json() + "\n" for j in jobs))


def read_jobs(path: Path) -> list[Job]:
    """The jobs of a ``pending.jsonl``/``failed.jsonl`` file (unreadable lines are logged and skipped)."""
    jobs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                jobs.append(Job.model_validate_json(line))
            except ValidationError:
                log.warning("%s line %d is not a job; skipped", path, n)
    return jobs


class Worker:
    """Runs the jobs of ``queue`` with ``handle`` on ``threads`` threads; keeps jobs under ``state_dir``."""

    def __init__(self, queue: JobQueue, handle: Callable[[Job], object], state_dir: Path | None, *,
                 threads: int = 1, max_attempts: int = 6, max_delay: float = 3600.0,
                 on_done: Callable[[Job, object], None] | None = None):
        self.queue, self._handle = queue, handle
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.threads, self.max_attempts, self.max_delay = threads, max_attempts, max_delay
        self._on_done = on_done
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._inflight: dict[int, Job] = {}
        self._lock = threading.Lock()
        self.done = self.retried = self.failed = 0

    @property
    def pending_file(self) -> Path | None:
        return self.state_dir / "pending.jsonl" if self.state_dir else None

    @property
    def failed_file(self) -> Path | None:
        return self.state_dir / "failed.jsonl" if self.state_dir else None

    def start(self) -> int:
        """Queue the jobs a previous run left in ``pending.jsonl`` and start the threads; returns how many."""
        restored = 0
        pending = self.pending_file
        if pending is not None and pending.exists():
            for job in read_jobs(pending):
                self.queue.put(job, force=True)
                restored += 1
            pending.unlink()
            if restored:
                log.info("resuming %d GitHub job(s) left by the last run", restored)
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self._run, name=f"failgraph-github-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return restored

    def stop(self, drain_s: float = 10.0) -> int:
        """Run the ready jobs for up to ``drain_s`` seconds, stop the threads, and persist what is left (returned)."""
        deadline = time.monotonic() + drain_s
        while time.monotonic() < deadline and (self.queue.ready() or self._inflight):
            time.sleep(0.02)
        self._stop.set()
        for t in self._threads:
            t.join(timeout=max(deadline - time.monotonic(), 0.0) + 5.0)
        self._threads.clear()
        with self._lock:
            left = list(self._inflight.values()) + self.queue.take_all()  # in flight: a job stuck past the timeout
        if left and self.pending_file is not None:
            _write_jobs(self.pending_file, left)
            log.info("%d GitHub job(s) kept in %s for the next start", len(left), self.pending_file)
        elif left:
            log.error("%d GitHub job(s) could not be run before shutdown and there is no state directory", len(left))
        return len(left)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            job = self.queue.get(timeout=0.2)
            if job is None:
                continue
            with self._lock:
                self._inflight[me] = job
            try:
                self._one(job)
            finally:
                with self._lock:
                    self._inflight.pop(me, None)

    def _one(self, job: Job) -> None:
        try:
            result: object = self._handle(job)
        except (RateLimited, Unavailable) as e:
            if job.attempts + 1 < self.max_attempts:
                self.retried += 1
                delay = min(e.retry_after, self.max_delay)
                log.warning("%s: %s; retrying in %.0f s", job.key, e, delay)
                self.queue.put(job.model_copy(update={"attempts": job.attempts + 1}), delay, force=True)
                return
            self._give_up(job, e)
            result = e
        except ApiError as e:
            self._give_up(job, e)
            result = e
        except Exception as e:
            log.exception("%s: the GitHub job failed", job.key)
            self._give_up(job, e, logged=True)
            result = e
        else:
            self.done += 1
        if self._on_done is not None:
            self._on_done(job, result)

    def _give_up(self, job: Job, error: Exception, logged: bool = False) -> None:
        if not logged:
            log.error("%s: %s (kept in %s)", job.key, error, self.failed_file)
        if self.failed_file is not None:
            with self._lock:
                _write_jobs(self.failed_file, [job], append=True)
        self.failed += 1


__all__ = ["JobQueue", "Worker", "read_jobs"]
