"""Typed inputs and outputs of the diagnosis engine (the contract of `failgraph diagnose --json` and /v1/diagnose)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..ingest.decode import CheckUnicode, UnicodeText
from ..ingest.extract.narrative import with_title

MAX_TOP_K = 27


class ReportRequest(BaseModel):
    """One report to diagnose (a batch line of `failgraph diagnose --batch`, which may carry other fields: they are
    ignored). Text with lone surrogates is refused (see :mod:`failgraph.ingest.decode`)."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str | int | None, CheckUnicode] = None
    text: UnicodeText
    title: UnicodeText | None = Field(None, max_length=1_000,
                              description="The issue's title, where there is one: matched with the text, as past "
                                          "failures are matched with theirs")
    exclude_urls: list[UnicodeText] = Field(
        default_factory=list, description="Issues to leave out of retrieval and statistics (leave-one-out)")
    top_k: int = Field(default=3, ge=1, le=MAX_TOP_K)

    @property
    def report_text(self) -> str:
        """What is diagnosed: the title (if any) as the first line, then the text."""
        return with_title(self.title, self.text)


class LabelScore(BaseModel):
    label: str
    score: float


class PathStep(BaseModel):
    """One edge of an explanation path in the graph."""

    source: str
    edge: str
    target: str
    weight: float | None = None


class CauseAnswer(BaseModel):
    label: str = Field(description="Released root-cause leaf label")
    score: float
    category: str
    group: str
    fixes: list[str]
    path: list[PathStep]
    evidence: list[str] = Field(default_factory=list, description="URLs of similar past failures with this cause")


class SimilarFailure(BaseModel):
    url: str
    score: float = Field(description="Cosine similarity of the report to this failure's text")
    labels: list[str]
    title: str = ""
    fix: str | None = None


class ExtractedFacts(BaseModel):
    libraries: dict[str, str] = Field(default_factory=dict)
    cuda: str | None = None
    gpus: list[str] = Field(default_factory=list)
    os: str | None = None
    frameworks: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    quantization: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="Normalised error signatures")


class EnvironmentFinding(BaseModel):
    """A compatibility rule that fires on the environment the report describes (see `failgraph doctor`)."""

    rule: str
    severity: str
    library: str | None = None
    message: str
    fix: str
    evidence: list[str] = Field(default_factory=list)


class Diagnosis(BaseModel):
    id: str | int | None = None
    symptoms: list[LabelScore]
    root_causes: list[CauseAnswer]
    similar: list[SimilarFailure]
    facts: ExtractedFacts = Field(default_factory=ExtractedFacts)
    environment: list[EnvironmentFinding] = Field(default_factory=list,
                                                  description="Known-broken (error) or risky (warning) combinations")
    novel: bool = Field(default=False, description="True when nothing similar is known: treat the ranking as a guess")
    notes: list[str] = Field(default_factory=list)


__all__ = ["MAX_TOP_K", "CauseAnswer", "Diagnosis", "EnvironmentFinding", "ExtractedFacts", "LabelScore", "PathStep",
           "ReportRequest", "SimilarFailure"]
