"""What of a report (or a past failure's text) is matched against other failures: the narrative, with issue-template
text dropped (:mod:`.templates`), and environment listings (:mod:`.listings`), outer traceback frames
(:mod:`.tracebacks`) and INFO/DEBUG/WARNING log lines (:mod:`.logs`) set aside.
Reports and indexed past failures go through the same function, so both sides of a match are thinned alike; what is
set aside is kept for the extractors."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from .listings import split_listings
from .logs import split_logs
from .templates import split_template
from .tracebacks import split_frames


class MatchingText(BaseModel):
    text: str = Field(description="what is matched against past failures")
    listing: str = Field("", description="environment listings set aside (collect_env, pip lists, nvidia-smi, ...)")
    frames: str = Field("", description="traceback frames set aside (all but the innermost of each run)")
    logs: str = Field("", description="INFO/DEBUG/WARNING log lines, trainer metrics and finished progress bars set "
                                      "aside")
    template: str = Field("", description="issue-template headings, prompts, placeholders and checklists dropped: "
                                          "read by nothing")

    @property
    def full_text(self) -> str:
        """Everything the text says, what was set aside included (template text is not the user's, and is left out):
        what the extractors and environment checks read."""
        return "\n".join(part for part in (self.text, self.listing, self.frames, self.logs) if part)


def matching_text(text: str) -> MatchingText:
    """The narrative to match. Template text is always dropped (a text that is nothing but template says nothing). Each
    other kind of line is set aside only if something else is left: a text that is nothing but a listing (or a log) is
    all there is to match, and is kept whole.

    >>> matching_text("torch==2.4.0\\ntransformers==4.45.1\\nvllm==0.6.2").listing
    ''
    >>> matching_text("### Reminder\\n- [x] I have read the above rules.").text
    ''
    """
    text, template = split_template(text)
    narrative, listing = _unless_nothing_left(text.strip(), split_listings)
    narrative, frames = _unless_nothing_left(narrative.strip(), split_frames)
    narrative, logs = _unless_nothing_left(narrative, split_logs)
    return MatchingText(text=narrative, listing=listing, frames=frames, logs=logs, template=template)


def with_title(title: str | None, text: str) -> str:
    """``text`` with ``title`` as its first line, when there is a title: how a report and a past failure are read.

    >>> with_title("vLLM hangs with TP=2", "Both GPUs stay at 100%.")
    'vLLM hangs with TP=2\\nBoth GPUs stay at 100%.'
    """
    return f"{title.strip()}\n{text}" if title and title.strip() else text


def _unless_nothing_left(text: str, split: Callable[[str], tuple[str, str]]) -> tuple[str, str]:
    kept, aside = split(text)
    return (kept, aside) if aside and kept.strip() else (text, "")


__all__ = ["MatchingText", "matching_text", "with_title"]
