"""Step 5 — walk symptom→cause edges weighted by evidence: the study's P(cause | symptom), the causes of similar
past failures, and rules that fire on the report's facts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..ontology import Level, load_taxonomy
from ..ontology.rules import cause_rules
from .probability import noisy_or
from .retrieve import Neighbour
from .statistics import LabelStatistics
from .symptoms import neighbour_votes
from .weights import DiagnosisWeights


class CauseEvidence(BaseModel):
    """How much each kind of evidence contributes to one root-cause leaf."""

    cause: str
    walk: float = 0.0
    neighbours: float = 0.0
    rules: float = 0.0
    text: float = 0.0
    category_text: float | None = Field(None, description="P(the leaf's category | text), character n-gram model "
                                                          "(None when it had nothing to say)")
    group_vector: float | None = Field(None, description="P(the leaf's group | the report's vector), linear "
                                                         "discriminant (None when it had nothing to say)")
    via_symptoms: list[tuple[str, float, float]] = Field(default_factory=list,
                                                          description="(symptom, P(symptom), P(cause|symptom))")
    rules_fired: list[str] = Field(default_factory=list)
    supporting: list[str] = Field(default_factory=list, description="neighbour URLs labeled with this cause")

    def score(self, w: DiagnosisWeights) -> float:
        """The combined evidence: a weighted sum of the linear terms, times the category and group posteriors
        raised to their powers."""
        linear = (w.cause_walk * self.walk + w.cause_neighbours * self.neighbours + w.cause_rules * self.rules
                  + w.cause_text * self.text)
        if self.category_text is not None:
            linear *= self.category_text ** w.category_text_power
        if self.group_vector is not None:
            linear *= self.group_vector ** w.group_vector_power
        return linear


def walk(text: str, symptom_dist: dict[str, float], neighbours: list[Neighbour], stats: LabelStatistics,
         exclude: frozenset[str] = frozenset(), text_posterior: dict[str, float] | None = None,
         environment: dict[str, tuple[float, list[str]]] | None = None,
         category_posterior: dict[str, float] | None = None,
         group_posterior: dict[str, float] | None = None,
         weights: DiagnosisWeights | None = None) -> dict[str, CauseEvidence]:
    """``category_posterior``: P(root-cause category | text) from the character n-gram model; ``group_posterior``:
    P(root-cause group | the report's vector) from the linear discriminant."""
    w = weights or DiagnosisWeights()
    ev = {c: CauseEvidence(cause=c) for c in stats.cause_leaves}
    for c, p in (text_posterior or {}).items():
        if c in ev:
            ev[c].text = p
    tax = load_taxonomy()
    for posterior, level, field in ((category_posterior, Level.category, "category_text"),
                                    (group_posterior, Level.group, "group_vector")):
        if posterior:
            for c, e in ev.items():
                setattr(e, field, posterior.get(tax.label_at("root_cause", c, level), 0.0))
    top = sorted(symptom_dist.items(), key=lambda kv: -kv[1])[:w.top_symptoms]
    mass = sum(p for _, p in top) or 1.0
    for s, ps in top:
        for c, pc in stats.cause_given_symptom(s, exclude).items():
            ev[c].walk += (ps / mass) * pc
            ev[c].via_symptoms.append((s, ps, pc))
    for c, v in neighbour_votes(neighbours, "root_causes", w.vote_power).items():
        if c in ev:
            ev[c].neighbours = v
    for n in neighbours:
        for c in n.failure.root_causes:
            if c in ev:
                ev[c].supporting.append(n.failure.url)
    for r in cause_rules():  # noisy-or of the rules that fire for a cause
        if r.search(text):
            ev[r.leaf].rules = noisy_or(ev[r.leaf].rules, r.weight)
            ev[r.leaf].rules_fired.append(r.why or r.pattern)
    for leaf, (weight, titles) in (environment or {}).items():  # compatibility rules, known errors
        ev[leaf].rules = noisy_or(ev[leaf].rules, weight)
        ev[leaf].rules_fired.extend(titles)
    if w.normalise_rules:
        total = sum(e.rules for e in ev.values())
        for e in ev.values():
            e.rules = e.rules / total if total else 0.0
    return ev


__all__ = ["CauseEvidence", "walk"]
