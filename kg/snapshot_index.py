"""The text index (embeddings, faiss and BM25 over the past failures' texts) persisted inside a graph snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .corpus import Corpus, load_corpus
from .embed import TextEmbedder
from .vectors import TextIndex

if TYPE_CHECKING:  # the store loads only where a graph is read
    from .store import GraphStore

#: The snapshot's sub-directory holding the text index.
INDEX_DIR = "vectors"


def index_inputs(corpus: Corpus) -> tuple[list[str], list[str]]:
    """The ids and texts the text index is built from (the same at build time and when loading)."""
    return [f.key for f in corpus.failures], [f.index_text for f in corpus.failures]


def index_fit(corpus: Corpus) -> list[bool]:
    """Which of the index's texts fit it (choose its kind, train its IVF lists): those the build gave, not learned
    threads (:attr:`failgraph.kg.corpus.PastFailure.text_learned`)."""
    return [not f.text_learned for f in corpus.failures]


def index_snapshot(store: GraphStore, snapshot: Path, embedder: TextEmbedder, *,
                   show_progress: bool = False, recall: float | None = None) -> TextIndex | None:
    """Embed the store's past failures and save the text index into ``snapshot`` (before it is published); None when
    no past failure has text (a graph of labels only). ``recall``: the recall@10 target that chooses ``nprobe`` when
    the corpus is large enough for an IVF index (persisted with it)."""
    corpus = load_corpus(store)
    ids, texts = index_inputs(corpus)
    if not ids:
        return None
    index = TextIndex.build(ids, texts, embedder, show_progress=show_progress, recall=recall, fit=index_fit(corpus))
    index.save(snapshot / INDEX_DIR)
    return index


__all__ = ["INDEX_DIR", "index_fit", "index_inputs", "index_snapshot"]
