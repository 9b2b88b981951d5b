"""The GPU path of the vector index, as far as a machine without a GPU can check it: the torch exact index (run on the
CPU here; on a GPU it is the same code on another device), the choice of backend, and the embedder's model folder."""

import faiss
import numpy as np
import pytest

from failgraph.kg import gpu
from failgraph.kg.embed import MODEL_DIR_ENV, Embedder, model_dir
from failgraph.kg.vectors import GPU_EXACT_MAX_BYTES, VectorIndex, _flat_from, _resolve_gpu


def unit(n, d=384, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_torch_flat_index_matches_faiss_exact_search(monkeypatch):
    x, q = unit(3000), unit(300, seed=1)
    monkeypatch.setattr(gpu.TorchFlatIndex, "QUERY_CHUNK", 64)  # several chunks of queries
    t = gpu.TorchFlatIndex(x, device="cpu")
    flat = faiss.IndexFlatIP(384)
    flat.add(x)
    ts, ti = t.search(q, 10)
    fs, fi = flat.search(q, 10)
    assert (ti == fi).mean() > 0.999 and np.allclose(ts, fs, atol=1e-5)
    assert np.allclose(t.reconstruct(17), x[17]) and (t.ntotal, t.d) == (3000, 384)
    back = t.to_faiss()
    assert back.ntotal == 3000 and np.array_equal(back.search(q[:5], 3)[1], fi[:5, :3])


def test_torch_flat_index_pads_when_k_exceeds_the_vectors():
    t = gpu.TorchFlatIndex(unit(3), device="cpu")
    scores, ids = t.search(unit(2, seed=3), 5)
    assert ids.shape == (2, 5) and (ids[:, 3:] == -1).all() and (ids[:, :3] >= 0).all()
    assert np.isneginf(scores[:, 3:]).all()
    empty = gpu.TorchFlatIndex(np.zeros((0, 384), np.float32), device="cpu")
    assert (empty.search(unit(1), 4)[1] == -1).all()


def test_vector_index_uses_the_torch_backend_where_faiss_cannot(monkeypatch):
    """On a GPU that faiss has no kernels for (Hopper with the PyPI wheel), exact search runs through torch; the
    index searches, excludes and saves like any other (here the torch 'GPU' is the CPU)."""
    monkeypatch.setattr("failgraph.kg.vectors.gpu_backend", lambda: "torch")
    real = gpu.TorchFlatIndex.__init__
    monkeypatch.setattr(gpu.TorchFlatIndex, "__init__", lambda self, v, device="cuda": real(self, v, device="cpu"))
    x = unit(60_000, d=16)
    ids = [f"i{i}" for i in range(len(x))]
    vi = VectorIndex.build(ids, x)
    # past the approximate threshold, but exact on a GPU (the vectors fit GPU_EXACT_MAX_BYTES)
    assert (vi.kind, vi.device, vi.backend) == ("flat", "gpu", "torch") and x.nbytes <= GPU_EXACT_MAX_BYTES
    assert vi.describe() == "flat (exact) on gpu via torch"
    q = x[:3]
    hits = vi.search(q, 5, exclude={"i0"})
    assert hits[0][0].id != "i0" and hits[1][0].id == "i1" and hits[1][0].score == pytest.approx(1.0, abs=1e-5)
    cpu = VectorIndex.build(ids, x, use_gpu=False)
    assert cpu.kind == "ivf"  # the same vectors without a GPU: approximate


def test_saved_gpu_index_reloads_on_cpu_and_an_ivf_index_loads_exact_on_gpu(tmp_path, monkeypatch):
    x = unit(25_000, d=16)
    ids = [str(i) for i in range(len(x))]
    ivf = VectorIndex.build(ids, x, approximate=True, use_gpu=False)
    assert ivf.kind == "ivf"
    flat = _flat_from(ivf.index)
    assert flat.ntotal == len(x) and np.allclose(flat.reconstruct(123), x[123])
    ivf.save(tmp_path)
    monkeypatch.setattr("failgraph.kg.vectors.gpu_backend", lambda: "torch")
    real = gpu.TorchFlatIndex.__init__
    monkeypatch.setattr(gpu.TorchFlatIndex, "__init__", lambda self, v, device="cuda": real(self, v, device="cpu"))
    on_gpu = VectorIndex.load(tmp_path)
    assert (on_gpu.kind, on_gpu.backend) == ("flat", "torch")
    assert [h.id for h in on_gpu.search(x[7:8], 1)[0]] == ["7"]
    on_gpu.save(tmp_path)  # saved back as a CPU faiss index
    monkeypatch.setattr("failgraph.kg.vectors.gpu_backend", lambda: None)
    again = VectorIndex.load(tmp_path)
    assert (again.kind, again.device) == ("flat", "cpu") and [h.id for h in again.search(x[9:10], 1)[0]] == ["9"]


def test_backend_choice_on_this_machine(monkeypatch):
    if gpu.faiss_gpu_count() == 0:
        assert gpu.faiss_gpu_usable() is False
    assert _resolve_gpu(False) is None
    monkeypatch.setattr("failgraph.kg.vectors.gpu_backend", lambda: None)
    with pytest.raises(ValueError, match="GPU"):
        _resolve_gpu(True)
    assert _resolve_gpu(None) is None


def test_model_folder_override(tmp_path, monkeypatch):
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    bundled = model_dir()
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match=MODEL_DIR_ENV):
        model_dir()
    monkeypatch.setenv(MODEL_DIR_ENV, bundled)
    assert model_dir() == bundled
    assert Embedder(half=True).half is True
