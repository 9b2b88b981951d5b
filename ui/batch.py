"""``failgraph diagnose --batch``: one JSON answer per input line, each line answered on its own.

A line that cannot be read (not UTF-8 nor the file's legacy encoding, not JSON, not a report, a lone surrogate) gets
``{"id": <its own id or null>, "error": "..."}`` and the batch goes on. Lines may carry fields besides those of
:class:`~failgraph.assistant.models.ReportRequest`; they are ignored.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator

from pydantic import ValidationError

from ..assistant.diagnose import diagnose
from ..assistant.knowledge import KnowledgeBase
from ..assistant.models import ReportRequest
from ..ingest.decode import UndecodableInput, check_unicode, decode_bytes, detect_encoding


def validation_message(e: ValidationError, limit: int = 3) -> str:
    """One line naming the fields at fault, e.g. ``text: Field required``."""
    parts = [f"{'.'.join(str(x) for x in err['loc']) or 'line'}: {err['msg'].removeprefix('Value error, ')}"
             for err in e.errors()[:limit]]
    return "invalid report: " + "; ".join(parts)


def split_lines(data: bytes) -> list[bytes]:
    """The file's lines (``\\n`` or ``\\r\\n``), without their line ends; a file with a byte-order mark is
    read in its encoding first."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32 LE starts with UTF-16 LE's mark
        data = decode_bytes(data, "the batch file").encode("utf-8")
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return lines[:-1] if lines and not lines[-1] else lines


def decode_lines(lines: list[bytes], what: str = "line") -> list[str | UndecodableInput]:
    """Each line as text: UTF-8, else the legacy encoding detected over all the lines that are not UTF-8."""
    out: list[str | UndecodableInput] = []
    legacy: str | UndecodableInput | None = None
    for n, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        if legacy is None:
            rest = b"\n".join(x for x in lines if not _is_utf8(x))
            try:
                legacy = detect_encoding(rest, "the lines that are not UTF-8")
            except UndecodableInput as e:
                legacy = e
        if isinstance(legacy, UndecodableInput):
            out.append(UndecodableInput(f"{what} {n} is not UTF-8 text"))
            continue
        try:
            out.append(decode_bytes(line, f"{what} {n}", legacy))
        except UndecodableInput as e:
            out.append(e)
    return out


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


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


def batch_answers(kb: KnowledgeBase, lines: list[bytes], top_k: int) -> Iterator[dict | None]:
    """One answer per line, in order (None for blank lines)."""
    for line in decode_lines(lines):
        yield answer_line(kb, line, top_k)


__all__ = ["answer_line", "batch_answers", "decode_lines", "split_lines", "validation_message"]
