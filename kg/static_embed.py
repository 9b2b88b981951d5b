"""The static embedding tier: a model2vec model distilled from the bundled MiniLM, cached in the graph home.

The model is a token-embedding table (MiniLM's output for each of its ~30k vocabulary tokens, reduced by PCA and
weighted by token frequency); a text's vector is the mean of its tokens' rows. Encoding is a tokenizer call and a
lookup: no torch, about a millisecond for a report on two cores. Distillation runs MiniLM once over the vocabulary,
offline (about two minutes on two cores), the first time the tier is used with a home; the result is written to a
temporary directory and renamed into place under a file lock, so concurrent first uses wait for one distillation
and never see a half-written model.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from .embed import MODEL_ID, model_dir, offline_hub, quiet_loading
from .model_cache import ensure_cached

log = logging.getLogger("failgraph.index")

#: PCA width of the distilled vectors (MiniLM's are 384 wide).
STATIC_DIMS = 256
#: Bump when the recipe changes: a cached model of another version is distilled again.
RECIPE = 1
#: Sub-directory of the graph home holding the cached models.
MODELS_DIR = "models"
META = "failgraph-static.json"


class StaticMeta(BaseModel):
    """What a cached static model is: its source, recipe and a digest of its weights (part of the index key)."""

    source: str
    recipe: int
    pca_dims: int
    dim: int
    weights_sha256: str


def cache_dir(home: Path, dims: int = STATIC_DIMS) -> Path:
    return home / MODELS_DIR / f"static-minilm-pca{dims}-r{RECIPE}"


def read_meta(path: Path) -> StaticMeta | None:
    try:
        return StaticMeta.model_validate_json((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def distill_into(dest: Path, dims: int = STATIC_DIMS) -> StaticMeta:
    """Distil the static model from the bundled MiniLM into ``dest`` (an empty directory); offline."""
    offline_hub()
    try:
        from model2vec.distill import distill
    except ImportError as e:
        raise RuntimeError(f"distilling the static embedding model needs model2vec's distiller ({e.name} is "
                           "missing): pip install model2vec skeletoken") from None
    with quiet_loading():  # no "Loading weights" bar; model2vec's own bar counts the vocabulary it encodes
        model = distill(model_name=model_dir(), pca_dims=dims)
    model.save_pretrained(str(dest))
    digest = hashlib.sha256((dest / "model.safetensors").read_bytes()).hexdigest()
    meta = StaticMeta(source=MODEL_ID, recipe=RECIPE, pca_dims=dims, dim=int(model.dim), weights_sha256=digest)
    (dest / META).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def ensure_static_model(home: Path, *, dims: int = STATIC_DIMS,
                        on_distill: Callable[[Path], None] | None = None,
                        distiller: Callable[[Path, int], StaticMeta] = distill_into) -> tuple[Path, StaticMeta]:
    """The cached static model of ``home``, distilled first if it is missing (``on_distill`` is told before).

    Concurrent callers serialise on a lock file; the model is written to a temporary sibling directory and renamed
    into place, so a reader sees either no model or a whole one."""
    def told(final: Path) -> None:
        if on_distill:
            on_distill(final)
        else:
            log.warning("distilling the static embedding model from MiniLM into %s (once per home; about 2 minutes "
                        "on two cores)", final)

    return ensure_cached(cache_dir(home, dims), read_meta, lambda tmp: distiller(tmp, dims), on_make=told)


class StaticEmbedder:
    """The static tier: encodes with the model2vec model cached in ``home`` (distilled there on first use)."""

    name = "static"

    def __init__(self, home: Path, *, on_distill: Callable[[Path], None] | None = None, dims: int = STATIC_DIMS):
        self.home = Path(home)
        self.dims = dims
        self.on_distill = on_distill
        self._path: Path | None = None
        self._meta: StaticMeta | None = None
        self._model = None

    def _ensure(self) -> StaticMeta:
        if self._meta is None:
            self._path, self._meta = ensure_static_model(self.home, dims=self.dims, on_distill=self.on_distill)
        return self._meta

    @property
    def dim(self) -> int:
        return self._ensure().dim

    @property
    def key(self) -> str:
        meta = self._ensure()
        return f"model2vec:{meta.source}:pca{meta.pca_dims}:r{meta.recipe}:{meta.weights_sha256[:16]}"

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def model(self):
        if self._model is None:
            self._ensure()
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(str(self._path))
        return self._model

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = np.asarray(self.model.encode(list(texts), show_progress_bar=show_progress), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)  # float16 weights: renormalise in float32
        return np.ascontiguousarray(vecs / np.where(norms > 0, norms, 1.0), dtype=np.float32)


__all__ = ["META", "MODELS_DIR", "STATIC_DIMS", "StaticEmbedder", "StaticMeta", "cache_dir", "distill_into",
           "ensure_static_model", "read_meta"]
