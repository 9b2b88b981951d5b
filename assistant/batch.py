"""The batch contract of ``failgraph diagnose --batch``: one JSON answer per input line, each line answered on its own.

A line that cannot be read (not UTF-8 nor the file's legacy encoding, not JSON, not a report, a lone surrogate) gets
``{"id": <its own id or null>, "error": "..."}`` and the batch goes on. Lines may carry fields besides those of
:class:`~failgraph.assistant.models.ReportRequest`; they are ignored. Decoding the file's bytes into lines is
:func:`failgraph.ingest.decode.decode_lines`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from ..ingest.decode import UndecodableInput, check_unicode
from .diagnose import diagnose
from .knowledge import KnowledgeBase
from .models import ReportRequest


def validation_message(e: ValidationError, limit: int = 3) -> str:
    """One line naming the fields at fault, e.g. ``text: Field required``."""
    parts = [f"{'.'.join(str(x) for x in err['loc']) or 'line'}: {err['msg'].removeprefix('Value error, ')}"
             for err in e.errors()[:limit]]
    return "invalid report: " + "; ".join(parts)


def _own_id(raw) -> str | int | None:
    rid = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, (str, int)):
        return None
    if isinstance(rid, str):
        try:
            check_unicode(rid)
        except UndecodableInput:
            return None
    return rid


def answer_line(kb: KnowledgeBase, line: str | UndecodableInput, top_k: int) -> dict | None:
    """The JSON answer to one batch line (None for a blank line)."""
    if isinstance(line, str) and not line.strip():
        return None
    raw = None
    try:
        if isinstance(line, UndecodableInput):
            raise line
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as e:
            return {"id": None, "error": f"not JSON: {e}"}
        req = ReportRequest.model_validate({"top_k": top_k, **raw} if isinstance(raw, dict) else raw)
        return diagnose(kb, req).model_dump(mode="json")
    except ValidationError as e:
        msg = validation_message(e)
    except (ValueError, RecursionError) as e:  # ReportError, UndecodableInput, a JSON nested too deep
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    return {"id": _own_id(raw), "error": msg.encode("utf-8", "backslashreplace").decode("utf-8")}


def batch_answers(kb: KnowledgeBase, lines: Iterable[str | UndecodableInput], top_k: int) -> Iterator[dict | None]:
    """One answer per decoded line, in order (None for blank lines)."""
    for line in lines:
        yield answer_line(kb, line, top_k)


__all__ = ["answer_line", "batch_answers", "validation_message"]
