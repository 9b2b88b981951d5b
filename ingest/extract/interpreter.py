"""The running interpreter's environment (``failgraph doctor --here``): installed distributions, and CUDA and GPUs
from torch when it can be imported."""

from __future__ import annotations

import platform
from importlib import metadata

from ...ontology.compat import (
    CompatEnvironment,
    CompatKB,
    GpuInfo,
    load_compat_kb,
    os_family,
)
from .environment import extract_quantization
from .environment_report import Stage
from .libraries import normalise_library_name


def here_environment(*, model: str | None = None, stage: Stage | None = None, framework: str | None = None,
                     probe_torch: bool = True, kb: CompatKB | None = None) -> CompatEnvironment:
    """The running interpreter's environment: installed distributions, and CUDA/GPUs from torch when importable."""
    kb = kb or load_compat_kb()
    libraries: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            libraries.setdefault(normalise_library_name(name), dist.version)
    gpus: list[GpuInfo] = []
    cuda = driver_cuda = None
    if probe_torch and "torch" in libraries:
        try:
            import torch

            cuda = torch.version.cuda
            if torch.cuda.is_available():
                for i in range(torch.cuda.device_count()):
                    name = torch.cuda.get_device_name(i)
                    major, minor = torch.cuda.get_device_capability(i)
                    info = kb.gpu_info(name)
                    gpus.append(GpuInfo(name=name, vendor="nvidia", compute_capability=f"{major}.{minor}",
                                        arch=info.arch or f"sm_{major}{minor}"))
                try:
                    v = torch._C._cuda_getDriverVersion()  # e.g. 12020 → "12.2"
                    driver_cuda = f"{v // 1000}.{(v % 1000) // 10}"
                except (AttributeError, RuntimeError):  # pragma: no cover - private API, absent in some builds
                    driver_cuda = None
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                gpus.append(kb.gpu_info("Apple MPS"))
        except (ImportError, OSError, RuntimeError, AttributeError):  # pragma: no cover - a broken torch install
            gpus, cuda, driver_cuda = [], None, None  # the packages are still checked
    system = platform.system()
    os_name = {"Darwin": "macOS", "Windows": "Windows", "Linux": "Linux"}.get(system, system)
    if system == "Linux" and "microsoft" in platform.release().lower():
        os_name = "WSL2"
    frameworks = ([normalise_library_name(framework)] if framework else [])
    models = [model] if model else []
    return CompatEnvironment(
        libraries=libraries, complete_listing=True, gpus=gpus, cuda=cuda, driver_cuda=driver_cuda,
        os=os_family(os_name), os_name=os_name, python=platform.python_version(), frameworks=frameworks,
        models=models, stage=stage, quantization=extract_quantization(model or ""))


__all__ = ["here_environment"]
