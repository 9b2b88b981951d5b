import numpy as np
import pytest

from failgraph.kg.embed import Embedder
from failgraph.kg.vectors import Hit, KeywordIndex, TextIndex, VectorIndex, fuse


def random_unit(n, d=384, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_flat_and_hnsw_agree_and_exclude():
    vecs = random_unit(2000)
    ids = [f"i{i}" for i in range(2000)]
    flat = VectorIndex.build(ids, vecs, approximate=False, use_gpu=False)
    hnsw = VectorIndex.build(ids, vecs, approximate=True, use_gpu=False)
    assert (flat.kind, hnsw.kind, flat.device) == ("flat", "hnsw", "cpu")
    q = random_unit(50, seed=1)
    exact = flat.search(q, 10)
    approx = hnsw.search(q, 10)
    recall = np.mean([len({h.id for h in a} & {h.id for h in e}) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.9
    top = exact[0][0].id
    again = flat.search(q[:1], 10, exclude={top})[0]
    assert top not in {h.id for h in again} and len(again) == 10


def test_keyword_index_and_fusion():
    kw = KeywordIndex.build(["a", "b", "c"], ["KeyError qwen2 transformers", "CUDA out of memory", "NCCL timeout"])
    assert kw.search("KeyError: 'qwen2'", 2)[0].id == "a"
    assert kw.search("KeyError: 'qwen2'", 2, exclude={"a"}) == []
    fused = fuse([Hit(id="x", score=0.9), Hit(id="y", score=0.5)], [Hit(id="y", score=3.0)], k=2)
    assert [h.id for h in fused] == ["y", "x"]


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def test_text_index_persists_and_rebuilds_only_on_change(tmp_path, embedder):
    ids, texts = ["a", "b"], ["vllm fails with CUDA out of memory", "tokenizer does not stop at im_end"]
    idx, built = TextIndex.load_or_build(tmp_path / "v", ids, texts, embedder)
    assert built
    q = embedder.encode(["GPU memory exhausted while serving"])
    assert idx.vectors.search(q, 1)[0][0].id == "a"
    again, built = TextIndex.load_or_build(tmp_path / "v", ids, texts, embedder)
    assert not built and again.fingerprint == idx.fingerprint
    changed, built = TextIndex.load_or_build(tmp_path / "v", ids, [texts[0], "something else"], embedder)
    assert built and changed.fingerprint != idx.fingerprint
    assert not list(tmp_path.glob(".v.*"))  # no temporary directories left behind
