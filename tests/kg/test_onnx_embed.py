"""The MiniLM tier on ONNX Runtime gives MiniLM's vectors (the real bundled model, exported once per test session)."""

import json
from pathlib import Path

import numpy as np
import pytest

from failgraph.kg.embed import MODEL_ID, Embedder, make_embedder
from failgraph.kg.onnx_embed import (
    MODEL_FILE,
    RUNTIME_ENV,
    OnnxEmbedder,
    cache_dir,
    ensure_onnx_model,
    minilm_runtime,
    read_meta,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def export_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("onnx-cache")
    ensure_onnx_model(root)
    return root


def case_texts(n: int) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "ingest/cases/cases.jsonl").read_text().splitlines()[:n]]
    return [r["title"] + "\n" + r["report"] for r in rows]


def test_onnx_vectors_equal_sentence_transformers_on_real_reports(export_root):
    texts = [*case_texts(40), "", "x", "日本語のテキスト " * 200]  # empty, one char, far past the 256-token limit
    onnx = OnnxEmbedder(export_root, batch_size=7).encode(texts)
    torch_vecs = Embedder().encode(texts)
    assert onnx.shape == torch_vecs.shape == (len(texts), 384) and onnx.dtype == np.float32
    assert np.abs(onnx - torch_vecs).max() < 1e-5
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def test_the_int8_tier_is_close_to_minilm_but_keyed_apart(export_root):
    texts = case_texts(30)
    full = OnnxEmbedder(export_root).encode(texts)
    int8 = OnnxEmbedder(export_root, int8=True)
    vecs = int8.encode(texts)
    cosines = (full * vecs).sum(axis=1)
    assert cosines.min() > 0.97 and not np.allclose(full, vecs, atol=1e-4)  # close, yet not the same model
    assert int8.key != MODEL_ID and int8.name == "minilm-int8"
    assert isinstance(make_embedder("minilm-int8", export_root), OnnxEmbedder)


def test_batches_sorted_by_length_come_back_in_input_order(export_root):
    texts = case_texts(12)
    emb = OnnxEmbedder(export_root, batch_size=4)
    together = emb.encode(texts)
    one_by_one = np.vstack([emb.encode([t]) for t in texts])
    assert np.abs(together - one_by_one).max() < 1e-5
    assert emb.key == MODEL_ID and emb.encode([]).shape == (0, 384)


def test_a_broken_export_is_made_again(export_root, tmp_path):
    root = tmp_path / "cache"
    final = cache_dir(root)
    final.mkdir(parents=True)
    (final / "failgraph-onnx.json").write_text((cache_dir(export_root) / "failgraph-onnx.json").read_text())
    assert read_meta(final) is None  # metadata without the model file is not a model
    made = []

    def copy_export(dest: Path):
        made.append(dest)
        for f in cache_dir(export_root).iterdir():
            (dest / f.name).write_bytes(f.read_bytes())
        return read_meta(dest)

    path, meta = ensure_onnx_model(root, exporter=copy_export)
    assert len(made) == 1 and (path / MODEL_FILE).is_file() and meta is not None
    ensure_onnx_model(root, exporter=copy_export)
    assert len(made) == 1  # cached now


def test_runtime_choice(monkeypatch, tmp_path):
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    assert minilm_runtime() == "torch" and isinstance(make_embedder("minilm", tmp_path), Embedder)
    monkeypatch.setenv(RUNTIME_ENV, "onnx")
    assert isinstance(make_embedder("minilm", tmp_path), OnnxEmbedder)
    monkeypatch.setenv(RUNTIME_ENV, "tensorflow")
    with pytest.raises(ValueError, match="FAILGRAPH_MINILM_RUNTIME"):
        minilm_runtime()
    monkeypatch.delenv(RUNTIME_ENV)
    assert minilm_runtime() == "onnx"  # installed with failgraph
