"""Applying a snapshot's delta (the past failures learned since it was built) to what the build persisted: the corpus,
the text index (vectors and BM25) and the trained models, without retraining anything.

The corpus is merged by the same function a full build reads the graph with
(:func:`failgraph.kg.learned_merge.merge_learned`); each changed past failure is then replaced in the index and the
models by subtracting what they counted of it and counting it anew. Since a learned failure fits no vocabulary,
IDF or IVF list (:attr:`failgraph.kg.corpus.PastFailure.fits`), the result equals a rebuild over the same data.
"""

from __future__ import annotations

import numpy as np

from ..kg.corpus import Corpus, SnapshotCorpus
from ..kg.delta import DeltaEntry
from ..kg.embed import TextEmbedder, embedder_key
from ..kg.learned_merge import merge_learned
from ..kg.vectors import TextIndex
from .persist import TrainedModels


def apply_learned(parts: SnapshotCorpus, before: Corpus, index: TextIndex, models: TrainedModels,
                  entries: list[DeltaEntry], embedder: TextEmbedder) -> Corpus:
    """The corpus with ``entries`` learned; ``index`` and ``models`` (built over ``before``, the merged ``parts``)
    are updated in place."""
    latest: dict[str, DeltaEntry] = {}
    for e in entries:
        latest[e.item.key] = e
    if not latest:
        return before
    after = merge_learned(parts.base, [*parts.learned, *(e.item for e in latest.values())])
    old_by, new_by = before.by_key(), after.by_key()
    key_now = embedder_key(embedder)
    for key, entry in latest.items():
        old, new = old_by.get(key), new_by[key]
        if old == new:
            continue
        old_vector = index.vectors.vector(key) if old is not None else None
        new_vector = old_vector
        if old is None or old.index_text != new.index_text:
            if entry.vector is not None and entry.embedder == key_now:
                new_vector = np.asarray(entry.vector, dtype=np.float32)
            else:
                new_vector = embedder.encode([new.index_text])[0]
            if old is not None:
                index.remove(key, old.index_text)
            index.add(key, new.index_text, new_vector)
        models.update(old, new, old_vector, new_vector)
    return after


__all__ = ["apply_learned"]
