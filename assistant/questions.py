"""Step 7b — ask back when unsure: the questions whose answers would separate the top candidate causes.

Each question (``ontology/questions.yaml``) asks for one fact. How much a fact separates two causes is read off the
case base: ``P(indicator | cause)`` over the past failures labeled with each cause (a fact that distributed failures
state far more often than tokenizer failures separates those two). A question is asked only when the report does
not already state its fact; the error text and the versions are asked for whenever they are missing and the answer
is unsure, since every other check rests on them.
"""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from ..kg.corpus import Corpus
from ..ontology import load_taxonomy
from ..ontology.files import read_yaml
from .models import ExtractedFacts, Question

ALWAYS = ("error_text", "versions")
"""Facts asked for whenever they are missing from an unsure answer's report."""


class QuestionSpec(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    fact: str
    text: str
    field: str | None = None
    stated: re.Pattern
    indicator: re.Pattern


@cache
def question_specs() -> tuple[QuestionSpec, ...]:
    raw = read_yaml("questions.yaml")
    return tuple(QuestionSpec(fact=q["fact"], text=q["text"], field=q.get("field"),
                              stated=re.compile(q["stated"], re.IGNORECASE),
                              indicator=re.compile(q["indicator"], re.IGNORECASE)) for q in raw)


class FactProfile(BaseModel):
    """P(indicator of each fact | root-cause leaf), estimated over the past failures with text (add-one smoothed)."""

    given_cause: dict[str, dict[str, float]] = Field(description="fact → root-cause leaf → probability")

    @classmethod
    def of(cls, corpus: Corpus) -> FactProfile:
        leaves = [c.label for c in load_taxonomy().leaves("root_cause")]
        hits = {q.fact: dict.fromkeys(leaves, 0) for q in question_specs()}
        totals = dict.fromkeys(leaves, 0)
        for f in corpus.failures:
            if not f.root_causes:
                continue
            text = f.full_text
            present = {q.fact for q in question_specs() if q.indicator.search(text)}
            for c in f.root_causes:
                if c in totals:
                    totals[c] += 1
                    for fact in present:
                        hits[fact][c] += 1
        return cls(given_cause={fact: {c: (h[c] + 1) / (totals[c] + 2) for c in leaves} for fact, h in hits.items()})


def stated(q: QuestionSpec, text: str, facts: ExtractedFacts) -> bool:
    """Whether the report already states the fact a question asks for."""
    if q.field and getattr(facts, q.field, None):
        return True
    return bool(q.stated.search(text))


def questions_for(text: str, facts: ExtractedFacts, cause_dist: dict[str, float], profile: FactProfile,
                  limit: int = 3, candidates: int = 3) -> list[Question]:
    """Up to ``limit`` questions, the ones that best separate the ``candidates`` likeliest causes first: a fact's
    separation is the probability-weighted spread of ``P(indicator | cause)`` over those causes."""
    top = sorted(cause_dist.items(), key=lambda kv: -kv[1])[:candidates]
    mass = sum(p for _, p in top) or 1.0
    scored = []
    for q in question_specs():
        if stated(q, text, facts):
            continue
        probs = [profile.given_cause.get(q.fact, {}).get(c, 0.5) for c, _ in top]
        mean = sum(p * w for p, (_, w) in zip(probs, top, strict=True)) / mass
        spread = sum(w * abs(p - mean) for p, (_, w) in zip(probs, top, strict=True)) / mass
        scored.append((q.fact in ALWAYS, spread, q))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].fact))
    return [Question(fact=q.fact, text=q.text, separates=[c for c, _ in top]) for _, _, q in scored[:limit]]


__all__ = ["ALWAYS", "FactProfile", "QuestionSpec", "question_specs", "questions_for", "stated"]
