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
    """Leaves in answer order: first the best leaf of the best group of the best category (so the first answer
    agrees with the rolled-up category and group decisions), then the others by score."""
    if not leaf_dist:
        return []
    tax = load_taxonomy()
    cats = roll_up(leaf_dist, scheme, Level.category)
    groups = roll_up(leaf_dist, scheme, Level.group)
    best_cat = max(cats, key=lambda c: (cats[c], c))
    in_cat = [g for g in groups if tax.category_of(tax.by_label(scheme, g)).label == best_cat]
    best_group = max(in_cat, key=lambda g: (groups[g], g))
    first = max((leaf for leaf in leaf_dist
                 if tax.label_at(scheme, leaf, Level.group) == best_group),
                key=lambda leaf: (leaf_dist[leaf], leaf))
    rest = [kv for kv in top(leaf_dist, len(leaf_dist)) if kv[0] != first]
    return [(first, leaf_dist[first]), *rest]


__all__ = ["cause_distribution", "ranked_leaves", "roll_up", "top"]
