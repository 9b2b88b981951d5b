"""The MiniLM tier run by ONNX Runtime: the bundled all-MiniLM-L6-v2 exported once to ONNX and cached in the graph
home, tokenised by the ``tokenizers`` library from the model's own ``tokenizer.json``.

The exported graph is the sentence-transformers pipeline itself (BERT, mean pooling over the attention mask, L2
normalisation), so its vectors are MiniLM's: the largest difference from sentence-transformers on the case reports
is about 2e-7 (``tests/kg/test_onnx_embed.py`` checks it), and indexes built with either runtime stay valid (one
model key). What changes is the cost: no torch import at start (a one-shot ``failgraph diagnose`` loads the model
in about 0.3 s instead of about 4 s) and a faster forward pass on a CPU (``failgraph bench embed`` compares the two).
The export needs torch, transformers and onnx and runs once per user (a few seconds): it depends only on the bundled
model, so it is cached in the user's cache directory (``$FAILGRAPH_MODEL_CACHE`` overrides it), written like the
static tier's model (:func:`failgraph.kg.model_cache.ensure_cached`). ``$FAILGRAPH_MINILM_RUNTIME=torch`` keeps the
torch runtime (e.g. to encode on a GPU).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from .embed import DIM, MODEL_ID, model_dir, offline_hub, quiet_loading
from .model_cache import ensure_cached

log = logging.getLogger("failgraph.index")

#: Bump when the export recipe changes: a cached export of another recipe is made again.
RECIPE = 2
MODELS_DIR = "models"
META = "failgraph-onnx.json"
MODEL_FILE = "model.onnx"
#: The same graph with its weights quantised to int8 per output channel (dynamic activations): the ``minilm-int8``
#: tier. Its vectors are close to MiniLM's (cosine about 0.995) but not equal, so it has a key of its own.
INT8_FILE = "model-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
#: sentence-transformers' ``max_seq_length`` for this model in failgraph (tokens, the two special ones included).
MAX_TOKENS = 256
OPSET = 17


class OnnxMeta(BaseModel):
    """What a cached export is: its source model, recipe, token limit and a digest of the ONNX file."""

    source: str
    recipe: int
    max_tokens: int
    onnx_sha256: str
    int8_sha256: str


CACHE_ENV = "FAILGRAPH_MODEL_CACHE"
RUNTIME_ENV = "FAILGRAPH_MINILM_RUNTIME"
RUNTIMES = ("onnx", "torch")


def model_cache_root() -> Path:
    """Where models derived from the bundled one are cached: ``$FAILGRAPH_MODEL_CACHE``, else the user's cache."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("failgraph"))


def cache_dir(root: Path) -> Path:
    return root / MODELS_DIR / f"minilm-onnx-r{RECIPE}"


def read_meta(path: Path) -> OnnxMeta | None:
    try:
        meta = OnnxMeta.model_validate_json((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = meta.recipe == RECIPE and all((path / f).is_file() for f in (MODEL_FILE, INT8_FILE, TOKENIZER_FILE))
    return meta if ok else None


def export_into(dest: Path) -> OnnxMeta:
    """Export the bundled MiniLM with its pooling and normalisation to ``dest/model.onnx`` (offline)."""
    offline_hub()
    try:
        import onnx  # noqa: F401  (torch's exporter writes the file with it)
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise RuntimeError(f"exporting MiniLM to ONNX needs torch, transformers and onnx ({e.name} is missing): "
                           "pip install onnx") from None
    source = Path(model_dir())
    with quiet_loading():
        bert = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones((1, 8), dtype=torch.int64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes it records as constants (batch 1, 8 tokens)
        torch.onnx.export(Pooled(bert), (example, example, torch.zeros_like(example)), str(dest / MODEL_FILE),
                          input_names=names, output_names=["embedding"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}})
    shutil.copyfile(source / TOKENIZER_FILE, dest / TOKENIZER_FILE)
    quantize_int8(dest / MODEL_FILE, dest / INT8_FILE)
    meta = OnnxMeta(source=MODEL_ID, recipe=RECIPE, max_tokens=MAX_TOKENS, onnx_sha256=_sha256(dest / MODEL_FILE),
                    int8_sha256=_sha256(dest / INT8_FILE))
    (dest / META).write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    return meta


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quantize_int8(src: Path, dest: Path) -> None:
    """Quantise the exported model's weights to int8, per output channel (ONNX Runtime's dynamic quantisation)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process the graph goes to the root logger
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(level)


def ensure_onnx_model(root: Path, *, on_export: Callable[[Path], None] | None = None,
                      exporter: Callable[[Path], OnnxMeta] = export_into) -> tuple[Path, OnnxMeta]:
    """The ONNX export cached under ``root``, exported first if it is missing (``on_export`` is told before)."""

    def told(final: Path) -> None:
        if on_export:
            on_export(final)
        else:
            log.info("exporting MiniLM to ONNX into %s (once; a few seconds)", final)

    return ensure_cached(cache_dir(root), read_meta, exporter, on_make=told)


def minilm_runtime() -> str:
    """The runtime of the MiniLM tier: ``$FAILGRAPH_MINILM_RUNTIME`` if set, else ONNX Runtime when it is installed,
    else torch; ValueError for another name."""
    chosen = os.environ.get(RUNTIME_ENV)
    if chosen:
        if chosen not in RUNTIMES:
            raise ValueError(f"${RUNTIME_ENV} must be one of {', '.join(RUNTIMES)}, not {chosen!r}")
        return chosen
    import importlib.util

    return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "torch"


class OnnxEmbedder:
    """The MiniLM tier on ONNX Runtime (same vectors and key as :class:`failgraph.kg.embed.Embedder`), or with
    ``int8`` the ``minilm-int8`` tier (its quantised weights: about twice as fast on a CPU, a key of its own)."""

    dim = DIM

    def __init__(self, root: Path | None = None, *, int8: bool = False, batch_size: int = 32,
                 threads: int | None = None, on_export: Callable[[Path], None] | None = None):
        self.int8 = int8
        self.name = "minilm-int8" if int8 else "minilm"
        self.key = f"{MODEL_ID}:onnx-int8-per-channel:r{RECIPE}" if int8 else MODEL_ID
        self.root = Path(root) if root is not None else model_cache_root()
        self.batch_size = batch_size
        self.threads = threads
        self.on_export = on_export
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None

    @property
    def device_name(self) -> str:
        return "cpu (onnxruntime, int8)" if self.int8 else "cpu (onnxruntime)"

    def _load(self):
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                path, meta = ensure_onnx_model(self.root, on_export=self.on_export)
                tokenizer = Tokenizer.from_file(str(path / TOKENIZER_FILE))
                tokenizer.enable_truncation(meta.max_tokens)
                tokenizer.no_padding()
                options = ort.SessionOptions()
                if self.threads:
                    options.intra_op_num_threads = self.threads
                options.log_severity_level = 3
                self._tokenizer = tokenizer
                self._session = ort.InferenceSession(str(path / (INT8_FILE if self.int8 else MODEL_FILE)), options,
                                                     providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")  # similar lengths share a batch
        out = np.empty((len(texts), DIM), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start:start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = session.run(None, feeds)[0]
        return out


__all__ = ["CACHE_ENV", "INT8_FILE", "META", "RUNTIME_ENV", "OnnxEmbedder", "OnnxMeta", "cache_dir",
           "ensure_onnx_model", "export_into", "minilm_runtime", "model_cache_root", "quantize_int8", "read_meta"]
