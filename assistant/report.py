"""Step 1 — prepare a pasted report: reject what cannot be read, cap what is huge, strip issue-template text."""

from __future__ import annotations

import re

from ..ingest.extract.narrative import MatchingText, matching_text

MAX_CHARS = 20_000

# Issue-template boilerplate that says nothing about the failure (English and Chinese templates of the LLM repos).
_TEMPLATE_LINES = re.compile(
    r"^\s*(?:[-*]\s*\[[ xX]\]\s*.*"
    r"|#{1,6}\s*(?:Reminder|System Info|Reproduction|Expected behavior|Others|Checklist|Describe the bug|"
    r"Environment|Steps to reproduce|Current Behavior|Expected Behavior|Anything else\??|Information|Tasks|"
    r"是否已有关于该错误的issue.*|该问题是否在FAQ中有解答.*|当前行为.*|期望行为.*|复现方法.*|运行环境.*|备注.*)\s*"
    r"|#{1,6}\s*Who can help\??\s*|\s*(?:@[\w\-]+[\s,]*)+"
    r"|.*I have (?:read|searched) (?:the above rules|the existing issues|FAQ).*"
    r"|.*我已经(?:搜索|阅读)过.*"
    r"|```\s*[\w+\-]*\s*"                                     # code fences, any language
    r"|(?:!\[[^\]]*\]\([^)]*\)|<img\s[^>]*>)\s*)$")               # screenshots: a link says nothing to match


class ReportError(ValueError):
    """A report that cannot be diagnosed (empty, or not text)."""


class PreparedReport(MatchingText):
    """The report as it is matched (``text``), what was set aside from matching, and notes for the user."""

    notes: list[str]


def prepare_report(text: str, max_chars: int = MAX_CHARS) -> PreparedReport:
    """Clean a report for matching; raises :class:`ReportError` for empty or binary input.

    >>> prepare_report("### Reminder\\n- [x] I have read the above rules\\nKeyError: 'qwen2'").text
    "KeyError: 'qwen2'"
    """
    if not isinstance(text, str):
        raise ReportError("the report must be text")
    notes: list[str] = []
    if "\x00" in text or (text and sum(1 for ch in text[:4096] if not ch.isprintable() and ch not in "\n\r\t")
                          > 0.1 * min(len(text), 4096)):
        raise ReportError("the report looks like binary data, not text; paste the error output or logs as text")
    if len(text) > max_chars:
        # keep the head (setup, versions) and the tail (the final error) of long logs
        head, tail = text[: max_chars // 2], text[-max_chars // 2:]
        text = head + "\n...\n" + tail
        notes.append(f"the report was longer than {max_chars:,} characters; only its first and last "
                     f"{max_chars // 2:,} were read")
    kept = [line for line in text.splitlines() if not _TEMPLATE_LINES.match(line)]
    cleaned = "\n".join(kept).strip()
    if not cleaned:
        raise ReportError("the report is empty: paste what you saw (the error, the output, your versions)")
    letters = sum(ch.isalpha() for ch in cleaned)
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in cleaned)
    if letters and ascii_letters / letters < 0.5:
        notes.append("most of the report is not in English; matching relies on error lines, versions and names")
    matched = matching_text(cleaned)
    if matched.listing:
        notes.append(f"{len(matched.listing.splitlines())} lines of environment listing (versions, hardware, "
                     "packages) were read for version checks but not used to match past failures")
    if matched.frames:
        notes.append(f"{len(matched.frames.splitlines())} lines of outer traceback frames were read for library "
                     "names but not used to match past failures (the innermost frame and the error were)")
    if matched.logs:
        notes.append(f"{len(matched.logs.splitlines())} lines of INFO/DEBUG/WARNING log output and progress bars were "
                     "read for versions but not used to match past failures")
    return PreparedReport(**matched.model_dump(), notes=notes)


__all__ = ["MAX_CHARS", "PreparedReport", "ReportError", "prepare_report"]
