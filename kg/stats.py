"""The study's Table-2-style figures, computed from the graph through the named queries."""

from __future__ import annotations

from pydantic import BaseModel

from ..ontology import Level, load_taxonomy
from .named_queries import get_query
from .store import GraphStore


class CategoryTable(BaseModel):
    """Counts of failure records by paper category (the shape of ``failgraph stats --json``)."""

    symptom_category: dict[str, int]
    root_cause_category: dict[str, int]
    matrix: dict[str, dict[str, int]]
    total: int


def category_table(store: GraphStore) -> CategoryTable:
    """Symptom × root-cause category counts of the study's records (query ``symptom_cause_category``)."""
    tax = load_taxonomy()
    symptoms = [c.label for c in tax.concepts("symptom", Level.category)]
    causes = [c.label for c in tax.concepts("root_cause", Level.category)]
    matrix = {rc: {s: 0 for s in symptoms} for rc in causes}
    for row in store.query(get_query("symptom_cause_category").text).records():
        matrix[row["root_cause_category"]][row["symptom_category"]] += row["records"]
    return CategoryTable(
        symptom_category={s: sum(matrix[rc][s] for rc in causes) for s in symptoms},
        root_cause_category={rc: sum(matrix[rc].values()) for rc in causes},
        matrix=matrix,
        total=sum(sum(m.values()) for m in matrix.values()),
    )


__all__ = ["CategoryTable", "category_table"]
