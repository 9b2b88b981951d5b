import pytest
from rdflib import URIRef

from failgraph.ingest.dataset import load_dataset
from failgraph.kg import build as build_mod
from failgraph.kg.build import BuildError, all_quads, build_graph, open_store, populate
from failgraph.kg.home import GraphHome, NoGraphError
from failgraph.kg.store import RdflibStore
from failgraph.kg.validate import validate_quads
from failgraph.ontology import FG


def count_records(store):
    return store.query("PREFIX fg: <https://w3id.org/failgraph/ontology#> "
                       "SELECT (COUNT(?r) AS ?n) WHERE { ?r a fg:FailureRecord }").records()[0]["n"]


def test_build_publishes_a_conforming_graph(built_home, full_records):
    m = built_home.manifest()
    assert (m.records, m.issues) == (706, 703)
    store = open_store(built_home)
    assert len(store) == m.quads - (m.quads - len(store))  # store is readable
    assert count_records(store) == 706


def test_shacl_catches_a_record_without_symptom(dataset_slice):
    records = load_dataset(dataset_slice).records
    quads = [q for q in all_quads(records) if not (q[1] == FG.hasSymptom and q[0].endswith("/0"))]
    report = validate_quads(quads)
    assert not report.conforms
    assert any(v.path == str(FG.hasSymptom) for v in report.violations)


def test_failed_build_leaves_previous_graph(tmp_path, dataset_slice, monkeypatch):
    home = GraphHome(tmp_path)
    with pytest.raises(NoGraphError):
        home.current()
    records = load_dataset(dataset_slice).records
    build_graph(home, records)
    before = home.current()
    n_before = count_records(open_store(home))

    def broken(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(build_mod.OxigraphStore, "load_nquads_file", broken)
    with pytest.raises(OSError):
        build_graph(home, records + records)
    assert home.current() == before
    assert count_records(open_store(home)) == n_before
    assert [p.name for p in tmp_path.glob("snapshot-*")] == [before.name]  # the failed snapshot was removed


def test_non_conforming_graph_is_not_published(tmp_path, dataset_slice, monkeypatch):
    home = GraphHome(tmp_path)
    records = load_dataset(dataset_slice).records
    build_graph(home, records)
    before = home.current()
    real = build_mod.all_quads
    monkeypatch.setattr(build_mod, "all_quads",
                        lambda recs, *args, **kw: (q for q in real(recs) if q[1] != FG.aboutIssue))
    with pytest.raises(BuildError, match="SHACL"):
        build_graph(home, records)
    assert home.current() == before


def test_memory_store_matches_oxigraph(dataset_slice, tmp_path):
    records = load_dataset(dataset_slice).records
    mem = RdflibStore()
    n = populate(mem, records)
    home = GraphHome(tmp_path)
    report = build_graph(home, records)
    assert n == report.manifest.quads
    assert count_records(mem) == count_records(open_store(home)) == len(records)


def test_issue_iris_merge_renamed_repositories():
    from failgraph.kg.mapping import issue_iri
    assert issue_iri("https://github.com/QwenLM/Qwen3/issues/12") == \
        issue_iri("https://github.com/qwenlm/qwen2.5/issues/12") == URIRef(
            "https://w3id.org/failgraph/id/issue/qwenlm/qwen2.5/12")


@pytest.mark.parametrize("url", ["https://github.com/QwenLM/Qwen3/issues/12#issuecomment-123456",
                                 "https://www.github.com/qwenlm/qwen2.5/issues/12?notification_referrer_id=x",
                                 "https://github.com/QwenLM/Qwen2.5/issues/12/"])
def test_links_to_a_comment_or_with_a_query_name_the_same_issue(url):
    from failgraph.ingest.records import issue_key
    assert issue_key(url) == "qwenlm/qwen2.5#12"


@pytest.mark.parametrize("url", ["https://github.com/QwenLM/Qwen2.5/issues/12x", "https://github.com/QwenLM/issues/12",
                                 "https://gitlab.com/QwenLM/Qwen2.5/issues/12", "https://github.com/a/b/issues/"])
def test_other_links_are_not_issue_urls(url):
    from failgraph.ingest.records import issue_key
    with pytest.raises(ValueError, match="not a GitHub issue URL"):
        issue_key(url)


def test_a_snapshot_of_an_older_layout_is_refused_with_a_hint(tmp_path, dataset_slice):
    """Graphs built before the study queries read label-profile tallies would answer them with zero rows."""
    from failgraph.kg.home import GRAPH_LAYOUT, MANIFEST

    home = GraphHome(tmp_path)
    build_graph(home, load_dataset(dataset_slice).records)
    assert home.manifest().layout == GRAPH_LAYOUT and count_records(open_store(home)) > 0
    path = home.current() / MANIFEST
    old = path.read_text(encoding="utf-8").replace(f'"layout": {GRAPH_LAYOUT}', '"layout": 1')
    path.write_text(old, encoding="utf-8")
    with pytest.raises(NoGraphError, match="failgraph build"):
        open_store(home)


def test_large_builds_validate_an_even_sample(tmp_path, dataset_slice, monkeypatch):
    """Above the limit a sample is validated (and a broken mapping still stops the build); --validate checks all."""
    records = load_dataset(dataset_slice).records
    monkeypatch.setattr(build_mod, "VALIDATE_MAX_RECORDS", max(2, len(records) // 3))
    home = GraphHome(tmp_path)
    report = build_graph(home, records)
    n = len(records[::round(len(records) / build_mod.VALIDATE_MAX_RECORDS)])
    assert report.shacl.conforms and report.shacl.sample == f"{n:,} of {len(records):,} inputs"
    assert build_graph(home, records, validate=True).shacl.sample is None
    assert build_graph(home, records, validate=False).shacl is None
    real = build_mod.all_quads

    def without_symptoms(data, *a, **kw):
        return (q for q in real(data, *a, **kw) if q[1] != FG.hasSymptom)

    monkeypatch.setattr(build_mod, "all_quads", without_symptoms)
    before = home.current()
    with pytest.raises(BuildError, match="SHACL"):
        build_graph(home, records)
    assert home.current() == before
