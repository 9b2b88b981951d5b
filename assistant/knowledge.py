"""The knowledge the assistant reasons over — past failures, their text index and label statistics — as one object."""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..kg.corpus import (
    Corpus,
    PastFailure,
    RemedyExamples,
    SnapshotCorpus,
    corpus_key,
    load_corpus,
    read_snapshot_corpus,
    snapshot_corpus,
)
from ..kg.delta import read_delta
from ..kg.embed import DIM, TextEmbedder, embedder_name, make_embedder
from ..kg.home import GraphHome, SnapshotInfo
from ..kg.project import project
from ..kg.snapshot_index import INDEX_DIR, index_fit, index_inputs
from ..kg.snapshot_pin import STORE_DIR, pinned_snapshot
from ..kg.vectors import TextIndex, recorded_embedder
from ..ontology.fixes import remedy_label
from .learned_apply import apply_learned
from .persist import TrainedModels, models_key, snapshot_models
from .questions import FactProfile
from .statistics import LabelStatistics
from .textmodel import TextModel

if TYPE_CHECKING:
    from ..kg.store import GraphStore


class KnowledgeBase:
    def __init__(self, corpus: Corpus, index: TextIndex, embedder: TextEmbedder, *, index_built: bool = False,
                 models: TrainedModels | None = None):
        """``models``: the trained models read back from a snapshot (default: trained here over ``corpus``)."""
        self.corpus = corpus
        self.failures: dict[str, PastFailure] = corpus.by_key()
        self.index = index
        self.embedder = embedder
        self.projection = project(corpus)  # the graph the walk reads its statistics from and explains along
        self.stats = LabelStatistics(self.projection)
        self.models_trained = models is None
        models = models or TrainedModels.train(corpus, self.vector_of, self.dim)
        self.cause_text_model = models.cause_text
        self.symptom_text_model = models.symptom_text
        self.cause_category_model = models.cause_category
        self.cause_group_model = models.cause_group
        self.index_built = index_built
        self.snapshot: SnapshotInfo | None = None  # set by from_home
        self.learned = 0  # entries of the snapshot's delta applied (set by from_home)
        self.learned_apply_s = 0.0  # and the seconds applying them took

    @property
    def dim(self) -> int:
        """The dimension of the text index's vectors."""
        return _dim(self.index)

    @classmethod
    def from_store(cls, store: GraphStore, embedder: TextEmbedder | None = None, index_dir: Path | None = None,
                   *, show_progress: bool = False) -> KnowledgeBase:
        """Everything read from ``store`` and trained here (the text index loaded from ``index_dir`` when it holds a
        current one)."""
        embedder = embedder or make_embedder()
        corpus = load_corpus(store)
        ids, texts = index_inputs(corpus)
        if index_dir is None:
            return cls(corpus, TextIndex.build(ids, texts, embedder, show_progress=show_progress,
                                               fit=index_fit(corpus)), embedder, index_built=True)
        index, built = TextIndex.load_or_build(index_dir, ids, texts, embedder, show_progress=show_progress,
                                               fit=index_fit(corpus))
        return cls(corpus, index, embedder, index_built=built)

    @classmethod
    def from_home(cls, home: GraphHome, embedder: TextEmbedder | None = None, *, show_progress: bool = False,
                  snapshot: str | None = None) -> KnowledgeBase:
        """The published graph of ``home`` (or its snapshot called ``snapshot``) as ``failgraph build`` persisted it:
        the corpus, the text index and the trained models are read from the snapshot (each one missing or stale is
        rebuilt here — the corpus read from the graph, the index embedded, the models trained — and saved when the
        snapshot can be written). Everything is read into memory (the models' arrays memory-mapped); the snapshot is
        pinned only while loading, and its graph store opened only when the corpus must be read from it.

        Without an ``embedder``: the tier ``$FAILGRAPH_EMBEDDER`` names, else the one the snapshot's index was built
        with, else the default tier."""
        with pinned_snapshot(home, snapshot) as (pin, info):
            snap = pin.path
            embedder = embedder or make_embedder(embedder_name() or recorded_embedder(snap / INDEX_DIR), home.root)
            parts, _ = snapshot_corpus(snap, lambda: _corpus_from_graph(snap))
            corpus = parts.merged()
            ids, texts = index_inputs(corpus)
            index, built = TextIndex.load_or_build(snap / INDEX_DIR, ids, texts, embedder, show_progress=show_progress,
                                                   fit=index_fit(corpus))
            models, trained = snapshot_models(snap, models_key(corpus_key(snap), index.fingerprint), corpus,
                                              index.vectors.vector, _dim(index))
            delta = read_delta(snap)  # learned since the build: applied to what it persisted
            if delta:
                started = time.perf_counter()
                corpus = apply_learned(parts, corpus, index, models, delta, embedder)
                applied_s = time.perf_counter() - started
            kb = cls(corpus, index, embedder, index_built=built, models=models)
            kb.models_trained = trained
            kb.snapshot = info
            kb.learned = len(delta)
            kb.learned_apply_s = applied_s if delta else 0.0
        return kb

    @cached_property
    def remedy_examples(self) -> RemedyExamples:
        """The past failures' fixes by remedy, to word a remedy the graph proposes."""
        return RemedyExamples.of(self.corpus)

    @cached_property
    def remedy_text_model(self) -> TextModel:
        """P(remedy | text): a word naive-Bayes model over the past failures' structured fixes."""
        return TextModel([(f.key, f.index_text, [remedy_label(f.fix_spec.key)]) for f in self._remedied])

    @cached_property
    def action_text_model(self) -> TextModel:
        """P(fix action | text), over the same past failures."""
        return TextModel([(f.key, f.index_text, [f.fix_spec.action]) for f in self._remedied])

    @property
    def _remedied(self) -> list[PastFailure]:
        """The past failures whose fix is a structured remedy (not a generic step)."""
        return [f for fs in self.remedy_examples.by_remedy.values() for f in fs]

    @cached_property
    def fact_profile(self) -> FactProfile:
        """P(a fact is stated | root cause) over the past failures: which questions separate candidate causes."""
        return FactProfile.of(self.corpus)

    def vector_of(self, key: str) -> np.ndarray:
        return self.index.vectors.vector(key)


def _dim(index: TextIndex) -> int:
    return int(getattr(index.vectors.index, "d", DIM))


def _corpus_from_graph(snapshot: Path) -> SnapshotCorpus:
    """The corpus read over the snapshot's graph store (opened read-only for that only), in its parts."""
    from ..kg.store import OxigraphStore

    with OxigraphStore(snapshot / STORE_DIR, read_only=True) as store:
        return read_snapshot_corpus(store)


__all__ = ["INDEX_DIR", "KnowledgeBase"]
