"""The curated case base: real failures written up in our own words, one JSON object per line.

Program output (error lines, versions) is kept verbatim; titles, summaries, reports and fixes are failgraph's own
wording. Cases from the labeled dataset carry the dataset's labels (``labeler = "dataset"``); others are labeled by
failgraph's curators with the same taxonomy.
"""

from __future__ import annotations

import datetime
import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..ontology import UnknownLabel, UnknownTerm, load_taxonomy, load_vocabulary
from ..ontology.fixes import FixSpec
from .records import IssueRef, issue_key

CASES_FILE = "cases.jsonl"


class LibraryFact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Lower-case PyPI name")
    version: str = Field(min_length=1)


class Environment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    libraries: list[LibraryFact] = Field(default_factory=list)
    cuda: str | None = None
    gpu: str | None = None
    os: str | None = None
    python: str | None = None
    framework: str | None = None


class Case(BaseModel):
    """One curated failure case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_url: str
    repository: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")
    title: str = Field(min_length=5, max_length=160)
    summary: str = Field(min_length=20)
    report: str = Field(min_length=20, description="What a user would paste before knowing the cause")
    error_lines: list[str] = Field(default_factory=list)
    environment: Environment = Field(default_factory=Environment)
    model: str = Field(min_length=1)
    stage: str
    symptom: str
    root_cause: str
    labeler: Literal["dataset", "failgraph-curator"]
    fix: str | None = None
    fix_confirmed: bool = False
    fix_spec: FixSpec | None = Field(None, description="The fix as structured knowledge: action, target, value, "
                                                       "where it applies")
    date: datetime.date | None = Field(None, description="When the issue was opened")

    @field_validator("source_url")
    @classmethod
    def _github_url(cls, v: str) -> str:
        IssueRef.from_url(v)
        return v

    @field_validator("symptom")
    @classmethod
    def _symptom(cls, v: str) -> str:
        return load_taxonomy().leaf("symptom", v).label

    @field_validator("root_cause")
    @classmethod
    def _root_cause(cls, v: str) -> str:
        return load_taxonomy().leaf("root_cause", v).label

    @field_validator("stage")
    @classmethod
    def _stage(cls, v: str) -> str:
        return load_vocabulary().stage(v).label

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        ref = IssueRef.from_url(self.source_url)
        if ref.repository.lower() != self.repository.lower():
            raise ValueError(f"repository {self.repository!r} does not match source_url {self.source_url!r}")
        if self.fix_spec is not None and not self.fix:
            raise ValueError("fix_spec needs the fix text it structures")
        for line in self.error_lines:
            if line not in self.report:
                raise ValueError(f"error line not found verbatim in report: {line[:80]!r}")
        return self

    @property
    def key(self) -> str:
        return issue_key(self.source_url)

    @property
    def issue(self) -> IssueRef:
        return IssueRef.from_url(self.source_url)


class CaseProblem(BaseModel):
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CaseLoad(BaseModel):
    path: str
    cases: list[Case]
    problems: list[CaseProblem]


def default_cases_path() -> Path:
    return Path(str(resources.files(__package__).joinpath("cases", CASES_FILE)))


def load_cases(path: str | Path | None = None) -> CaseLoad:
    """Read and validate a case file (the shipped case base by default); problems carry file and line."""
    p = Path(path) if path else default_cases_path()
    cases: list[Case] = []
    problems: list[CaseProblem] = []
    seen: dict[str, int] = {}
    with open(p, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                case = Case.model_validate(json.loads(line))
            except json.JSONDecodeError as e:
                problems.append(CaseProblem(file=str(p), line=n, message=f"not valid JSON: {e}"))
                continue
            except ValidationError as e:
                msg = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'case'}: {err['msg']}" for err in e.errors())
                problems.append(CaseProblem(file=str(p), line=n, message=msg))
                continue
            except (UnknownLabel, UnknownTerm, ValueError) as e:
                problems.append(CaseProblem(file=str(p), line=n, message=str(e)))
                continue
            if case.key in seen:
                problems.append(CaseProblem(file=str(p), line=n,
                                            message=f"duplicate of line {seen[case.key]} ({case.key})"))
                continue
            seen[case.key] = n
            cases.append(case)
    return CaseLoad(path=str(p), cases=cases, problems=problems)


__all__ = ["Case", "CaseLoad", "CaseProblem", "Environment", "LibraryFact", "default_cases_path", "load_cases"]
