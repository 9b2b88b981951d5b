"""The networkx projection the assistant walks: weighted symptom → cause edges, records per failure, fixes."""

from collections import Counter

import pytest

from failgraph.kg.corpus import Corpus, LabeledRecord, PastFailure
from failgraph.kg.project import (
    FIX,
    INDICATES,
    RESOLVED_BY,
    ROOT_CAUSE,
    SYMPTOM,
    broader_chain,
    failure_has_cause,
    project,
    records_of,
)
from failgraph.ontology import Level, load_taxonomy


@pytest.fixture(scope="module")
def graph(full_records):
    records = [LabeledRecord(key=r.issue.key, symptom=r.symptom, root_cause=r.root_cause) for r in full_records]
    failures = [PastFailure(key="qwenlm/qwen#15", url="https://github.com/QwenLM/Qwen/issues/15", text="x",
                            fix="pin transformers", fix_confirmed=True)]
    return project(Corpus(failures=failures, records=records))


def test_indicates_edges_count_the_records_of_each_symptom_concept_and_cause(graph, full_records):
    tax = load_taxonomy()
    oom = "Crash - CUDA Error - Out of Memory"
    expected = Counter(r.root_cause for r in full_records if r.symptom == oom)
    got = {v[1]: d["records"] for _, v, d in graph.out_edges((SYMPTOM, oom), data=True) if d["rel"] == INDICATES}
    assert got == dict(expected)
    category = tax.label_at("symptom", oom, Level.category)
    under = Counter(r.root_cause for r in full_records if tax.label_at("symptom", r.symptom, Level.category) == category)
    got = {v[1]: d["records"] for _, v, d in graph.out_edges((SYMPTOM, category), data=True) if d["rel"] == INDICATES}
    assert got == dict(under)
    assert graph.graph["records"] == len(full_records) == 706
    assert graph.nodes[(SYMPTOM, category)]["records"] == sum(under.values())


def test_broader_chain_is_the_taxonomy_chain(graph):
    tax = load_taxonomy()
    for scheme in (SYMPTOM, ROOT_CAUSE):
        for leaf in tax.leaves(scheme):
            assert [label for _, label in broader_chain(graph, (scheme, leaf.label))] == \
                [c.label for c in tax.ancestors(leaf)]


def test_a_failure_keeps_each_of_its_records_paired(graph, full_records):
    key = "qwenlm/qwen#15"  # one of the three issues the study labeled twice, with different labels
    pairs = records_of(graph, key)
    assert sorted(pairs) == sorted((r.symptom, r.root_cause) for r in full_records if r.issue.key == key)
    assert len(set(pairs)) == 2
    assert all(failure_has_cause(graph, key, cause) for _, cause in pairs)
    assert not failure_has_cause(graph, "no/such#1", pairs[0][1])
    fix = [v for _, v, rel in graph.out_edges(("failure", key), data="rel") if rel == RESOLVED_BY]
    assert fix == [(FIX, key)] and graph.nodes[(FIX, key)]["confirmed"] is True
