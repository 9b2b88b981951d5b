import numpy as np
import pytest
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from failgraph.assistant.discriminant import DiscriminantModel
from failgraph.kg.embed import DIM
from failgraph.ontology import Level, load_taxonomy


def _group_docs(kb):
    """(key, [group]) for the knowledge base's single-cause failures (real cases, real MiniLM vectors)."""
    tax = load_taxonomy()
    return [(f.key, [tax.label_at("root_cause", f.root_causes[0], Level.group)])
            for f in kb.corpus.failures if len(f.root_causes) == 1]


def _logs(posterior: dict[str, float]) -> dict[str, float]:
    """Log-probabilities: a confident posterior puts 1e-20 on most labels, which pytest.approx's absolute tolerance
    (1e-12) would call equal whatever they are."""
    return {k: float(np.log(max(v, 1e-300))) for k, v in posterior.items()}


def _sklearn_posterior(kb, docs, shrinkage, query):
    X = np.array([kb.vector_of(k) for k, _ in docs], dtype=np.float64)
    y = [labs[0] for _, labs in docs]
    ref = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage).fit(X, y)
    return dict(zip(ref.classes_, ref.predict_proba(query[None].astype(np.float64))[0], strict=True))


@pytest.mark.slow
def test_equals_scikit_learn_lda_and_leaving_out_equals_refitting(small_kb):
    """On the case slice's real vectors, the model is scikit-learn's shrinkage LDA; leaving issues out subtracts
    exactly their vectors, so the posterior equals an LDA fitted on the other issues."""
    docs = _group_docs(small_kb)
    assert len({labs[0] for _, labs in docs}) >= 5
    model = DiscriminantModel(docs, small_kb.vector_of, DIM)
    query = small_kb.embedder.encode(["vllm serve hangs at NCCL init with --tensor-parallel-size 2"])[0]
    assert _logs(model.posterior(query)) == pytest.approx(
        _logs(_sklearn_posterior(small_kb, docs, model.shrinkage, query)), rel=1e-6)
    left_out = {docs[0][0], docs[7][0], docs[20][0]}
    kept = [d for d in docs if d[0] not in left_out]
    got = model.posterior(query, frozenset(left_out))
    assert _logs(got) == pytest.approx(_logs(_sklearn_posterior(small_kb, kept, model.shrinkage, query)), rel=1e-6)
    assert _logs(got) != pytest.approx(_logs(model.posterior(query)), rel=1e-6)  # the exclusion is not a no-op


@pytest.mark.slow
def test_an_issue_left_out_no_longer_pulls_towards_its_own_group(small_kb):
    docs = _group_docs(small_kb)
    model = DiscriminantModel(docs, small_kb.vector_of, DIM)
    key, (group,) = docs[3]
    own = small_kb.vector_of(key)
    assert model.posterior(own, frozenset({key}))[group] < model.posterior(own)[group]


def test_two_labels_split_one_unit_and_leave_together():
    rng = np.random.default_rng(0)
    vecs = {f"a#{i}": v for i, v in enumerate(rng.standard_normal((12, 8)))}
    labels = [["x"], ["y"], ["z"]] * 4
    docs = [(k, labs) for k, labs in zip(vecs, labels, strict=True)] + [("a#12", ["x", "y"])]
    vecs["a#12"] = rng.standard_normal(8)
    both = DiscriminantModel(docs, vecs.__getitem__, 8)
    assert both.class_weight.tolist() == [4.5, 4.5, 4.0]
    without = DiscriminantModel(docs[:-1], vecs.__getitem__, 8)
    q = rng.standard_normal(8)
    assert both.posterior(q, frozenset({"a#12"})) == pytest.approx(without.posterior(q), rel=1e-9)


def test_no_answer_without_two_labels_left():
    vecs = {"a#1": np.ones(4), "a#2": -np.ones(4)}
    assert DiscriminantModel([("a#1", ["x"])], vecs.__getitem__, 4).posterior(np.ones(4)) == {}
    assert DiscriminantModel([], vecs.__getitem__, 4).posterior(np.ones(4)) == {}
    two = DiscriminantModel([("a#1", ["x"]), ("a#2", ["y"])], vecs.__getitem__, 4)
    assert set(two.posterior(np.ones(4))) == {"x", "y"}
    assert two.posterior(np.ones(4), frozenset({"a#2"})) == {}


def test_shrinkage_outside_its_range_is_refused():
    with pytest.raises(ValueError, match="shrinkage"):
        DiscriminantModel([], {}.__getitem__, 4, shrinkage=0.0)
