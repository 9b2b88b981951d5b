"""Step 4 — classify the report's symptom: symptom rules from the ontology plus the neighbours' labels."""

from __future__ import annotations

from ..ontology.rules import symptom_rules
from .retrieve import Neighbour

RULE_WEIGHT = 0.45
NEIGHBOUR_WEIGHT = 0.55
PRIOR_WEIGHT = 0.05


VOTE_POWER = 4.0


def neighbour_votes(neighbours: list[Neighbour], attr: str, power: float | None = None) -> dict[str, float]:
    """Similarity-weighted label votes of the neighbours, normalised to sum to 1 (empty when none)."""
    votes: dict[str, float] = {}
    for n in neighbours:
        labels = getattr(n.failure, attr)
        w = max(n.similarity, 0.0) ** (VOTE_POWER if power is None else power)
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


def classify_symptoms(text: str, neighbours: list[Neighbour], prior: dict[str, float]) -> dict[str, float]:
    """A distribution over symptom leaves."""
    votes = neighbour_votes(neighbours, "symptoms")
    hits = rule_hits(text)
    hit_total = sum(hits.values())
    scores = {}
    for leaf, p in prior.items():
        scores[leaf] = (NEIGHBOUR_WEIGHT * votes.get(leaf, 0.0)
                        + RULE_WEIGHT * (hits.get(leaf, 0.0) / hit_total if hit_total else 0.0)
                        + PRIOR_WEIGHT * p)
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()}


__all__ = ["classify_symptoms", "neighbour_votes", "rule_hits"]
