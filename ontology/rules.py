"""Rules and playbook kept as data beside the ontology: symptom rules, cause rules and fix steps per root cause."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .files import data_path, read_yaml
from .fixes import FixSpec
from .taxonomy import load_taxonomy


class PatternRule(BaseModel):
    """A case-insensitive regular expression whose match is evidence for a taxonomy leaf."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    pattern: str
    leaf: str
    weight: float = Field(gt=0, le=1)
    why: str = ""
    regex: re.Pattern

    def search(self, text: str) -> re.Match | None:
        return self.regex.search(text)


class PlaybookStep(BaseModel):
    """One fix step of the playbook: our wording, and the fix it describes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=10)
    fix: FixSpec


class Playbook(BaseModel):
    steps: dict[str, list[PlaybookStep]]

    @field_validator("steps")
    @classmethod
    def _known_leaves(cls, v: dict[str, list[PlaybookStep]]) -> dict[str, list[PlaybookStep]]:
        tax = load_taxonomy()
        return {tax.leaf("root_cause", k).label: steps for k, steps in v.items()}

    def fixes_for(self, root_cause: str) -> list[str]:
        """The steps' texts for a root-cause leaf."""
        return [s.text for s in self.steps.get(root_cause, [])]

    def steps_for(self, root_cause: str) -> list[PlaybookStep]:
        return list(self.steps.get(root_cause, []))


def _load_rules(name: str, key: str, scheme) -> list[PatternRule]:
    tax = load_taxonomy()
    out = []
    for i, r in enumerate(read_yaml(data_path(f"rules/{name}"))):
        try:
            regex = re.compile(r["pattern"], re.IGNORECASE)
        except re.error as e:
            raise ValueError(f"rules/{name} rule #{i}: bad pattern: {e}") from e
        out.append(PatternRule(pattern=r["pattern"], leaf=tax.leaf(scheme, r[key]).label, weight=r["weight"],
                               why=r.get("why", ""), regex=regex))
    return out


@cache
def symptom_rules() -> tuple[PatternRule, ...]:
    return tuple(_load_rules("symptoms.yaml", "symptom", "symptom"))


@cache
def cause_rules() -> tuple[PatternRule, ...]:
    return tuple(_load_rules("causes.yaml", "cause", "root_cause"))


@cache
def load_playbook() -> Playbook:
    return Playbook(steps=read_yaml("playbook.yaml"))


class HangLeaves(BaseModel):
    """The symptom leaves hang evidence points to (``rules/progress.yaml``)."""

    model_config = ConfigDict(frozen=True)

    fine_tuning: str
    other: str


@cache
def hang_leaves() -> HangLeaves:
    tax = load_taxonomy()
    raw = read_yaml(data_path("rules/progress.yaml"))
    return HangLeaves(**{k: tax.leaf("symptom", v).label for k, v in raw.items()})


@cache
def study_heuristics() -> dict[str, str]:
    """Paper symptom category → root-cause leaf, the study's rule of thumb (a baseline for evaluation)."""
    tax = load_taxonomy()
    raw = read_yaml(data_path("rules/heuristics.yaml"))
    return {tax.by_label("symptom", k).label: tax.leaf("root_cause", v).label for k, v in raw.items()}


__all__ = ["HangLeaves", "PatternRule", "Playbook", "PlaybookStep", "cause_rules", "hang_leaves", "load_playbook",
           "study_heuristics", "symptom_rules"]
