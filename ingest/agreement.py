"""Agreement between two independent labelings of the same cases (``failgraph stats --agreement FILE``).

A second labeler labels a sample of the case base from the case's text alone (report, summary, fix), without seeing
the first labels; this module compares the two at every taxonomy level and for the structured fix: observed
agreement and Cohen's kappa (agreement corrected for what two labelers with the same label shares would reach by
chance), overall and per first labeler (the study's labels, failgraph's curators).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from ..ontology import Level, load_taxonomy
from ..ontology.fixes import FixSpec
from .cases import Case
from .records import issue_key

#: The levels compared, per taxonomy, coarse to fine (the symptom taxonomy has no sub-category).
LEVELS: dict[str, tuple[Level, ...]] = {
    "symptom": (Level.category, Level.group, Level.leaf),
    "root_cause": (Level.category, Level.subcategory, Level.group, Level.leaf),
}


class SecondLabel(BaseModel):
    """One case labeled again: its issue, the symptom and root-cause leaves, and the structured fix (None when the
    case names no fix)."""

    source_url: str
    symptom: str
    root_cause: str
    fix_spec: FixSpec | None = None


class LevelAgreement(BaseModel):
    what: str = Field(description="'symptom category', 'root_cause leaf', 'fix action', 'fix action+target' ...")
    pairs: int
    agreement: float
    kappa: float | None = Field(description="Cohen's kappa; None when chance agreement is 1")


class AgreementReport(BaseModel):
    cases: int = Field(description="cases labeled twice and compared")
    unmatched: list[str] = Field(description="second labels whose issue is not in the case base")
    overall: list[LevelAgreement]
    by_first_labeler: dict[str, list[LevelAgreement]]
    disagreements: list[dict[str, str]] = Field(description="root-cause leaf disagreements: issue, first, second")


def read_second_labels(path: str | Path) -> list[SecondLabel]:
    """The second labels in the JSONL file ``path``; ValueError naming the line of a bad one."""
    out: list[SecondLabel] = []
    tax = load_taxonomy()
    leaves = {s: {c.label for c in tax.leaves(s)} for s in LEVELS}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            label = SecondLabel.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as e:
            raise ValueError(f"{path}:{n}: not a second label ({str(e).splitlines()[0]})") from None
        for scheme in LEVELS:
            if getattr(label, scheme) not in leaves[scheme]:
                raise ValueError(f"{path}:{n}: {getattr(label, scheme)!r} is not a {scheme} leaf")
        out.append(label)
    return out


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two labelings given as (first, second) pairs.

    >>> cohen_kappa([("a", "a"), ("b", "b"), ("a", "b"), ("b", "b")])
    0.5
    """
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(first[k] * second[k] for k in first) / (n * n)
    return None if chance >= 1 else round((observed - chance) / (1 - chance), 4)


def _levels(pairs: list[tuple[Case, SecondLabel]]) -> list[LevelAgreement]:
    tax = load_taxonomy()
    rows: list[LevelAgreement] = []
    for scheme, levels in LEVELS.items():
        for level in levels:
            compared = [(a, b) for case, second in pairs
                        if (a := tax.label_at(scheme, getattr(case, scheme), level)) is not None
                        and (b := tax.label_at(scheme, getattr(second, scheme), level)) is not None]
            rows.append(_row(f"{scheme} {level.value}", compared))
    fixed = [(case.fix_spec, second.fix_spec) for case, second in pairs if case.fix_spec and second.fix_spec]
    rows.append(_row("fix action", [(a.action, b.action) for a, b in fixed]))
    rows.append(_row("fix action+target", [("/".join(a.key), "/".join(b.key)) for a, b in fixed]))
    return rows


def _row(what: str, compared: list[tuple[str, str]]) -> LevelAgreement:
    agree = sum(a == b for a, b in compared) / len(compared) if compared else 0.0
    return LevelAgreement(what=what, pairs=len(compared), agreement=round(agree, 4), kappa=cohen_kappa(compared))


def agreement(cases: list[Case], second: list[SecondLabel]) -> AgreementReport:
    """Compare ``second`` with the first labels of the same issues in ``cases`` (issues matched as owner/repo#number,
    case-insensitively and across renamed repositories)."""
    by_key = {c.key: c for c in cases}
    pairs, unmatched = [], []
    for label in second:
        case = by_key.get(issue_key(label.source_url))
        if case is None:
            unmatched.append(label.source_url)
        else:
            pairs.append((case, label))
    groups: dict[str, list[tuple[Case, SecondLabel]]] = {}
    for case, label in pairs:
        groups.setdefault(case.labeler, []).append((case, label))
    return AgreementReport(
        cases=len(pairs), unmatched=unmatched, overall=_levels(pairs),
        by_first_labeler={who: _levels(ps) for who, ps in sorted(groups.items())},
        disagreements=[{"issue": case.source_url, "first": case.root_cause, "second": label.root_cause}
                       for case, label in pairs if case.root_cause != label.root_cause])


__all__ = ["AgreementReport", "LevelAgreement", "SecondLabel", "agreement", "cohen_kappa", "read_second_labels"]
