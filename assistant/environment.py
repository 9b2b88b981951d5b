"""Step 2b — check the report's environment against the compatibility rules (the doctor's knowledge base) and turn
the findings into evidence for root causes."""

from __future__ import annotations

from functools import cache

from ..ingest.extract.environment import EnvironmentFacts
from ..ontology import data_path, load_taxonomy
from ..ontology.compat import Condition, compat_rules
from ..ontology.files import read_yaml
from .doctor import DoctorError, Finding, diagnose_environment
from .probability import noisy_or

SEVERITY_WEIGHT = {"error": 0.7, "warning": 0.3}


def _about(c: Condition) -> str:
    if c.gpu_cc or c.gpu_name or c.gpu_vendor or c.os:
        return "platform"
    if c.cuda or c.driver or c.driver_cuda or c.cuda_ahead_of_driver:
        return "cuda"
    for sub in c.any_of:
        kind = _about(sub)
        if kind != "library":
            return kind
    return "library"


@cache
def cause_of_rule() -> dict[str, str]:
    """Rule id → the root-cause leaf its firing is evidence for."""
    tax = load_taxonomy()
    leaves = {k: tax.leaf("root_cause", v).label
              for k, v in read_yaml(data_path("rules/compat_causes.yaml")).items()}
    return {r.id: leaves[_about(r.when)] for r in compat_rules()}


def environment_findings(text: str, model: str | None = None,
                         facts: EnvironmentFacts | None = None) -> list[Finding]:
    """Error and warning findings for the environment a report describes (none when it states none); ``facts``: the
    report's facts, when the caller has already extracted them."""
    try:
        report = diagnose_environment(text, model=model, facts=facts)
    except DoctorError:
        return []
    return [f for f in report.findings if f.severity in SEVERITY_WEIGHT]


def finding_evidence(findings: list[Finding]) -> dict[str, tuple[float, list[str]]]:
    """Root-cause leaf → (noisy-or weight, rule titles) from the findings."""
    causes = cause_of_rule()
    out: dict[str, tuple[float, list[str]]] = {}
    for f in findings:
        leaf = causes.get(f.rule)
        if leaf is None:
            continue
        w, titles = out.get(leaf, (0.0, []))
        out[leaf] = (noisy_or(w, SEVERITY_WEIGHT[f.severity]), [*titles, f"environment check: {f.title}"])
    return out


def merge_evidence(*parts: dict[str, tuple[float, list[str]]]) -> dict[str, tuple[float, list[str]]]:
    """Root-cause leaf → (noisy-or weight, titles) of several kinds of rule evidence together."""
    out: dict[str, tuple[float, list[str]]] = {}
    for part in parts:
        for leaf, (w, titles) in part.items():
            prev_w, prev_titles = out.get(leaf, (0.0, []))
            out[leaf] = (noisy_or(prev_w, w), [*prev_titles, *titles])
    return out


__all__ = ["SEVERITY_WEIGHT", "cause_of_rule", "environment_findings", "finding_evidence", "merge_evidence"]
