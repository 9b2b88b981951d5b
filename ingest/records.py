"""Typed records that every ingest source produces and the graph builder consumes."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..ontology import normalise_label

_ISSUE_URL = re.compile(r"^https?://(?:www\.)?github\.com/(?P<owner>[^/\s]+)/(?P<repo>[^/\s]+)/"
                        r"(?:issues|pull|discussions)/(?P<number>\d+)/?(?:[#?]\S*)?$",
                        re.IGNORECASE)

#: Repositories that the search corpus shows under a newer name than the dataset records (lower-case), and other
#: renamed repositories: one issue, one key, whichever name a link uses.
REPOSITORY_RENAMES: dict[str, str] = {
    "qwenlm/qwen3": "qwenlm/qwen2.5",
    "qwenlm/qwen3-coder": "qwenlm/qwen2.5-coder",
    "qwenlm/qwen2": "qwenlm/qwen2.5",
    "qwenlm/qwen1.5": "qwenlm/qwen2.5",
    "ggerganov/llama.cpp": "ggml-org/llama.cpp",
    # frameworks renamed or moved to another owner (threads appear under both names)
    "hiyouga/llama-factory": "hiyouga/llamafactory",
    "pytorch/torchtune": "meta-pytorch/torchtune",
    "openaccess-ai-collective/axolotl": "axolotl-ai-cloud/axolotl",
    "microsoft/deepspeed": "deepspeedai/deepspeed",
    "volcengine/verl": "verl-project/verl",
    "jmorganca/ollama": "ollama/ollama",
    "panqiwei/autogptq": "autogptq/autogptq",
    "turboderp/exllamav2": "turboderp-org/exllamav2",
    "meta-llama/llama-recipes": "meta-llama/llama-cookbook",
    "qwenlm/qwen2-vl": "qwenlm/qwen3-vl",
    "qwenlm/qwen2.5-vl": "qwenlm/qwen3-vl",
}


class IssueRef(BaseModel):
    """A GitHub issue, identified by repository and number."""

    model_config = ConfigDict(frozen=True)

    url: str
    repository: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")
    number: int = Field(ge=1)
    status: Literal["open", "closed"] | None = None

    @classmethod
    def from_url(cls, url: str, status: str | None = None) -> IssueRef:
        m = _ISSUE_URL.match(url.strip())
        if not m:
            raise ValueError(f"not a GitHub issue URL: {url!r}")
        return cls(url=url.strip(), repository=f"{m['owner']}/{m['repo']}", number=int(m["number"]),
                   status=status.lower() if status else None)

    @property
    def key(self) -> str:
        return issue_key(self.url)


def issue_key(url: str) -> str:
    """Canonical ``owner/repo#number`` for an issue URL: case-insensitive and aware of repository renames.

    >>> issue_key("https://github.com/QwenLM/Qwen3/issues/834")
    'qwenlm/qwen2.5#834'
    >>> issue_key("HTTPS://github.com/meta-llama/llama/issues/40/")
    'meta-llama/llama#40'
    >>> issue_key("https://www.github.com/QwenLM/Qwen2.5-Coder/issues/7#issuecomment-2191")  # a comment's link
    'qwenlm/qwen2.5-coder#7'
    """
    m = _ISSUE_URL.match(url.strip())
    if not m:
        raise ValueError(f"not a GitHub issue URL: {url!r}")
    repo = f"{m['owner']}/{m['repo']}".lower()
    return f"{REPOSITORY_RENAMES.get(repo, repo)}#{int(m['number'])}"


class Provenance(BaseModel):
    """Where a record came from and who labeled it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="Stable identifier of the source document, e.g. 'dataset/QwenLM/Qwen/Qwen.json'")
    kind: Literal["dataset", "cases", "github", "jsonl", "report"]
    labeler: Literal["dataset", "failgraph-curator"] | None = None
    index: int | None = Field(default=None, description="Zero-based position in the source file")


class FailureRecord(BaseModel):
    """One labeled observation of a failure in an issue (an issue can carry several)."""

    model_config = ConfigDict(frozen=True)

    issue: IssueRef
    symptom: str
    root_cause: str
    stage: str
    model: str
    architecture: str | None = None
    record_number: int | None = None
    provenance: Provenance

    @field_validator("symptom", "root_cause", "stage", "model")
    @classmethod
    def _normalise(cls, v: str) -> str:
        v = normalise_label(v)
        if not v:
            raise ValueError("must not be empty")
        return v


__all__ = ["REPOSITORY_RENAMES", "FailureRecord", "IssueDocument", "IssueRef", "Provenance", "issue_key"]


class IssueDocument(BaseModel):
    """The text of an issue thread from a tracker (GitHub, a JSONL export, a pasted report), unlabeled by itself."""

    model_config = ConfigDict(frozen=True)

    issue: IssueRef
    title: str = ""
    body: str = ""
    comments: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list, description="The tracker's own labels (bug, inactive...)")
    created_at: str | None = None
    updated_at: str | None = None
    provenance: Provenance

    @property
    def text(self) -> str:
        """Title, body and comments as one text."""
        return "\n\n".join(p for p in [self.title, self.body, *self.comments] if p)
