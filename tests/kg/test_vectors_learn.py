"""Vectors and keywords added after an index was built are searched as a build over all of them would search them:
an IVF index (the kind past 20,000 vectors) trains its lists on the build's vectors only, and BM25 weighs terms when
a query is scored."""

import numpy as np

from failgraph.kg.keyword import KeywordIndex
from failgraph.kg.vectors import IVF_MIN_VECTORS, VectorIndex


def _unit(rng, n, d):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_an_ivf_index_with_added_vectors_answers_as_one_built_over_all():
    rng = np.random.default_rng(3)
    base, new = _unit(rng, IVF_MIN_VECTORS + 500, 32), _unit(rng, 40, 32)
    ids = [f"b{i}" for i in range(len(base))]
    new_ids = [f"n{i}" for i in range(len(new))]
    grown = VectorIndex.build(ids, base, approximate=None)
    assert grown.kind == "ivf"
    for i, v in zip(new_ids, new, strict=True):
        grown.add(i, v)
    again = _unit(rng, 1, 32)[0]  # a learned issue learned again with another thread
    grown.remove("n3")
    grown.add("n3", again)
    new[3] = again
    rebuilt = VectorIndex.build(ids + new_ids, np.vstack([base, new]), fit=[True] * len(base) + [False] * len(new))
    queries = np.vstack([new[:10], base[5:10], _unit(rng, 10, 32)])
    a, b = grown.search(queries, 10), rebuilt.search(queries, 10)
    for ha, hb in zip(a, b, strict=True):
        assert [h.id for h in ha] == [h.id for h in hb]
        assert np.allclose([h.score for h in ha], [h.score for h in hb], atol=1e-6)
    assert a[0][0].id == "n0" and a[3][0].id == "n3"
    assert sum(h.id == "n3" for h in grown.search(again[None, :], 50)[0]) == 1


def test_bm25_with_added_and_replaced_documents_scores_as_one_built_over_them():
    docs = {"a": "CUDA out of memory on A100", "b": "KeyError qwen2 in transformers", "c": "NCCL timeout on 8 GPUs",
            "d": "tokenizer warning about padding side"}
    grown = KeywordIndex.build(["a", "b"], [docs["a"], docs["b"]])
    grown.add("c", docs["c"])
    grown.add("d", "an older text of d about CUDA")
    grown.remove("d", "an older text of d about CUDA")
    grown.add("d", docs["d"])
    rebuilt = KeywordIndex.build(list(docs), list(docs.values()))
    for q in ("CUDA memory", "qwen2 KeyError transformers", "timeout GPUs", "padding tokenizer CUDA"):
        ga, gb = grown.search(q, 4), rebuilt.search(q, 4)
        assert [h.id for h in ga] == [h.id for h in gb]
        assert np.allclose([h.score for h in ga], [h.score for h in gb], rtol=0, atol=1e-9)


def test_a_saved_index_with_additions_loads_as_the_same_index(tmp_path):
    grown = KeywordIndex.build(["a"], ["CUDA out of memory"])
    grown.add("b", "NCCL timeout")
    grown.remove("a", "CUDA out of memory")
    grown.add("a", "CUDA error again")
    grown.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path)
    for q in ("CUDA", "NCCL timeout", "error"):
        assert [(h.id, round(h.score, 9)) for h in loaded.search(q, 3)] == \
            [(h.id, round(h.score, 9)) for h in grown.search(q, 3)]


def test_the_torch_flat_index_of_the_gpu_path_takes_added_vectors():
    from failgraph.kg.gpu import TorchFlatIndex

    rng = np.random.default_rng(5)
    base, extra = _unit(rng, 50, 16), _unit(rng, 2, 16)
    index = VectorIndex([f"b{i}" for i in range(50)], TorchFlatIndex(base, device="cpu"), "flat", "gpu", "torch")
    index.add("n0", extra[0])
    index.add("n1", extra[1])
    assert index.index.ntotal == 52
    hits = index.search(extra, 3)
    assert [h[0].id for h in hits] == ["n0", "n1"] and abs(hits[0][0].score - 1.0) < 1e-5
    assert np.allclose(index.vector("n1"), extra[1])


def test_an_index_saved_before_bm25_kept_counts_gets_its_keywords_without_embedding(tmp_path):
    import hashlib

    from failgraph.kg.keyword import FILES
    from failgraph.kg.vectors import TextIndex

    class Hash:
        def encode(self, texts, **kw):
            rows = [np.random.default_rng(int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)).standard_normal(16)
                    for t in texts]
            v = np.asarray(rows, dtype=np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    class NoEmbedding(Hash):
        def encode(self, texts, **kw):
            raise AssertionError("re-embedded")

    ids, texts = ["a", "b", "c"], ["CUDA out of memory", "KeyError qwen2", "NCCL timeout"]
    TextIndex.build(ids, texts, Hash()).save(tmp_path / "vectors")
    for name in FILES:  # as an index of the bm25s era looks
        (tmp_path / "vectors" / name).unlink()
    index, built = TextIndex.load_or_build(tmp_path / "vectors", ids, texts, NoEmbedding())
    assert not built and [h.id for h in index.keywords.search("NCCL", 2)] == ["c"]
    assert all((tmp_path / "vectors" / name).is_file() for name in FILES)  # saved for the next start


def test_the_stop_words_are_those_of_bm25s():
    """Written out in kg/keyword.py (importing bm25s for them slowed every start); they must not drift from the
    tokenizer that saved indexes were built with."""
    from bm25s.stopwords import STOPWORDS_EN

    from failgraph.kg import keyword

    assert tuple(STOPWORDS_EN) == keyword.STOPWORDS_EN
    assert keyword.keyword_tokens("The model is in the GPU and it hangs") == ["model", "gpu", "hangs"]
