"""What of a report (or a past failure's text) is matched against other failures: the narrative, with environment
listings (:mod:`.listings`), traceback frames (:mod:`.tracebacks`) and INFO/DEBUG log lines (:mod:`.logs`) set aside.
Reports and indexed past failures go through the same function, so both sides of a match are thinned alike; what is
set aside is kept for the extractors."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .listings import split_listings
from .logs import split_logs
from .tracebacks import split_frames


class MatchingText(BaseModel):
    text: str = Field(description="what is matched against past failures")
    listing: str = Field("", description="environment listings set aside (collect_env, pip lists, nvidia-smi, ...)")
    frames: str = Field("", description="traceback frames set aside")
    logs: str = Field("", description="INFO/DEBUG log lines and progress bars set aside")

    @property
    def full_text(self) -> str:
        """Everything the text says, what was set aside included: what the extractors and environment checks read."""
        return "\n".join(part for part in (self.text, self.listing, self.frames, self.logs) if part)


def matching_text(text: str) -> MatchingText:
    """The narrative to match. Each kind of line is set aside only if something else is left: a text that is nothing
    but a listing (or a log) is all there is to match, and is kept whole.

    >>> matching_text("torch==2.4.0\\ntransformers==4.45.1\\nvllm==0.6.2").listing
    ''
    """
    narrative, listing = split_listings(text)
    if not (listing and narrative.strip()):
        narrative, listing = text, ""
    narrative, frames = split_frames(narrative.strip())
    narrative, logs = split_logs(narrative)
    return MatchingText(text=narrative, listing=listing, frames=frames, logs=logs)


__all__ = ["MatchingText", "matching_text"]
