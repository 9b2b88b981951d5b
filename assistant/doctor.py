"""The environment doctor: check an environment against the compatibility knowledge base.

The input is an environment report — ``pip freeze``, ``pip list``, ``conda list``, ``python -m
torch.utils.collect_env``, ``transformers env`` / ``transformers-cli env``, ``nvidia-smi``, or any prose that names
versions — or the running interpreter (:func:`here_environment`), plus an optional model name, stage and framework.
The report is read by :func:`failgraph.ingest.extract.environment_report.parse_report` (the running interpreter by
:func:`failgraph.ingest.extract.interpreter.here_environment`), then evaluated against
``ontology/rules/compat.yaml`` (:mod:`failgraph.ontology.compat`).

When past environments are given (from the graph: :func:`past_environments_from_store`, or from the case base:
:func:`past_environments_from_cases`), each finding lists the past failures whose environment matches the same
rule — what happened to others with that combination. Without them the doctor works the same, minus those links.

>>> report = diagnose_environment("transformers==4.36.2\\ntorch==2.1.2+cu121\\ntokenizers==0.15.2",
...                               model="Qwen2-7B-Instruct")
>>> [(f.rule, f.severity) for f in report.findings]
[('transformers-qwen2-min', 'error')]
>>> report.findings[0].fix
'pip install "transformers>=4.37.0"'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from ..ingest.extract.environment import EnvironmentFacts
from ..ingest.extract.environment_report import (
    EnvironmentHints,
    Stage,
    hints_from_case,
    parse_report,
    stage_of,
)
from ..ingest.extract.interpreter import here_environment
from ..kg.named_queries import get_query
from ..ontology.compat import (
    SEVERITY_RANK,
    CompatEnvironment,
    CompatKB,
    CompatRule,
    Severity,
    load_compat_kb,
)

#: Environment-compatibility root causes (their past failures are listed first under a finding).
ENV_CAUSE_PREFIX = "Environment Compatibility Issues"


class DoctorError(ValueError):
    """The doctor's input cannot be used (empty report, unknown stage...)."""


class Finding(BaseModel):
    """One rule that fires on the environment."""

    rule: str
    severity: Severity
    library: str | None
    title: str
    message: str
    fix: str
    evidence: list[str]
    facts: list[str] = Field(default_factory=list, description="What in the environment matched the rule")
    past_failures: list[str] = Field(default_factory=list, description="Past failures (issue URLs) whose "
                                                                        "environment matches the same rule")


class EnvironmentSummary(BaseModel):
    """What the doctor read (shown with the findings so a user can check it)."""

    libraries: dict[str, str]
    named_without_version: list[str]
    complete_listing: bool
    gpus: list[str]
    cuda: str | None
    driver: str | None
    driver_cuda: str | None
    os: str | None
    python: str | None
    frameworks: list[str]
    models: list[str]
    stage: str | None
    quantization: list[str]
    dtype: str | None
    features: list[str]


class DoctorReport(BaseModel):
    findings: list[Finding]
    environment: EnvironmentSummary
    past_failures_searched: bool = False

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


class PastEnvironment(BaseModel):
    """The environment of one past failure, for linking findings to what happened to others."""

    url: str
    environment: CompatEnvironment
    root_causes: list[str] = Field(default_factory=list)



# ---------------------------------------------------------------------------------------------- evaluation


def _summary(env: CompatEnvironment) -> EnvironmentSummary:
    return EnvironmentSummary(
        libraries=env.libraries, named_without_version=env.named, complete_listing=env.complete_listing,
        gpus=[g.name + (f" (compute capability {g.compute_capability})" if g.compute_capability else "")
              for g in env.gpus],
        cuda=env.cuda, driver=env.driver, driver_cuda=env.driver_cuda, os=env.os_name or env.os, python=env.python,
        frameworks=env.frameworks, models=env.models, stage=env.stage, quantization=env.quantization,
        dtype=env.dtype, features=env.features)


def matching_past_failures(rule: CompatRule, past: Sequence[PastEnvironment], limit: int = 5) -> list[str]:
    """URLs of past failures whose environment matches ``rule`` (versions stated, not guessed), environment
    root causes first."""
    hits = []
    for p in past:
        hit = rule.evaluate(p.environment)
        if hit is None or hit.unknown_versions:
            continue
        env_cause = any(c.startswith(ENV_CAUSE_PREFIX) for c in p.root_causes)
        hits.append((not env_cause, p.url))
    return [url for _, url in sorted(hits)[:limit]]


def evaluate_environment(env: CompatEnvironment, *, kb: CompatKB | None = None,
                         past: Sequence[PastEnvironment] | None = None) -> DoctorReport:
    """Every rule that fires on ``env`` (most severe first), with matching past failures when ``past`` is given."""
    kb = kb or load_compat_kb()
    findings = []
    for hit in kb.evaluate(env):
        r = hit.rule
        findings.append(Finding(rule=r.id, severity=hit.severity, library=r.library, title=r.title,
                                message=r.message, fix=r.fix, evidence=list(r.evidence), facts=hit.facts,
                                past_failures=matching_past_failures(r, past) if past else []))
    findings.sort(key=lambda f: SEVERITY_RANK[f.severity])
    return DoctorReport(findings=findings, environment=_summary(env), past_failures_searched=past is not None)


def diagnose_environment(text: str | None = None, *, here: bool = False, model: str | None = None,
                         stage: Stage | None = None, framework: str | None = None,
                         hints: EnvironmentHints | None = None, past: Sequence[PastEnvironment] | None = None,
                         kb: CompatKB | None = None, facts: EnvironmentFacts | None = None) -> DoctorReport:
    """Parse a report (or read the running environment with ``here=True``) and evaluate the rules (``facts``: the
    report's facts, when the caller has already extracted them)."""
    if stage is not None and stage not in ("inference", "fine-tuning"):
        raise DoctorError(f"unknown stage {stage!r}: use inference or fine-tuning")
    kb = kb or load_compat_kb()
    if here:
        env = here_environment(model=model, stage=stage, framework=framework, kb=kb)
        if text:
            extra = parse_report(text, model=model, stage=stage, framework=framework, kb=kb)
            env = env.model_copy(update={k: getattr(extra, k) or getattr(env, k) for k in
                                         ("gpus", "driver", "driver_cuda", "dtype", "features")})
    else:
        if text is None or not text.strip():
            raise DoctorError("the environment report is empty: paste pip freeze / collect_env / nvidia-smi output "
                              "or use --here")
        env = parse_report(text, model=model, stage=stage, framework=framework, hints=hints, kb=kb, facts=facts)
    return evaluate_environment(env, kb=kb, past=past)


# -------------------------------------------------------------------------------------------- past failures


def past_environments_from_cases(cases: Iterable, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments from curated cases (:class:`failgraph.ingest.cases.Case`)."""
    kb = kb or load_compat_kb()
    out = []
    for c in cases:
        env = parse_report(c.report, model=c.model, stage=stage_of(c.stage), hints=hints_from_case(c.environment),
                           kb=kb)
        out.append(PastEnvironment(url=c.source_url, environment=env, root_causes=[c.root_cause]))
    return out


def past_environments_from_corpus(corpus, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments from an already loaded :class:`failgraph.kg.corpus.Corpus` (e.g. ``KnowledgeBase.corpus``):
    the facts in each failure's text and model name (no curated facts: use :func:`past_environments_from_store` for
    those)."""
    kb = kb or load_compat_kb()
    return [PastEnvironment(url=f.url, environment=parse_report(f.full_text, model=f.model, kb=kb),
                            root_causes=list(f.root_causes)) for f in corpus.failures]


def past_environments_from_store(store, kb: CompatKB | None = None) -> list[PastEnvironment]:
    """Past environments of every issue with text in the graph (curated cases carry their curated facts)."""
    kb = kb or load_compat_kb()
    out = []
    for row in store.query(get_query("past_environments").text).records():
        libs = {}
        for item in (row.get("libs") or "").split("\x1f"):
            if "==" in item:
                name, version = item.split("==", 1)
                libs[name] = version
        hints = EnvironmentHints(libraries=libs, cuda=row.get("cudaVersion"), gpu=row.get("gpu"),
                                 os=row.get("osName"), framework=row.get("framework"))
        env = parse_report(row.get("report") or "", model=row.get("modelName"), stage=stage_of(row.get("stage")),
                           hints=hints, kb=kb)
        causes = [c for c in (row.get("causes") or "").split("\x1f") if c]
        out.append(PastEnvironment(url=str(row["url"]), environment=env, root_causes=causes))
    return out


__all__ = ["DoctorError", "DoctorReport", "EnvironmentSummary", "Finding", "PastEnvironment", "diagnose_environment",
           "evaluate_environment", "matching_past_failures", "past_environments_from_cases",
           "past_environments_from_corpus", "past_environments_from_store"]
