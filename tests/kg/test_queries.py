import json
from collections import Counter

import pytest

from failgraph.kg.build import open_store, populate
from failgraph.kg.named_queries import list_queries, resolve_query_text
from failgraph.kg.stats import category_table
from failgraph.kg.store import RdflibStore

SYMPTOM_PREFIX = {"Crash": "Runtime Crash", "Loading Failure": "Runtime Crash", "Hang": "Process Hang",
                  "Incorrect Functionality": "Incorrect Functionality", "Poor Performance": "Poor Performance"}
CAUSE_PREFIX = {"Environment Compatibility Issues": "Environment and Infrastructure Fault",
                "Hardware and Resource Limitations": "Environment and Infrastructure Fault",
                "Distributed and Parallel Computing Issues": "Environment and Infrastructure Fault",
                "Configuration and Parameter Setting Errors": "User Configuration and Usage Fault",
                "API Usage and Interface Issues": "User Configuration and Usage Fault",
                "Model Corruption Issues": "Data and Input Fault", "Data and Computation Issues": "Data and Input Fault",
                "Algorithm Implementation Defects": "Software Implementation Defect",
                "Tokenizer and Text Processing Issues": "Software Implementation Defect"}


def raw_matrix(dataset_dir):
    """Counts straight from the JSON files, by label prefix: an independent check of graph and queries."""
    m = Counter()
    for f in dataset_dir.rglob("*.json"):
        for r in json.loads(f.read_text()):
            m[(CAUSE_PREFIX[r["ROOT CAUSE"].split(" - ")[0].strip()], SYMPTOM_PREFIX[r["SYMPTOM"].split(" - ")[0]])] += 1
    return m


def test_category_table_matches_raw_counts_and_the_study(built_home, dataset_dir):
    t = category_table(open_store(built_home))
    raw = raw_matrix(dataset_dir)
    for (rc, s), n in raw.items():
        assert t.matrix[rc][s] == n
    assert t.total == 706
    assert t.symptom_category == {"Runtime Crash": 432, "Process Hang": 19, "Incorrect Functionality": 240,
                                  "Poor Performance": 15}
    assert t.root_cause_category == {"Environment and Infrastructure Fault": 324,
                                     "User Configuration and Usage Fault": 195, "Data and Input Fault": 90,
                                     "Software Implementation Defect": 97}


@pytest.fixture(scope="module")
def rdflib_store(full_records):
    s = RdflibStore()
    populate(s, full_records)
    return s


@pytest.mark.parametrize("q", [q for q in list_queries() if q.kind == "study"], ids=lambda q: q.name)
def test_each_named_query_counts_every_record_on_both_stores(q, built_home, rdflib_store):
    ox_rows = open_store(built_home).query(q.text).records()
    assert ox_rows, q.name
    assert sum(r["records"] for r in ox_rows) == 706
    def key(r):
        return tuple(sorted((k, str(v)) for k, v in r.items()))
    assert sorted(map(key, ox_rows)) == sorted(map(key, rdflib_store.query(q.text).records()))


def test_series_and_stage_queries_agree_with_raw_data(built_home, full_records):
    from failgraph.kg.named_queries import get_query
    store = open_store(built_home)
    by_stage = Counter()
    for r in store.query(get_query("by_stage").text).records():
        by_stage[r["stage"]] += r["records"]
    assert by_stage == Counter(r.stage for r in full_records)
    by_series = Counter()
    for r in store.query(get_query("by_series").text).records():
        by_series[r["series"]] += r["records"]
    owners = {"deepseek-ai": "DeepSeek", "meta-llama": "Llama", "QwenLM": "Qwen"}
    assert by_series == Counter(owners[r.issue.repository.split("/")[0]] for r in full_records)


def test_query_resolution(tmp_path):
    assert "SELECT" in resolve_query_text("symptom_cause_category")
    assert "SELECT" in resolve_query_text("kg/queries/symptom_cause_category.rq")
    f = tmp_path / "mine.rq"
    f.write_text("ASK { ?s ?p ?o }")
    assert resolve_query_text(str(f)) == "ASK { ?s ?p ?o }"
    assert resolve_query_text("ASK { ?s ?p ?o }") == "ASK { ?s ?p ?o }"
    with pytest.raises(FileNotFoundError):
        resolve_query_text("missing.rq")


@pytest.fixture(scope="module")
def case_store(full_records):
    from failgraph.ingest.cases import load_cases
    from failgraph.ingest.extract import error_signature, extract_environment
    from failgraph.kg.build import GraphInputs, all_quads
    from failgraph.kg.store import OxigraphStore
    cases = load_cases().cases
    store = OxigraphStore()
    store.add_quads(all_quads(GraphInputs(records=full_records, cases=cases), signature_of=error_signature,
                              quantization_of=lambda t: extract_environment(t).quantization))
    return store, cases


def test_case_base_queries(case_store):
    from failgraph.ingest.extract import extract_environment
    from failgraph.kg.named_queries import get_query
    from failgraph.ontology import Level, load_taxonomy
    store, cases = case_store
    tax = load_taxonomy()
    # vllm 0.4.x with gptq, checked against the case file itself
    expected = {c.source_url for c in cases
                if any(lib.name == "vllm" and lib.version.startswith("0.4.") for lib in c.environment.libraries)
                and "gptq" in extract_environment(c.report).quantization}
    got = {r["url"] for r in store.query(get_query("failures_by_library_version").text).records()}
    assert got == expected and got
    # every signature linked to the tokenizer sub-category comes from a case whose cause is under it
    rows = store.query(get_query("error_signatures_by_cause").text).records()
    assert rows
    for r in rows:
        leaf = tax.leaf("root_cause", r["example_root_cause"])
        assert tax.at_level(leaf, Level.subcategory).label == "Tokenizer and Text Processing Defect"
    lib_rows = store.query(get_query("library_versions_by_cause").text).records()
    assert sum(r["issues"] for r in lib_rows) >= len([c for c in cases if c.environment.libraries])


@pytest.mark.parametrize("q", [q for q in list_queries() if q.kind == "study"], ids=lambda q: q.name)
def test_study_queries_count_each_released_record_once_beside_the_case_base(q, case_store, full_records):
    """The default build adds the case base, whose cases spell some of the study's models differently ("Llama" for
    "LLaMA") and carry their own records: the study's queries still count each released record exactly once."""
    from failgraph.kg.mapping import slug
    store, _ = case_store
    rows = store.query(q.text).records()
    assert sum(r["records"] for r in rows) == len(full_records) == 706
    group = {"by_model": ("model", lambda r: slug(r.model)), "by_series": ("series", None),
             "by_stage": ("stage", lambda r: r.stage)}.get(q.name)
    if group and group[1]:
        column, of_record = group
        got = Counter()
        for r in rows:
            got[slug(r[column]) if column == "model" else r[column]] += r["records"]
        assert got == Counter(of_record(r) for r in full_records)
    if q.name == "by_model":  # one name per model: no model appears under two spellings
        names = {r["model"] for r in rows}
        assert len(names) == len({slug(n) for n in names})


def test_one_line_query_text_with_iris_is_query_text_not_a_path():
    """A one-line query whose IRIs contain slashes, longer than a file name may be, used to fail with 'File name too
    long' (the CLI said `error: [Errno 36] ...`)."""
    q = ("PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?g (COUNT(*) AS ?n) WHERE { ?g prov:wasAttributedTo ?w }"
         " GROUP BY ?g " + "# padding " * 40)
    assert resolve_query_text(q) == q
    with pytest.raises(KeyError):
        from failgraph.kg.named_queries import get_query
        get_query("../queries/by_model")
