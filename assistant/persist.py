"""The models the knowledge base trains over its corpus — two word models, the character model and the
discriminant — trained once and kept in the graph snapshot, so that a start reads them instead of training them.

They live in the snapshot's ``models/`` directory: ``models.json`` (format, key, each model's parameters) and one
``.npy`` file per array, memory-mapped when read (``allow_pickle=False``: nothing but numbers and JSON is read
back). The key covers what the models are derived from: the corpus file's key (the snapshot and the code reading
it), the text index's fingerprint (texts and embedding model), the taxonomy and the training code. A missing or
stale directory is trained again and saved when the snapshot can be written; a damaged one is trained again with
a warning (:func:`failgraph.kg.snapshot_files.load_or_build`). The directory is replaced atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from ..ingest.files import atomic_directory
from ..kg.corpus import Corpus, PastFailure
from ..kg.snapshot_files import key_of, load_or_build, source_digest
from ..ontology import Level, load_taxonomy
from ..ontology.files import data_path
from . import chargrams, charmodel, discriminant, textmodel
from .charmodel import CharNGramModel
from .discriminant import DiscriminantModel
from .textmodel import TextModel

MODELS_DIR = "models"
MODELS_FORMAT = 1
META = "models.json"


class ModelsMeta(BaseModel):
    """``models.json``: the format, the key, and per model its parameters and the names of its arrays."""

    format: int
    key: str
    params: dict[str, dict]
    arrays: dict[str, list[str]]


def _concepts(leaves: list[str], level: Level) -> list[str]:
    """The root-cause concepts at ``level`` above these leaves (leaves whose chain skips the level are left out)."""
    tax = load_taxonomy()
    return [lab for leaf in leaves if (lab := tax.label_at("root_cause", leaf, level)) is not None]


class TrainedModels:
    """The knowledge base's trained models."""

    NAMES = ("cause_text", "symptom_text", "cause_category", "cause_group")

    def __init__(self, cause_text: TextModel, symptom_text: TextModel, cause_category: CharNGramModel,
                 cause_group: DiscriminantModel):
        self.cause_text = cause_text
        self.symptom_text = symptom_text
        self.cause_category = cause_category
        self.cause_group = cause_group

    @classmethod
    def train(cls, corpus: Corpus, vector_of: Callable[[str], np.ndarray], dim: int) -> TrainedModels:
        """Train every model over the labeled past failures (``vector_of(key)``: a failure's vector of ``dim``)."""
        labeled = [f for f in corpus.failures if f.root_causes]
        fit = [f.fits for f in labeled]  # learned failures are counted, but fit no vocabulary (see PastFailure.fits)
        return cls(TextModel([(f.key, f.index_text, f.root_causes) for f in labeled], fit=fit),
                   TextModel([(f.key, f.index_text, f.symptoms) for f in labeled], fit=fit),
                   CharNGramModel([(f.key, f.index_text, _concepts(f.root_causes, Level.category)) for f in labeled],
                                  fit=fit),
                   DiscriminantModel([(f.key, groups) for f in labeled
                                      if (groups := _concepts(f.root_causes, Level.group))], vector_of, dim))

    def update(self, old: PastFailure | None, new: PastFailure | None, old_vector: np.ndarray | None,
               new_vector: np.ndarray | None) -> None:
        """Replace one past failure (``old``: as the models counted it, None if they did not; ``new``: as they should,
        None to leave it out), with the vectors each had: what training over the changed corpus gives, to rounding,
        because no fitted vocabulary or weight depends on a learned failure (:attr:`PastFailure.fits`)."""
        if old is not None and old.root_causes:
            self.cause_text.remove(old.key)
            self.symptom_text.remove(old.key)
            self.cause_category.remove(old.key)
            if _concepts(old.root_causes, Level.group):
                self.cause_group.remove(old.key, old_vector)
        if new is not None and new.root_causes:
            self.cause_text.add(new.key, new.index_text, new.root_causes)
            self.symptom_text.add(new.key, new.index_text, new.symptoms)
            self.cause_category.add(new.key, new.index_text, _concepts(new.root_causes, Level.category))
            if groups := _concepts(new.root_causes, Level.group):
                self.cause_group.add(new.key, groups, new_vector)

    def save(self, directory: Path, key: str) -> None:
        """Write the models into ``directory`` atomically (a sibling temporary directory renamed over it)."""
        with atomic_directory(directory) as tmp:
            params, names = {}, {}
            for name in self.NAMES:
                p, arrays = getattr(self, name).state()
                params[name], names[name] = p, sorted(arrays)
                for a, value in arrays.items():
                    np.save(tmp / f"{name}.{a}.npy", np.ascontiguousarray(value), allow_pickle=False)
            meta = ModelsMeta(format=MODELS_FORMAT, key=key, params=params, arrays=names)
            (tmp / META).write_text(meta.model_dump_json(), encoding="utf-8")  # last: a directory with it is whole

    @classmethod
    def load(cls, directory: Path, key: str, text_of: Callable[[str], str],
             vector_of: Callable[[str], np.ndarray]) -> TrainedModels | None:
        """The models saved in ``directory`` under ``key``; None when missing or stale (a damaged directory raises
        ``ValueError``, ``KeyError`` or ``OSError``)."""
        try:
            raw = (directory / META).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        meta = ModelsMeta.model_validate_json(raw)
        if meta.format != MODELS_FORMAT or meta.key != key:
            return None
        arrays = {name: {a: np.load(directory / f"{name}.{a}.npy", mmap_mode="r", allow_pickle=False)
                         for a in meta.arrays[name]} for name in cls.NAMES}
        p = meta.params
        return cls(TextModel.from_state(p["cause_text"], arrays["cause_text"], text_of),
                   TextModel.from_state(p["symptom_text"], arrays["symptom_text"], text_of),
                   CharNGramModel.from_state(p["cause_category"], arrays["cause_category"], text_of),
                   DiscriminantModel.from_state(p["cause_group"], arrays["cause_group"], vector_of))


def models_key(corpus_key: str, index_fingerprint: str) -> str:
    """The key of the models trained over a corpus (its file's key) and a text index (its fingerprint)."""
    code = source_digest(sys.modules[__name__], textmodel, charmodel, chargrams, discriminant)
    taxonomy = data_path("taxonomy.ttl").read_bytes()
    return key_of(str(MODELS_FORMAT), corpus_key, index_fingerprint, code, taxonomy)


def snapshot_models(snapshot: Path, key: str, corpus: Corpus, vector_of: Callable[[str], np.ndarray],
                    dim: int) -> tuple[TrainedModels, bool]:
    """The models persisted in ``snapshot`` under ``key``, else trained (and saved when the snapshot is writable).
    Returns (models, trained here)."""
    failures = corpus.by_key()
    directory = snapshot / MODELS_DIR
    return load_or_build("trained models", snapshot,
                         lambda: TrainedModels.load(directory, key, lambda k: failures[k].index_text, vector_of),
                         lambda: TrainedModels.train(corpus, vector_of, dim),
                         lambda models: models.save(directory, key))


__all__ = ["MODELS_DIR", "MODELS_FORMAT", "TrainedModels", "models_key", "snapshot_models"]
