"""The server-less path of the GitHub Action: one event file (``$GITHUB_EVENT_PATH``), the same routing and handler
as the webhook service, run in the foreground. A rate limit or an outage is waited out a few times (bounded) before
the run fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from .client import RateLimited, Unavailable
from .events import Ignored, route
from .handler import Handler, Outcome

#: Longest wait for a rate limit inside an Action run (a longer one fails the run: re-run the job later).
MAX_WAIT_S = 300.0


class EventError(ValueError):
    """The event file cannot be read or is not a GitHub event payload (one line)."""


def read_event(path: Path) -> dict:
    """The JSON object of an event file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise EventError(f"cannot read the event file {path}: {e.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise EventError(f"the event file {path} is not JSON") from None
    if not isinstance(data, dict):
        raise EventError(f"the event file {path} does not hold a JSON object")
    return data


def handle_event(event: str, payload: dict, handler: Handler, *, run_id: str = "action",
                 attempts: int = 3, sleep: Callable[[float], None] = time.sleep) -> Outcome | Ignored:
    """Route and run one event; waits out rate limits and outages (``attempts`` tries, :data:`MAX_WAIT_S` each)."""
    try:
        job = route(event, payload, run_id, handler.cfg)
    except ValidationError as e:
        where = ".".join(str(x) for x in e.errors()[0]["loc"])
        raise EventError(f"the {event} event is not in GitHub's shape (at {where or 'the top'})") from None
    if isinstance(job, Ignored):
        return job
    for attempt in range(attempts):
        try:
            return handler.handle(job)
        except (RateLimited, Unavailable) as e:
            if attempt + 1 == attempts or e.retry_after > MAX_WAIT_S:
                raise
            sleep(e.retry_after)
    raise AssertionError("unreachable")


__all__ = ["MAX_WAIT_S", "EventError", "handle_event", "read_event"]
