"""The environment a report describes, read for the compatibility rules (:mod:`failgraph.ontology.compat`).

The input is an environment report — ``pip freeze``, ``pip list``, ``conda list``, ``python -m
torch.utils.collect_env``, ``transformers env`` / ``transformers-cli env``, ``nvidia-smi``, or any prose that names
versions. The facts are read with the shared extractors (:func:`failgraph.ingest.extract.extract_environment`), plus
what they do not cover: GPU compute capability from GPU names, the runtime CUDA as opposed to the driver's,
nvidia-smi's driver CUDA version, dtype, whether the listing is complete, usage facts such as ``torchrun``.

>>> env = parse_report("transformers==4.36.2\\ntorch==2.1.2+cu121", model="Qwen2-7B-Instruct")
>>> env.libraries["transformers"], env.cuda, env.models
('4.36.2', '12.1', ['Qwen2-7B-Instruct'])
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...ontology.compat import (
    CompatEnvironment,
    CompatKB,
    GpuInfo,
    load_compat_kb,
    os_family,
    parse_version,
)
from .environment import (
    EnvironmentFacts,
    extract_environment,
    extract_frameworks,
    extract_quantization,
)
from .hardware import find_gpus
from .libraries import normalise_library_name

Stage = Literal["inference", "fine-tuning"]

#: Framework names from the extractors → the library that provides them (a framework named without a version).
_FRAMEWORK_LIBRARY = {"tgi": "text-generation-inference", "llama.cpp": "llama-cpp-python", "lm-studio": "lm-studio"}


class EnvironmentHints(BaseModel):
    """Facts stated outside the report text (a case's curated environment, CLI options); they win over the text."""

    model_config = ConfigDict(extra="forbid")

    libraries: dict[str, str] = Field(default_factory=dict)
    cuda: str | None = None
    driver: str | None = None
    gpu: str | None = None
    os: str | None = None
    python: str | None = None
    framework: str | None = None


_PIP_FREEZE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[\w,.-]+\])?\s*(?:==|@)\s*\S+\s*$", re.MULTILINE)
#: One ``name==version`` line (pip freeze); read line by line as well, so that nothing on the next line can change how
#: the extractor reads the version's end.
_FREEZE_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[\w,.-]+\])?\s*==\s*v?(\d[^\s;#,]*)\s*$", re.MULTILINE)
_PIP_LIST_HEADER = re.compile(r"^Package\s+Version\s*(?:Editable project location\s*)?\n-{3,}\s+-{3,}", re.MULTILINE)
_TABLE_ROW = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s+v?\d+(?:\.\d+)+\S*(?:\s+\S+){0,3}\s*$", re.MULTILINE)
_NVSMI_CUDA = re.compile(r"Driver Version:\s*[\d.]+[\s,;|]+CUDA Version:\s*(\d+\.\d+)")
_BUILT_CUDA = re.compile(r"CUDA used to build PyTorch:\s*(\d+\.\d+)|torch\.version\.cuda\D{0,10}(\d+\.\d+)"
                         r"|CUDA runtime version:\s*(\d+\.\d+)|Cuda compilation tools, release (\d+\.\d+)"
                         r"|CUDA (?:compiler|toolkit)\s*[:=]?\s*(?:version\s*)?(\d+\.\d+)", re.IGNORECASE)
_TORCH_LOCAL_CUDA = re.compile(r"\+cu(\d{2,3})\b")
_CC_STATEMENT = re.compile(r"compute capability(?: of)?\s*[:=]?\s*(\d{1,2}\.\d)\b|\bsm_?(\d)(\d)\b", re.IGNORECASE)
_EXTRA_GPUS = re.compile(r"titan\s+rtx|titan\s+v\b|quadro\s+rtx\s*\d{4}|rtx\s+a\d000|tesla\s+m\d0\b"
                         r"|intel\s+(?:arc|gpu)", re.IGNORECASE)
#: A tool's version printed by its CLI ("`ollama --version` shows 0.5.1"), which the prose extractor does not read.
_CLI_VERSION = re.compile(r"\b(ollama|vllm)`?\s+(?:-v|--version)`?\s+"
                          r"(?:shows|prints|reports|says|gives|returns|is)?\s*:?\s*(?:ollama version is\s*)?"
                          r"v?(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
#: Lines that quote an error or a suggestion: a dtype named there is not the user's setting.
_NOT_A_SETTING = re.compile(r"error|exception|warning|for example|e\.g\.|instead|you can use", re.IGNORECASE)
_KV_CACHE_FP8 = re.compile(r"kv[-_ ]cache[-_ ]dtype[\s=:'\"]+\S+|fp8 kv[-_ ]cache|kv[-_ ]cache[^\n]{0,20}fp8",
                           re.IGNORECASE)

_DTYPE_PATTERNS = (
    re.compile(r"--dtype[= ]+['\"]?(\w+)", re.IGNORECASE),
    re.compile(r"\b(?:torch_)?dtype\s*[=:]\s*['\"]?(?:torch\.)?(float16|bfloat16|half|bf16|fp16|float32|float|auto)\b"),
    re.compile(r"vllm_dtype\s*[:=]\s*['\"]?(\w+)"),
)
_BF16_FLAG = re.compile(r"--bf16(?:[= ]+(?:true|True|1))?(?![\w=-])(?!\s+(?:false|False|0))"
                        r"|\bbf16\s*[=:]\s*(?:true|True|1)\b"
                        r"|\"bf16\"\s*:\s*\{\s*\"enabled\"\s*:\s*(?:true|\"auto\")")
_FP16_FLAG = re.compile(r"--fp16(?:[= ]+(?:true|True|1))?(?![\w=-])(?!\s+(?:false|False|0))"
                        r"|\bfp16\s*[=:]\s*(?:true|True|1)\b")
_DTYPE_NAMES = {"float16": "float16", "half": "float16", "fp16": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16",
                "float32": "float32", "float": "float32", "fp32": "float32", "auto": "auto"}

#: Usage facts read from the report (code and commands; each pattern names the fact, never a root cause).
_FEATURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("torch-distributed", re.compile(r"\btorchrun\b|torch\.distributed|init_process_group|--nproc[_-]per[_-]node"
                                     r"|accelerate launch|\bdeepspeed\s+(?:--\w|\S+\.py)", re.IGNORECASE)),
    ("nccl-backend", re.compile(r"init_process_group\(\s*(?:backend\s*=\s*)?['\"]nccl|backend\s*=\s*['\"]nccl"
                                r"|--(?:dist[-_])?backend[= ]+nccl", re.IGNORECASE)),
    ("gloo-backend", re.compile(r"init_process_group\(\s*(?:backend\s*=\s*)?['\"]gloo|backend\s*=\s*['\"]gloo"
                                r"|--(?:dist[-_])?backend[= ]+gloo", re.IGNORECASE)),
    ("meta-reference-code", re.compile(r"example_(?:chat_|text_)?completion\.py|example_instructions\.py"
                                       r"|example_infilling\.py|\bLlama\.build\b|llama/generation\.py"
                                       r"|torchrun\b[^\n]*\bexample\.py|--ckpt_dir\b")),
    ("attn-flash-attention-2", re.compile(r"attn_implementation\s*=\s*['\"]flash_attention_2"
                                          r"|use_flash_attention_2\s*=\s*True|flash_attn\s*:\s*fa2", re.IGNORECASE)),
    ("flash-attn", re.compile(r"pip3? install[^\n]*flash[-_]attn|install(?:ed|ing)\s+(?:the\s+)?flash[-_ ]?att"
                              r"(?:n|ention)|flash[-_ ]?attn(?:ention)?\s+(?:is\s+)?installed", re.IGNORECASE)),
    ("peft-int8-training-api", re.compile(r"prepare_model_for_int8_training")),
    ("trust-remote-code", re.compile(r"trust_remote_code|--trust-remote-code|remote[- ]code", re.IGNORECASE)),
    ("hf-transformers-api", re.compile(r"AutoModel\w*\.from_pretrained|pipeline\(\s*['\"]text-generation"
                                       r"|\b(?:through|with|using|via|in) (?:hugging ?face |hf )?transformers\b",
                                       re.IGNORECASE)),
    ("mps-device", re.compile(r"['\"]mps['\"]|\bmps:\d|\.to\(\s*['\"]mps|torch\.backends\.mps|llama[-_]?(?:v2[-_])?mps",
                              re.IGNORECASE)),
)


def _first_versions(mentions) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in mentions:
        out.setdefault(m.name, m.version)
    return out


def _complete_listing(text: str) -> bool:
    """A pip freeze / pip list / conda list of a whole environment (not a few versions quoted in prose)."""
    if "# packages in environment at" in text or _PIP_LIST_HEADER.search(text):
        return True
    rows = len(_PIP_FREEZE.findall(text)) + len(_TABLE_ROW.findall(text))
    lines = sum(1 for ln in text.splitlines() if ln.strip())
    return rows >= 5 and rows >= 0.6 * lines


def _runtime_cuda(text: str, torch_version: str | None, extracted: str | None, driver_cuda: str | None) -> str | None:
    """The CUDA the software was built for: collect_env / nvcc / torch's +cuXYZ, else the extractor's value unless
    it is only nvidia-smi's (driver) CUDA version."""
    m = _BUILT_CUDA.search(text)
    if m:
        return next(g for g in m.groups() if g)
    if torch_version:
        m = _TORCH_LOCAL_CUDA.search(torch_version)
        if m:
            v = m.group(1)
            return f"{v[:-1]}.{v[-1]}"
    if extracted and extracted != driver_cuda:
        return extracted
    return None


def _setting_lines(text: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if not _NOT_A_SETTING.search(ln))


def _dtype(text: str) -> str | None:
    """The dtype the user set (--dtype, torch_dtype=..., --bf16/--fp16), ignoring lines that quote errors."""
    text = _setting_lines(text)
    for rx in _DTYPE_PATTERNS:
        for m in rx.finditer(text):
            name = _DTYPE_NAMES.get(m.group(1).lower())
            if name:
                return name
    if _BF16_FLAG.search(text):
        return "bfloat16"
    if _FP16_FLAG.search(text):
        return "float16"
    return None


def _gpus(text: str, kb: CompatKB) -> list[GpuInfo]:
    names = find_gpus(text)
    names += [m.group(0) for m in _EXTRA_GPUS.finditer(text) if m.group(0) not in names]
    gpus = [kb.gpu_info(n) for n in names]
    if not any(g.compute_capability for g in gpus):
        for m in _CC_STATEMENT.finditer(text):
            cc = m.group(1) or f"{m.group(2)}.{m.group(3)}"
            if parse_version(cc):
                gpus.append(GpuInfo(name=f"GPU of compute capability {cc}", vendor="nvidia", compute_capability=cc,
                                    arch=f"sm_{cc.replace('.', '')}"))
                break
    return gpus


def _frameworks(text: str) -> list[str]:
    return extract_frameworks(text) if text else []


def parse_report(text: str, *, model: str | None = None, stage: Stage | None = None, framework: str | None = None,
                 hints: EnvironmentHints | None = None, kb: CompatKB | None = None,
                 facts: EnvironmentFacts | None = None) -> CompatEnvironment:
    """The environment a report describes (``hints`` are facts stated elsewhere and take precedence; ``facts``: the
    text's facts when the caller has already extracted them, so that a report is read once)."""
    kb = kb or load_compat_kb()
    hints = hints or EnvironmentHints()
    if facts is None and text.strip():
        facts = extract_environment(text)
    libraries = _first_versions(facts.libraries) if facts else {}
    for m in _FREEZE_LINE.finditer(text):
        libraries.setdefault(normalise_library_name(m.group(1)), m.group(2))
    for m in _CLI_VERSION.finditer(text):
        libraries.setdefault(m.group(1).lower(), m.group(2))
    for name, version in hints.libraries.items():
        libraries[normalise_library_name(name)] = version
    driver_cuda = m.group(1) if (m := _NVSMI_CUDA.search(text)) else None
    cuda = _runtime_cuda(text, libraries.get("torch"), facts.cuda if facts else None, driver_cuda)
    if hints.cuda and hints.cuda != driver_cuda:
        cuda = hints.cuda
    gpus = _gpus(text, kb)
    if hints.gpu:
        hinted = _gpus(hints.gpu, kb) or ([GpuInfo(name="Intel GPU", vendor="intel", arch="Intel GPU")]
                                          if "intel" in hints.gpu.lower() else [])
        gpus = hinted or gpus
    os_name = hints.os or (facts.os if facts else None)
    frameworks: list[str] = []
    if framework:
        frameworks += _frameworks(framework) or [normalise_library_name(framework)]
    if hints.framework:
        frameworks += _frameworks(hints.framework)
    frameworks += facts.frameworks if facts else []
    frameworks = list(dict.fromkeys(frameworks))
    named = [_FRAMEWORK_LIBRARY.get(f, f) for f in frameworks if _FRAMEWORK_LIBRARY.get(f, f) not in libraries]
    models = [model] if model else (facts.models if facts else [])
    quant = extract_quantization(" ".join(models)) + extract_quantization(_KV_CACHE_FP8.sub(" ", text))
    features = [name for name, rx in _FEATURES if rx.search(text)]
    return CompatEnvironment(
        libraries=libraries, named=list(dict.fromkeys(named)), complete_listing=_complete_listing(text), gpus=gpus,
        cuda=cuda, driver=hints.driver or (facts.driver if facts else None), driver_cuda=driver_cuda,
        os=os_family(os_name), os_name=os_name, python=hints.python or (facts.python if facts else None),
        frameworks=frameworks, models=models, stage=stage, quantization=list(dict.fromkeys(quant)),
        dtype=_dtype(text), features=features)


def hints_from_case(environment) -> EnvironmentHints:
    """Hints from a case's curated ``environment`` (:class:`failgraph.ingest.cases.Environment`)."""
    return EnvironmentHints(libraries={lib.name: lib.version for lib in environment.libraries},
                            cuda=environment.cuda, gpu=environment.gpu, os=environment.os,
                            python=environment.python, framework=environment.framework)


def stage_of(label: str | None) -> Stage | None:
    if not label:
        return None
    low = label.lower()
    return "fine-tuning" if "fine" in low or "train" in low else "inference" if "infer" in low else None


__all__ = ["EnvironmentHints", "Stage", "hints_from_case", "parse_report", "stage_of"]
