"""Fixes as graph knowledge: fg:Fix nodes with their structured fix, remediedBy edges from root causes and error
signatures, fixedIn versions, the SHACL shape, the named queries and the projection's remedy statistics."""

import pytest
from rdflib import Literal, URIRef

from failgraph.ingest.cases import load_cases
from failgraph.ingest.extract import error_signature
from failgraph.kg.build import GraphInputs, all_quads, build_graph, open_store
from failgraph.kg.corpus import load_corpus
from failgraph.kg.home import GraphHome
from failgraph.kg.mapping import FG
from failgraph.kg.named_queries import resolve_query_text
from failgraph.kg.project import project, remedies_of
from failgraph.kg.validate import validate_quads


@pytest.fixture(scope="module")
def fixed_cases():
    cases = [c for c in load_cases().cases if c.fix_spec is not None]
    with_version = [c for c in cases if c.fix_spec.target_kind == "library" and c.fix_spec.fixed_in()]
    with_errors = [c for c in cases if c.error_lines]
    picked = {c.key: c for c in [*cases[:30], *with_version[:15], *with_errors[:15]]}
    return list(picked.values())


@pytest.fixture(scope="module")
def fix_home(tmp_path_factory, fixed_cases):
    home = GraphHome(tmp_path_factory.mktemp("fixhome"))
    build_graph(home, GraphInputs(records=[], cases=fixed_cases), validate=True)
    return home


def test_structured_fixes_read_back_from_the_graph_equal_the_cases(fix_home, fixed_cases):
    with open_store(fix_home) as store:
        corpus = load_corpus(store)
    by_key = corpus.by_key()
    assert [by_key[c.key].fix_spec for c in fixed_cases] == [c.fix_spec for c in fixed_cases]


def test_fixed_in_names_the_release_each_upgrade_shipped_in(fix_home, fixed_cases):
    expected = {(c.fix_spec.target, c.fix_spec.fixed_in(), c.root_cause) for c in fixed_cases
                if c.fix_spec.target_kind == "library" and c.fix_spec.fixed_in()}
    assert expected
    with open_store(fix_home) as store:
        rows = store.select_rows(resolve_query_text("fixed_in"))
        got = {(r["library"], r["version"], r["root_cause"]) for r in rows}
    assert got == expected


def test_fixes_for_an_error_signature_come_from_the_cases_that_show_it(fix_home, fixed_cases):
    expected = set()
    for c in fixed_cases:
        for line in c.error_lines:
            sig = error_signature(line)
            if sig is not None:
                expected.add((sig.signature, c.fix_spec.action, c.fix_spec.target or None))
    assert expected
    with open_store(fix_home) as store:
        got = {(r["signature"], r["action"], r["target"]) for r in store.select_rows(resolve_query_text("fixes_for_error"))}
    assert got == expected


def test_playbook_steps_are_fix_nodes_remedying_their_cause(fix_home):
    with open_store(fix_home) as store:
        rows = list(store.select_rows(resolve_query_text("fixes_by_action")))
    playbook = [r for r in rows if r["provenance"] == "playbook"]
    assert sum(r["fixes"] for r in playbook) >= 60
    assert {r["provenance"] for r in rows} == {"case", "playbook"}


def test_a_fix_with_two_actions_or_an_unknown_provenance_breaks_the_shape(fixed_cases):
    quads = list(all_quads(GraphInputs(records=[], cases=fixed_cases[:3])))
    fx = next(s for s, p, o, _ in quads if p == FG.fixAction)
    g = quads[0][3]
    bad = [*quads, (fx, FG.fixAction, URIRef("https://w3id.org/failgraph/fix-action/upgrade"), g),
           (fx, FG.fixAction, URIRef("https://w3id.org/failgraph/fix-action/downgrade"), g)]
    report = validate_quads(bad)
    assert not report.conforms and any("fixAction" in (v.path or "") for v in report.violations)
    bad = [*quads, (fx, FG.fixProvenance, Literal("hearsay"), g)]
    assert not validate_quads(bad).conforms
    assert validate_quads(quads).conforms


def test_the_projection_counts_remedies_per_cause_and_leaves_out_excluded_failures(fix_home, fixed_cases):
    with open_store(fix_home) as store:
        g = project(load_corpus(store))
    c = next(c for c in fixed_cases if not c.fix_spec.generic)
    same = [x for x in fixed_cases if x.root_cause == c.root_cause and x.fix_spec.key == c.fix_spec.key]
    counts = remedies_of(g, c.root_cause)
    assert counts[c.fix_spec.key] == len(same)
    left = remedies_of(g, c.root_cause, frozenset({c.key}))
    assert left.get(c.fix_spec.key, 0) == len(same) - 1
