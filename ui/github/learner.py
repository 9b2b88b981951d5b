"""What the bot learns goes into a graph home (:func:`failgraph.kg.learn.learn`); while a build holds the home, the
job is retried later (as for a GitHub outage) instead of holding a worker for the length of the build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...ingest.learned import LearnedFailure
from .client import Unavailable

#: Seconds a learning job waits for the home's build lock before it is put back in the queue.
WAIT_S = 20.0
RETRY_S = 60.0


def home_learner(root: Path, *, wait_s: float = WAIT_S, retry_s: float = RETRY_S) -> Callable[[LearnedFailure], None]:
    """Learns one past failure into the home at ``root``; raises :class:`~.client.Unavailable` while it is busy."""

    def learn_one(item: LearnedFailure) -> None:
        from ...kg.home import GraphHome, HomeBusy
        from ...kg.learn import learn

        try:
            learn(GraphHome(root), [item], wait=wait_s)
        except HomeBusy:
            raise Unavailable(f"the graph home is busy (a build is running): {item.key} is learned later",
                              retry_after=retry_s) from None

    return learn_one


__all__ = ["RETRY_S", "WAIT_S", "home_learner"]
