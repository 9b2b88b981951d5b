"""What the graph knows about one GitHub issue: its statements, labeled records, fix, libraries and links.

The graph is read with the named queries ``issue_*.rq`` (``kg/queries/``); each is written over ``?issue`` with the
line ``VALUES ?issue { UNDEF }``, which is replaced with the validated issue IRI and nothing else.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from ..ingest.records import IssueRef, issue_key
from ..ontology.namespaces import FG, FGID
from .corpus import PastFailure
from .named_queries import get_query
from .store import GraphStore

UNBOUND = "VALUES ?issue { UNDEF }"


class IssueLabel(BaseModel):
    """One labeled failure record about the issue."""

    symptom: str | None = Field(description="None only for a learned label that names a root cause alone")
    root_cause: str
    stage: str | None = None
    model: str | None = None
    labeler: str | None = Field(default=None, description="Who labeled it: OpenLLMFailuresStudy or FailgraphCurator")
    source: str | None = Field(default=None, description="Source document of the record")


class LibraryVersionFact(BaseModel):
    name: str
    version: str


class IssueFix(BaseModel):
    text: str
    confirmed: bool = False


class IssueFacts(BaseModel):
    """What the graph knows about one GitHub issue."""

    id: str = Field(description="Canonical owner/repo#number (lower case)")
    url: str
    repository: str | None = None
    number: int | None = None
    status: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    model: str | None = None
    labels: list[IssueLabel] = Field(default_factory=list)
    fix: IssueFix | None = None
    libraries: list[LibraryVersionFact] = Field(default_factory=list)
    cuda: str | None = None
    framework: str | None = None
    os: str | None = None
    hardware: list[str] = Field(default_factory=list)
    error_lines: list[str] = Field(default_factory=list)
    error_signatures: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="Named graphs (sources) that state facts about it")


_ISSUE_ID = re.compile(r"^(?P<owner>[A-Za-z0-9][A-Za-z0-9_.-]{0,99})/(?P<repo>[A-Za-z0-9_.-]{1,100})"
                       r"(?:#|/(?:issues/|pull/)?)(?P<number>[0-9]{1,9})/?$")


def issue_url_of(issue_id: str) -> str:
    """The GitHub URL of ``owner/repo#number`` or ``owner/repo/number`` (ValueError otherwise).

    >>> issue_url_of("QwenLM/Qwen#15"), issue_url_of("meta-llama/llama/834")
    ('https://github.com/QwenLM/Qwen/issues/15', 'https://github.com/meta-llama/llama/issues/834')
    """
    m = _ISSUE_ID.match(issue_id.strip())
    if not m:
        raise ValueError(f"not an issue id: {issue_id[:120]!r}; write owner/repo#number (URL-encoded: "
                         "owner%2Frepo%23number) or owner/repo/number")
    return f"https://github.com/{m['owner']}/{m['repo']}/issues/{int(m['number'])}"


def _issue_iri(key: str) -> str:
    repo, number = key.split("#")
    iri = f"{FGID}issue/{repo}/{number}"
    if not re.fullmatch(r"[A-Za-z0-9_.:/#-]+", iri):  # the key comes from a validated id; never splice anything else
        raise ValueError("not an issue id")
    return iri


def _bound(name: str, iri: str) -> str:
    """The named query ``name`` with ``?issue`` bound to ``iri`` (already validated by :func:`_issue_iri`)."""
    lines = get_query(name).text.splitlines()
    at = [i for i, line in enumerate(lines) if line.strip() == UNBOUND]
    if len(at) != 1:
        raise RuntimeError(f"the named query {name} must hold the line {UNBOUND!r} exactly once")
    lines[at[0]] = f"VALUES ?issue {{ <{iri}> }}"
    return "\n".join(lines) + "\n"


def issue_facts(store: GraphStore, issue_id: str) -> IssueFacts | None:
    """The issue's facts from the graph, or None when the graph does not know it (ValueError for a bad id)."""
    key = issue_key(issue_url_of(issue_id))
    iri = _issue_iri(key)
    props: dict[str, list[str]] = {}
    sources: list[str] = []
    for row in store.query(_bound("issue_properties", iri)).records():
        props.setdefault(row["p"], [])
        if row["o"] not in props[row["p"]]:
            props[row["p"]].append(row["o"])
        if row["g"] not in sources:
            sources.append(row["g"])
    if f"{FG}url" not in props:
        return None

    def one(p: str):
        v = props.get(p)
        return v[0] if v else None

    labels = []
    for r in store.query(_bound("issue_labels", iri)).records():
        lab = r["labeler"].rsplit("#", 1)[-1] if r["labeler"] else None
        item = IssueLabel(symptom=r["symptom"], root_cause=r["cause"], stage=r["stage"], model=r["model"],
                          labeler=lab, source=r["source"])
        if item not in labels:
            labels.append(item)
    fix = None
    for r in store.query(_bound("issue_fix", iri)).records():
        fix = IssueFix(text=r["fix"], confirmed=bool(r["confirmed"]))
    libraries = [LibraryVersionFact(name=r["name"], version=r["version"])
                 for r in store.query(_bound("issue_libraries", iri)).records()]
    linked: dict[str, list[str]] = {}
    for r in store.query(_bound("issue_links", iri)).records():
        linked.setdefault(r["p"], []).append(r["label"])
    number = one(f"{FG}issueNumber")
    return IssueFacts(
        id=key, url=one(f"{FG}url"), repository=one(f"{FG}repository"),
        number=int(number) if number is not None else None, status=one(f"{FG}status"),
        title=one("http://purl.org/dc/terms/title"), summary=one("http://purl.org/dc/terms/abstract"),
        text=one(f"{FG}text"), model=one(f"{FG}modelName"), labels=labels, fix=fix, libraries=libraries,
        cuda=one(f"{FG}cudaVersion"), framework=one(f"{FG}framework"), os=one(f"{FG}operatingSystem"),
        hardware=linked.get(f"{FG}onHardware", []), error_lines=props.get(f"{FG}errorLine", []),
        error_signatures=linked.get(f"{FG}hasErrorSignature", []), sources=sources)


#: The source named for what the graph learned after its build (``failgraph ingest jsonl``, the GitHub bot).
LEARNED_SOURCE = "learned"


def learned_issue_facts(failure: PastFailure) -> IssueFacts:
    """What the knowledge base knows of an issue it learned after the graph was built (the server's store, opened
    read-only at start, sees the learned quads only after a restart)."""
    ref = IssueRef.from_url(failure.url)
    symptoms = failure.symptoms or [None]
    labels = [IssueLabel(symptom=symptoms[min(i, len(symptoms) - 1)], root_cause=cause, model=failure.model,
                         source=LEARNED_SOURCE) for i, cause in enumerate(failure.root_causes)]
    return IssueFacts(id=failure.key, url=failure.url, repository=ref.repository, number=ref.number,
                      title=failure.title or None, text=failure.text, model=failure.model, labels=labels,
                      fix=IssueFix(text=failure.fix, confirmed=failure.fix_confirmed) if failure.fix else None,
                      sources=[LEARNED_SOURCE])


__all__ = ["LEARNED_SOURCE", "IssueFacts", "IssueFix", "IssueLabel", "LibraryVersionFact", "issue_facts",
           "issue_url_of", "learned_issue_facts"]
