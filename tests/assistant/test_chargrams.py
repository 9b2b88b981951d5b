"""The character model answers without scikit-learn: its transform equals the fitted TfidfVectorizer's, bit for bit."""

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from failgraph.assistant.chargrams import CharTfidf
from failgraph.assistant.charmodel import MAX_FEATURES, NGRAMS
from failgraph.ingest.cases import load_cases


def test_the_transform_equals_scikit_learns_bit_for_bit():
    texts = [c.report for c in load_cases().cases]
    texts += ["", "   ", "ЖЖЖ ünïcödé\tCUDA_HOME\n\n--tp 2 libcudart.so.12", "a b c", "x" * 3000]
    fitted = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, max_features=MAX_FEATURES,
                             dtype=np.float32, min_df=2).fit(texts[::2])  # half the texts: the rest has unknown n-grams
    ours = CharTfidf.from_sklearn(fitted)
    want = fitted.transform(texts)
    for i, text in enumerate(texts):
        idx, val = ours.row(text)
        row = want[[i]]
        assert np.array_equal(idx, row.indices) and val.dtype == np.float32
        assert np.array_equal(val.view(np.uint32), row.data.view(np.uint32)), i  # the same bits
        assert val.sum() == row.sum()
    got = ours.transform(texts)
    assert (got != want).nnz == 0
