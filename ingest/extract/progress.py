"""Hang evidence, kept apart from crash evidence: does the report describe a process that stopped making progress
(no error, a watchdog or timeout line, stuck at a step, generation that never ends) or one that died?

A hang report often quotes a timeout line that ends in an exception (an NCCL watchdog), so timeout lines count as
hang evidence even though they look like errors; every other error line, a traceback, a kill or an out-of-memory
counts as crash evidence.

>>> e = extract_progress("Training hangs at step 0, GPUs at 100% util, no error, nothing in the log.")
>>> e.hang, e.crash, e.stage_hint
(['stuck at a step', 'no error'], [], 'fine-tuning')
>>> extract_progress("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB").crash
['error line', 'out of memory']
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

_HANG = [
    ("watchdog or timeout", re.compile(
        r"Watchdog caught collective operation timeout|NCCL (?:watchdog|timeout)|collective operation timeout|"
        r"timed? ?out after \d|Timeout at NCCL|waiting for (?:output|response|the engine)|shm_broadcast|"
        r"No available shared memory broadcast block|heartbeat (?:timeout|lost)|RPC timed out", re.I)),
    ("stuck at a step", re.compile(
        r"\b(?:hangs?|hanging|hung|stuck|freez(?:e|es|ing)|frozen|stalls?|stalled|deadlocks?|blocks? forever)\b"
        r"|stays? at \d+ ?%|no progress|never (?:finish|complete|return|start|end)s?\b|waits? (?:forever|indefinitely)"
        r"|does(?:n't| not) (?:move|progress|continue|proceed)|nothing happens", re.I)),
    ("no error", re.compile(
        r"\bno (?:error|exception|traceback|crash|output|log)s?\b|without (?:any )?(?:error|exception|output|log)s?"
        r"|silently|nothing (?:is )?(?:printed|logged|in the logs?)", re.I)),
    ("generation never ends", re.compile(
        r"never stops? generating|generat\w* (?:forever|endlessly|indefinitely|without stopping)|infinite (?:loop|"
        r"generation)|runs? forever", re.I)),
]
_CRASH = [
    ("traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("error line", re.compile(r"^\s*(?:\[rank\d+\]:\s*)?[\w.]*(?:Error|Exception)\b[^\n]*:", re.M)),
    ("killed", re.compile(r"\bKilled\b|SIGKILL|exitcode\s*:\s*-9|core dumped|Segmentation fault|SIGSEGV|SIGABRT",
                          re.I)),
    ("out of memory", re.compile(r"out of memory|OutOfMemoryError|\bOOM\b", re.I)),
]
_TIMEOUT_LINE = re.compile(r"timeout|timed out|watchdog", re.I)
_FINE_TUNING = re.compile(r"\b(?:train\w*|fine-?tun\w*|lora|sft|dpo|deepspeed|zero-?[23]|trainer|epoch)\b", re.I)


class ProgressEvidence(BaseModel):
    """What in a report says the process hung, and what says it crashed."""

    hang: list[str] = Field(default_factory=list, description="Kinds of hang evidence found")
    crash: list[str] = Field(default_factory=list, description="Kinds of crash evidence found (timeout lines aside)")
    stage_hint: str | None = Field(None, description="'fine-tuning' when the report talks about training")

    @property
    def hang_only(self) -> bool:
        """Hang evidence and no crash evidence: a process that stopped, not one that died."""
        return bool(self.hang) and not self.crash


def extract_progress(text: str) -> ProgressEvidence:
    hang = [kind for kind, rx in _HANG if rx.search(text)]
    crash = []
    for kind, rx in _CRASH:
        matches = [m.group(0) for m in rx.finditer(text)]
        if kind == "error line":  # an exception that reports a timeout is the hang's own evidence
            matches = [m for m in matches if not _TIMEOUT_LINE.search(_line_of(text, m))]
        if matches:
            crash.append(kind)
    return ProgressEvidence(hang=hang, crash=crash, stage_hint="fine-tuning" if _FINE_TUNING.search(text) else None)


def _line_of(text: str, fragment: str) -> str:
    i = text.find(fragment)
    end = text.find("\n", i + len(fragment))
    return text[i:end if end >= 0 else len(text)]


__all__ = ["ProgressEvidence", "extract_progress"]
