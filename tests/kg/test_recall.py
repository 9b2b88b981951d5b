"""The recall knob: an IVF index's nprobe chosen by measured recall@10 on a held-out sample, persisted with it."""

import json

import faiss
import numpy as np
import pytest

from failgraph.kg.recall import choose_nprobe, held_out_truth, measure_curve, probe_ladder, recall_at_k
from failgraph.kg.vectors import IVF_MIN_VECTORS, VectorIndex, ivf_probes


def clustered(n, d=32, centres=400, spread=0.35, seed=0):
    """Unit vectors around the same random centres (``seed`` draws the points): neighbourhoods that cross IVF list
    borders, as real texts' do."""
    c = np.random.default_rng(12345).standard_normal((centres, d)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = c[rng.integers(0, centres, n)] + spread * rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def vectors():
    return clustered(IVF_MIN_VECTORS)


@pytest.fixture(scope="module")
def plain(vectors):
    """The IVF index over ``vectors`` without a target (a test may set its nprobe: each sets the one it needs)."""
    vi = VectorIndex.build([str(i) for i in range(len(vectors))], vectors, approximate=True, use_gpu=False)
    assert vi.kind == "ivf" and vi.probe is None
    return vi


def ids_of(hits, k=10):
    return [int(h.id) for h in hits] + [-1] * (k - len(hits))


def test_the_ladder_ends_with_an_exhaustive_probe():
    assert probe_ladder(64) == [1, 2, 4, 8, 16, 32, 64]
    assert probe_ladder(100)[-1] == 100 and probe_ladder(1) == [1]


def test_held_out_truth_never_answers_a_query_with_itself_or_another_held_out_row(vectors):
    held = np.arange(0, 500, 5)
    truth = held_out_truth(vectors, held)
    assert truth.shape == (len(held), 10) and not np.isin(truth, held).any()
    exact = np.argsort(-(vectors[held] @ vectors.T), axis=1)[:, :200]
    drop = set(held.tolist())
    for row, h in zip(truth, exact, strict=True):
        assert list(row) == [i for i in h.tolist() if i not in drop][:10]


@pytest.mark.parametrize("target", [0.8, 0.97])
def test_a_recall_target_chooses_the_smallest_probe_that_reaches_it(vectors, plain, target):
    vi = plain
    ivf = faiss.extract_index_ivf(vi.index)
    p = choose_nprobe(vi.index, vectors, target)
    assert ivf.nprobe == p.nprobe and p.recall_at_10 >= target and p.target == target
    assert [pt.nprobe for pt in p.curve] == probe_ladder(ivf.nlist)[:len(p.curve)]
    assert all(pt.recall_at_10 < target for pt in p.curve[:-1])  # every smaller rung fell short
    # on fresh queries (not in the index at all) the chosen nprobe gives about the target
    q = clustered(300, seed=7)
    _, truth = faiss.knn(q, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    found = np.asarray([ids_of(hits) for hits in vi.search(q, 10)])
    assert recall_at_k(found, truth) >= target - 0.05


def test_a_lower_target_probes_fewer_lists_than_the_default(vectors, plain):
    assert choose_nprobe(plain.index, vectors, 0.5).nprobe < ivf_probes(plain.index.nlist)


def test_the_chosen_probe_is_persisted_with_the_index(tmp_path, vectors):
    ids = [str(i) for i in range(len(vectors))]
    vi = VectorIndex.build(ids, vectors, approximate=True, use_gpu=False, recall=0.6)
    assert vi.kind == "ivf" and vi.probe is not None and vi.probe.target == 0.6
    vi.save(tmp_path)
    assert json.loads((tmp_path / "vector_ids.json").read_text())["probe"]["nprobe"] == vi.probe.nprobe
    back = VectorIndex.load(tmp_path, use_gpu=False)
    assert faiss.extract_index_ivf(back.index).nprobe == vi.probe.nprobe != ivf_probes(back.index.nlist)
    assert back.probe == vi.probe and "target 0.6" in back.describe()
    (tmp_path / "plain").mkdir()
    fresh = VectorIndex.build(ids, vectors, approximate=True, use_gpu=False)
    fresh.save(tmp_path / "plain")  # without a target: the fixed share of the lists, before and after a reload
    assert faiss.extract_index_ivf(VectorIndex.load(tmp_path / "plain", use_gpu=False).index).nprobe == \
        ivf_probes(fresh.index.nlist)


def test_the_curve_climbs_to_full_recall(vectors, plain):
    vi = plain
    q = clustered(50, seed=3)
    _, truth = faiss.knn(q, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    curve = measure_curve(vi.index, q, truth, probe_ladder(vi.index.nlist))
    recalls = [pt.recall_at_10 for pt in curve]
    assert recalls[-1] == 1.0 and recalls[0] < 1.0 and all(pt.p50_ms > 0 for pt in curve)


def test_an_impossible_target_is_refused(vectors):
    with pytest.raises(ValueError, match="recall target"):
        choose_nprobe(None, vectors, 1.5)
