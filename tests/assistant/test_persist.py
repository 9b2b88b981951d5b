"""The corpus and the trained models are kept in the snapshot: a start reads them instead of reading the graph back and
training, answers exactly as before, and never trusts a stale or damaged file."""

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
from stand_in_embedders import HashEmbedder

from failgraph.assistant import persist
from failgraph.assistant.diagnose import diagnose
from failgraph.assistant.knowledge import KnowledgeBase
from failgraph.assistant.models import ReportRequest
from failgraph.ingest.cases import load_cases
from failgraph.ingest.dataset import load_dataset
from failgraph.kg import snapshot_files
from failgraph.kg.build import GraphInputs, build_graph, open_store
from failgraph.kg.corpus import CORPUS_FILE
from failgraph.kg.home import GraphHome
from failgraph.kg.snapshot_index import INDEX_DIR

CASES = load_cases().cases[::12]


@pytest.fixture
def home(tmp_path, dataset_slice):
    home = GraphHome(tmp_path / "home")
    build_graph(home, GraphInputs(records=load_dataset(dataset_slice).records, cases=CASES), validate=False,
                embedder=HashEmbedder())
    return home


def _reference(home: GraphHome) -> KnowledgeBase:
    """A knowledge base read from the graph and trained here (nothing of the snapshot's files but the text index)."""
    with open_store(home) as store:
        return KnowledgeBase.from_store(store, HashEmbedder(), store.snapshot_dir / INDEX_DIR)


def _answers(kb: KnowledgeBase) -> list[str]:
    out = []
    for case in CASES[:6]:
        for exclude in ([], [case.source_url], [c.source_url for c in CASES[6:12]]):
            out.append(diagnose(kb, ReportRequest(text=case.report, exclude_urls=exclude, top_k=5)).model_dump_json())
    return out


def test_a_kb_read_from_the_snapshot_answers_exactly_as_one_trained_from_the_graph(home):
    first = KnowledgeBase.from_home(home, HashEmbedder())  # trains once and keeps the models in the snapshot
    snap = home.current()
    assert first.models_trained and (snap / CORPUS_FILE).is_file() and (snap / persist.MODELS_DIR / "models.json").is_file()
    loaded = KnowledgeBase.from_home(home, HashEmbedder())
    assert not loaded.models_trained
    ref = _reference(home)
    assert loaded.corpus.model_dump() == ref.corpus.model_dump()
    assert [f.index_text for f in loaded.corpus.failures] == [f.index_text for f in ref.corpus.failures]
    assert _answers(loaded) == _answers(ref)
    # each model, leaving issues out (exclude sets) as leave-one-out evaluation does
    keys = [c.key for c in CASES]
    text = CASES[0].report
    vector = loaded.embedder.encode([text])[0]
    for exclude in (frozenset(), frozenset(keys[:1]), frozenset(keys[1:5])):
        assert loaded.cause_text_model.posterior(text, exclude) == ref.cause_text_model.posterior(text, exclude)
        assert loaded.symptom_text_model.posterior(text, exclude) == ref.symptom_text_model.posterior(text, exclude)
        assert loaded.cause_category_model.posterior(text, exclude) == ref.cause_category_model.posterior(text, exclude)
        # leaving issues out re-solves the discriminant's linear system, whose last bits depend on where BLAS finds
        # its operands in memory (in any run, trained or read back): equal to 1e-9
        want = ref.cause_group_model.posterior(vector, exclude)
        assert loaded.cause_group_model.posterior(vector, exclude) == pytest.approx(want, rel=1e-9, abs=1e-300)
    assert loaded.cause_text_model.posterior(text) != loaded.cause_text_model.posterior(text, frozenset(keys[:5]))


def _header(path):
    head, _, body = path.read_bytes().partition(b"\n")
    return json.loads(head), body


def test_stale_files_are_rebuilt_never_trusted(home):
    KnowledgeBase.from_home(home, HashEmbedder())
    snap = home.current()
    want = _answers(_reference(home))
    # another content key: the corpus file and the models were derived from something else
    header, body = _header(snap / CORPUS_FILE)
    (snap / CORPUS_FILE).write_bytes(json.dumps(header | {"key": "0" * 64}).encode() + b"\n" + body)
    meta = json.loads((snap / persist.MODELS_DIR / "models.json").read_text())
    (snap / persist.MODELS_DIR / "models.json").write_text(json.dumps(meta | {"key": "0" * 64}))
    kb = KnowledgeBase.from_home(home, HashEmbedder())
    assert kb.models_trained
    assert _answers(kb) == want
    assert _header(snap / CORPUS_FILE)[0]["key"] == header["key"]  # saved again under the right key
    assert json.loads((snap / persist.MODELS_DIR / "models.json").read_text())["key"] == meta["key"]
    assert not KnowledgeBase.from_home(home, HashEmbedder()).models_trained


def test_a_new_text_index_retrains_the_models(home, monkeypatch):
    """The models' key includes the text index's fingerprint (texts and embedding model), as the index's own does."""
    KnowledgeBase.from_home(home, HashEmbedder())
    from failgraph.kg.vectors import TextIndex

    real = TextIndex.fingerprint_of
    monkeypatch.setattr(TextIndex, "fingerprint_of",
                        staticmethod(lambda ids, texts, *key: "other-model:" + real(ids, texts, *key)))
    assert KnowledgeBase.from_home(home, HashEmbedder()).models_trained


def test_damaged_files_are_rebuilt_with_a_warning_not_a_crash(home, caplog):
    KnowledgeBase.from_home(home, HashEmbedder())
    snap = home.current()
    want = _answers(_reference(home))
    corpus = snap / CORPUS_FILE
    corpus.write_bytes(corpus.read_bytes()[: corpus.stat().st_size // 2])  # cut short
    counts = snap / persist.MODELS_DIR / "cause_text.counts.npy"
    counts.write_bytes(counts.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="failgraph.snapshot"):
        kb = KnowledgeBase.from_home(home, HashEmbedder())
    warned = [r.getMessage() for r in caplog.records if r.name == "failgraph.snapshot"]
    assert any("corpus" in m and "unreadable" in m for m in warned), warned
    assert any("trained models" in m and "unreadable" in m for m in warned), warned
    assert kb.models_trained and _answers(kb) == want
    assert not KnowledgeBase.from_home(home, HashEmbedder()).models_trained  # repaired on disk


def test_a_read_only_snapshot_is_answered_from_memory_and_left_untouched(home, monkeypatch, caplog):
    monkeypatch.setattr(snapshot_files.os, "access", lambda path, mode: False)
    with caplog.at_level(logging.WARNING, logger="failgraph.snapshot"):
        kb = KnowledgeBase.from_home(home, HashEmbedder())
    assert kb.models_trained
    assert not (home.current() / CORPUS_FILE).exists() and not (home.current() / persist.MODELS_DIR).exists()
    assert any("cannot be written" in r.getMessage() for r in caplog.records)


def test_a_failed_save_leaves_the_previous_models_whole(home, monkeypatch):
    """Models are written into a temporary directory renamed over the old one: a save that fails half-way leaves the
    previous directory as it was and no temporary files."""
    kb = KnowledgeBase.from_home(home, HashEmbedder())
    directory = home.current() / persist.MODELS_DIR
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    calls = []

    def failing_save(path, array, allow_pickle):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, allow_pickle=allow_pickle)

    monkeypatch.setattr(persist.np, "save", failing_save)
    models = persist.TrainedModels(kb.cause_text_model, kb.symptom_text_model, kb.cause_category_model,
                                   kb.cause_group_model)
    with pytest.raises(OSError, match="disk full"):
        models.save(directory, "another-key")
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    assert [p.name for p in directory.parent.iterdir() if p.name.startswith(".models")] == []


def test_a_kb_read_from_the_snapshot_loads_neither_scikit_learn_nor_the_graph_store(home):
    """Reading the persisted models needs numpy only: scikit-learn (and SciPy's stack under it) and the graph store
    load only to train or to read the graph back."""
    KnowledgeBase.from_home(home, HashEmbedder())
    code = ("import sys\n"
            "import numpy as np\n"
            "from failgraph.assistant.knowledge import KnowledgeBase\n"
            "from failgraph.kg.home import GraphHome\n"
            "class Embedder:\n"
            "    def encode(self, texts, **kw):\n"
            "        return np.ones((len(texts), 384), dtype=np.float32) / np.sqrt(384)\n"
            f"kb = KnowledgeBase.from_home(GraphHome({str(home.root)!r}), Embedder())\n"
            "assert not kb.models_trained\n"
            "print([m for m in ('sklearn', 'pyoxigraph', 'torch') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr
