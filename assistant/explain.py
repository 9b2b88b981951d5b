"""Step 7 — explain: the graph path behind each ranked cause, and concrete fixes."""

from __future__ import annotations

import itertools

import networkx as nx

from ..kg.project import ROOT_CAUSE, broader_chain, failure_has_cause
from ..ontology import Level, load_taxonomy
from ..ontology.rules import load_playbook
from .models import CauseAnswer, ExtractedFacts, PathStep
from .retrieve import Neighbour
from .walk import CauseEvidence

REPORT = "report"


def explanation_path(ev: CauseEvidence, neighbours: list[Neighbour], graph: nx.DiGraph) -> list[PathStep]:
    """The edges of the projection (:mod:`failgraph.kg.project`) that lead from the report to the cause, with the
    evidence on them: report → symptom → cause (``indicates``), the rules and models that point at it, the closest
    similar failure whose record has that cause (failure → record → cause), and the cause's ``broader`` chain."""
    tax = load_taxonomy()
    steps: list[PathStep] = []
    if ev.via_symptoms:
        s, ps, pc = max(ev.via_symptoms, key=lambda t: t[1] * t[2])
        steps.append(PathStep(source=REPORT, edge="exhibits", target=s, weight=round(ps, 4)))
        steps.append(PathStep(source=s, edge="indicates P(cause|symptom)", target=ev.cause, weight=round(pc, 4)))
    for why in ev.rules_fired[:2]:
        steps.append(PathStep(source=REPORT, edge=f"rule: {why}", target=ev.cause))
    if ev.category_text is not None:
        steps.append(PathStep(source=REPORT, edge="text resembles (character n-grams)",
                              target=tax.label_at("root_cause", ev.cause, Level.category),
                              weight=round(ev.category_text, 4)))
    if ev.group_vector is not None:
        steps.append(PathStep(source=REPORT, edge="meaning resembles (vector discriminant)",
                              target=tax.label_at("root_cause", ev.cause, Level.group),
                              weight=round(ev.group_vector, 4)))
    for n in neighbours:
        if failure_has_cause(graph, n.failure.key, ev.cause):
            steps.append(PathStep(source=REPORT, edge="similar to", target=n.failure.url,
                                  weight=round(n.similarity, 4)))
            steps.append(PathStep(source=n.failure.url, edge="has root cause", target=ev.cause))
            break
    chain = broader_chain(graph, (ROOT_CAUSE, ev.cause))
    for child, parent in itertools.pairwise(chain):
        steps.append(PathStep(source=child[1], edge="broader", target=parent[1]))
    return steps


def fixes_for(cause: str, facts: ExtractedFacts, neighbours: list[Neighbour], limit: int = 5) -> list[str]:
    """Fix steps from similar past failures with this cause first (concrete), then the playbook's steps."""
    fixes: list[str] = []
    for n in neighbours:
        if cause in n.failure.root_causes and n.failure.fix:
            mark = "confirmed fix" if n.failure.fix_confirmed else "suggested fix"
            fixes.append(f"{n.failure.fix} ({mark} in {n.failure.url})")
            if len(fixes) >= 2:
                break
    steps = load_playbook().fixes_for(cause)
    if facts.libraries and "Dependency Library" in cause:
        libs = ", ".join(f"{k} {v}" for k, v in sorted(facts.libraries.items()))
        fixes.append(f"Your report shows {libs}: check each against the versions the model and framework require.")
    fixes.extend(steps)
    return fixes[:limit]


def answer_for(ev: CauseEvidence, score: float, facts: ExtractedFacts, neighbours: list[Neighbour],
               graph: nx.DiGraph) -> CauseAnswer:
    tax = load_taxonomy()
    leaf = tax.leaf("root_cause", ev.cause)
    return CauseAnswer(label=ev.cause, score=round(score, 4), category=tax.category_of(leaf).label,
                       group=tax.at_level(leaf, Level.group).label, fixes=fixes_for(ev.cause, facts, neighbours),
                       path=explanation_path(ev, neighbours, graph), evidence=ev.supporting[:5])


__all__ = ["answer_for", "explanation_path", "fixes_for"]
