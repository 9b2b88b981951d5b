"""Read-only SPARQL queries under limits: a time limit, a row cap and a largest query text.

:class:`QueryService` refuses SPARQL Update and disallowed SERVICE calls before any store sees the query, then runs it
in a killable worker process (an on-disk snapshot) or in a thread whose result is abandoned past the time limit. The
HTTP endpoint and the Streamlit SPARQL page both run their queries through it.
"""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .remote import ProcessQueryPool, QueryBusy, QueryTimeout
from .results import AskResult, GraphResult, QueryResult, SelectResult
from .sparql_text import update_keyword
from .store import GraphStore, OxigraphStore, QueryDataset, StoreError, check_query


class QueryLimits(BaseModel):
    """Limits of the SPARQL endpoint."""

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(default=10.0, gt=0, description="A query running longer is stopped (HTTP 503)")
    max_rows: int = Field(default=10_000, ge=1, description="Rows (or triples) returned at most; more are cut and "
                                                            "flagged with X-Failgraph-Truncated: true")
    max_query_bytes: int = Field(default=64 * 1024, ge=1, description="Largest accepted query text")
    isolation: Literal["auto", "process", "thread"] = Field(
        default="auto", description="process: run queries of an on-disk snapshot in killable worker processes; "
                                    "thread: in threads (any store); auto: process when the store is on disk")
    workers: int = Field(default=2, ge=1, description="Queries that may run at once")


class ReadOnlyViolation(StoreError):
    """An attempt to change the graph through a read-only service."""


class QueryTooLarge(StoreError):
    """A query text over :attr:`QueryLimits.max_query_bytes`."""


def check_read_only(text: str) -> None:
    """Raises :class:`ReadOnlyViolation` when ``text`` is a SPARQL Update."""
    word = update_keyword(text)
    if word:
        raise ReadOnlyViolation(f"this endpoint is read-only: SPARQL Update ({word}) is not accepted")


class QueryOutcome(BaseModel):
    """A query's result and whether the row cap cut it."""

    result: SelectResult | AskResult | GraphResult
    truncated: bool = False


class QueryService:
    """Runs read-only queries against a store under the time limit and row cap of :class:`QueryLimits`."""

    def __init__(self, store: GraphStore, limits: QueryLimits | None = None, *, base_iri: str | None = None):
        self.store = store
        self.limits = limits or QueryLimits()
        self.base_iri = base_iri
        on_disk = isinstance(store, OxigraphStore) and store.path is not None
        mode = self.limits.isolation
        if mode == "process" and not on_disk:
            raise ValueError("process isolation needs an on-disk Oxigraph store")
        self.isolation = "process" if mode == "process" or (mode == "auto" and on_disk) else "thread"
        self._pool = (ProcessQueryPool(store.path, workers=self.limits.workers, timeout=self.limits.timeout_s,
                                       policy=store.policy) if self.isolation == "process" else None)
        self._slots = threading.BoundedSemaphore(self.limits.workers)

    def run(self, text: str, dataset: QueryDataset | None = None) -> QueryOutcome:
        """Raises ReadOnlyViolation, ServiceRefused, QueryTimeout, QueryBusy or StoreError (a bad query)."""
        if len(text.encode("utf-8")) > self.limits.max_query_bytes:
            raise QueryTooLarge(f"the query is longer than {self.limits.max_query_bytes:,} bytes")
        check_read_only(text)
        check_query(text, self.store.policy)  # before any worker or thread: the store checks again itself
        cap = self.limits.max_rows
        res = self._run(text, cap + 1, dataset)
        if isinstance(res, SelectResult):
            if len(res.rows) > cap:
                res = SelectResult(variables=res.variables, rows=res.rows[:cap], truncated=True)
            return QueryOutcome(result=res, truncated=res.truncated)
        if isinstance(res, GraphResult) and len(res.triples) > cap:
            return QueryOutcome(result=GraphResult(triples=res.triples[:cap]), truncated=True)
        return QueryOutcome(result=res)

    def _run(self, text: str, max_rows: int, dataset: QueryDataset | None = None) -> QueryResult:
        if self._pool is not None:
            return self._pool.query(text, max_rows=max_rows, dataset=dataset, base_iri=self.base_iri)
        return self._run_in_thread(text, max_rows, dataset)

    def _run_in_thread(self, text: str, max_rows: int, dataset: QueryDataset | None = None) -> QueryResult:
        timeout = self.limits.timeout_s
        if not self._slots.acquire(timeout=timeout):
            raise QueryBusy("every query slot is busy; try again shortly")
        box: dict = {}
        done = threading.Event()

        def work():
            try:
                box["result"] = self.store.query(text, max_rows=max_rows, dataset=dataset, base_iri=self.base_iri)
            except BaseException as e:
                box["error"] = e
            finally:
                self._slots.release()  # a query past its limit keeps its slot until it ends: concurrency stays bounded
                done.set()

        threading.Thread(target=work, name="failgraph-sparql", daemon=True).start()
        if not done.wait(timeout):
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was abandoned")
        if "error" in box:
            e = box["error"]
            if isinstance(e, StoreError):
                raise e
            raise StoreError(f"the query failed: {type(e).__name__}: {e}")
        return box["result"]

    def warm_up(self) -> None:
        """Starts the worker processes (process isolation) before the first query."""
        if self._pool is not None:
            self._pool.warm_up()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


__all__ = ["QueryLimits", "QueryOutcome", "QueryService", "QueryTooLarge", "ReadOnlyViolation", "check_read_only"]
