"""kg/issues.py: an issue's facts read through the named ``issue_*`` lookups, the issue bound by its IRI alone."""

import pytest

from failgraph.kg.issues import issue_facts, issue_url_of
from failgraph.kg.named_queries import list_queries
from failgraph.kg.store import OxigraphStore

LOOKUPS = [q for q in list_queries() if q.kind == "lookup"]


def test_the_issue_lookups_are_named_queries_over_an_unbound_issue():
    assert {q.name for q in LOOKUPS} >= {"issue_properties", "issue_labels", "issue_fix", "issue_libraries",
                                          "issue_links"}
    for q in LOOKUPS:
        assert q.title and q.description
        assert [line.strip() for line in q.text.splitlines()].count("VALUES ?issue { UNDEF }") == 1, q.name


@pytest.mark.parametrize("bad", ["a/b#1> } DROP ALL #", "a/b#1 }", "<http://e/x>", "a/b", "a/b#x", ""])
def test_ids_that_are_not_issue_ids_never_reach_the_store(bad):
    class NoQueries(OxigraphStore):
        def query(self, *args, **kwargs):
            raise AssertionError("queried")

    with pytest.raises(ValueError):
        issue_facts(NoQueries(), bad)
    with pytest.raises(ValueError):
        issue_url_of(bad)


def test_an_issue_the_graph_does_not_know_is_none():
    assert issue_facts(OxigraphStore(), "QwenLM/Qwen#15") is None
