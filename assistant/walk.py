"""Step 5 — walk symptom→cause edges weighted by evidence: the study's P(cause | symptom), the causes of similar
past failures, and rules that fire on the report's facts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..ontology import Level, load_taxonomy
from ..ontology.rules import cause_rules
from .retrieve import Neighbour
from .statistics import LabelStatistics
from .symptoms import neighbour_votes

WALK_WEIGHT = 0.35
NEIGHBOUR_WEIGHT = 0.45
RULE_WEIGHT = 0.20
TEXT_WEIGHT = 0.3
RULES_NORMALISED = True
TOP_SYMPTOMS = 5
#: A leaf's linear evidence score is multiplied by P(its category | text)^CATEGORY_TEXT_POWER, from the character
#: n-gram model (leave-one-out over the case base: 0.5 beats 0 and 1; a group-level model added nothing).
CATEGORY_TEXT_POWER = 0.5
#: ... and by P(its group | the report's vector)^GROUP_VECTOR_POWER, from the linear discriminant over MiniLM vectors
#: (its probabilities are sharp, so a small power; chosen on the case base's leave-one-out run, see the README).
GROUP_VECTOR_POWER = 0.15


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

    @property
    def score(self) -> float:
        linear = (WALK_WEIGHT * self.walk + NEIGHBOUR_WEIGHT * self.neighbours + RULE_WEIGHT * self.rules
                  + TEXT_WEIGHT * self.text)
        if self.category_text is not None:
            linear *= self.category_text ** CATEGORY_TEXT_POWER
        if self.group_vector is not None:
            linear *= self.group_vector ** GROUP_VECTOR_POWER
        return linear


def walk(text: str, symptom_dist: dict[str, float], neighbours: list[Neighbour], stats: LabelStatistics,
         exclude: frozenset[str] = frozenset(), text_posterior: dict[str, float] | None = None,
         environment: dict[str, tuple[float, list[str]]] | None = None,
         category_posterior: dict[str, float] | None = None,
         group_posterior: dict[str, float] | None = None) -> dict[str, CauseEvidence]:
    """``category_posterior``: P(root-cause category | text) from the character n-gram model; ``group_posterior``:
    P(root-cause group | the report's vector) from the linear discriminant."""
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
    top = sorted(symptom_dist.items(), key=lambda kv: -kv[1])[:TOP_SYMPTOMS]
    mass = sum(p for _, p in top) or 1.0
    for s, ps in top:
        for c, pc in stats.cause_given_symptom(s, exclude).items():
            ev[c].walk += (ps / mass) * pc
            ev[c].via_symptoms.append((s, ps, pc))
    for c, v in neighbour_votes(neighbours, "root_causes").items():
        if c in ev:
            ev[c].neighbours = v
    for n in neighbours:
        for c in n.failure.root_causes:
            if c in ev:
                ev[c].supporting.append(n.failure.url)
    for r in cause_rules():  # noisy-or of the rules that fire for a cause
        if r.search(text):
            ev[r.leaf].rules = 1.0 - (1.0 - ev[r.leaf].rules) * (1.0 - r.weight)
            ev[r.leaf].rules_fired.append(r.why or r.pattern)
    for leaf, (w, titles) in (environment or {}).items():  # compatibility rules that fire on stated versions
        ev[leaf].rules = 1.0 - (1.0 - ev[leaf].rules) * (1.0 - w)
        ev[leaf].rules_fired.extend(f"environment check: {t}" for t in titles)
    if RULES_NORMALISED:
        total = sum(e.rules for e in ev.values())
        for e in ev.values():
            e.rules = e.rules / total if total else 0.0
    return ev


__all__ = ["CauseEvidence", "walk"]
