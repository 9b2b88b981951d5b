"""Step 6 — rank root causes: normalise evidence scores into a distribution and roll it up the taxonomy."""

from __future__ import annotations

from ..ontology import Level, SchemeName, load_taxonomy
from .probability import normalise
from .walk import CauseEvidence
from .weights import DiagnosisWeights


def cause_distribution(evidence: dict[str, CauseEvidence], prior: dict[str, float] | None = None,
                       weights: DiagnosisWeights | None = None) -> dict[str, float]:
    """Each cause's combined evidence divided by its prior to the power ``prior_correction``, normalised."""
    w = weights or DiagnosisWeights()
    gamma = w.prior_correction
    scores = {c: e.score(w) / (prior[c] ** gamma if prior and gamma else 1.0) for c, e in evidence.items()}
    return normalise(scores)


def roll_up(leaf_dist: dict[str, float], scheme: SchemeName, level: Level) -> dict[str, float]:
    """Sum leaf probabilities into the concepts of one level (leaves without an ancestor there are dropped)."""
    tax = load_taxonomy()
    out: dict[str, float] = {}
    for leaf, p in leaf_dist.items():
        label = tax.label_at(scheme, leaf, level)
        if label is not None:
            out[label] = out.get(label, 0.0) + p
    return out


def top(dist: dict[str, float], k: int) -> list[tuple[str, float]]:
    return sorted(dist.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def ranked_leaves(leaf_dist: dict[str, float], scheme: SchemeName) -> list[tuple[str, float]]:
    """Leaves in answer order: by their own scores, highest first (ties by label), so that an answer never puts a
    cause before a likelier one."""
    return top(leaf_dist, len(leaf_dist))


__all__ = ["cause_distribution", "ranked_leaves", "roll_up", "top"]
