"""The diagnosis pipeline: report → extract → retrieve → walk → rank → explain, each step a plain function.

``analyse`` returns the full distributions (used by evaluation); ``diagnose`` turns them into the public
:class:`~failgraph.assistant.models.Diagnosis`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..ingest.extract import extract_environment
from ..ingest.extract.progress import extract_progress
from ..ingest.records import issue_key
from ..ontology.error_knowledge import ErrorEntry
from .doctor import Finding
from .environment import environment_findings, finding_evidence, merge_evidence
from .errors import cites, error_evidence, known_errors
from .explain import answer_for
from .facts import facts_of
from .fixes import (
    FixContext,
    cause_candidates,
    environment_candidates,
    error_candidates,
    learned_candidates,
    playbook_candidates,
    rank_fixes,
    similar_candidates,
)
from .knowledge import KnowledgeBase
from .models import (
    Diagnosis,
    EnvironmentFinding,
    ExtractedFacts,
    LabelScore,
    RankedFix,
    ReportRequest,
    SimilarFailure,
)
from .questions import questions_for
from .rank import cause_distribution, ranked_leaves
from .report import prepare_report
from .retrieve import Neighbour, retrieve
from .symptoms import classify_symptoms
from .walk import CauseEvidence, walk
from .weights import DiagnosisWeights


class Analysis(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    text: str
    notes: list[str]
    facts: ExtractedFacts
    findings: list[Finding]
    errors: list[ErrorEntry] = Field(default_factory=list, description="Error-knowledge entries the report matches")
    neighbours: list[Neighbour]
    symptom_dist: dict[str, float]
    cause_dist: dict[str, float]
    evidence: dict[str, CauseEvidence]
    novel: bool
    exclude: frozenset[str] = Field(default_factory=frozenset, description="Issue keys left out (leave-one-out)")
    query_vector: Any = Field(description="the report's MiniLM vector (numpy), for callers that match it again")


def exclusion_keys(urls: Iterable[str], notes: list[str]) -> frozenset[str]:
    keys = set()
    for u in urls:
        try:
            keys.add(issue_key(u))
        except ValueError:
            notes.append(f"ignored exclude_urls entry that is not a GitHub issue URL: {u[:100]!r}")
    return frozenset(keys)


def analyse(kb: KnowledgeBase, request: ReportRequest, *, mode: str = "hybrid",
            query_vector=None, weights: DiagnosisWeights | None = None, strict_rules: bool = False) -> Analysis:
    """``strict_rules``: also leave out the compatibility rules that cite an excluded issue as evidence (a time-split
    evaluation, where nothing learnt after the split may count); error-knowledge entries are always left out so."""
    w = weights or DiagnosisWeights()
    prepared = prepare_report(request.report_text)
    notes = list(prepared.notes)
    exclude = exclusion_keys(request.exclude_urls, notes)
    env = extract_environment(prepared.full_text)  # read once: the answer's facts and the environment checks
    progress = extract_progress(prepared.full_text)
    facts = facts_of(env).model_copy(update={"hang_evidence": progress.hang, "crash_evidence": progress.crash})
    findings = environment_findings(prepared.full_text, facts.models[0] if facts.models else None, env) \
        if w.use_environment else []
    if strict_rules and exclude:
        findings = [f for f in findings if not cites(f.evidence, exclude)]
    errors = known_errors(prepared.full_text, exclude)
    if query_vector is None:
        query_vector = kb.embedder.encode([prepared.text])[0]
    neighbours = retrieve(kb, prepared.text, query_vector, k=w.neighbours, exclude=exclude, mode=mode)
    symptom_dist = classify_symptoms(prepared.text, neighbours, kb.stats.symptom_prior(exclude), w, progress)
    evidence = walk(prepared.text, symptom_dist, neighbours, kb.stats, exclude,
                    kb.cause_text_model.posterior(prepared.text, exclude, w.text_temperature),
                    merge_evidence(finding_evidence(findings), error_evidence(errors)),
                    kb.cause_category_model.posterior(prepared.text, exclude),
                    kb.cause_group_model.posterior(query_vector, exclude), weights=w)
    cause_dist = cause_distribution(evidence, kb.stats.cause_prior(exclude), w)
    best_sim = max((n.similarity for n in neighbours), default=0.0)
    novel = best_sim < w.novelty_similarity and not any(e.rules_fired for e in evidence.values())
    if novel:
        notes.append("nothing similar is known: no past failure is close to this report and no rule fired, so the "
                     "ranking below rests on the study's overall statistics only")
    return Analysis(text=prepared.text, notes=notes, facts=facts, findings=findings, errors=errors,
                    neighbours=neighbours,
                    symptom_dist=symptom_dist,
                    cause_dist=cause_dist, evidence=evidence, novel=novel, exclude=exclude,
                    query_vector=query_vector)


#: Below this many characters (after template text is dropped), a report with no error text and no versions is thin.
THIN_REPORT_CHARS = 300
THIN_NOTE = ("the report holds no error text and no versions, so the answer below is a guess: add the error output "
             "and your versions (the questions below say what would help most)")


def is_thin(a: Analysis) -> bool:
    """A report too thin to answer with confidence: short, with no error signature and no stated version."""
    return not a.facts.errors and not a.facts.libraries and len(a.text) < THIN_REPORT_CHARS


def fixes_for(kb: KnowledgeBase, a: Analysis, weights: DiagnosisWeights | None = None) -> list[RankedFix]:
    """The ranked fixes of an analysed report (see :mod:`failgraph.assistant.fixes`)."""
    w = weights or DiagnosisWeights()
    t = w.fix_text_temperature
    learned = [c.model_copy(update={"score": c.score * w.fix_learned / w.fix_similar if w.fix_similar else 0.0})
               for c in learned_candidates(kb.remedy_text_model, kb.remedy_examples, a.text, a.exclude, t)]
    candidates = [*error_candidates(a.errors), *environment_candidates(a.findings),
                  *similar_candidates(a.neighbours, w), *learned,
                  *cause_candidates(kb.projection, a.cause_dist, kb.remedy_examples, a.exclude),
                  *playbook_candidates(a.cause_dist)]
    return rank_fixes(candidates, FixContext.of(a.facts, a.text), w,
                      action_posterior=kb.action_text_model.posterior(a.text, a.exclude, t))


def diagnose(kb: KnowledgeBase, request: ReportRequest, weights: DiagnosisWeights | None = None) -> Diagnosis:
    w = weights or DiagnosisWeights()
    a = analyse(kb, request, weights=w)
    shown = [n for n in a.neighbours if n.similarity >= w.novelty_similarity][:w.similar_shown] or a.neighbours[:2]
    causes = ranked_leaves(a.cause_dist, "root_cause")
    thin = is_thin(a)
    unsure = not causes or causes[0][1] < w.ask_below or a.novel or thin
    notes = a.notes + ([THIN_NOTE] if thin else [])
    return Diagnosis(
        id=request.id,
        symptoms=[LabelScore(label=s, score=round(p, 4))
                  for s, p in ranked_leaves(a.symptom_dist, "symptom")[:request.top_k]],
        root_causes=[answer_for(a.evidence[c], p, a.facts, a.neighbours, kb.projection)
                     for c, p in causes[:request.top_k]],
        fixes=fixes_for(kb, a, w),
        questions=questions_for(a.text, a.facts, a.cause_dist, kb.fact_profile) if unsure else [],
        similar=[SimilarFailure(url=n.failure.url, score=round(n.similarity, 4), labels=n.failure.labels,
                                title=n.failure.title, fix=n.failure.fix)
                 for n in sorted(shown, key=lambda n: -n.similarity)],
        facts=a.facts, novel=a.novel, notes=notes,
        environment=[EnvironmentFinding(rule=f.rule, severity=f.severity, library=f.library, message=f.message,
                                        fix=f.fix, evidence=f.evidence) for f in a.findings])


def similar(kb: KnowledgeBase, text: str, *, k: int = 5, exclude_urls: Iterable[str] = ()) -> list[SimilarFailure]:
    """Similar past failures only (the support-bot lookup): hybrid retrieval, scored by cosine similarity."""
    prepared = prepare_report(text)
    exclude = exclusion_keys(exclude_urls, [])
    vec = kb.embedder.encode([prepared.text])[0]
    hits = retrieve(kb, prepared.text, vec, k=k, exclude=exclude)
    return [SimilarFailure(url=n.failure.url, score=round(n.similarity, 4), labels=n.failure.labels,
                           title=n.failure.title, fix=n.failure.fix) for n in hits]


__all__ = ["THIN_NOTE", "THIN_REPORT_CHARS", "Analysis", "analyse", "diagnose", "exclusion_keys", "fixes_for",
           "is_thin", "similar"]
