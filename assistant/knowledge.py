"""The knowledge the assistant reasons over — past failures, their text index and label statistics — as one object."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from ..kg.build import open_store
from ..kg.corpus import Corpus, PastFailure, RemedyExamples, load_corpus
from ..kg.embed import TextEmbedder, embedder_dim, embedder_name, make_embedder
from ..kg.home import GraphHome, SnapshotInfo
from ..kg.project import project
from ..kg.snapshot_index import INDEX_DIR, index_inputs
from ..kg.store import GraphStore
from ..kg.vectors import TextIndex, recorded_embedder
from ..ontology import Level, load_taxonomy
from ..ontology.fixes import remedy_label
from .charmodel import CharNGramModel
from .discriminant import DiscriminantModel
from .questions import FactProfile
from .statistics import LabelStatistics
from .textmodel import TextModel


def _concepts(leaves: list[str], level: Level) -> list[str]:
    """The root-cause concepts at ``level`` above these leaves (leaves whose chain skips the level are left out)."""
    tax = load_taxonomy()
    return [lab for leaf in leaves if (lab := tax.label_at("root_cause", leaf, level)) is not None]


class KnowledgeBase:
    def __init__(self, corpus: Corpus, index: TextIndex, embedder: TextEmbedder, *, index_built: bool = False):
        self.corpus = corpus
        self.failures: dict[str, PastFailure] = corpus.by_key()
        self.index = index
        self.embedder = embedder
        self.projection = project(corpus)  # the graph the walk reads its statistics from and explains along
        self.stats = LabelStatistics(self.projection)
        labeled = [f for f in corpus.failures if f.root_causes]
        self.cause_text_model = TextModel([(f.key, f.index_text, f.root_causes) for f in labeled])
        self.symptom_text_model = TextModel([(f.key, f.index_text, f.symptoms) for f in labeled])
        self.cause_category_model = CharNGramModel([(f.key, f.index_text, _concepts(f.root_causes, Level.category))
                                                    for f in labeled])
        self.cause_group_model = DiscriminantModel(
            [(f.key, groups) for f in labeled if (groups := _concepts(f.root_causes, Level.group))], self.vector_of,
            embedder_dim(embedder))
        self.index_built = index_built
        self.snapshot: SnapshotInfo | None = None  # set by from_home

    @classmethod
    def from_store(cls, store: GraphStore, embedder: TextEmbedder | None = None, index_dir: Path | None = None,
                   *, show_progress: bool = False) -> KnowledgeBase:
        embedder = embedder or make_embedder()
        corpus = load_corpus(store)
        ids, texts = index_inputs(corpus)
        if index_dir is None:
            return cls(corpus, TextIndex.build(ids, texts, embedder, show_progress=show_progress), embedder,
                       index_built=True)
        index, built = TextIndex.load_or_build(index_dir, ids, texts, embedder, show_progress=show_progress)
        return cls(corpus, index, embedder, index_built=built)

    @classmethod
    def from_home(cls, home: GraphHome, embedder: TextEmbedder | None = None, *, show_progress: bool = False,
                  snapshot: str | None = None) -> KnowledgeBase:
        """The published graph of ``home`` (or its snapshot called ``snapshot``), with the text index that
        ``failgraph build`` persisted in the snapshot (built here, and saved when the snapshot can be written, if it
        is missing or stale). Everything is read into memory; the snapshot is pinned only while loading.

        Without an ``embedder``: the tier ``$FAILGRAPH_EMBEDDER`` names, else the one the snapshot's index was built
        with, else the default tier."""
        with open_store(home, snapshot) as store:
            index_dir = store.snapshot_dir / INDEX_DIR
            embedder = embedder or make_embedder(embedder_name() or recorded_embedder(index_dir), home.root)
            kb = cls.from_store(store, embedder, index_dir, show_progress=show_progress)
            kb.snapshot = store.snapshot
        return kb

    @cached_property
    def remedy_examples(self) -> RemedyExamples:
        """The past failures' fixes by remedy, to word a remedy the graph proposes."""
        return RemedyExamples.of(self.corpus)

    @cached_property
    def remedy_text_model(self) -> TextModel:
        """P(remedy | text): a word naive-Bayes model over the past failures' structured fixes."""
        fixed = [f for f in self.corpus.failures if f.fix_spec is not None and not f.fix_spec.generic]
        return TextModel([(f.key, f.index_text, [remedy_label(f.fix_spec.key)]) for f in fixed])

    @cached_property
    def action_text_model(self) -> TextModel:
        """P(fix action | text), over the same past failures."""
        fixed = [f for f in self.corpus.failures if f.fix_spec is not None and not f.fix_spec.generic]
        return TextModel([(f.key, f.index_text, [f.fix_spec.action]) for f in fixed])

    @cached_property
    def fact_profile(self) -> FactProfile:
        """P(a fact is stated | root cause) over the past failures: which questions separate candidate causes."""
        return FactProfile.of(self.corpus)

    def vector_of(self, key: str) -> np.ndarray:
        return self.index.vectors.vector(key)


__all__ = ["INDEX_DIR", "KnowledgeBase"]
