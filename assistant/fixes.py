"""Step 6b — rank fixes: the best-supported fix for this report first, generic steps last.

Candidates are remedies (a fix action on a target, :attr:`~failgraph.ontology.fixes.FixSpec.key`), gathered from
four kinds of knowledge, each scored on its own scale and summed with the weights of
:class:`~failgraph.assistant.weights.DiagnosisWeights`:

- **error**: an entry of the error knowledge (``ontology/rules/errors.yaml``) whose message pattern matches the report;
- **environment**: a compatibility rule that fires on the versions and hardware the report states;
- **similar**: the fixes of the retrieved past failures, each vote its similarity to a power (as the cause votes),
  and the remedies a word naive-Bayes model over all past failures' fixes gives the text;
- **cause**: the remedies that resolved past failures with each likely root cause, ``P(remedy | cause)`` read off the
  graph's ``remedied_by`` edges, weighted by ``P(cause | report)``;
- **playbook**: the playbook's steps for the likely causes.

A fix whose applicability does not fit the report (another model family, framework or GPU) is discounted; one whose
version bound the report's version already meets (an upgrade to ``>=N`` for a user on ``N`` or later), that sets a
parameter to the value the report's command already gives it (``--dtype float16`` for a user running float16), or
that the user says they already tried, is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from ..kg.corpus import RemedyExamples
from ..kg.project import remedies_of
from ..ontology import load_vocabulary
from ..ontology.compat import load_compat_kb
from ..ontology.error_knowledge import ErrorEntry
from ..ontology.fixes import VERSION_ACTIONS, FixSpec
from ..ontology.rules import load_playbook
from .doctor import Finding
from .environment import SEVERITY_WEIGHT, cause_of_rule
from .models import ExtractedFacts, RankedFix
from .retrieve import Neighbour
from .textmodel import TextModel
from .weights import DiagnosisWeights

SOURCE_ORDER = ("error", "environment", "similar", "cause", "playbook")
"""When two sources propose one remedy, its text and provenance come from the first in this order."""


def _fix_spec(value: object) -> FixSpec:
    """A FixSpec passes as it is (it was validated when it was made: a diagnosis proposes about 200 candidates, and
    validating each one's spec again was a tenth of a warm diagnosis); anything else is validated."""
    return value if isinstance(value, FixSpec) else FixSpec.model_validate(value)


class FixCandidate(BaseModel):
    """One proposal of a remedy by one source (before remedies are merged)."""

    model_config = ConfigDict(frozen=True)

    spec: Annotated[FixSpec, PlainValidator(_fix_spec)]
    text: str
    cause: str | None
    source: str
    source_ref: str | None = None
    confirmed: bool = False
    score: float = Field(ge=0)


class FixContext(BaseModel):
    """What the ranking needs to know about the report."""

    facts: ExtractedFacts
    text: str = Field("", description="The report's text, lower-cased (to see which targets it names)")
    family: str | None = Field(None, description="The model series of the report's model, when it names one")
    tried: frozenset[tuple[str, str]] = Field(default_factory=frozenset,
                                              description="Remedies the user says they already tried")

    @classmethod
    def of(cls, facts: ExtractedFacts, text: str = "") -> FixContext:
        vocab = load_vocabulary()
        family = next((s.label for m in facts.models if (s := vocab.series_for_model(m)) is not None), None)
        # a version change tried at a stated version is judged by the version check, not dropped as tried
        tried = frozenset((t.action, t.target) for t in facts.tried
                          if not (t.action in VERSION_ACTIONS and t.value))
        return cls(facts=facts, text=text.casefold(), family=family, tried=tried)

    def names(self, spec: FixSpec) -> bool:
        """Whether the report names the fix's target (``max_model_len`` also as ``--max-model-len``)."""
        t = spec.target
        if len(t) < 3 or (spec.target_kind in ("model", "hardware", "code") and " " in t):
            return False
        return any(form in self.text for form in {t, t.replace("_", "-"), t.replace("-", "_"), t.replace("_", " ")})


def fit(spec: FixSpec, ctx: FixContext, w: DiagnosisWeights) -> float:
    """How well a fix's applicability fits the report: 1 when nothing speaks against it, discounted once for each
    stated fact it contradicts (model family, framework, GPU)."""
    where = spec.applies_to
    f = 1.0
    if where.model_families and ctx.family and ctx.family not in where.model_families:
        f *= w.fix_misfit
    if where.frameworks and ctx.facts.frameworks and not set(where.frameworks) & set(ctx.facts.frameworks):
        f *= w.fix_misfit
    if where.hardware and ctx.facts.gpus and not any(re.search(where.hardware, g, re.IGNORECASE)
                                                     for g in ctx.facts.gpus):
        f *= w.fix_misfit
    return f


def contradicts_versions(spec: FixSpec, facts: ExtractedFacts) -> bool:
    """True when the fix is a version change that the report's stated version already satisfies."""
    if spec.target_kind != "library":
        return False
    return spec.satisfied_by(facts.libraries.get(spec.target))


def error_candidates(entries: list[ErrorEntry]) -> list[FixCandidate]:
    """The fixes of the error-knowledge entries the report matches, each scored by the entry's weight."""
    return [FixCandidate(spec=e.fix, text=e.fix_text, cause=e.cause, source="error", source_ref=e.id,
                         score=e.weight) for e in entries]


def environment_candidates(findings: list[Finding]) -> list[FixCandidate]:
    """The fixes of the compatibility rules that fire on the stated environment, scored by severity."""
    kb, causes = load_compat_kb(), cause_of_rule()
    out = []
    for f in findings:
        spec = kb.rule(f.rule).fix_spec
        if spec is not None and f.severity in SEVERITY_WEIGHT:
            out.append(FixCandidate(spec=spec, text=f.fix, cause=causes.get(f.rule), source="environment",
                                    source_ref=f.rule, score=SEVERITY_WEIGHT[f.severity]))
    return out


_DTYPES = {"half": "float16", "fp16": "float16", "float16": "float16", "torch.float16": "float16",
           "bf16": "bfloat16", "bfloat16": "bfloat16", "torch.bfloat16": "bfloat16",
           "fp32": "float32", "float32": "float32", "float": "float32", "torch.float32": "float32"}


def _setting(value: str) -> str:
    v = value.strip().strip("'\"").casefold()
    return _DTYPES.get(v, v)


def already_set(spec: FixSpec, facts: ExtractedFacts) -> bool:
    """True when the fix sets a parameter (or the dtype) to the value the report's launch arguments already give it:
    advice the report shows is already followed."""
    if spec.action not in ("set-parameter", "change-dtype") or spec.value is None or spec.target_kind != "parameter":
        return False
    stated = facts.launch.get(spec.target)
    return stated is not None and _setting(stated) == _setting(spec.value)


def similar_candidates(neighbours: list[Neighbour], w: DiagnosisWeights) -> list[FixCandidate]:
    """The retrieved past failures' structured fixes, each voting with its similarity to ``vote_power``."""
    out = []
    for n in neighbours:
        f = n.failure
        if f.fix and f.fix_spec is not None:
            out.append(FixCandidate(spec=f.fix_spec, text=f.fix, cause=f.root_causes[0] if f.root_causes else None,
                                    source="similar", source_ref=f.url, confirmed=f.fix_confirmed,
                                    score=max(n.similarity, 0.0) ** w.fix_vote_power))
    return out


def cause_candidates(graph, cause_dist: dict[str, float], examples: RemedyExamples,
                     exclude: frozenset[str] = frozenset(), limit: int = 5) -> list[FixCandidate]:
    """For the ``limit`` likeliest causes, the remedies that resolved past failures with that cause:
    ``P(cause) · P(remedy | cause)``, worded as one such past failure's fix."""
    out = []
    for cause, p in sorted(cause_dist.items(), key=lambda kv: -kv[1])[:limit]:
        counts = remedies_of(graph, cause, exclude)
        total = sum(counts.values())
        for key, n in counts.items():
            ex = examples.example(key, exclude)
            if ex is None or ex.fix is None or ex.fix_spec is None:
                continue
            out.append(FixCandidate(spec=ex.fix_spec, text=ex.fix, cause=cause, source="cause", source_ref=ex.url,
                                    confirmed=ex.fix_confirmed, score=p * n / total))
    return out


def learned_candidates(remedy_model: TextModel, examples: RemedyExamples, text: str,
                       exclude: frozenset[str] = frozenset(), temperature: float = 2.0,
                       limit: int = 15) -> list[FixCandidate]:
    """The remedies a word naive-Bayes model over the past failures' fixes gives this text, ``P(remedy | text)``,
    worded as one such past failure's fix (its issue never among ``exclude``)."""
    out = []
    post = remedy_model.posterior(text, exclude, temperature)
    for label, p in sorted(post.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        action, target = label.split("|", 1)
        ex = examples.example((action, target), exclude)
        if ex is not None and ex.fix and ex.fix_spec is not None:
            out.append(FixCandidate(spec=ex.fix_spec, text=ex.fix, cause=ex.root_causes[0] if ex.root_causes else None,
                                    source="similar", source_ref=ex.url, confirmed=ex.fix_confirmed, score=p))
    return out


def playbook_candidates(cause_dist: dict[str, float], limit: int = 3) -> list[FixCandidate]:
    """The playbook's steps for the ``limit`` likeliest causes, earlier steps first."""
    book = load_playbook()
    out = []
    for cause, p in sorted(cause_dist.items(), key=lambda kv: -kv[1])[:limit]:
        for i, step in enumerate(book.steps_for(cause)):
            out.append(FixCandidate(spec=step.fix, text=step.text, cause=cause, source="playbook",
                                    score=p / (1 + i)))
    return out


def rank_fixes(candidates: Iterable[FixCandidate], ctx: FixContext, w: DiagnosisWeights | None = None,
               limit: int = 8, action_posterior: dict[str, float] | None = None) -> list[RankedFix]:
    """Merge the candidates by remedy, weight each source, discount misfits, drop what the report rules out, and
    order: remedies by score, then generic steps. ``action_posterior``: P(fix action | text), which scales each
    candidate by ``1 + fix_action_text · P(its action)``."""
    w = w or DiagnosisWeights()
    action_posterior = action_posterior or {}
    weight = {"error": w.fix_error, "environment": w.fix_environment, "similar": w.fix_similar,
              "cause": w.fix_cause, "playbook": w.fix_playbook}
    totals: dict[tuple[str, str], float] = {}
    best: dict[tuple[str, str], FixCandidate] = {}
    for c in candidates:
        if contradicts_versions(c.spec, ctx.facts) or already_set(c.spec, ctx.facts) or c.spec.key in ctx.tried:
            continue
        key = c.spec.key if c.spec.target or not c.spec.generic else ("generic", c.text)
        if c.spec.action == "other" and not c.spec.target:
            key = ("other", c.text)
        s = weight[c.source] * c.score * fit(c.spec, ctx, w) * (1 + w.fix_named if ctx.names(c.spec) else 1.0)
        s *= 1 + w.fix_action_text * action_posterior.get(c.spec.action, 0.0)
        totals[key] = totals.get(key, 0.0) + s
        prev = best.get(key)
        if prev is None or (SOURCE_ORDER.index(c.source), -c.score) < (SOURCE_ORDER.index(prev.source), -prev.score):
            best[key] = c
    ranked = sorted(totals, key=lambda k: (best[k].spec.generic, -totals[k], k))
    out = []
    for k in ranked[:limit]:
        c = best[k]
        out.append(RankedFix(text=c.text, action=c.spec.action, target=c.spec.target or None, value=c.spec.value,
                             cause=c.cause, score=round(totals[k], 4), source=c.source, source_ref=c.source_ref,
                             confirmed=c.confirmed, generic=c.spec.generic,
                             fixed_in=c.spec.fixed_in() if c.spec.target_kind == "library" else None))
    return out


__all__ = [
    "FixCandidate",
    "FixContext",
    "cause_candidates",
    "contradicts_versions",
    "fit",
    "learned_candidates",
    "playbook_candidates",
    "rank_fixes",
    "similar_candidates",
]
