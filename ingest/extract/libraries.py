"""Library names with versions, from free text, environment dumps and package listings.

Two kinds of evidence are read:

* **structured** listings, where any package-like name is accepted: ``pip freeze`` (``name==ver``), ``pip list`` and
  ``conda list`` tables, ``[pip3]``/``[conda]`` lines of ``collect_env``, ``pip show``, ``Successfully installed
  a-1.0``, pip's resolver complaints (``x 1.0 requires y==2, but you have y 3``), wheel file names;
* **prose**, where only the known ecosystem libraries of :data:`LIBRARY_ALIASES` are accepted, with the separators
  people write: ``transformers 4.31.0``, ``vLLM version 0.6.3.post1``, ``PyTorch version: 2.7.0+cu126``,
  ``Transformers:4.33.2``, ``peft=0.10.0``, ``vllm0.5.0``, ``TGI-2.3.0``, ``my transformers is 4.26``,
  ``transformers (4.40.0)``, and a change: ``upgraded transformers to 4.41``, ``downgraded vllm from 0.6.0 to 0.5.4``.

Requirements are not mentions: ``torch>=2.0`` and the ``torch==2.6.0`` in ``vllm 0.8.1 requires torch==2.6.0`` are
skipped. Python, CUDA, drivers and operating systems are not libraries (see :mod:`.environment`).

>>> found = extract_libraries("PyTorch 2.1.0+cu118, auto_gptq 0.7.1 and Python 3.10 on CUDA 12.1")
>>> [(m.name, m.version) for m in found]
[('torch', '2.1.0+cu118'), ('auto-gptq', '0.7.1')]
>>> normalise_library_name("Flash_Attention")
'flash-attn'
"""

from __future__ import annotations

import re

from ._text import lower_same_length, match_at_triggers, minimal_triggers
from .facts import LibraryMention

#: Surface forms (compared after PEP 503 normalisation: lower case, runs of ``-_.`` and spaces as one ``-``) →
#: PyPI name.
LIBRARY_ALIASES: dict[str, str] = {
    # the core stack
    "torch": "torch", "pytorch": "torch", "torchvision": "torchvision", "torchaudio": "torchaudio",
    "transformers": "transformers", "hf-transformers": "transformers",
    "tokenizers": "tokenizers", "safetensors": "safetensors", "datasets": "datasets", "accelerate": "accelerate",
    "huggingface-hub": "huggingface-hub", "hf-hub": "huggingface-hub",
    "peft": "peft", "trl": "trl", "deepspeed": "deepspeed", "optimum": "optimum", "evaluate": "evaluate",
    "sentencepiece": "sentencepiece", "tiktoken": "tiktoken", "protobuf": "protobuf", "einops": "einops",
    "transformers-stream-generator": "transformers-stream-generator",
    "sentence-transformers": "sentence-transformers", "timm": "timm",
    # kernels and quantisation
    "flash-attn": "flash-attn", "flash-attention": "flash-attn", "flashattention": "flash-attn",
    "flash-attn-2": "flash-attn", "flashattention-2": "flash-attn",
    "vllm-flash-attn": "vllm-flash-attn", "xformers": "xformers", "triton": "triton", "apex": "apex",
    "flashinfer": "flashinfer-python", "flashinfer-python": "flashinfer-python",
    "bitsandbytes": "bitsandbytes", "auto-gptq": "auto-gptq", "autogptq": "auto-gptq", "gptqmodel": "gptqmodel",
    "autoawq": "autoawq", "auto-awq": "autoawq", "autoawq-kernels": "autoawq-kernels",
    "exllamav2": "exllamav2", "exllama": "exllama", "compressed-tensors": "compressed-tensors",
    "llmcompressor": "llmcompressor", "llm-compressor": "llmcompressor", "auto-round": "auto-round",
    "optimum-quanto": "optimum-quanto", "hqq": "hqq", "aqlm": "aqlm", "torchao": "torchao",
    # serving
    "vllm": "vllm", "vllm-ascend": "vllm-ascend", "sglang": "sglang", "lmdeploy": "lmdeploy",
    "tensorrt": "tensorrt", "tensorrt-llm": "tensorrt-llm", "trt-llm": "tensorrt-llm", "trtllm": "tensorrt-llm",
    "text-generation-inference": "text-generation-inference", "tgi": "text-generation-inference",
    "llama-cpp-python": "llama-cpp-python", "ctransformers": "ctransformers", "ollama": "ollama",
    "xinference": "xinference", "mlx": "mlx", "mlx-lm": "mlx-lm", "onnxruntime": "onnxruntime",
    "onnxruntime-gpu": "onnxruntime-gpu", "openvino": "openvino", "xgrammar": "xgrammar", "outlines": "outlines",
    "ray": "ray", "fastapi": "fastapi", "uvicorn": "uvicorn", "gradio": "gradio", "openai": "openai",
    # training front ends
    "llamafactory": "llamafactory", "llama-factory": "llamafactory", "unsloth": "unsloth",
    "ms-swift": "ms-swift", "modelscope": "modelscope", "verl": "verl", "openrlhf": "openrlhf",
    "unsloth-zoo": "unsloth-zoo", "xtuner": "xtuner", "sgl-kernel": "sgl-kernel",
    "transformer-engine": "transformer-engine", "megatron-bridge": "megatron-bridge",
    "torchtune": "torchtune", "axolotl": "axolotl", "megatron-core": "megatron-core", "fairscale": "fairscale",
    "colossalai": "colossalai", "lightning": "lightning", "pytorch-lightning": "pytorch-lightning",
    "torch-npu": "torch-npu", "mindspore": "mindspore", "paddlepaddle": "paddlepaddle",
    # the rest of a typical environment
    "numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "jinja2": "jinja2", "pydantic": "pydantic",
    "langchain": "langchain", "llama-index": "llama-index", "qwen-vl-utils": "qwen-vl-utils",
    "lm-eval": "lm-eval", "opencompass": "opencompass", "wandb": "wandb", "jax": "jax", "jaxlib": "jaxlib",
    "tensorflow": "tensorflow", "keras": "keras", "streamlit": "streamlit", "nvidia-nccl-cu12": "nvidia-nccl-cu12",
}

#: Names that look like packages in listings but are platforms or tools (handled elsewhere or not at all).
NOT_LIBRARIES = frozenset({
    "python", "python3", "py", "cpython", "cuda", "cudatoolkit", "cuda-toolkit", "cudnn", "nccl", "nvcc",
    "cuda-runtime",
    "runtime", "driver", "nvidia-driver", "nvidia", "os", "gcc", "clang", "cmake", "libc", "glibc", "kernel", "linux",
    "ubuntu", "windows", "macos", "centos", "debian", "rocm", "hip", "miopen", "version", "v", "release", "build",
    "model", "gpu", "cpu", "vram", "ram", "pip", "pip3", "conda", "name", "package", "platform", "api", "server",
    "sdk", "neuron-sdk", "app", "image", "docker", "compute-capability", "sm", "opset", "file", "checkpoint", "config",
})

_SEP_RE = re.compile(r"[-_.\s]+")

#: A version: at least major.minor, then PEP 440 pre/post/dev parts and a local part (``+cu118``).
_VERSION = (r"(?P<version>\d+(?:\.\d+)+(?:[-_.]?(?:post|dev|rc|alpha|beta|pre|a|b|c)\d*)*"
            r"(?:\+[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*)?)")
#: What may not follow a version: more of a token (``4.x``, ``7B``), or a unit that makes it a quantity.
_VERSION_END = (r"(?![\w*+]|\.\w|-[A-Za-z0-9]"
                r"|[ \t]*(?:[KMGT]i?B\b|[KMGT]\b|%|x\b|times\b|seconds?\b|secs?\b|s/it|it/s|tokens?\b|ms\b|hours?\b"
                r"|minutes?\b|steps?\b|epochs?\b|layers?\b|GPUs?\b|cards?\b))")


def normalise_library_name(name: str) -> str:
    """Lower-case PyPI name for a library name as written (alias table first, then PEP 503 normalisation)."""
    key = _SEP_RE.sub("-", name.strip().strip("`'\"").lower()).strip("-")
    return LIBRARY_ALIASES.get(key, key)


def _alias_pattern(alias: str) -> str:
    parts = alias.split("-")
    return r"[-_ ]?".join(re.escape(p) for p in parts)


_ALIAS_RE = "|".join(_alias_pattern(a) for a in sorted(LIBRARY_ALIASES, key=len, reverse=True))

#: Known name, optional extras/backticks, then the separators people use before a version.
_PROSE = re.compile(
    r"(?<![\w./\\-])(?P<name>" + _ALIAS_RE + r")(?![A-Za-z_]|-[A-Za-z])"
    r"(?:\[[\w,.-]+\])?`?"
    r"(?P<sep>"
    r"(?:\s+(?:api\s+server\s+)?(?:version|ver\.?|nightly|版本)\b\.?)?"  # "vLLM API server version", "版本"
    r"(?:\s*\((?:[^()\n]{0,30})\))?"  # "PyTorch version (accelerator?)"
    r"(?:\s*(?:==?|:)\s*|\s+is\s+|\s+|-|\s*\(\s*)?"
    r")(?:(?<=[=:\s])['\"])?v?" + _VERSION.replace("A-Za-z", "a-z") + _VERSION_END.replace("[KMGT]i?B", "[kmgt]i?b")
    .replace("GPUs?", "gpus?").replace("[KMGT]", "[kmgt]"))  # on lower-cased text

_PROSE_TRIGGERS = minimal_triggers(a.split("-")[0] for a in LIBRARY_ALIASES)
#: "upgraded transformers to 4.41", "downgrading vllm from 0.6.0 to 0.5.4" (on lower-cased text, from the verb): the
#: version the library was changed to (and the one it came from). Past and progressive forms only: "upgrade
#: transformers to 4.41" is advice, not an installed version.
_CHANGED_TO = re.compile(
    r"(?<![\w-])(?:upgrad|downgrad|updat|bump|switch|pinn|revert|roll)(?:ed|ing)(?:\s+back)?\s+(?:the\s+|my\s+|our\s+)?"
    r"(?P<name>" + _ALIAS_RE + r")(?![\w-])(?:\s+(?:version\s+)?from\s+v?(?P<old>\d+(?:\.\d+)+[\w.+-]*?))?"
    r"\s+(?:to|->|→)\s+v?" + _VERSION.replace("A-Za-z", "a-z") + _VERSION_END.replace("[KMGT]i?B", "[kmgt]i?b")
    .replace("GPUs?", "gpus?").replace("[KMGT]", "[kmgt]"))
_CHANGED_TRIGGERS = ("upgrad", "downgrad", "updat", "bump", "switch", "pin", "revert", "roll")
_KNOWN_NAMES = frozenset(LIBRARY_ALIASES.values())
_NAME_OK = re.compile(r"[a-z0-9][a-z0-9._-]*")

_PKG = r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]"
#: ``name==version`` anywhere (pip freeze, pip install, requirements pins), read from each "==" (see :func:`_pinned`).
_PINNED_NAME = re.compile(r"(?<![\w.\-/=<>!~@])(?P<name>" + _PKG + r")(?:\[[\w,.-]+\])?\Z")
_PINNED_VALUE = re.compile(r"==v?" + _VERSION + _VERSION_END)
#: ``Name version: 1.2.3`` (env dumps: transformers-cli env, llamafactory-cli env, collect_env), read backwards from
#: each "version" (see :func:`_keyed`); ``- Name: 1.2.3`` list items.
_KEYED_NAME = re.compile(r"(?:^|(?<=[\s,;(]))(?:[-*][ \t]*)?`?(?P<name>[A-Za-z][A-Za-z0-9._-]*)`?[ \t]+\Z",
                         re.MULTILINE)
_KEYED_VALUE = re.compile(r"(?:\s*\([^()\n]{0,30}\))?\s*[:=]\s*['\"]?v?" + _VERSION + _VERSION_END)
_LISTED = re.compile(r"^\s*[-*]\s+`?(?P<name>[A-Za-z][A-Za-z0-9._-]*)`?\s*:\s*v?" + _VERSION + _VERSION_END,
                     re.MULTILINE)
#: One row of a ``pip list`` / ``conda list`` table (the ``[pip3]``/``[conda]`` prefix of collect_env allowed).
_ROW = re.compile(r"^\s*(?:\[(?:pip3?|conda)\]\s+)?(?P<name>" + _PKG + r")\s+v?" + _VERSION + r"(?:\s+\S+){0,3}\s*$")
_TABLE_HEADER = re.compile(r"^\s*#?\s*(?:Package|Name)\s+Version\b", re.IGNORECASE)
_PIP_SHOW = re.compile(r"^Name:\s*(?P<name>" + _PKG + r")\s*\n(?:(?!Name:).*\n){0,3}?Version:\s*v?" + _VERSION,
                       re.MULTILINE)
_INSTALLED = re.compile(r"Successfully installed ((?:\S+-\d\S*\s*)+)")
_INSTALLED_ITEM = re.compile(r"(?P<name>" + _PKG + r")-v?" + _VERSION + r"$")
_YOU_HAVE = re.compile(r"(?:^|\n)(?P<req>" + _PKG + r") (?P<reqv>\d[^\s,]*) requires [^\n]*?, but you have (?P<name>"
                       + _PKG + r") v?" + _VERSION)
_WHEEL = re.compile(r"(?<![\w.-])(?P<name>[A-Za-z][A-Za-z0-9_.]*)-v?" + _VERSION + r"-(?:cp|py)\d[\w.-]*\.whl")
#: A requirement, not an installed version: "requires torch==2.6.0", "Requires-Dist: x==1".
_REQUIREMENT_BEFORE = re.compile(r"(?:\brequires|\brequired|\brequirements?|Requires-Dist)\s*:?\s*\S*$", re.IGNORECASE)
#: Not the library's own version: "CUDA used to build PyTorch: 12.6", "built against torch 2.1".
_OTHER_BEFORE = re.compile(r"(?:\bas of|\bto (?:build|compile)|\bbuilt (?:for|with|against)"
                           r"|\bcompiled (?:for|with|against))\s+$", re.IGNORECASE)


_PART_OF_NAME = re.compile(r"\b[A-Z][\w-]*\s+$")


#: Release images of the serving engines, whose tag is the engine's version: ``vllm/vllm-openai:v0.6.1.post2``,
#: ``vllm/vllm-openai 0.5.0``, ``lmsysorg/sglang:v0.4.1-cu124`` (``latest (0.9.2)`` too).
_IMAGES = {"vllm-openai": "vllm", "lmsysorg/sglang": "sglang", "text-generation-inference": "text-generation-inference",
           "openmmlab/lmdeploy": "lmdeploy", "ollama/ollama": "ollama"}
_IMAGE = re.compile(r"(?<![\w-])(?:[\w.-]+/)?(?P<image>" + "|".join(re.escape(i) for i in _IMAGES)
                    + r")(?:[:\s]+|:latest\s*\()v?(?P<version>\d+(?:\.\d+)+(?:\.?(?:post|dev|rc)\d+)?)"
                    r"(?=-(?:cu|rocm)\w*|(?![\w.+-]|\.\w))")


def _clean_version(v: str) -> str:
    return v.strip().lstrip("vV")


def _known(name: str) -> bool:
    return normalise_library_name(name) in _KNOWN_NAMES


def _acceptable(name: str) -> bool:
    n = normalise_library_name(name)
    if n in NOT_LIBRARIES or n.startswith(("python", "cuda", "cu1", "sm-")) or len(n) < 2:
        return False
    return bool(_NAME_OK.fullmatch(n)) and not n.isdigit()


def _is_requirement(text: str, start: int) -> bool:
    return bool(_REQUIREMENT_BEFORE.search(text, max(0, start - 30), start))


def extract_libraries(text: str) -> list[LibraryMention]:
    """Library mentions with versions, in order of first appearance, one per (name, version).

    >>> text = '''Environment: llamafactory 0.8.2.dev0, Python 3.11.0, PyTorch 2.3.1+cu121, Transformers version: 4.41.2
    ... pip install transformers==4.35.2 peft==0.4.0
    ... vllm 0.8.1 requires torch==2.6.0, but you have torch 2.8.0.dev20250325+cu128 which is incompatible.'''
    >>> [(m.name, m.version) for m in extract_libraries(text)]  # doctest: +NORMALIZE_WHITESPACE
    [('llamafactory', '0.8.2.dev0'), ('torch', '2.3.1+cu121'), ('transformers', '4.41.2'),
     ('transformers', '4.35.2'), ('peft', '0.4.0'), ('vllm', '0.8.1'), ('torch', '2.8.0.dev20250325+cu128')]
    >>> extract_libraries("Qwen2.5 7B on CUDA 12.1 with Python 3.10, since 2023.10, torch>=2.0, transformers 4.x")
    []
    """
    found: list[tuple[int, str, str, str]] = []

    def add(start: int, name: str, version: str, raw: str) -> None:
        if not _acceptable(name):
            return
        found.append((start, normalise_library_name(name), _clean_version(version), raw))

    low = lower_same_length(text)
    for m in match_at_triggers(low, _PROSE_TRIGGERS, _PROSE):
        if _is_requirement(text, m.start()) or _OTHER_BEFORE.search(text, max(0, m.start() - 30), m.start()):
            continue
        add(m.start(), text[m.start("name"):m.end("name")], text[m.start("version"):m.end("version")],
            text[m.start():m.end()])
    if " to " in low:
        for m in match_at_triggers(low, _CHANGED_TRIGGERS, _CHANGED_TO):
            name = text[m.start("name"):m.end("name")]
            if m["old"]:
                add(m.start("old"), name, text[m.start("old"):m.end("old")], text[m.start():m.end()])
            add(m.start("version"), name, text[m.start("version"):m.end("version")], text[m.start():m.end()])
    for start, name, version, raw in _pinned(text):
        if not _is_requirement(text, start):
            add(start, name, version, raw)
    for name_start, name, version, raw in _keyed(text, low):
        if not _known(name) and _PART_OF_NAME.search(text, max(0, name_start - 20), name_start):
            continue  # "LM Studio version: 0.2.27" is not a package "studio"
        add(name_start, name, version, raw)
    if "- " in text or "* " in text:
        for m in _LISTED.finditer(text):
            add(m.start("name"), m["name"], m["version"], m.group(0).strip())
    if "Name:" in text:
        for m in _PIP_SHOW.finditer(text):
            add(m.start(), m["name"], m["version"], m.group(0))
    for m in _INSTALLED.finditer(text):
        offset = m.start(1)
        for item in m.group(1).split():
            im = _INSTALLED_ITEM.match(item)
            if im:
                add(offset, im["name"], im["version"], item)
            offset += len(item) + 1
    for m in (_YOU_HAVE.finditer(text) if "but you have" in text else ()):
        if re.fullmatch(r"\d+(?:\.\d+)+\S*", m["reqv"]):
            add(m.start("req"), m["req"], m["reqv"], f"{m['req']} {m['reqv']}")
        add(m.start("name"), m["name"], m["version"], m.group(0).strip())
    for m in (_IMAGE.finditer(low) if "/" in text else ()):
        image = next(i for i in _IMAGES if m["image"].endswith(i.split("/")[-1]))
        add(m.start(), _IMAGES[image], text[m.start("version"):m.end("version")], text[m.start():m.end()])
    for m in (_WHEEL.finditer(text) if ".whl" in text else ()):
        add(m.start(), m["name"], m["version"], m.group(0))
    _table_rows(text, add)

    found.sort(key=lambda f: f[0])
    seen: set[tuple[str, str]] = set()
    out: list[LibraryMention] = []
    for _, name, version, raw in found:
        key = (name, version.lower())
        if key in seen:
            continue
        seen.add(key)
        out.append(LibraryMention(name=name, version=version, raw=raw))
    return out


def _pinned(text: str):
    """``name==version`` pairs, found from each "==" (much faster than a full scan)."""
    i = text.find("==")
    while i >= 0:
        value = _PINNED_VALUE.match(text, i)
        if value and text[i - 1:i] not in "<>!~=":
            back = _PINNED_NAME.search(text, max(0, i - 80), i)
            if back:
                yield back.start(), back["name"], value["version"], text[back.start():value.end()]
        i = text.find("==", i + 2)


def _keyed(text: str, low: str):
    """``Name version: 1.2`` pairs, found from each occurrence of "version" (much faster than a full scan)."""
    i = low.find("version")
    while i >= 0:
        if text[i] in "Vv":
            back = _KEYED_NAME.search(text, max(0, i - 60), i)
            value = _KEYED_VALUE.match(text, i + 7)
            if back and value:
                yield back.start("name"), back["name"], value["version"], text[back.start():value.end()].strip()
        i = low.find("version", i + 7)


def _table_rows(text: str, add) -> None:
    """Rows of pip/conda listings: a run of at least two aligned ``name  version`` lines, or any row under a header.

    Alignment (every version starting in the same column) is what tells a table from two lines of prose.
    """
    offset = 0
    run: list[tuple[int, re.Match[str]]] = []
    under_header = False

    def flush() -> None:
        aligned = len({m.start("version") for _, m in run}) == 1
        if (len(run) >= 2 and aligned) or (run and under_header):
            for start, m in run:
                add(start + m.start("name"), m["name"], m["version"], m.group(0).strip())
        run.clear()

    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        m = _ROW.match(stripped)
        if m:
            run.append((offset, m))
        else:
            flush()
            if _TABLE_HEADER.match(stripped):
                under_header = True
            elif stripped.strip() and not re.fullmatch(r"\s*[-=# ]+\s*", stripped):
                under_header = False
        offset += len(line)
    flush()


__all__ = ["LIBRARY_ALIASES", "NOT_LIBRARIES", "extract_libraries", "normalise_library_name"]
