"""Follow-ups: a pasted ``pip freeze``, a longer traceback or an answer appended to the report it refines, and the
refined diagnosis with a note on how the top cause moved. Every conversational interface (the chat, a bot) calls
:func:`refine`."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from .diagnose import diagnose
from .knowledge import KnowledgeBase
from .models import Diagnosis, ReportRequest
from .report import ReportError

#: Separator put between a report and its follow-ups.
FOLLOW_UP_MARK = "\n\n--- follow-up ---\n"


class Refinement(BaseModel):
    """The outcome of one message: the report as it now stands, and its diagnosis or why there is none."""

    report: str | None = None
    diagnosis: Diagnosis | None = None
    error: str | None = None
    note: str | None = None


def combine_reports(previous: str | None, follow_up: str) -> str:
    """A follow-up appended to the report it refines.

    >>> combine_reports(None, "OOM")
    'OOM'
    >>> combine_reports("OOM", "torch==2.1").endswith("torch==2.1")
    True
    """
    follow_up = follow_up.strip()
    if not previous:
        return follow_up
    return previous.rstrip() + FOLLOW_UP_MARK + follow_up


def change_note(previous: Diagnosis | None, current: Diagnosis) -> str | None:
    """How a follow-up moved the top cause (None for a first answer)."""
    if previous is None or not previous.root_causes or not current.root_causes:
        return None
    before, after = previous.root_causes[0], current.root_causes[0]
    if before.label == after.label:
        return (f"Refined with your follow-up: the top cause stays {after.label} (score {before.score:.2f} → "
                f"{after.score:.2f}).")
    return (f"Refined with your follow-up: the top cause changed from {before.label} ({before.score:.2f}) to "
            f"{after.label} ({after.score:.2f}).")


def refine(kb: KnowledgeBase, previous_report: str | None, message: str, previous: Diagnosis | None,
           top_k: int = 3) -> Refinement:
    """Diagnose ``message`` appended to the previous report (if any). A message that cannot be diagnosed leaves the
    report as it was and says why."""
    report = combine_reports(previous_report, message)
    try:
        d = diagnose(kb, ReportRequest(text=report, top_k=top_k))
    except ReportError as e:
        return Refinement(report=previous_report, error=str(e))
    except ValidationError as e:  # text no UTF-8 can carry (a lone surrogate): the same rule as the API's
        return Refinement(report=previous_report, error=e.errors()[0]["msg"].removeprefix("Value error, "))
    return Refinement(report=report, diagnosis=d, note=change_note(previous, d))


__all__ = ["FOLLOW_UP_MARK", "Refinement", "change_note", "combine_reports", "refine"]
