"""Coverage of the curated case base: cases per taxonomy leaf, framework, model family, year and fix action, and the
thin spots (``failgraph stats --cases``)."""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, Field

from ..ontology import load_taxonomy, load_vocabulary
from .cases import Case

#: A root-cause leaf with fewer cases than this is a thin spot.
THIN = 15
UNKNOWN = "(unknown)"


class CaseCoverage(BaseModel):
    cases: int
    dataset_issues: int
    curator_labeled: int
    with_fix_spec: int
    dated: int
    root_cause_leaf: dict[str, int] = Field(description="every root-cause leaf, zero included")
    symptom_leaf: dict[str, int] = Field(description="every symptom leaf, zero included")
    framework: dict[str, int]
    model_family: dict[str, int]
    year: dict[str, int]
    fix_action: dict[str, int]
    thin_root_causes: list[str] = Field(description=f"root-cause leaves with fewer than {THIN} cases, thinnest first")


def _framework(case: Case) -> str:
    if case.environment.framework:
        return case.environment.framework.strip().casefold()
    return case.repository.split("/")[1].casefold()


def case_coverage(cases: list[Case]) -> CaseCoverage:
    tax, vocab = load_taxonomy(), load_vocabulary()
    rc = {c.label: 0 for c in tax.leaves("root_cause")}
    sy = {c.label: 0 for c in tax.leaves("symptom")}
    fw, fam, year, action = Counter(), Counter(), Counter(), Counter()
    spelling: dict[str, Counter] = {}  # one framework, several spellings (llama-factory, llamafactory)
    for c in cases:
        rc[c.root_cause] += 1
        sy[c.symptom] += 1
        name = _framework(c)
        key = re.sub(r"[^a-z0-9.]", "", name)
        fw[key] += 1
        spelling.setdefault(key, Counter())[name] += 1
        series = vocab.series_for_model(c.model, c.repository)
        fam[series.label if series else UNKNOWN] += 1
        year[str(c.date.year) if c.date else UNKNOWN] += 1
        if c.fix_spec is not None:
            action[c.fix_spec.action] += 1
    dataset = sum(c.labeler == "dataset" for c in cases)
    return CaseCoverage(cases=len(cases), dataset_issues=dataset, curator_labeled=len(cases) - dataset,
                        with_fix_spec=sum(c.fix_spec is not None for c in cases),
                        dated=sum(c.date is not None for c in cases), root_cause_leaf=rc, symptom_leaf=sy,
                        framework={spelling[k].most_common(1)[0][0]: n for k, n in fw.items()},
                        model_family=dict(fam), year=dict(year), fix_action=dict(action),
                        thin_root_causes=[k for k, n in sorted(rc.items(), key=lambda kv: (kv[1], kv[0]))
                                          if n < THIN])


__all__ = ["THIN", "UNKNOWN", "CaseCoverage", "case_coverage"]
