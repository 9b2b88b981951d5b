"""The synthetic data generators behind the scale benchmarks (issue #7): seeded, streaming, realistic."""

import tracemalloc
from collections import Counter

import numpy as np
import pytest

from failgraph.bench.synthetic import (
    CASE_NUMBER_BASE,
    CasePool,
    LabelDistribution,
    VectorModel,
    document_vectors,
    synthetic_cases,
    synthetic_documents,
    synthetic_records,
    synthetic_vectors,
    vector_matrix,
)
from failgraph.ingest.cases import Case, load_cases
from failgraph.ingest.records import FailureRecord
from failgraph.kg.build import all_nquad_lines, write_nquads
from failgraph.kg.mapping import NTRIPLES, RDFLIB, case_quads, nquad_lines, record_quads
from failgraph.kg.store import OxigraphStore, nquad_line
from failgraph.ontology import Level, load_taxonomy


@pytest.fixture(scope="module")
def dist(full_records):
    return LabelDistribution.from_records(full_records, "dataset")


@pytest.fixture(scope="module")
def pool(dist):
    return CasePool(load_cases().cases, dist)


def key(r):
    return (r.issue.url, r.symptom, r.root_cause, r.stage, r.model, r.provenance.source, r.provenance.index)


def test_records_are_deterministic_streamed_and_prefix_stable(dist):
    a = [key(r) for r in synthetic_records(1500, seed=3, dist=dist)]
    assert a == [key(r) for r in synthetic_records(1500, seed=3, dist=dist)]
    assert a != [key(r) for r in synthetic_records(1500, seed=4, dist=dist)]
    assert [key(r) for r in synthetic_records(600, seed=3, dist=dist)] == a[:600]
    assert len({k[0] for k in a}) == 1500  # one issue each, never a real issue number
    gen = synthetic_records(10**9, seed=3, dist=dist)  # a billion: only what is consumed is made
    assert key(next(gen)) == a[0]


def tv_distance(p: Counter, q: Counter) -> float:
    n, m = sum(p.values()), sum(q.values())
    return 0.5 * sum(abs(p[k] / n - q[k] / m) for k in set(p) | set(q))


def test_label_distribution_follows_the_dataset(full_records, dist):
    tax = load_taxonomy()
    synth = list(synthetic_records(5000, seed=0, dist=dist))
    def cat(scheme, label):
        return tax.label_at(scheme, label, Level.category)
    for fn in (lambda r: (cat("symptom", r.symptom), cat("root_cause", r.root_cause)),  # Table 2 cells
               lambda r: r.root_cause, lambda r: r.symptom, lambda r: r.stage, lambda r: r.model):
        assert tv_distance(Counter(map(fn, synth)), Counter(map(fn, full_records))) < 0.06
    # the joint distribution, not just the marginals: every pair comes from a real record
    real_pairs = {(r.symptom, r.root_cause, r.model) for r in full_records}
    assert {(r.symptom, r.root_cause, r.model) for r in synth} <= real_pairs
    assert tv_distance(Counter((r.symptom, r.root_cause) for r in synth),
                       Counter((r.symptom, r.root_cause) for r in full_records)) < 0.2


def test_synthetic_records_and_cases_validate(dist, pool):
    for r in synthetic_records(300, seed=1, dist=dist):
        FailureRecord.model_validate(r.model_dump())
    for c in synthetic_cases(300, seed=1, pool=pool):
        again = Case.model_validate(c.model_dump())  # labels in the taxonomy, error lines verbatim in the report
        assert again.issue.number >= CASE_NUMBER_BASE


def test_documents_are_varied_recombinations(pool):
    docs = list(synthetic_documents(400, seed=2, pool=pool))
    assert [d.case.report for d in docs] == [d.case.report for d in synthetic_documents(400, seed=2, pool=pool)]
    verbatim = sum(d.case.report == pool.cases[d.primary].report for d in docs)
    assert verbatim < 0.05 * len(docs)  # near-duplicates of a case are not copies of it
    by_primary: dict[int, set[str]] = {}
    for d in docs:
        by_primary.setdefault(d.primary, set()).add(d.case.report)
        assert d.case.root_cause == pool.cases[d.primary].root_cause
        assert pool.cases[d.donor].root_cause == d.case.root_cause
    assert all(len(v) == sum(1 for d in docs if d.primary == p) for p, v in by_primary.items())
    assert sum(d.mix > 0 for d in docs) > 0.5 * len(docs)  # most borrow a sentence from a donor case


def test_document_causes_follow_the_dataset_rather_than_the_case_base(full_records, pool):
    causes = Counter(d.case.root_cause for d in synthetic_documents(3000, seed=5, pool=pool))
    dataset = Counter(r.root_cause for r in full_records)
    case_base = Counter(c.root_cause for c in pool.cases)
    # the generator's target: the dataset's distribution plus a small floor for every cause of the case base
    floor = 0.2 / len(case_base)
    target = Counter({c: dataset[c] / len(full_records) + floor for c in case_base})
    assert tv_distance(causes, target) < 0.5 * tv_distance(case_base, target)
    assert tv_distance(causes, dataset) < tv_distance(case_base, dataset)
    assert len(causes) == len(case_base)  # every cause still occurs (a small floor for causes the dataset lacks)


def test_vectors_stream_deterministically_and_stay_near_their_case(pool):
    model = VectorModel.gaussian(clusters=50, seed=1)
    blocks = list(synthetic_vectors(2_500, seed=1, model=model, chunk=1_000))
    assert [len(b) for b in blocks] == [1_000, 1_000, 500]
    X = np.concatenate(blocks)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-5)
    assert np.array_equal(X, np.concatenate(list(synthetic_vectors(2_500, seed=1, model=model, chunk=1_000))))
    assert np.array_equal(X[:700], next(synthetic_vectors(700, seed=1, model=model, chunk=1_000)))
    full = vector_matrix(12_000, seed=1, model=model)  # CHUNK-sized blocks: the first 10,000 rows don't depend on n
    assert np.array_equal(full[:3000], vector_matrix(3000, seed=1, model=model))
    centres = VectorModel.gaussian(clusters=len(pool.cases), seed=0)
    docs = list(synthetic_documents(200, seed=0, pool=pool))
    V = document_vectors(docs, centres, seed=0)
    nearest = np.argmax(V @ centres.centres.T, axis=1)
    assert np.mean(nearest == np.array([d.primary for d in docs])) > 0.95


def test_nquads_fast_path_equals_the_rdflib_path(dist, pool):
    from failgraph.ingest.extract import error_signature
    from failgraph.ingest.extract.environment import extract_quantization

    recs = list(synthetic_records(400, seed=0, dist=dist))
    cases = list(synthetic_cases(200, seed=0, pool=pool))
    kw = dict(signature_of=error_signature, quantization_of=extract_quantization)
    slow = [nquad_line(q) for q in record_quads(recs, terms=RDFLIB)] + \
        [nquad_line(q) for q in case_quads(cases, **kw)]
    fast = list(nquad_lines(record_quads(recs, terms=NTRIPLES))) + \
        list(nquad_lines(case_quads(cases, terms=NTRIPLES, **kw)))
    assert fast == slow


def test_streaming_build_keeps_memory_flat(tmp_path, dist):
    def peak(n):
        tracemalloc.start()
        write_nquads(tmp_path / f"g{n}.nq", synthetic_records(n, seed=0, dist=dist))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(600), peak(2400)
    assert large < 1.5 * small + 2**20
    store = OxigraphStore()
    store.load_nquads_file(tmp_path / "g2400.nq")
    n = store.query("PREFIX fg: <https://w3id.org/failgraph/ontology#> "
                    "SELECT (COUNT(?r) AS ?n) WHERE { ?r a fg:FailureRecord }").records()[0]["n"]
    assert n == 2400


def test_profiles_count_every_record_once(dist):
    store = OxigraphStore()
    store._load_lines(list(all_nquad_lines(synthetic_records(2000, seed=0, dist=dist))))
    rows = store.query("PREFIX fg: <https://w3id.org/failgraph/ontology#> "
                       "SELECT ?p (COUNT(?r) AS ?n) WHERE { ?r fg:recordProfile ?p } GROUP BY ?p").records()
    assert sum(r["n"] for r in rows) == 2000
    dup = store.query("PREFIX fg: <https://w3id.org/failgraph/ontology#> SELECT ?p (COUNT(?g) AS ?n) WHERE { "
                      "GRAPH ?g { ?p fg:profileSymptom ?s } } GROUP BY ?p HAVING (COUNT(?g) > 1)").records()
    assert dup == []  # each profile is described once, in one graph
