"""Issue threads exported from other trackers as JSON Lines, stored as :class:`IssueDocument` lines.

Each non-blank line is one JSON object::

    {"url": "https://github.com/OWNER/REPO/issues/123",       required: a GitHub issue, pull or discussion URL
     "title": "...", "body": "..." | "text": "...",          at least one of title / body / text, non-empty
     "comments": ["...", {"body": "..."}],                   optional: strings or objects with a body
     "labels": ["bug", {"name": "cuda"}],                    optional: strings or objects with a name
     "state": "open" | "closed",                             optional (also "status")
     "created_at": "2024-05-01T10:00:00Z", "updated_at": …,  optional ISO 8601 dates
     "symptom": "...", "root_cause": "...", "fix": "..."}    optional: taxonomy leaves and the fix

Other fields are ignored. A bad line is reported as ``FILE:LINE: message``; nothing is stored while any line is bad
unless the caller asks to skip them. The documents are written atomically to
``<home>/sources/jsonl/<file-stem>.jsonl`` (replacing an earlier import of a file with that stem); a URL that occurs
twice keeps its last line.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .files import now_iso
from .learned import LearnedFailure, resolve_leaf
from .records import IssueDocument, IssueRef, Provenance, issue_key
from .sources import jsonl_store_path, safe_name, write_documents


class JsonlError(ValueError):
    """The export file cannot be read at all, or has bad lines and skipping them was not asked for."""


class ExportLine(BaseModel):
    """One line of an export, as validated."""

    model_config = ConfigDict(extra="ignore")

    url: str
    title: str | None = None
    body: str | None = None
    text: str | None = None
    comments: list[str] = Field(default_factory=list, description="Strings, or objects with a 'body'")
    labels: list[str] = Field(default_factory=list, description="Strings, or objects with a 'name'")
    state: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    symptom: str | None = Field(None, description="A symptom leaf of the taxonomy (its label, or its part after ' - ')")
    root_cause: str | None = Field(None, description="A root-cause leaf of the taxonomy")
    fix: str | None = None

    @field_validator("symptom", "root_cause")
    @classmethod
    def _leaf(cls, v: str | None, info) -> str | None:
        if v is None or not v.strip():
            return None
        leaf = resolve_leaf(info.field_name, v)
        if leaf is None:
            raise ValueError(f"{v!r} names no {info.field_name.replace('_', '-')} leaf of the taxonomy")
        return leaf

    @field_validator("url")
    @classmethod
    def _github_issue(cls, v: str) -> str:
        IssueRef.from_url(v)  # raises "not a GitHub issue URL: ..."
        return v.strip()

    @field_validator("comments", mode="before")
    @classmethod
    def _comments(cls, v: Any) -> list[str]:
        return _strings(v, "body", allow_null=True)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> list[str]:
        return _strings(v, "name", allow_null=False)

    @field_validator("state", "status")
    @classmethod
    def _state(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip().lower()
        if v not in ("open", "closed"):
            raise ValueError(f"must be 'open' or 'closed', not {v!r}")
        return v

    @field_validator("created_at", "updated_at")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            datetime.fromisoformat(v.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date: {v!r}") from None
        return v.strip()

    @model_validator(mode="after")
    def _some_text(self) -> ExportLine:
        if self.body is not None and self.text is not None and self.body != self.text:
            raise ValueError("give 'body' or 'text', not both")
        if not ((self.title or "").strip() or (self.body or self.text or "").strip()):
            raise ValueError("needs a non-empty 'title', 'body' or 'text'")
        if self.state and self.status and self.state != self.status:
            raise ValueError("'state' and 'status' disagree")
        return self

    def learned(self, source: str, labeler: str | None = None) -> LearnedFailure:
        """The line as a learned past failure (labeled when it names a root cause)."""
        body = _clean(self.body if self.body is not None else self.text)
        text = "\n\n".join(p for p in [body, *map(_clean, self.comments)] if p) or (self.title or "").strip()
        return LearnedFailure(url=self.url, title=(self.title or "").strip(), text=text, root_cause=self.root_cause,
                              symptom=self.symptom, fix=self.fix, source=source, labeler=labeler,
                              learned_at=now_iso())

    def document(self, source: str, index: int) -> IssueDocument:
        return IssueDocument(
            issue=IssueRef.from_url(self.url, status=self.state or self.status),
            title=(self.title or "").strip(), body=_clean(self.body if self.body is not None else self.text),
            comments=[c for c in map(_clean, self.comments) if c], labels=list(self.labels),
            created_at=self.created_at, updated_at=self.updated_at,
            provenance=Provenance(source=source, kind="jsonl", index=index))


def _strings(v: Any, key: str, *, allow_null: bool) -> list[str]:
    """A list of strings, or of objects carrying the string under ``key``, as a list of strings."""
    if v is None:
        return []
    if not isinstance(v, list):
        raise ValueError(f"expected a list, found {type(v).__name__}")
    out = []
    for i, entry in enumerate(v):
        item = entry[key] if isinstance(entry, dict) and key in entry else entry
        if item is None and allow_null and isinstance(entry, dict):
            item = ""
        if not isinstance(item, str):
            raise ValueError(f"item {i}: expected a string or an object with a string {key!r}")
        out.append(item)
    return out


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


class LineProblem(BaseModel):
    """A line that could not be read, with where it is (1-based line number)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class JsonlLoad(BaseModel):
    """The documents of an export file, the problems with its bad lines, and how many URLs repeated."""

    file: str
    source: str
    documents: list[IssueDocument]
    problems: list[LineProblem]
    duplicates: int = 0
    learned: list[LearnedFailure] = []


class JsonlIngest(BaseModel):
    """What ``failgraph ingest jsonl`` stored."""

    file: str
    path: str
    source: str
    stored: int
    problems: list[LineProblem]
    duplicates: int = 0


def _message(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(map(str, err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def source_name(path: Path) -> str:
    """The provenance source of an export file: ``jsonl/<stem>``."""
    return f"jsonl/{safe_name(path.stem)}"


def parse_jsonl(path: str | Path) -> JsonlLoad:
    """Read and validate every line; problems are collected with ``file:line``, never raised per line."""
    path = Path(path)
    if not path.exists():
        raise JsonlError(f"{path} does not exist")
    if not path.is_file():
        raise JsonlError(f"{path} is not a file")
    source = source_name(path)
    by_key: dict[str, IssueDocument] = {}
    learned: dict[str, LearnedFailure] = {}
    problems: list[LineProblem] = []
    duplicates = 0
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            def bad(message: str, lineno: int = lineno) -> None:
                problems.append(LineProblem(file=str(path), line=lineno, message=message))

            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                bad(f"not UTF-8 text ({e.reason} at byte {e.start})")
                continue
            if not line.strip():
                continue
            try:
                data: Any = json.loads(line)
            except json.JSONDecodeError as e:
                bad(f"not valid JSON ({e.msg} at column {e.colno})")
                continue
            if not isinstance(data, dict):
                bad(f"expected a JSON object, found {type(data).__name__}")
                continue
            try:
                line_ = ExportLine.model_validate(data)
                doc = line_.document(source, lineno - 1)
                item = line_.learned(source)
            except ValidationError as e:
                bad(_message(e))
                continue
            key = issue_key(doc.issue.url)
            if key in by_key:
                duplicates += 1
                del by_key[key]  # the last line wins, in its own position
                del learned[key]
            by_key[key] = doc
            learned[key] = item
    return JsonlLoad(file=str(path), source=source, documents=list(by_key.values()), problems=problems,
                     duplicates=duplicates, learned=list(learned.values()))


def store_jsonl(loaded: JsonlLoad, home_root: str | Path, *, skip_invalid: bool = False) -> JsonlIngest:
    """Store a parsed export under ``<home_root>/sources/jsonl/<stem>.jsonl`` atomically.

    With bad lines and ``skip_invalid`` false, nothing is written and :class:`JsonlError` is raised (show
    ``loaded.problems`` first, one per line).
    """
    if loaded.problems and not skip_invalid:
        raise JsonlError(f"{len(loaded.problems)} malformed line(s) in {loaded.file}; fix them or pass --skip-invalid")
    if not loaded.documents:
        raise JsonlError(f"{loaded.file} holds no issue documents")
    target = jsonl_store_path(home_root, Path(loaded.file).stem)
    write_documents(target, loaded.documents)
    return JsonlIngest(file=loaded.file, path=str(target), source=loaded.source, stored=len(loaded.documents),
                       problems=loaded.problems, duplicates=loaded.duplicates)


def ingest_jsonl(path: str | Path, home_root: str | Path, *, skip_invalid: bool = False) -> JsonlIngest:
    """:func:`parse_jsonl` then :func:`store_jsonl`."""
    return store_jsonl(parse_jsonl(path), home_root, skip_invalid=skip_invalid)


__all__ = ["ExportLine", "JsonlError", "JsonlIngest", "JsonlLoad", "LineProblem", "ingest_jsonl", "parse_jsonl",
           "source_name", "store_jsonl"]
