"""Past failures learned after a build: an issue thread a maintainer labeled (a closed issue with a taxonomy label,
``/failgraph cause <leaf>``) or a line of ``failgraph ingest jsonl``, with who labeled it and where it came from.

They are kept in the graph home as an append-only log (``<home>/learned/learned.jsonl``, one
:class:`LearnedFailure` per line; the last line of an issue wins), which every full build reads, and are added to the
published graph at once by :mod:`failgraph.kg.learn`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..ontology import UnknownLabel, load_taxonomy
from .records import IssueRef, issue_key

LEARNED_DIR = "learned"
LEARNED_FILE = "learned.jsonl"


class LearnedFailure(BaseModel):
    """One issue thread with the labels a maintainer (or an export) gave it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    title: str = ""
    text: str = Field(description="The thread: body and comments (the title is kept apart)")
    root_cause: str | None = Field(None, description="A root-cause leaf of the taxonomy")
    symptom: str | None = Field(None, description="A symptom leaf of the taxonomy")
    fix: str | None = None
    source: str = Field(description="Where it came from: 'github/OWNER/REPO' or 'jsonl/STEM'")
    labeler: str | None = Field(None, description="The maintainer's login who labeled it (None: the export)")
    learned_at: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        IssueRef.from_url(v)
        return v.strip()

    @field_validator("root_cause")
    @classmethod
    def _cause(cls, v: str | None) -> str | None:
        return None if v is None or not v.strip() else load_taxonomy().leaf("root_cause", v.strip()).label

    @field_validator("symptom")
    @classmethod
    def _symptom(cls, v: str | None) -> str | None:
        return None if v is None or not v.strip() else load_taxonomy().leaf("symptom", v.strip()).label

    @field_validator("fix")
    @classmethod
    def _fix(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @property
    def key(self) -> str:
        return issue_key(self.url)

    @property
    def issue(self) -> IssueRef:
        return IssueRef.from_url(self.url)

    @property
    def labeled(self) -> bool:
        return self.root_cause is not None


def resolve_leaf(scheme: str, text: str) -> str | None:
    """The leaf of ``scheme`` that ``text`` names: its label (any case), the part after `` - ``, or the start of one
    label only (GitHub cuts labels at 50 characters); None when it names none or several.

    >>> resolve_leaf("root_cause", "gpu memory insufficiency")
    'Hardware and Resource Limitations - GPU Memory Insufficiency'
    >>> resolve_leaf("root_cause", "Hardware and Resource Limitations") is None  # a group, not a leaf
    True
    """
    want = " ".join(text.split()).lower()
    if not want:
        return None
    tax = load_taxonomy()
    try:
        return tax.leaf(scheme, text.strip()).label
    except (UnknownLabel, KeyError, ValueError):
        pass
    leaves = [c.label for c in tax.leaves(scheme)]
    for match in (lambda lab: lab.lower() == want, lambda lab: lab.lower().rpartition(" - ")[2] == want,
                  lambda lab: lab.lower().startswith(want) and len(want) >= 20):
        found = [lab for lab in leaves if match(lab)]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def learned_path(home_root: str | Path) -> Path:
    return Path(home_root) / LEARNED_DIR / LEARNED_FILE


def append_learned(home_root: str | Path, items: list[LearnedFailure]) -> None:
    """Append ``items`` to the home's log (flushed to disk before returning). Call it under the home's build lock."""
    path = learned_path(home_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        for it in items:
            f.write(it.model_dump_json() + "\n")
        f.flush()
        os.fsync(f.fileno())


def load_learned(home_root: str | Path) -> list[LearnedFailure]:
    """The home's learned failures, the last line of each issue winning, in the order of their last line. A torn last
    line (a crash while appending) is skipped."""
    path = learned_path(home_root)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    by_key: dict[str, LearnedFailure] = {}
    for line in lines:
        if not line.strip():
            continue
        try:
            item = LearnedFailure.model_validate(json.loads(line))
        except (ValueError, UnknownLabel):
            continue
        by_key.pop(item.key, None)
        by_key[item.key] = item
    return list(by_key.values())


__all__ = ["LEARNED_DIR", "LEARNED_FILE", "LearnedFailure", "append_learned", "learned_path", "load_learned",
           "resolve_leaf"]
