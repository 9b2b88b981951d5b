"""The static embedding tier: cached distillation (atomic, once under concurrency), the shared interface, index keys,
and a query path without torch."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from failgraph.kg.embed import (
    DEFAULT_EMBEDDER,
    EMBEDDER_ENV,
    MODEL_ID,
    Embedder,
    TextEmbedder,
    embedder_name,
    make_embedder,
    model_dir,
)
from failgraph.kg.static_embed import (
    META,
    StaticEmbedder,
    StaticMeta,
    cache_dir,
    ensure_static_model,
    read_meta,
)
from failgraph.kg.vectors import TextIndex


def tiny_static_model(dest: Path, dims: int = 16) -> StaticMeta:
    """A stand-in for the distillation: MiniLM's tokenizer with random token vectors (a real model2vec model, in
    milliseconds)."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir(), "tokenizer.json"))
    vecs = np.random.default_rng(0).standard_normal((tok.get_vocab_size(), dims)).astype(np.float32)
    StaticModel(vectors=vecs, tokenizer=tok, normalize=True).save_pretrained(str(dest))
    meta = StaticMeta(source=MODEL_ID, recipe=1, pca_dims=dims, dim=dims, weights_sha256="ab" * 32)
    (dest / META).write_text(meta.model_dump_json(), encoding="utf-8")
    return meta


def seed_home(home: Path) -> Path:
    """Put the tiny model (16 wide) where the static tier caches its model, as if distilled: no test distils."""
    return ensure_static_model(home, distiller=lambda dest, _dims: tiny_static_model(dest))[0]


def test_the_model_is_distilled_once_when_first_uses_race(tmp_path):
    calls, started = [], threading.Event()

    def slow_distiller(dest: Path, dims: int) -> StaticMeta:
        calls.append(dest)
        started.set()
        time.sleep(0.3)  # the other caller arrives while this one is still writing
        (dest / "model.safetensors").write_bytes(b"weights")
        meta = StaticMeta(source=MODEL_ID, recipe=1, pca_dims=dims, dim=dims, weights_sha256="00" * 32)
        (dest / META).write_text(meta.model_dump_json(), encoding="utf-8")
        return meta

    seen = []

    def first_use():
        seen.append(ensure_static_model(tmp_path, dims=8, distiller=slow_distiller))

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    threads[0].start()
    started.wait(5)
    assert read_meta(cache_dir(tmp_path, 8)) is None  # nothing visible while the first one distils
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(seen) == 3 and len({str(p) for p, _ in seen}) == 1
    final = cache_dir(tmp_path, 8)
    assert (final / "model.safetensors").read_bytes() == b"weights"
    assert not [p for p in final.parent.iterdir() if p.is_dir() and p != final]  # no temporary directory left


def test_a_failed_distillation_leaves_nothing_and_is_retried(tmp_path):
    def broken(dest: Path, dims: int) -> StaticMeta:
        (dest / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("killed halfway")

    with pytest.raises(RuntimeError):
        ensure_static_model(tmp_path, dims=16, distiller=broken)
    assert not cache_dir(tmp_path, 16).exists()
    assert [p.name for p in cache_dir(tmp_path, 16).parent.iterdir() if p.is_dir()] == []
    told = []
    path, meta = ensure_static_model(tmp_path, dims=16, distiller=tiny_static_model, on_distill=told.append)
    assert meta.dim == 16 and told == [path] and read_meta(path) == meta


def test_the_static_tier_encodes_unit_float32_rows_and_keys_its_model(tmp_path):
    seed_home(tmp_path)
    emb = StaticEmbedder(tmp_path)
    assert isinstance(emb, TextEmbedder) and isinstance(Embedder(), TextEmbedder)
    v = emb.encode(["CUDA out of memory while loading Qwen2-72B", "KeyError: 'qwen2'"])
    assert v.dtype == np.float32 and v.shape == (2, emb.dim) == (2, 16)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert emb.encode([]).shape == (0, 16)
    assert emb.key != Embedder().key and emb.key.startswith("model2vec:") and "abababab" in emb.key


def test_an_index_built_by_one_tier_is_stale_for_the_other(tmp_path):
    seed_home(tmp_path)
    static = StaticEmbedder(tmp_path)
    ids, texts = ["a", "b", "c"], ["CUDA out of memory", "NCCL timeout", "KeyError qwen2"]
    index, built = TextIndex.load_or_build(tmp_path / "idx", ids, texts, static)
    assert built and index.embedder == "static" and index.vectors.index.d == 16
    again, built = TextIndex.load_or_build(tmp_path / "idx", ids, texts, static)
    assert not built and again.fingerprint == index.fingerprint

    class OtherModel:  # another tier (another key, another width) must not reuse these vectors
        name, key, dim = "minilm", MODEL_ID, 8

        def encode(self, texts, *, show_progress=False):
            v = np.ones((len(texts), 8), np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    other, built = TextIndex.load_or_build(tmp_path / "idx", ids, texts, OtherModel())
    assert built and other.vectors.index.d == 8 and other.fingerprint != index.fingerprint


def test_the_tier_comes_from_the_option_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(EMBEDDER_ENV, raising=False)
    assert embedder_name(None) is None and embedder_name("static") == "static"
    assert make_embedder(None, tmp_path).name == DEFAULT_EMBEDDER == "minilm-int8"  # the measured default
    monkeypatch.setenv(EMBEDDER_ENV, "static")
    assert isinstance(make_embedder(None, tmp_path), StaticEmbedder)
    assert make_embedder("minilm", tmp_path).name == "minilm"
    monkeypatch.setenv(EMBEDDER_ENV, "bert")
    with pytest.raises(ValueError, match=r"\$FAILGRAPH_EMBEDDER must be one of minilm, minilm-int8, static"):
        embedder_name(None)
    with pytest.raises(ValueError, match="--embedder must be one of"):
        embedder_name("glove")


@pytest.fixture(scope="module")
def static_home(tmp_path_factory, dataset_dir):
    """A small graph whose text index was built by the static tier (the tiny model)."""
    from failgraph.ingest.cases import load_cases
    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import GraphInputs, build_graph
    from failgraph.kg.home import GraphHome

    home = GraphHome(tmp_path_factory.mktemp("statichome"))
    seed_home(home.root)
    records = load_dataset(dataset_dir / "DeepSeek").records
    build_graph(home, GraphInputs(records=records, cases=load_cases().cases[::20]), validate=False,
                embedder=StaticEmbedder(home.root))
    return home


def test_the_knowledge_base_follows_the_tier_its_index_was_built_with(static_home, monkeypatch):
    from failgraph.assistant.knowledge import KnowledgeBase

    monkeypatch.delenv(EMBEDDER_ENV, raising=False)
    kb = KnowledgeBase.from_home(static_home)
    assert isinstance(kb.embedder, StaticEmbedder) and not kb.index_built
    assert kb.cause_group_model is not None and kb.index.vectors.index.d == 16


def test_a_static_diagnosis_runs_without_torch(static_home):
    """The point of the tier: answering a report loads no torch (nor transformers or sentence-transformers)."""
    code = ("import sys, json; from typer.testing import CliRunner; from failgraph.ui.cli import app; "
            f"r = CliRunner().invoke(app, ['diagnose', '--json', '--embedder', 'static', '--home', {str(static_home.root)!r}, "
            "'vllm fails: CUDA out of memory while loading DeepSeek-V2 with tensor parallel 2']); "
            "print(json.dumps({'code': r.exit_code, 'causes': len(json.loads(r.stdout)['root_causes']) if r.exit_code == 0 else r.output, "
            "'heavy': [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]}))")
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=300)
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["code"] == 0 and got["causes"] > 0, got
    assert got["heavy"] == [], got


def test_an_unknown_tier_is_one_error_line(static_home):
    from typer.testing import CliRunner

    from failgraph.ui.cli import app

    r = CliRunner().invoke(app, ["diagnose", "--embedder", "glove", "--home", str(static_home.root), "x"])
    assert r.exit_code == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --embedder must be one of minilm, minilm-int8, static"), r.stderr


def test_build_passes_the_tier_and_the_recall_target_to_the_index(tmp_path, dataset_slice, monkeypatch):
    from typer.testing import CliRunner

    from failgraph.kg import build
    from failgraph.ui import cli

    seed_home(tmp_path)
    seen = {}

    def fake_build(home, inputs, **kw):
        seen.update(kw)
        raise build.BuildError("stopped before building")

    monkeypatch.setattr(build, "build_graph", fake_build)
    monkeypatch.delenv(EMBEDDER_ENV, raising=False)
    runner = CliRunner()
    args = ["build", "--dataset", str(dataset_slice), "--no-cases", "--home", str(tmp_path)]
    r = runner.invoke(cli.app, [*args, "--embedder", "static", "--recall", "0.9"])
    assert r.exit_code == 2 and "stopped before building" in r.stderr
    assert isinstance(seen["embedder"], StaticEmbedder) and seen["recall"] == 0.9
    r = runner.invoke(cli.app, args, env={"FAILGRAPH_RECALL": "0.8", EMBEDDER_ENV: "minilm"})
    assert seen["embedder"].name == "minilm" and seen["recall"] == 0.8
    r = runner.invoke(cli.app, [*args, "--recall", "0"])
    assert r.exit_code == 2 and "--recall" in r.stderr
