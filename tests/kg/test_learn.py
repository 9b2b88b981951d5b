"""Learning into a published graph: atomic publication of the delta, failures and concurrency leave a usable graph,
and issue text reaches the store only as literal terms."""


import pytest
from stand_in_embedders import HashEmbedder

from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.ingest.dataset import load_dataset
from failgraph.ingest.learned import LearnedFailure, load_learned
from failgraph.kg import learn as learn_module
from failgraph.kg.build import build_graph, open_store
from failgraph.kg.corpus import read_learned
from failgraph.kg.delta import DELTA_DIR, ENTRIES, DeltaEntry, append_delta, read_delta
from failgraph.kg.home import GraphHome, HomeBusy
from failgraph.kg.learn import learn
from failgraph.ontology import load_taxonomy

CAUSE = load_taxonomy().leaves("root_cause")[0].label




def item(n: int, text: str = "vLLM fails to load the model with a CUDA error", **kw) -> LearnedFailure:
    return LearnedFailure(url=f"https://github.com/acme/llm/issues/{n}", title=f"issue {n}", text=text,
                          root_cause=kw.pop("root_cause", CAUSE), source="github/acme/llm", labeler="maint", **kw)


@pytest.fixture
def home(tmp_path, dataset_slice):
    h = GraphHome(tmp_path / "home")
    build_graph(h, load_dataset(dataset_slice).records, embedder=HashEmbedder(), validate=False)
    return h


def test_issue_text_reaches_the_graph_as_literals_only(home):
    evil = 'x" . } ; DROP ALL ; INSERT DATA { <a:b> <a:c> "d" } #\n<script>alert(1)</script>'
    before = None
    with open_store(home) as store:
        before = len(store)
    learn(home, [item(1, text=evil, fix='"; CLEAR ALL')], embedder=HashEmbedder())
    with open_store(home) as store:
        [got] = read_learned(store)
        assert len(store) > before  # nothing was dropped; the learned node was added
        assert not list(store.select_rows("SELECT ?o WHERE { <a:b> <a:c> ?o }"))
    assert got.text == evil and got.fix == '"; CLEAR ALL'


def test_a_failed_learning_leaves_the_graph_usable_and_unchanged(home, monkeypatch):
    emb = HashEmbedder()
    KnowledgeBase.from_home(home, emb)

    def broken(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(learn_module, "append_delta", broken)
    with pytest.raises(OSError):
        learn(home, [item(2)], embedder=emb)
    kb = KnowledgeBase.from_home(home, emb)  # still opens; the delta was not published
    assert kb.learned == 0 and not read_delta(home.current())
    monkeypatch.undo()
    learn(home, [item(2)], embedder=emb)  # learning again succeeds, once
    kb = KnowledgeBase.from_home(home, emb)
    assert kb.learned == 1 and kb.failures["acme/llm#2"].root_causes == [CAUSE]
    assert [it.key for it in load_learned(home.root)] == ["acme/llm#2"]


def test_learning_waits_for_a_build_or_fails_at_once(home):
    with home.build_lock(), pytest.raises(HomeBusy):
        learn(home, [item(3)], embedder=HashEmbedder(), wait=False)
    assert not read_delta(home.current()) and not load_learned(home.root)


def test_a_torn_delta_line_is_never_read_and_is_cut_off_by_the_next_append(home):
    snap = home.current()
    append_delta(snap, [DeltaEntry(item=item(4))])
    with open(snap / DELTA_DIR / ENTRIES, "ab") as f:
        f.write(b'{"item": {"url": "https://github.com/acme/llm/issues/5", "tit')  # a crash mid-append
    assert [e.item.key for e in read_delta(snap)] == ["acme/llm#4"]
    append_delta(snap, [DeltaEntry(item=item(6))])
    assert [e.item.key for e in read_delta(snap)] == ["acme/llm#4", "acme/llm#6"]


def test_the_same_issue_learned_twice_is_one_past_failure(home):
    emb = HashEmbedder()
    learn(home, [item(7, text="first thread")], embedder=emb)
    other = load_taxonomy().leaves("root_cause")[1].label
    learn(home, [item(7, text="second, longer thread", root_cause=other)], embedder=emb)
    kb = KnowledgeBase.from_home(home, emb)
    f = kb.failures["acme/llm#7"]
    assert f.root_causes == [other] and "second" in f.text
    assert kb.index.vectors.search(emb.encode(["second, longer thread"]), 3)[0][0].id == "acme/llm#7"
    assert sum(1 for i in kb.index.ids if i == "acme/llm#7") == 1
    with open_store(home) as store:
        assert [it.root_cause for it in read_learned(store)] == [other]


def test_an_issue_of_the_base_is_updated_not_added_again_whatever_its_urls_case_or_repository_name(tmp_path):
    from failgraph.ingest.cases import load_cases
    from failgraph.kg.build import GraphInputs

    case = next(c for c in load_cases().cases if c.key.startswith("qwenlm/qwen2.5#") and c.labeler != "dataset")
    number = case.key.partition("#")[2]
    home = GraphHome(tmp_path / "h")
    emb = HashEmbedder()
    build_graph(home, GraphInputs(records=[], cases=[case]), embedder=emb, validate=False)
    other = next(c.label for c in load_taxonomy().leaves("root_cause") if c.label != case.root_cause)
    learn(home, [LearnedFailure(url=f"https://GitHub.com/QwenLM/QWEN3/issues/{number}", title="renamed",
                                text="another thread", root_cause=other, source="github/QwenLM/Qwen3")],
          embedder=emb)
    kb = KnowledgeBase.from_home(home, emb)
    assert list(kb.failures) == [case.key] and kb.index.ids == [case.key]
    f = kb.failures[case.key]
    assert f.root_causes == [case.root_cause, other]
    assert f.url == case.source_url and f.text != "another thread"  # the build's text and URL stay
