"""The environment a report describes: CUDA, driver, GPUs, OS, Python, frameworks, models, sizes, quantisation.

>>> env = extract_environment('''Environment: OS: Ubuntu 22.04, Python 3.10.12, PyTorch 2.1.0+cu118, vllm==0.4.2
... | NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |
... Serving Qwen2.5-72B-Instruct-AWQ on 2x A100 80GB fails:
... KeyError: 'qwen2' ''')
>>> env.cuda, env.driver, env.gpus, env.os, env.python
('12.2', '535.104.05', ['NVIDIA A100'], 'Ubuntu 22.04', '3.10.12')
>>> env.frameworks, env.models, env.model_sizes, env.quantization
(['vllm'], ['Qwen2.5-72B-Instruct-AWQ'], ['72B'], ['awq'])
>>> [(m.name, m.version) for m in env.libraries], [e.signature for e in env.errors]
([('torch', '2.1.0+cu118'), ('vllm', '0.4.2')], ["KeyError: 'qwen2'"])
"""

from __future__ import annotations

import re

from ._text import lower_same_length, match_at_triggers, minimal_triggers
from .errors import extract_errors
from .facts import EnvironmentFacts, UsageFacts
from .hardware import find_gpus
from .libraries import extract_libraries
from .tried import extract_not_using, extract_tried
from .usage import extract_device, extract_gpu_count, extract_launch, extract_model_variant

# ---------------------------------------------------------------------------------------------------------- CUDA

#: On lower-cased text, tried where "cuda" starts.
_CUDA_EXPLICIT = re.compile(
    r"(?<![a-z0-9/-])cuda(?:"
    r"\s+version\s*:\s*|\s+used\s+to\s+build\s+pytorch\s*:\s*|\s+runtime\s+version\s*:\s*"
    r"|\s+compilation\s+tools,\s+release\s+|\s+compiler\s*:\s*(?:cuda_)?|toolkit[\s=]+|_(?=\d)"
    r"|(?:\s+(?:toolkit|version))?\s*(?:\([^\n]{0,70}?\)[`'\"]*\)?\s*)?(?:[:=]\s*|\s+is\s+|\s+)v?|(?=\d{2}\.\d))"
    r"(?P<v>\d{1,2}\.\d)(?:\.\d+)*(?![\d]|\.\d|[a-z]{2})")
_CUDA_SUFFIX = re.compile(r"(?<![A-Za-z])cu(?P<v>1[0-3]\d|9\d|1[0-3]\.\d)(?![\d.]*\d)")


def extract_cuda(text: str, low: str | None = None) -> str | None:
    """The CUDA version (major.minor): an explicit statement first, else a ``cu121``-style build suffix.

    >>> extract_cuda("nvcc: Cuda compilation tools, release 12.3, V12.3.107"), extract_cuda("torch 2.1.0+cu118")
    ('12.3', '11.8')
    >>> extract_cuda("CUDA out of memory on cuda:0") is None
    True
    """
    for m in match_at_triggers(lower_same_length(text) if low is None else low, ("cuda",), _CUDA_EXPLICIT):
        return m["v"]
    m = _CUDA_SUFFIX.search(text)
    if m:
        v = m["v"]
        return v if "." in v else f"{v[:-1]}.{v[-1]}"
    return None


# -------------------------------------------------------------------------------------------------------- driver

_DRIVER = re.compile(
    r"(?:Driver\s+Version\s*:\s*|NVIDIA-SMI\s+"
    r"|(?:NVIDIA|Nvidia|nvidia)\s+(?:GPU\s+)?driver(?:\s+version)?\s*(?:is\s+|[:=]\s*)?"
    r"(?:the\s+)?|driver\s+version\s*(?:is\s+|[:=]\s*)|driver\s+(?=\d{3}\b))"
    r"(?P<v>[3-9]\d{2}(?:\.\d{1,3}){0,2})(?![\d])")


def extract_driver(text: str) -> str | None:
    """The NVIDIA driver version.

    >>> extract_driver("| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2 |")
    '535.104.05'
    >>> extract_driver("NVIDIA driver version is 545. It works elsewhere.")
    '545'
    """
    m = _DRIVER.search(text)
    return m["v"] if m else None


# ------------------------------------------------------------------------------------------------------------ OS

#: On lower-cased text.
_OS = re.compile(
    r"(?P<wsl>(?<![\w.])wsl\s?2?(?![\w.]))"
    r"|(?P<ubuntu>(?<![\w.])ubuntu(?:[\s-]?(?P<uv>\d{2}\.\d{2}(?:\.\d)?)|\s+(?P<ucode>jammy|focal|bionic|noble))?)"
    r"|(?P<win>(?<![\w.])windows\s?(?P<wv>10|11|server\s\d{4})?(?![\w]))"
    r"|(?P<mac>(?<![\w.])mac\s?os(?:\s?x)?(?:\s+(?P<mv>\d{2}(?:\.\d+)?|sonoma|ventura|monterey|sequoia))?(?![\w])"
    r"|(?<![\w.])os\s?x(?![\w])|(?<![\w.])mac(?:book(?:\s?(?:pro|air))?|\s+(?:mini|studio|pro))?(?![\w]))"
    r"|(?P<centos>(?<![\w.])cent\s?os\s?(?P<cv>\d(?:\.\d+)?)?)"
    r"|(?P<debian>(?<![\w.])debian(?:\s+gnu/linux)?\s*(?P<dv>\d{1,2})?(?![\w]))"
    r"|(?P<rocky>(?<![\w.])rocky\s+linux\s*(?P<rv>\d(?:\.\d+)?)?)"
    r"|(?P<rhel>(?<![\w.])(?:rhel|red\s+hat(?:\s+enterprise\s+linux)?)\s*(?P<hv>\d(?:\.\d+)?)?)"
    r"|(?P<arch>(?<![\w.])arch\s+linux(?![\w]))"
    r"|(?P<fedora>(?<![\w.])fedora\s*(?P<fv>\d{2})?(?![\w]))"
    r"|(?P<linux>(?<![\w./])linux(?![\w]))")
_OS_TRIGGERS = minimal_triggers((
    "wsl", "ubuntu", "windows", "mac", "os x", "osx", "cent", "debian", "rocky", "rhel", "red hat", "arch",
    "fedora", "linux"))
_UBUNTU_CODENAMES = {"jammy": "22.04", "focal": "20.04", "bionic": "18.04", "noble": "24.04"}


def _os_name(m: re.Match[str]) -> tuple[str, str]:
    """(family, name) for an OS match."""
    g = m.groupdict()
    if g["wsl"]:
        return "wsl", "WSL2" if "2" in g["wsl"] else "WSL"
    if g["ubuntu"]:
        v = g["uv"] or _UBUNTU_CODENAMES.get(g["ucode"] or "")
        return "ubuntu", f"Ubuntu {v}" if v else "Ubuntu"
    if g["win"]:
        return "windows", f"Windows {g['wv'].title()}" if g["wv"] else "Windows"
    if g["mac"]:
        return "macos", f"macOS {g['mv'].title()}" if g["mv"] else "macOS"
    if g["centos"]:
        return "centos", f"CentOS {g['cv']}" if g["cv"] else "CentOS"
    if g["debian"]:
        return "debian", f"Debian {g['dv']}" if g["dv"] else "Debian"
    if g["rocky"]:
        return "rocky", f"Rocky Linux {g['rv']}" if g["rv"] else "Rocky Linux"
    if g["rhel"]:
        return "rhel", f"RHEL {g['hv']}" if g["hv"] else "RHEL"
    if g["arch"]:
        return "arch", "Arch Linux"
    if g["fedora"]:
        return "fedora", f"Fedora {g['fv']}" if g["fv"] else "Fedora"
    return "linux", "Linux"


def extract_os(text: str, low: str | None = None) -> str | None:
    """The operating system: WSL wins, else the first distribution named (with a version when one is given).

    >>> extract_os("OS: Ubuntu 20.04.6 LTS (x86_64)"), extract_os("Windows 11 with WSL2"), extract_os("centos7.9")
    ('Ubuntu 20.04.6', 'WSL2', 'CentOS 7.9')
    >>> extract_os("Python platform: Linux-5.15.0-91-generic-x86_64-with-glibc2.35"), extract_os("Debian GNU/Linux 11")
    ('Linux', 'Debian 11')
    >>> extract_os("on my MacBook Pro (M2)"), extract_os("the machine crashed")
    ('macOS', None)
    """
    low = lower_same_length(text) if low is None else low
    found = [_os_name(m) for m in match_at_triggers(low, _OS_TRIGGERS, _OS)]
    if not found:
        return None
    for fam, name in found:
        if fam == "wsl":
            return name
    specific = [f for f in found if f[0] != "linux"]
    fam, name = (specific or found)[0]
    for f2, n2 in specific:
        if f2 == fam and len(n2) > len(name):
            name = n2  # "Ubuntu" ... later "Ubuntu 22.04"
    return name


# -------------------------------------------------------------------------------------------------------- Python

_PYTHON = re.compile(r"(?<![\w/])(?:C?Python|python|py)(?:\s*(?:version)?\s*(?:\([^()\n]{0,40}\)\s*)?"
                     r"(?:[:=]=?|is)?\s*(?:python\s*)?)"
                     r"(?P<v>3\.\d{1,2}(?:\.\d{1,2})?)(?![\d]|\.\d)", re.IGNORECASE)
_PYTHON_PATH = re.compile(r"(?:/python|cpython-)(?P<v>3\.?\d{1,2})(?=[/\-])")


def extract_python(text: str) -> str | None:
    """The Python version: an explicit statement first, else a ``lib/python3.11/`` path.

    >>> extract_python("Python version: 3.10.12 (main, Nov 20 2023) [GCC 11.4.0]"), extract_python("python=3.9")
    ('3.10.12', '3.9')
    >>> extract_python("/usr/local/lib/python3.11/site-packages/torch/nn/modules/module.py")
    '3.11'
    """
    m = _PYTHON.search(text)
    if m:
        return m["v"]
    m = _PYTHON_PATH.search(text)
    if m:
        v = m["v"]
        return v if "." in v else f"{v[0]}.{v[1:]}"
    return None


# ---------------------------------------------------------------------------------------------------- frameworks

#: (name, pattern on lower-cased text). Joined into one regex; the group name says which framework matched.
_FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("vllm", r"vllm"),
    ("sglang", r"sglang"),
    ("llama_cpp", r"llama\.cpp|llama[-_]cpp(?:[-_]python)?|llama-server|llama-cli|ggml"),
    ("ollama", r"ollama"),
    ("tgi", r"text-generation-inference|tgi|text[-_]generation[-_]launcher"),
    ("tensorrt_llm", r"tensorrt[-_ ]llm|trtllm(?:-build)?"),
    ("lmdeploy", r"lmdeploy"),
    ("transformers", r"transformers|automodel\w*|from_pretrained|autotokenizer"),
    ("mlx", r"mlx(?:[-_]lm)?"),
    ("exllama", r"exllama(?:v2)?"),
    ("ctransformers", r"ctransformers"),
    ("lm_studio", r"lm ?studio"),
    ("xinference", r"xinference"),
    ("mindie", r"mindie"),
    ("deepspeed", r"deepspeed|zero[- ]?[123]"),
    ("llamafactory", r"llama[-_ ]?factory|llamafactory(?:-cli)?|llama-efficient-tuning"),
    ("unsloth", r"unsloth"),
    ("peft", r"peft|q?lora"),
    ("trl", r"trl|(?:sft|dpo|grpo|ppo)trainer"),
    ("ms_swift", r"ms-swift|swift (?:sft|infer|deploy|export)"),
    ("fastchat", r"fastchat"),
    ("text_generation_webui", r"text-generation-webui|oobabooga"),
    ("verl", r"verl"),
    ("torchtune", r"torchtune"),
    ("axolotl", r"axolotl"),
    ("megatron", r"megatron(?:-lm|-core)?"),
)
_FRAMEWORK_RE = re.compile("|".join(f"(?P<{name}>(?<![\\w]){rx}(?![\\w]))" for name, rx in _FRAMEWORKS))
_FRAMEWORK_TRIGGERS = minimal_triggers((
    "vllm", "sglang", "llama", "ggml", "ollama", "text-generation", "text_generation", "tgi", "tensorrt", "trtllm",
    "lmdeploy", "transformers", "automodel", "from_pretrained", "autotokenizer", "mlx", "exllama", "ctransformers",
    "lm studio", "lmstudio", "xinference", "mindie", "deepspeed", "zero", "unsloth", "peft", "lora", "qlora",
    "trl", "sfttrainer", "dpotrainer", "grpotrainer", "ppotrainer", "ms-swift", "swift ", "fastchat", "oobabooga",
    "verl", "torchtune", "axolotl", "megatron"))
_NOT_INSTALLED = re.compile(r"[^\n]{0,30}?\bnot installed\b")
_CASE_SENSITIVE = {"tgi": "TGI", "verl": "verl"}


def extract_frameworks(text: str, low: str | None = None) -> list[str]:
    """Frameworks named in the text, in order of first mention.

    >>> extract_frameworks("Served with text-generation-inference, the model was fine-tuned in LLaMA-Factory with LoRA")
    ['tgi', 'llamafactory', 'peft']
    >>> extract_frameworks("- DeepSpeed version: not installed")
    []
    """
    low = lower_same_length(text) if low is None else low
    out: list[str] = []
    for m in match_at_triggers(low, _FRAMEWORK_TRIGGERS, _FRAMEWORK_RE):
        key = m.lastgroup or ""
        name = key.replace("_", "-").replace("llama-cpp", "llama.cpp")
        if name in out:
            continue
        raw = text[m.start():m.end()]
        if key in _CASE_SENSITIVE and raw not in (_CASE_SENSITIVE[key], "text-generation-inference") \
                and not raw.startswith("text"):
            continue  # "tgi" / "Verl" as words
        if _NOT_INSTALLED.match(low, m.end()):
            continue  # "- DeepSpeed version: not installed"
        out.append(name)
    return out


# ---------------------------------------------------------------------------------------------------- quantisation

#: On lower-cased text.
_QUANT = re.compile(
    r"(?P<gptq>(?<![a-z])gptq(?![a-z])|auto[-_]?gptq|gptqmodel)"
    r"|(?P<awq>(?<![a-z])awq(?![a-z])|auto[-_]?awq)"
    r"|(?P<nvfp4>nvfp4)|(?P<mxfp4>mxfp4)"
    r"|(?P<fp8>(?<![a-z])fp8(?![a-z0-9]|e[45]m)|fp8_e[45]m\d|(?<![\w])float8)"
    r"|(?P<int4>(?<![a-z])(?:int4|w4a16)(?![a-z0-9]))"
    r"|(?P<int8>(?<![a-z])(?:int8|w8a8|w8a16)(?![a-z0-9]))"
    r"|(?P<bnb4>load_in_4bit|(?<![\w])bnb[-_ ]?4[-_ ]?bit|(?<![\w.])4[-_ ]?bit(?![\w])|(?<![\w])nf4(?![\w])"
    r"|(?<![\w])qlora(?![\w])|bitsandbytes_4bit)"
    r"|(?P<bnb8>load_in_8bit|(?<![\w])bnb[-_ ]?8[-_ ]?bit|(?<![\w.])8[-_ ]?bit(?![\w])|llm\.int8|bitsandbytes_8bit)"
    r"|(?P<gguf>(?<![\w])(?:gguf|ggml|ggmlv3)(?![a-z]))"
    r"|(?P<ggufq>(?<![a-z0-9])i?q[2-8]_(?:k(?:_[smlx]{1,2})?|[01]|xxs|xs|s|m|nl)(?:_xl)?(?![a-z0-9]))"
    r"|(?P<exl2>(?<![\w])exl2(?![\w]))"
    r"|(?P<other>(?<![\w])(?:aqlm|hqq|smoothquant|squeezellm|marlin)(?![\w]))")


_QUANT_TRIGGERS = minimal_triggers((
    "gptq", "auto", "awq", "nvfp4", "mxfp4", "fp8", "float8", "int4", "w4a16", "int8", "w8a8", "w8a16", "load_in_",
    "bnb", "4bit", "4-bit", "4 bit", "4_bit", "8bit", "8-bit", "8 bit", "8_bit", "nf4", "qlora", "bitsandbytes_",
    "llm.int8", "gguf", "ggml", "q2_", "q3_", "q4_", "q5_", "q6_", "q8_", "iq", "exl2", "aqlm", "hqq",
    "smoothquant", "squeezellm", "marlin"))


def extract_quantization(text: str, low: str | None = None) -> list[str]:
    """Quantisation formats, in order of first mention (``'q4_k_m'`` style for GGUF quant types).

    >>> extract_quantization("Qwen2-72B-Instruct-GPTQ-Int4 vs a Q4_K_M GGUF, "
    ...                      "loaded with load_in_8bit=True, FP8 KV cache")
    ['gptq', 'int4', 'q4_k_m', 'gguf', 'bnb-8bit', 'fp8']
    """
    low = lower_same_length(text) if low is None else low
    out: list[str] = []
    for m in match_at_triggers(low, _QUANT_TRIGGERS, _QUANT):
        kind = m.lastgroup or ""
        if kind in ("bnb4", "bnb8"):
            name = "bnb-4bit" if kind == "bnb4" else "bnb-8bit"
        elif kind in ("ggufq", "other"):
            name = m.group(0)
        else:
            name = kind
        if name not in out:
            out.append(name)
    return out


# -------------------------------------------------------------------------------------------------------- models

_FAMILY = (r"(?:meta-)?llama|codellama|code-llama|qwen|qwq|qvq|codeqwen|deepseek|mistral|mixtral|codestral|gemma"
           r"|codegemma|phi|yi|baichuan|chatglm|glm|internlm|internvl|vicuna|falcon|starcoder|minicpm|olmo|granite"
           r"|smollm|tinyllama|orion|aquila|bloom|gpt-?j|gpt-neox|pythia|opt|alpaca|wizardlm|wizardcoder|nous-hermes"
           r"|zephyr|command-r|jamba|dbrx|kimi|minimax|gpt-oss")
#: A token that starts with a model family, on lower-cased text; validated in Python.
_MODEL_TOKEN = re.compile(r"(?<![\w.-])(?:" + _FAMILY + r")[\w.:+-]*")
_MODEL_TRIGGERS = minimal_triggers([*(re.sub(r"\(\?:meta-\)\?|-\?", "", f) for f in _FAMILY.split("|")),
                                    "meta-", "gpt"])
_ORG_BEFORE = re.compile(r"(?<![\w./-])[a-z0-9][\w.-]*/$")
_CLASS_NAME = re.compile(r"(?:for[a-z]\w*|model|tokenizer\w*|config|block|attention|mlp|lmhead\w*|layer|decoder\w*"
                         r"|processor|pretrained\w*|embedding\w*|moe\w*|flash\w*|\.py|\.json|\.gguf|\.bin)$")
_SHORT_WORD = re.compile(r"(?:opt|phi|yi|glm|bloom|orion|falcon|alpaca|zephyr|granite)(?:[-_][a-z_]+)?")
_SIZE = re.compile(r"(?<![A-Za-z0-9.])(?P<n>\d+[xX]\d+(?:\.\d+)?|\d+(?:\.\d+)?|\d+_\d)[Bb](?![A-Za-z0-9])")


def extract_models(text: str, low: str | None = None) -> list[str]:
    """Model names as written (an ``org/`` prefix and an Ollama ``:tag`` kept), in order, without repeats.

    >>> extract_models("Qwen/Qwen2.5-7B-Instruct, Llama-2-70b-chat, Meta-Llama-3-8B, deepseek-coder-6.7b-instruct, "
    ...                "DeepSeek-R1-Distill-Qwen-32B, CodeLlama-34b, ollama run qwen2:7b; class Qwen2ForCausalLM")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['Qwen/Qwen2.5-7B-Instruct', 'Llama-2-70b-chat', 'Meta-Llama-3-8B', 'deepseek-coder-6.7b-instruct',
     'DeepSeek-R1-Distill-Qwen-32B', 'CodeLlama-34b', 'qwen2:7b']
    >>> extract_models("KeyError: 'qwen2'; the Qwen tokenizer; modeling_qwen.py; an OPT option; phi")
    []
    """
    low = lower_same_length(text) if low is None else low
    out: list[str] = []
    seen: set[str] = set()
    for m in match_at_triggers(low, _MODEL_TRIGGERS, _MODEL_TOKEN):
        start, end = m.start(), m.end()
        while end > start and low[end - 1] in ".:-+_":
            end -= 1
        token = low[start:end]
        if not any(c.isdigit() for c in token) or _CLASS_NAME.search(token) or _SHORT_WORD.fullmatch(token):
            continue
        if "_" in token and not re.search(r"\d+(?:[._]\d+)?b", token):
            continue  # qwen2_moe, llama_model_load: identifiers, not models
        if start and low[start - 1] in "'\"`" and low[end:end + 1] == low[start - 1] and not _SIZE.search(token):
            continue  # KeyError: 'qwen2' names a model_type
        org = _ORG_BEFORE.search(low, max(0, start - 60), start) if start and low[start - 1] == "/" else None
        if org:
            start = org.start()
        name = text[start:end]
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        out.append(name)
    return out


def extract_model_sizes(text: str) -> list[str]:
    """Parameter counts (``7B``, ``6.7B``, ``8x7B``) from model names and from phrases like ``Qwen 72B``.

    >>> extract_model_sizes("Qwen2.5-7B-Instruct and LLaMA 65B, a 24GB card, 4bit, Mixtral-8x7B, Qwen-1_8B-Chat")
    ['7B', '65B', '8x7B', '1.8B']
    """
    out: list[str] = []
    for m in _SIZE.finditer(text):
        size = m["n"].replace("_", ".").replace("X", "x") + "B"
        if size not in out:
            out.append(size)
    return out


def extract_usage(text: str, *, gpus: list[str] | None = None, models: list[str] | None = None,
                  low: str | None = None) -> UsageFacts:
    """How the report runs its model and what it has ruled out (:mod:`.usage`, :mod:`.tried`); ``gpus`` and
    ``models`` are found when not given.

    >>> u = extract_usage("torchrun --nproc_per_node 2 run.py on my M2 Mac with Llama-2-7b-chat; "
    ...                   "reinstalled torch, no luck. Not using deepspeed.")
    >>> u.device, u.gpu_count, u.launch, u.model_variant, [t.key for t in u.tried], u.not_using
    ('mps', 2, {'nproc_per_node': '2'}, 'instruct', [('install', 'torch')], ['deepspeed'])
    """
    low = lower_same_length(text) if low is None else low
    gpus = find_gpus(text, low) if gpus is None else gpus
    models = extract_models(text, low) if models is None else models
    launch = extract_launch(text, low)
    return UsageFacts(device=extract_device(text, gpus, low), gpu_count=extract_gpu_count(text, launch, low),
                      launch=launch, model_variant=extract_model_variant(text, models, low),
                      tried=extract_tried(text, low), not_using=extract_not_using(text, low))


def extract_environment(text: str) -> EnvironmentFacts:
    """All facts of one text (see the module docstring for an example)."""
    low = lower_same_length(text)
    gpus = find_gpus(text, low)
    models = extract_models(text, low)
    return EnvironmentFacts(
        libraries=extract_libraries(text),
        cuda=extract_cuda(text, low),
        driver=extract_driver(text),
        gpus=gpus,
        os=extract_os(text, low),
        python=extract_python(text),
        frameworks=extract_frameworks(text, low),
        models=models,
        model_sizes=extract_model_sizes(text),
        quantization=extract_quantization(text, low),
        errors=extract_errors(text),
        usage=extract_usage(text, gpus=gpus, models=models, low=low),
    )


__all__ = ["extract_cuda", "extract_driver", "extract_environment", "extract_frameworks", "extract_model_sizes",
           "extract_models", "extract_os", "extract_python", "extract_quantization", "extract_usage"]
