"""Error knowledge: self-explanatory error messages of the stack mapped to a root cause and a concrete fix.

``rules/errors.yaml`` holds one entry per message: a case-insensitive regular expression on the program's output, the
root-cause leaf it is evidence for (with a weight: how decisive a match is), the remedy in words and as a
:class:`~failgraph.ontology.fixes.FixSpec`, the threads or documentation that show the message and confirm the remedy,
a real example of the message (which must match) and a near miss (similar text which must not).

Unlike the broad cause rules of ``rules/causes.yaml``, an entry names one specific message, so a match can carry its
fix straight into an answer.

>>> [e.id for e in matching_errors("RuntimeError: FlashAttention only supports Ampere GPUs or newer.")]
['flash-attn-needs-ampere']
>>> matching_errors("the model answers in the wrong language")
[]
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .compat import https_urls
from .files import data_path, read_yaml
from .fixes import FixSpec
from .taxonomy import UnknownLabel, load_taxonomy

ERRORS_FILE = "rules/errors.yaml"


class ErrorEntry(BaseModel):
    """One known error message, its cause and its fix."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", description="Unique, kebab-case")
    pattern: str = Field(min_length=8, description="A case-insensitive Python regular expression on the output")
    cause: str = Field(description="A root-cause leaf label of the taxonomy")
    weight: float = Field(gt=0, le=1, description="How decisive a match is for the cause")
    fix_text: str = Field(min_length=10, description="The remedy in words")
    fix: FixSpec
    evidence: list[str] = Field(min_length=1)
    example: str = Field(min_length=8, description="Real program output that the pattern matches")
    near_miss: str = Field(min_length=8, description="Similar text that the pattern must not match")
    regex: re.Pattern

    @model_validator(mode="before")
    @classmethod
    def _compile(cls, data: Any) -> Any:
        if isinstance(data, dict) and "regex" not in data and isinstance(data.get("pattern"), str):
            try:
                data = {**data, "regex": re.compile(data["pattern"], re.IGNORECASE)}
            except re.error as e:
                raise ValueError(f"bad pattern: {e}") from e
        return data

    @field_validator("cause")
    @classmethod
    def _leaf(cls, v: str) -> str:
        try:
            return load_taxonomy().leaf("root_cause", v).label
        except UnknownLabel as e:
            raise ValueError(str(e)) from None

    @field_validator("evidence")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        return https_urls(v)

    @model_validator(mode="after")
    def _examples(self) -> ErrorEntry:
        if self.regex.search(self.example) is None:
            raise ValueError("the example does not match the pattern")
        if self.regex.search(self.near_miss) is not None:
            raise ValueError("the near_miss matches the pattern")
        return self

    def search(self, text: str) -> re.Match | None:
        return self.regex.search(text)


def _entry(raw: Any, index: int) -> ErrorEntry:
    """One entry from its YAML mapping (``fix`` holds ``text`` and the FixSpec fields)."""
    rid = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
    try:
        if not isinstance(raw, dict):
            raise ValueError("an entry is a mapping")
        data = dict(raw)
        fix = dict(data.pop("fix", None) or {})
        data["fix_text"] = fix.pop("text", "")
        data["fix"] = FixSpec.model_validate(fix)
        return ErrorEntry.model_validate(data)
    except (ValidationError, ValueError, TypeError) as e:
        raise ValueError(f"{ERRORS_FILE}: entry {rid}: {e}") from None


def load_error_knowledge(path: str | Path | None = None) -> tuple[ErrorEntry, ...]:
    """The entries of ``path`` (the shipped ``rules/errors.yaml`` by default), validated; ids must be unique."""
    p = Path(path) if path else data_path(ERRORS_FILE)
    raw = read_yaml(p)
    if not isinstance(raw, list):
        raise ValueError(f"{p}: expected a list of entries")
    out = tuple(_entry(r, i) for i, r in enumerate(raw))
    seen: set[str] = set()
    for e in out:
        if e.id in seen:
            raise ValueError(f"{ERRORS_FILE}: entry {e.id}: duplicate id")
        seen.add(e.id)
    return out


@cache
def error_knowledge() -> tuple[ErrorEntry, ...]:
    """The shipped error knowledge, loaded once."""
    return load_error_knowledge()


def matching_errors(text: str) -> list[ErrorEntry]:
    """The entries whose pattern occurs in ``text``, most decisive first (file order among equal weights)."""
    hits = [e for e in error_knowledge() if e.search(text) is not None]
    return sorted(hits, key=lambda e: -e.weight)


__all__ = ["ERRORS_FILE", "ErrorEntry", "error_knowledge", "load_error_knowledge", "matching_errors"]
