"""Read-side views of the graph that the assistant needs: past failures with text, and labeled records."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

from ..ingest.records import issue_key
from .store import GraphStore

_TEXTS = """
PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?issue ?url ?title ?text ?fix ?confirmed ?model WHERE {
  ?issue a fg:Issue ; fg:url ?url ; fg:text ?text .
  OPTIONAL { ?issue dcterms:title ?title }
  OPTIONAL { ?issue fg:modelName ?model }
  OPTIONAL { ?issue fg:resolvedBy ?f . ?f rdfs:comment ?fix . OPTIONAL { ?f fg:confirmed ?confirmed } }
}
"""

_RECORDS = """
PREFIX fg: <https://w3id.org/failgraph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT DISTINCT ?record ?url ?symptom ?cause WHERE {
  ?record a fg:FailureRecord ; fg:aboutIssue ?issue ; fg:hasSymptom ?s ; fg:hasRootCause ?r .
  ?issue fg:url ?url .
  ?s skos:prefLabel ?symptom . ?r skos:prefLabel ?cause .
}
"""


class LabeledRecord(BaseModel):
    key: str
    symptom: str
    root_cause: str


class PastFailure(BaseModel):
    """An issue with text, and the labels its records carry."""

    key: str
    url: str
    title: str = ""
    text: str
    model: str | None = None
    fix: str | None = None
    fix_confirmed: bool = False
    symptoms: list[str] = []
    root_causes: list[str] = []

    @property
    def index_text(self) -> str:
        return f"{self.title}\n{self.text}" if self.title else self.text

    @property
    def labels(self) -> list[str]:
        return [*self.symptoms, *self.root_causes]


class Corpus(BaseModel):
    failures: list[PastFailure]
    records: list[LabeledRecord]

    def by_key(self) -> dict[str, PastFailure]:
        return {f.key: f for f in self.failures}


def load_corpus(store: GraphStore) -> Corpus:
    """Past failures that have text (curated cases, ingested threads) and every labeled record, from the graph."""
    records: list[LabeledRecord] = []
    labels: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for row in store.query(_RECORDS).records():
        key = issue_key(row["url"])
        records.append(LabeledRecord(key=key, symptom=row["symptom"], root_cause=row["cause"]))
        s, r = labels[key]
        if row["symptom"] not in s:
            s.append(row["symptom"])
        if row["cause"] not in r:
            r.append(row["cause"])
    failures: dict[str, PastFailure] = {}
    for row in store.query(_TEXTS).records():
        key = issue_key(row["url"])
        prev = failures.get(key)
        if prev is not None and len(prev.text) >= len(row["text"]):
            continue
        s, r = labels.get(key, ([], []))
        failures[key] = PastFailure(key=key, url=row["url"], title=row.get("title") or "", text=row["text"],
                                    model=row.get("model"), fix=row.get("fix"),
                                    fix_confirmed=bool(row.get("confirmed")), symptoms=list(s), root_causes=list(r))
    return Corpus(failures=sorted(failures.values(), key=lambda f: f.key), records=records)


__all__ = ["Corpus", "LabeledRecord", "PastFailure", "load_corpus"]
