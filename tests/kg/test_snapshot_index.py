"""The text index is built into the snapshot at build time, so the first diagnosis after a build does not embed."""

import logging

import pytest
from stand_in_embedders import HashEmbedder

from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.ingest.cases import load_cases
from failgraph.ingest.dataset import load_dataset
from failgraph.kg import vectors as vectors_mod
from failgraph.kg.build import GraphInputs, Phase, build_graph
from failgraph.kg.home import GraphHome
from failgraph.kg.snapshot_index import INDEX_DIR


class NoEmbedding(HashEmbedder):
    def encode(self, texts, *, show_progress=False):
        raise AssertionError(f"re-embedded {len(texts)} texts")


@pytest.fixture
def inputs(dataset_slice):
    return GraphInputs(records=load_dataset(dataset_slice).records, cases=load_cases().cases[::25])


def test_the_build_persists_the_text_index_in_labelled_phases(tmp_path, inputs):
    home = GraphHome(tmp_path)
    phases: list[str] = []
    embedder = HashEmbedder()
    build_graph(home, inputs, embedder=embedder, on_phase=phases.append)
    assert phases == [Phase.WRITING, Phase.VALIDATING, Phase.LOADING, Phase.INDEXING, Phase.PUBLISHING]
    assert (home.current() / INDEX_DIR / "fingerprint").is_file() and embedder.encoded > 0
    kb = KnowledgeBase.from_home(home, NoEmbedding())  # loads the persisted index: nothing is embedded
    assert not kb.index_built and len(kb.index.ids) == embedder.encoded
    assert kb.snapshot is not None and kb.snapshot.name == home.current().name


def test_without_an_embedder_the_build_skips_the_index(tmp_path, inputs):
    home = GraphHome(tmp_path)
    phases: list[str] = []
    build_graph(home, inputs, validate=False, on_phase=phases.append)
    assert phases == [Phase.WRITING, Phase.LOADING, Phase.PUBLISHING]
    assert not (home.current() / INDEX_DIR).exists()


def test_a_missing_index_on_a_read_only_snapshot_is_announced(tmp_path, inputs, monkeypatch, caplog):
    home = GraphHome(tmp_path)
    build_graph(home, inputs, validate=False)
    monkeypatch.setattr(vectors_mod.os, "access", lambda path, mode: False)  # as on a read-only mount
    with caplog.at_level(logging.WARNING, logger="failgraph.index"):
        kb = KnowledgeBase.from_home(home, HashEmbedder())
    assert kb.index_built
    [msg] = [r.getMessage() for r in caplog.records if r.name == "failgraph.index"]
    assert "cannot be written" in msg and "every start" in msg
    assert not (home.current() / INDEX_DIR).exists()
