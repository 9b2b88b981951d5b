"""Step 4 — classify the report's symptom: symptom rules from the ontology plus the neighbours' labels."""

from __future__ import annotations

from ..ingest.extract.progress import ProgressEvidence
from ..ontology.rules import hang_leaves, symptom_rules
from .retrieve import Neighbour
from .weights import DiagnosisWeights


def neighbour_votes(neighbours: list[Neighbour], attr: str, power: float) -> dict[str, float]:
    """Similarity-weighted label votes of the neighbours (similarity to ``power``), normalised to sum to 1 (empty
    when none)."""
    votes: dict[str, float] = {}
    for n in neighbours:
        labels = getattr(n.failure, attr)
        w = max(n.similarity, 0.0) ** power
        for lab in labels:
            votes[lab] = votes.get(lab, 0.0) + w / len(labels)
    total = sum(votes.values())
    return {k: v / total for k, v in votes.items()} if total > 0 else {}


def rule_hits(text: str) -> dict[str, float]:
    """Symptom leaves whose rules match, with the strongest matching weight."""
    hits: dict[str, float] = {}
    for r in symptom_rules():
        if r.search(text):
            hits[r.leaf] = max(hits.get(r.leaf, 0.0), r.weight)
    return hits


def hang_votes(progress: ProgressEvidence | None) -> dict[str, float]:
    """The hang leaf a report with hang evidence and no crash evidence points to: the fine-tuning one when it talks
    about training, else the other one (empty without such evidence)."""
    if progress is None or not progress.hang_only:
        return {}
    leaves = hang_leaves()
    return {leaves.fine_tuning if progress.stage_hint == "fine-tuning" else leaves.other: 1.0}


def classify_symptoms(text: str, neighbours: list[Neighbour], prior: dict[str, float],
                      weights: DiagnosisWeights | None = None,
                      progress: ProgressEvidence | None = None) -> dict[str, float]:
    """A distribution over symptom leaves: the neighbours' votes, the symptom rules that match, the hang evidence
    (a report that says the process stopped without crashing) and the prior."""
    w = weights or DiagnosisWeights()
    votes = neighbour_votes(neighbours, "symptoms", w.vote_power)
    hits = rule_hits(text)
    hit_total = sum(hits.values())
    hang = hang_votes(progress)
    scores = {}
    for leaf, p in prior.items():
        scores[leaf] = (w.symptom_neighbours * votes.get(leaf, 0.0)
                        + w.symptom_rules * (hits.get(leaf, 0.0) / hit_total if hit_total else 0.0)
                        + w.symptom_hang * hang.get(leaf, 0.0)
                        + w.symptom_prior * p)
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()}


__all__ = ["classify_symptoms", "hang_votes", "neighbour_votes", "rule_hits"]
