import numpy as np
import pytest
from sklearn.naive_bayes import ComplementNB

from failgraph.assistant.charmodel import CharNGramModel

DOCS = [("a#1", "ImportError: libcudart.so.12: cannot open shared object file", ["env"]),
        ("a#2", "CUDA_HOME not set; nvcc --version shows 11.8, torch 2.1.0+cu121", ["env"]),
        ("a#3", "undefined symbol in flash_attn_2_cuda.so after pip install", ["env"]),
        ("a#4", "set max_new_tokens=64 and the answer stops halfway", ["cfg"]),
        ("a#5", "lora_alpha and lora_r in my config give loss 0 from the first step", ["cfg"]),
        ("a#6", "temperature=0 with do_sample=True raises, top_p ignored", ["cfg"]),
        ("a#7", "the answer stops halfway and --max-model-len 2048 is set", ["cfg", "env"])]


def test_error_fragments_point_to_their_class():
    m = CharNGramModel(DOCS, min_df=1)
    assert m.labels == ["cfg", "env"]
    p = m.posterior("OSError: libcublasLt.so.12 cannot open shared object file, CUDA 11.8")
    assert p["env"] > p["cfg"]
    q = m.posterior("max_new_tokens=32 stops the answer early")
    assert q["cfg"] > q["env"]
    assert sum(q.values()) == pytest.approx(1.0)


def test_leaving_issues_out_equals_complement_nb_fitted_without_them():
    """Leaving issues out subtracts exactly their rows: the posterior equals scikit-learn's ComplementNB fitted on the
    other documents' features (same vocabulary), including a document that carries two labels."""
    m = CharNGramModel(DOCS, min_df=1)
    text = "the answer stops halfway: libcudart.so.12 and max_new_tokens"
    for left_out in ({"a#1"}, {"a#7"}, {"a#2", "a#4"}):
        keep = [i for i, (k, _, _) in enumerate(DOCS) if k not in left_out]
        # multi-label documents become one row per label with weight 1/len(labels), as in the model
        rows, ys, ws = [], [], []
        for i in keep:
            for lab in DOCS[i][2]:
                rows.append(i), ys.append(lab), ws.append(1.0 / len(DOCS[i][2]))
        X = m.vectorizer.transform([d[1] for d in DOCS])[rows]
        ref = ComplementNB(alpha=m.alpha).fit(X, ys, sample_weight=np.array(ws))
        want = dict(zip(ref.classes_, ref.predict_proba(m.vectorizer.transform([text]))[0], strict=True))
        got = m.posterior(text, exclude=frozenset(left_out))
        assert got == pytest.approx(want, rel=1e-5)
    # and leaving nothing out differs from leaving a#1 out (the exclusion is not a no-op)
    assert m.posterior(text) != pytest.approx(m.posterior(text, exclude=frozenset({"a#1"})), rel=1e-5)


def test_no_answer_without_known_ngrams_or_classes():
    m = CharNGramModel(DOCS, min_df=1)
    assert m.posterior("") == {}
    assert m.posterior("ЖЖЖ ЖЖЖ") == {}
    assert CharNGramModel([("a#1", "some text", ["env"])], min_df=1).posterior("some text") == {}
    assert CharNGramModel([], min_df=1).posterior("some text") == {}


def test_chunked_counts_and_sampled_vocabulary(monkeypatch):
    from failgraph.assistant import charmodel
    whole = CharNGramModel(DOCS, min_df=1)
    monkeypatch.setattr(charmodel, "VOCABULARY_SAMPLE", 3)  # vocabulary from an even sample: a#1, a#3, a#5
    sampled = CharNGramModel(DOCS, min_df=1)
    assert 0 < sampled.features < whole.features
    assert "nvc" in whole.vectorizer.vocabulary_ and "nvc" not in sampled.vectorizer.vocabulary_  # a#2's "nvcc"
    p = sampled.posterior("libcudart.so.12 cannot open shared object file")
    assert p["env"] > p["cfg"]
    monkeypatch.setattr(charmodel, "CHUNK", 2)  # counts accumulated two documents at a time: the same model
    chunked = CharNGramModel(DOCS, min_df=1)
    text = "libcudart.so.12 missing, max_new_tokens=64"
    assert chunked.posterior(text, frozenset({"a#3"})) == pytest.approx(sampled.posterior(text, frozenset({"a#3"})))
    assert np.allclose(chunked.counts, sampled.counts)
