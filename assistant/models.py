"""Typed inputs and outputs of the diagnosis engine (the contract of `failgraph diagnose --json` and /v1/diagnose)."""

from __future__ import annotations

from typing import Annotated, Literal

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


class TriedFixAnswer(BaseModel):
    """A fix the report says it already tried, in the fix vocabulary (ontology/fix_actions.ttl)."""

    action: str
    target: str = ""
    value: str | None = None


class ExtractedFacts(BaseModel):
    libraries: dict[str, str] = Field(default_factory=dict)
    cuda: str | None = None
    gpus: list[str] = Field(default_factory=list)
    os: str | None = None
    frameworks: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    quantization: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="Normalised error signatures")
    hang_evidence: list[str] = Field(default_factory=list, description="What says the process stopped making "
                                                                       "progress (no error, a timeout, stuck)")
    crash_evidence: list[str] = Field(default_factory=list, description="What says it died (an error line, a "
                                                                        "traceback, a kill, out of memory)")
    device: Literal["cuda", "cpu", "mps", "npu", "xpu", "rocm"] | None = Field(None, description="Where the model runs")
    gpu_count: int | None = Field(None, description="GPUs the run uses")
    launch: dict[str, str] = Field(default_factory=dict, description="Launcher and engine arguments: normalised "
                                                                     "parameter name -> value")
    model_variant: Literal["base", "instruct"] | None = Field(None, description="Base or instruct/chat model")
    tried: list[TriedFixAnswer] = Field(default_factory=list, description="Fixes the report already tried")
    not_using: list[str] = Field(default_factory=list, description="Libraries and features the report rules out")


class EnvironmentFinding(BaseModel):
    """A compatibility rule that fires on the environment the report describes (see `failgraph doctor`)."""

    rule: str
    severity: str
    library: str | None = None
    message: str
    fix: str
    evidence: list[str] = Field(default_factory=list)


class RankedFix(BaseModel):
    """One fix in the answer's ranked ``fixes`` list: the best-supported fix for this report first."""

    text: str
    action: str = Field(description="A notation of the fix-action vocabulary (ontology/fix_actions.ttl)")
    target: str | None = Field(None, description="What the fix acts on: a library, parameter, file, component…")
    value: str | None = Field(None, description="A version bound or the setting to use")
    cause: str | None = Field(None, description="The root-cause leaf this fix addresses")
    score: float
    source: Literal["error", "environment", "similar", "cause", "playbook"] = Field(
        description="error: an error-knowledge entry matched the report; environment: a compatibility rule fired on "
                    "its versions; similar: the fix of a close past failure; cause: a remedy that resolved past "
                    "failures with a likely root cause; playbook: the cause's general steps")
    source_ref: str | None = Field(None, description="The entry or rule id, or the past failure's URL")
    confirmed: bool = Field(False, description="A thread confirmed that this fix worked")
    generic: bool = Field(False, description="A general step rather than a remedy")
    fixed_in: str | None = Field(None, description="The release the fix shipped in, when known")


class Question(BaseModel):
    """What to ask the user when the answer is unsure: a fact that separates the top candidate causes."""

    fact: str = Field(description="The fact asked about (versions, gpu_count, model_variant, …)")
    text: str
    separates: list[str] = Field(default_factory=list, description="The root-cause leaves the answer tells apart")


class Diagnosis(BaseModel):
    id: str | int | None = None
    symptoms: list[LabelScore]
    root_causes: list[CauseAnswer]
    similar: list[SimilarFailure]
    facts: ExtractedFacts = Field(default_factory=ExtractedFacts)
    environment: list[EnvironmentFinding] = Field(default_factory=list,
                                                  description="Known-broken (error) or risky (warning) combinations")
    fixes: list[RankedFix] = Field(default_factory=list,
                                   description="Fixes ranked for this report, best first; generic steps last")
    questions: list[Question] = Field(default_factory=list,
                                      description="Asked when the first cause is unsure: answering them refines "
                                                  "the diagnosis")
    novel: bool = Field(default=False, description="True when nothing similar is known: treat the ranking as a guess")
    notes: list[str] = Field(default_factory=list)


__all__ = ["MAX_TOP_K", "CauseAnswer", "Diagnosis", "EnvironmentFinding", "ExtractedFacts", "LabelScore", "PathStep",
           "Question", "RankedFix", "ReportRequest", "SimilarFailure", "TriedFixAnswer"]
