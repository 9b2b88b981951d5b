"""Helpers shared by the extractors: a same-length lower-case copy and regex matching at trigger positions (both keep
the extractors fast), the prefix that launchers put in front of each line a worker prints, and the split of a text's
lines into kept and set aside that the listing, traceback and log finders share.

Python's ``re`` scans a long alternation position by position. Most extractors look for a few dozen keywords, so it
is much faster to find the keywords with ``str.find`` (a C loop) and try the full pattern only where one starts.

>>> low = lower_same_length("Two A100s and an H100")
>>> [m.group(0) for m in match_at_triggers(low, ("a100", "h100"), re.compile(r"(?<![\\w])[ah]100"))]
['a100', 'h100']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What torchrun (``[rank0]:``), Ray and vLLM workers (``(RayWorkerWrapper pid=12, ip=10.0.0.2)``,
#: ``(VllmWorker rank=0 pid=12)``) and mpirun (``[1,0]<stderr>:``) put in front of every line a worker prints.
PROCESS_PREFIX = r"(?:\[rank\d+\]:|\(\w+(?: rank=\d+)? pid=\d+(?:, ip=[\d.]+)?\)|\[\d+,\d+\]<std(?:err|out)>:)?"


def split_lines(lines: list[str], aside: list[bool]) -> tuple[str, str]:
    """(the lines kept, the non-blank lines set aside), each joined in their order.

    >>> split_lines(["a", "b", "", "c"], [False, True, True, False])
    ('a\\nc', 'b')
    """
    kept = "\n".join(line for line, a in zip(lines, aside, strict=True) if not a)
    return kept, "\n".join(line for line, a in zip(lines, aside, strict=True) if a and line.strip())


def lower_same_length(text: str) -> str:
    """``text.lower()``, keeping every character's offset (characters whose lower case is longer stay as they are)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # pragma: no cover - rare scripts


def minimal_triggers(triggers: Iterable[str]) -> tuple[str, ...]:
    """The triggers that no shorter trigger is a prefix of (their positions cover all the others').

    >>> minimal_triggers(["torch", "torchvision", "vllm", "vllm-ascend", "peft"])
    ('peft', 'torch', 'vllm')
    """
    out: list[str] = []
    for t in sorted({t for t in triggers if t}):
        if not any(t.startswith(o) for o in out):
            out.append(t)
    return tuple(out)


def trigger_positions(low: str, triggers: Iterable[str]) -> list[int]:
    """Sorted start offsets of every occurrence of every trigger string."""
    positions: set[int] = set()
    for t in triggers:
        if not t:
            continue
        i = low.find(t)
        while i >= 0:
            positions.add(i)
            i = low.find(t, i + 1)
    return sorted(positions)


def match_at_triggers(low: str, triggers: Iterable[str], rx: re.Pattern[str]) -> list[re.Match[str]]:
    """Non-overlapping matches of ``rx`` that start where a trigger starts, in text order."""
    out: list[re.Match[str]] = []
    last_end = -1
    for p in trigger_positions(low, triggers):
        if p < last_end:
            continue
        m = rx.match(low, p)
        if m and m.end() > m.start():
            out.append(m)
            last_end = m.end()
    return out


__all__ = ["lower_same_length", "match_at_triggers", "minimal_triggers", "trigger_positions"]
