"""How well the environment doctor does on the case base: ``python -m failgraph.assistant.doctor_eval``.

For every case the doctor gets what a user would have: the case's ``report`` text, its curated ``environment``
facts (libraries and versions, CUDA, GPU, OS, Python, framework), its ``model`` and its stage. No graph and no
labels are used, and nothing is special-cased per case.

Two figures:

* **recall on environment-compatibility cases** — over the cases labeled ``Environment Compatibility Issues -``
  ``Dependency Library Compatibility``, ``CUDA Version Compatibility`` or ``System Architecture Compatibility``
  whose curated environment names the versions involved (at least one library version, or a CUDA, GPU or OS
  fact), the share for which the doctor raises an ``error`` or ``warning`` finding about the right thing:

  - *lenient* ("right"): the finding's rule is about something the case states — a library the case names
    (with or without a version) or, for platform rules, the case's GPU, OS or CUDA/driver;
  - *strict*: in addition, the kind of subject fits the label — a library-version condition for Dependency
    Library Compatibility; a CUDA/driver condition or GPU generation for CUDA Version Compatibility; a GPU or
    OS condition for System Architecture Compatibility.

  A finding that fires only because a library is named without a version (``if_version_unknown``) counts only
  when its severity is still error or warning.

* **specificity on other cases** — over every case with another root cause, the share where the doctor raises
  nothing of severity ``error``.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..ingest.cases import Case, load_cases
from ..ingest.evaluator import Evaluator, Progress
from ..ingest.extract.environment_report import EnvironmentHints, hints_from_case
from ..ontology.compat import CompatKB, load_compat_kb
from .doctor import DoctorReport, diagnose_environment

ENV_LABELS = (
    "Environment Compatibility Issues - Dependency Library Compatibility",
    "Environment Compatibility Issues - CUDA Version Compatibility",
    "Environment Compatibility Issues - System Architecture Compatibility",
)
RECALL_TARGET = 0.5
SPECIFICITY_TARGET = 0.95

#: Subjects a finding must be about, per label, for the strict figure.
_STRICT_SUBJECTS = {
    ENV_LABELS[0]: ("library",),
    ENV_LABELS[1]: ("cuda", "gpu"),
    ENV_LABELS[2]: ("gpu", "os"),
}


class CaseOutcome(BaseModel):
    url: str
    root_cause: str
    findings: list[tuple[str, str]] = Field(default_factory=list, description="(rule, severity)")
    right: list[str] = Field(default_factory=list, description="Rules counted as flagging the right problem")
    strict: list[str] = Field(default_factory=list)


class DoctorEvaluation(BaseModel):
    rules: int
    env_cases: int
    env_cases_with_facts: int
    recall_lenient: float
    recall_strict: float
    recall_by_label: dict[str, tuple[int, int]]
    other_cases: int
    specificity: float
    misses: list[CaseOutcome]
    false_errors: list[CaseOutcome]
    hits: list[CaseOutcome]
    rule_hits_on_env_cases: dict[str, int]

    @property
    def targets_met(self) -> bool:
        return self.recall_lenient >= RECALL_TARGET and self.specificity >= SPECIFICITY_TARGET


def has_version_facts(case: Case) -> bool:
    """The case's curated environment names the versions involved: a library version, or CUDA, GPU or OS."""
    e = case.environment
    return bool(e.libraries or e.cuda or e.gpu or e.os)


def doctor_case(case: Case, kb: CompatKB | None = None) -> DoctorReport:
    """Run the doctor on what the case's user had: the report, the curated environment, the model and stage."""
    stage = "fine-tuning" if case.stage.lower().startswith("fine") else "inference"
    hints: EnvironmentHints = hints_from_case(case.environment)
    return diagnose_environment(case.report, model=case.model, stage=stage, hints=hints, kb=kb)


def _case_subjects(case: Case, report: DoctorReport) -> set[str]:
    """What the case states: ``library:<name>`` for every library or framework it names, ``gpu``, ``os``, ``cuda``."""
    env = report.environment
    out = {f"library:{n}" for n in env.libraries} | {f"library:{n}" for n in env.named_without_version}
    out |= {f"library:{f}" for f in env.frameworks}
    if env.gpus:
        out.add("gpu")
    if env.os:
        out.add("os")
    if env.cuda or env.driver or env.driver_cuda:
        out.add("cuda")
    return out


def _judge(case: Case, report: DoctorReport, kb: CompatKB) -> CaseOutcome:
    stated = _case_subjects(case, report)
    outcome = CaseOutcome(url=case.source_url, root_cause=case.root_cause,
                          findings=[(f.rule, f.severity) for f in report.findings])
    for f in report.findings:
        if f.severity not in ("error", "warning"):
            continue
        subjects = kb.rule(f.rule).subjects()
        concrete = {s for s in subjects if s.startswith("library:") or s in ("gpu", "os", "cuda")}
        about = concrete & stated
        if f.library:
            about |= {f"library:{f.library}"} & stated
        if not about:
            continue
        outcome.right.append(f.rule)
        kinds = {"library" if s.startswith("library:") else s for s in about}
        if case.root_cause == ENV_LABELS[0]:
            # a library-version condition on a library the case names
            ok = any(s.startswith("library:") for s in about)
        else:
            ok = bool(kinds & set(_STRICT_SUBJECTS[case.root_cause]))
        if ok:
            outcome.strict.append(f.rule)
    return outcome


def evaluate_doctor(cases: Sequence[Case] | None = None, kb: CompatKB | None = None) -> DoctorEvaluation:
    kb = kb or load_compat_kb()
    cases = list(cases) if cases is not None else load_cases().cases
    env_cases = [c for c in cases if c.root_cause in ENV_LABELS]
    scored = [c for c in env_cases if has_version_facts(c)]
    others = [c for c in cases if c.root_cause not in ENV_LABELS]
    hits, misses, rule_hits = [], [], Counter()
    by_label: dict[str, list[int]] = {label: [0, 0] for label in ENV_LABELS}
    strict = 0
    for c in scored:
        o = _judge(c, doctor_case(c, kb), kb)
        by_label[c.root_cause][1] += 1
        if o.right:
            hits.append(o)
            by_label[c.root_cause][0] += 1
            rule_hits.update(set(o.right))
        else:
            misses.append(o)
        strict += bool(o.strict)
    false_errors = []
    for c in others:
        report = doctor_case(c, kb)
        if report.errors:
            false_errors.append(CaseOutcome(url=c.source_url, root_cause=c.root_cause,
                                            findings=[(f.rule, f.severity) for f in report.findings]))
    n = len(scored)
    return DoctorEvaluation(
        rules=len(kb.rules), env_cases=len(env_cases), env_cases_with_facts=n,
        recall_lenient=len(hits) / n if n else 0.0, recall_strict=strict / n if n else 0.0,
        recall_by_label={k: (v[0], v[1]) for k, v in by_label.items()}, other_cases=len(others),
        specificity=1 - len(false_errors) / len(others) if others else 1.0, misses=misses,
        false_errors=false_errors, hits=hits, rule_hits_on_env_cases=dict(rule_hits.most_common()))


def render(ev: DoctorEvaluation) -> str:
    short = {label: label.split(" - ")[-1] for label in ENV_LABELS}
    lines = [
        f"failgraph doctor on the case base ({ev.rules} compatibility rules)",
        "",
        f"Environment-compatibility cases: {ev.env_cases}; naming versions/CUDA/GPU/OS: {ev.env_cases_with_facts}",
        (f"  flagged the right problem (error/warning about a stated library, GPU, OS or CUDA): "
         f"{len(ev.hits)}/{ev.env_cases_with_facts} = {ev.recall_lenient:.3f}   (target >= {RECALL_TARGET})"),
        (f"  strict (subject kind also fits the label):                                     "
         f"{ev.recall_strict:.3f}"),
    ]
    for label, (hit, total) in ev.recall_by_label.items():
        lines.append(f"    {short[label]}: {hit}/{total}")
    lines += [
        f"Cases with other root causes: {ev.other_cases}",
        (f"  no error-severity finding: {ev.other_cases - len(ev.false_errors)}/{ev.other_cases} = "
         f"{ev.specificity:.3f}   (target >= {SPECIFICITY_TARGET})"),
        "",
        "Rules that flagged environment cases (cases):",
    ]
    lines += [f"  {rule}: {n}" for rule, n in ev.rule_hits_on_env_cases.items()]
    lines += ["", f"Misses ({len(ev.misses)}): environment cases with facts where nothing right was flagged"]
    for o in ev.misses:
        found = ", ".join(f"{r} ({s})" for r, s in o.findings) or "no findings"
        lines.append(f"  {o.url} [{short[o.root_cause]}] -> {found}")
    lines += ["", f"Error findings on cases with other root causes ({len(ev.false_errors)})"]
    for o in ev.false_errors:
        errs = ", ".join(r for r, s in o.findings if s == "error")
        lines.append(f"  {o.url} [{o.root_cause}] -> {errs}")
    lines += ["", "targets met" if ev.targets_met else "TARGETS NOT MET"]
    return "\n".join(lines)


class DoctorEvaluator(Evaluator[DoctorEvaluation]):
    """Recall of the compatibility rules on environment-fault cases, and how rarely they fire an error elsewhere."""

    name = "doctor"

    def __init__(self, cases: Sequence[Case] | None = None, kb: CompatKB | None = None):
        self.cases = cases
        self.kb = kb

    def run(self, progress: Progress | None = None) -> DoctorEvaluation:
        result = evaluate_doctor(self.cases, self.kb)
        if progress:
            progress(result.env_cases + result.other_cases)
        return result

    def render(self, result: DoctorEvaluation) -> str:
        return render(result)


def main(argv: Sequence[str] | None = None) -> int:
    sys.stdout.write(DoctorEvaluator().report() + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = [
    "ENV_LABELS",
    "RECALL_TARGET",
    "SPECIFICITY_TARGET",
    "DoctorEvaluation",
    "DoctorEvaluator",
    "doctor_case",
    "evaluate_doctor",
    "has_version_facts",
    "main",
    "render",
]
