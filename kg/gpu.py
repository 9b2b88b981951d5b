"""Which GPU path the vector index can take on this machine, and the exact GPU index failgraph falls back to.

faiss' GPU indexes are the first choice. A faiss build can see a GPU and still have no kernels for it: the PyPI
``faiss-gpu-cu12`` wheels are compiled for compute capability 7.0-8.9, so on a Hopper GPU (H100, H200) the first
search aborts the whole process ("CUDA error 209 no kernel image is available"). :func:`faiss_gpu_usable` therefore
tries a tiny search in a child process once, and where it fails (or faiss sees no GPU) but torch has CUDA,
:class:`TorchFlatIndex` does exact inner-product search on the GPU with a matrix product and top-k.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from typing import Literal

import faiss
import numpy as np

GpuBackend = Literal["faiss", "torch"]

_FAISS_PROBE = ("import faiss, numpy as np; x = np.eye(8, dtype='float32'); "
                "g = faiss.index_cpu_to_all_gpus(faiss.IndexFlatIP(8)); g.add(x); "
                "assert int(g.search(x, 1)[1][3, 0]) == 3")


def faiss_gpu_count() -> int:
    try:
        return faiss.get_num_gpus()
    except AttributeError:  # a CPU-only faiss build
        return 0


@cache
def faiss_gpu_usable() -> bool:
    """Whether faiss can run a search on the GPU here (probed once per process, in a child process, because an
    unsupported GPU makes faiss abort rather than raise)."""
    if faiss_gpu_count() == 0:
        return False
    try:
        probe = subprocess.run([sys.executable, "-c", _FAISS_PROBE], check=False, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


#: Device nodes through which a Linux machine shows a GPU to processes (NVIDIA, AMD ROCm, WSL).
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def gpu_device_visible() -> bool:
    """Whether a GPU may be visible here: on Linux, one of :data:`GPU_DEVICE_NODES` exists (elsewhere: assumed)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(node) for node in GPU_DEVICE_NODES)


@cache
def torch_cuda_available() -> bool:
    """Whether torch can use CUDA here. Without a GPU device node torch cannot, and importing torch only to ask (over
    a second) is skipped unless something already imported it."""
    if "torch" not in sys.modules and not gpu_device_visible():
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # torch missing or broken CUDA setup: no GPU path through torch
        return False


def gpu_backend() -> GpuBackend | None:
    """``faiss`` when faiss can search on a GPU here, else ``torch`` when torch has CUDA, else None (CPU only)."""
    if faiss_gpu_usable():
        return "faiss"
    if torch_cuda_available():
        return "torch"
    return None


class TorchFlatIndex:
    """Exact inner-product search over vectors held on a CUDA device (torch matrix product + top-k).

    It answers the part of faiss' interface that :class:`~failgraph.kg.vectors.VectorIndex` and the knowledge base
    use: ``search``, ``reconstruct``, ``ntotal``, ``d``; :meth:`to_faiss` gives the CPU index that is saved."""

    #: Queries scored per matrix product (bounds the score matrix to QUERY_CHUNK × n floats on the GPU).
    QUERY_CHUNK = 256

    def __init__(self, vectors: np.ndarray, device: str = "cuda"):
        import torch

        self._torch = torch
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ntotal, self.d = vectors.shape
        self._x = torch.from_numpy(vectors).to(device)

    @property
    def device(self) -> str:
        return str(self._x.device)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.d)
        kk = min(k, self.ntotal)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if kk == 0:
            return scores, ids
        with torch.inference_mode():
            for start in range(0, len(queries), self.QUERY_CHUNK):
                q = torch.from_numpy(queries[start:start + self.QUERY_CHUNK]).to(self._x.device)
                top = torch.topk(q @ self._x.T, kk, dim=1)
                scores[start:start + len(q), :kk] = top.values.cpu().numpy()
                ids[start:start + len(q), :kk] = top.indices.cpu().numpy()
        return scores, ids

    def reconstruct(self, i: int) -> np.ndarray:
        return self._x[int(i)].cpu().numpy()

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (a learned past failure's vector)."""
        more = self._torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.d))
        self._x = self._torch.cat([self._x, more.to(self._x.device)])
        self.ntotal = int(self._x.shape[0])

    def to_faiss(self) -> faiss.IndexFlatIP:
        flat = faiss.IndexFlatIP(self.d)
        if self.ntotal:
            flat.add(self._x.cpu().numpy())
        return flat


__all__ = ["GPU_DEVICE_NODES", "GpuBackend", "TorchFlatIndex", "faiss_gpu_count", "faiss_gpu_usable", "gpu_backend",
           "gpu_device_visible", "torch_cuda_available"]
