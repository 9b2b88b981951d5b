"""Step 1 — prepare a pasted report: reject what cannot be read, cap what is huge, and split it into what is matched
and what is set aside (issue-template text dropped; see :mod:`failgraph.ingest.extract.narrative`)."""

from __future__ import annotations

from ..ingest.decode import UndecodableInput, check_unicode
from ..ingest.extract.narrative import MatchingText, matching_text
from ..ontology.glossary import english_glosses

MAX_CHARS = 20_000

#: What matching sets aside, named in the notes: (field of MatchingText, what it is, what it is still read for, what of
#: it was matched after all).
_SET_ASIDE = (("listing", "environment listing (versions, hardware, packages)", "for version checks", ""),
              ("frames", "outer traceback frames", "for library names", " (the innermost frame and the error were)"),
              ("logs", "INFO/DEBUG/WARNING log output and progress bars", "for versions", ""))


class ReportError(ValueError):
    """A report that cannot be diagnosed (empty, or not text)."""


class PreparedReport(MatchingText):
    """The report as it is matched (``text``), what was set aside from matching, and notes for the user."""

    notes: list[str]


def prepare_report(text: str, max_chars: int = MAX_CHARS) -> PreparedReport:
    """Clean a report for matching; raises :class:`ReportError` for empty or binary input or lone surrogates.

    >>> prepare_report("### Reminder\\n- [x] I have read the above rules\\nKeyError: 'qwen2'").text
    "KeyError: 'qwen2'"
    """
    if not isinstance(text, str):
        raise ReportError("the report must be text")
    try:
        check_unicode(text, "the report")
    except UndecodableInput as e:
        raise ReportError(str(e)) from None
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
    matched = matching_text(text)
    if not matched.text.strip():
        raise ReportError("the report is empty: paste what you saw (the error, the output, your versions)")
    said = matched.full_text
    letters = sum(ch.isalpha() for ch in said)
    ascii_letters = sum(ch.isascii() and ch.isalpha() for ch in said)
    if letters and ascii_letters / letters < 0.5:
        notes.append("most of the report is not in English; matching relies on error lines, versions and names")
    if glosses := english_glosses(matched.text):
        # the knowledge base is mostly English: say in English what the Chinese prose means, for every matcher
        matched = matched.model_copy(update={"text": matched.text + "\n" + "; ".join(glosses)})
        notes.append(f"{len(glosses)} Chinese terms were also matched by their English meaning: {'; '.join(glosses)}")
    for part, what, read_for, kept in _SET_ASIDE:
        if aside := getattr(matched, part):
            notes.append(f"{len(aside.splitlines())} lines of {what} were read {read_for} but not used to match past "
                         f"failures{kept}")
    return PreparedReport(**matched.model_dump(), notes=notes)


__all__ = ["MAX_CHARS", "PreparedReport", "ReportError", "prepare_report"]
