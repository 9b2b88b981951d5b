"""How a report runs its model: the device, the launcher and engine arguments, the GPU count and the model variant.

Facts a reporter writes in a command line, a ``from_pretrained`` call, an environment file or prose:

* **device** (``cuda``/``cpu``/``mps``/``npu``/``xpu``/``rocm``): ``device_map="cpu"``, ``.to("mps")``,
  ``--device cpu``, "running on CPU", "vllm (CPU)", "on my M2 Mac", ``CUDA_VISIBLE_DEVICES=0,1``; else the
  accelerator the report names, else CUDA errors;
* **launch**: the parameters of :data:`PARAMETERS` set as ``--flag value``, ``--flag=value``, ``name=value``,
  ``name: value``, ``NAME=value`` (environment files) or ``TP=2`` / "tensor parallel size of 4" in prose, keyed by
  their normalised name (``--max-model-len`` -> ``max_model_len``, ``-tp``/``--tp-size`` ->
  ``tensor_parallel_size``, ``torch_dtype`` -> ``dtype``); a parameter given twice keeps its last value;
* **gpu_count**: from the launcher (``torchrun --nproc_per_node 4 --nnodes 2`` -> 8), else the parallel sizes, else
  ``CUDA_VISIBLE_DEVICES``, else prose ("2x A100", "8 GPUs", "a single GPU"); a smaller count in prose ("one NVIDIA
  GPU" next to ``--nproc_per_node 2``) wins on one node, since a run cannot use GPUs that are not there;
* **model_variant** (``base``/``instruct``): "Mistral-7B-v0.1 (base model)" in prose next to a model name first,
  then the first model name with a marker (``-Instruct``, ``-Chat``, ``-it``, ``-Base``), then "a chat model".

>>> cmd = '''CUDA_VISIBLE_DEVICES=2,3 python -m vllm.entrypoints.openai.api_server \\
...   --model Qwen/Qwen2-72B-Instruct-AWQ --tensor-parallel-size 2 --max-model-len 8192 --enforce-eager'''
>>> launch = extract_launch(cmd)
>>> launch
{'tensor_parallel_size': '2', 'max_model_len': '8192', 'enforce_eager': 'true'}
>>> extract_device(cmd), extract_gpu_count(cmd, launch), extract_model_variant(cmd, ["Qwen/Qwen2-72B-Instruct-AWQ"])
('cuda', 2, 'instruct')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ...ontology.fixes import normalise_target
from ._text import lower_same_length, match_at_triggers, minimal_triggers

# ------------------------------------------------------------------------------------------------------ parameters

#: Launcher and engine parameters read into ``launch``, by normalised name (see :func:`normalise_parameter`).
PARAMETERS: frozenset[str] = frozenset({
    # processes and nodes
    "nproc_per_node", "nnodes", "num_gpus", "num_nodes", "num_processes", "np", "num_shard",
    # parallel sizes
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "expert_parallel_size",
    "enable_expert_parallel",
    # batch and sequence limits, memory
    "max_model_len", "max_num_seqs", "max_num_batched_tokens", "gpu_memory_utilization",
    "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
    "max_seq_length", "max_seq_len", "cutoff_len", "max_new_tokens", "max_batch_size",
    # engine switches, precision, quantisation
    "enforce_eager", "disable_custom_all_reduce", "dtype", "quantization", "quantize", "kv_cache_dtype",
})
#: Other spellings of one parameter.
ALIASES: dict[str, str] = {
    "tp": "tensor_parallel_size", "tp_size": "tensor_parallel_size", "tensor_parallel": "tensor_parallel_size",
    "pp": "pipeline_parallel_size", "pp_size": "pipeline_parallel_size",
    "dp": "data_parallel_size", "dp_size": "data_parallel_size", "ep_size": "expert_parallel_size",
    "torch_dtype": "dtype", "nproc": "nproc_per_node",
}
#: Switches that take no value on a command line (``--enforce-eager`` means ``true``).
SWITCHES = frozenset({"enforce_eager", "disable_custom_all_reduce", "enable_expert_parallel"})
#: Parameters whose value is a word (the others are numbers).
WORD_VALUED = frozenset({"dtype", "quantization", "quantize", "kv_cache_dtype"})
_MEMORY_OR_COUNT_WORDS = {"nproc_per_node": ("gpu", "auto")}
#: Single-dash short flags that are unambiguous.
_SHORT = {"tp": "tensor_parallel_size", "pp": "pipeline_parallel_size", "dp": "data_parallel_size", "np": "np"}



def normalise_parameter(name: str) -> str:
    """A parameter's name as a fix target spells it (``ontology.fixes.normalise_target(name, "parameter")``: no
    leading dashes, runs of dashes and spaces as ``_``, case-folded, known aliases folded).

    >>> normalise_parameter("--Max-Model-Len"), normalise_parameter("TENSOR_PARALLEL_SIZE")
    ('max_model_len', 'tensor_parallel_size')
    """
    return normalise_target(name, "parameter")


def canonical_parameter(name: str) -> str | None:
    """The name :data:`PARAMETERS` knows a parameter by, or None for a parameter that is not read.

    >>> canonical_parameter("--tp-size"), canonical_parameter("torch_dtype"), canonical_parameter("--port")
    ('tensor_parallel_size', 'dtype', None)
    """
    n = normalise_parameter(name)
    n = ALIASES.get(n, n)
    return n if n in PARAMETERS else None


def _name_pattern(names) -> str:
    return "|".join(sorted((re.escape(n).replace("_", "[-_]") for n in names), key=len, reverse=True))


_LONG_NAMES = _name_pattern(PARAMETERS | {a for a in ALIASES if len(a) > 2})
_VALUE = r"""(?P<q>["'`]?)(?P<value>[A-Za-z0-9][\w.:+/-]*?)(?P=q)(?=[\s,;)}\]`"']|\Z|\.(?:\s|\Z))"""

#: On lower-cased text, tried where "-" or a parameter's first letters start.
_ARG = re.compile(
    r"(?:(?<![\w-])--(?P<flag>" + _LONG_NAMES + r")(?![\w-])(?:\s*=\s*|[ \t]+(?!-))?"
    r"|(?<![\w-])-(?P<short>tp|pp|dp|np)(?:\s*=\s*|[ \t]+)(?=\d)"
    r"|(?<![\w.\-/$])(?P<key>" + _LONG_NAMES + r")[\"'`\]]*(?:[ \t]*[=:][ \t]*|[ \t]+(?:at[ \t]+)?(?=\d))"
    r")(?:" + _VALUE + r")?")
_ARG_TRIGGERS = minimal_triggers(["--", "-tp", "-pp", "-dp", "-np", *(n[:4] for n in PARAMETERS if n != "np"),
                                  *(a[:4] for a in ALIASES if len(a) > 2)])
#: "TP=2", "TP 4", "TP4", "tensor parallel size of 4", "tensor parallelism (6)" (on the original text for ``TP``).
_PROSE_TP = re.compile(r"(?:TP|tp(?==))\s*[=:]?\s*(?P<value>\d{1,2})(?![\w.])")  # the character before: in code
_PROSE_PARALLEL = re.compile(
    r"(?<![\w-])(?P<kind>tensor|pipeline)[\s-]+parallel(?:ism)?(?:\s+size)?\s*(?:=|:|of|is|\()?\s*(?P<value>\d{1,2})"
    r"(?![\w.])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")
_BOOL = {"true": "true", "false": "false", "1": "true", "0": "false"}


def _clean_value(param: str, value: str | None) -> str | None:
    """The value as written, in lower case; None when it is not a value of this parameter."""
    if param in SWITCHES:  # a word after a switch ("--enforce-eager on 4x A100") is not its value
        return "true" if value is None else _BOOL.get(value.casefold(), "true")
    if value is None:
        return None
    v = value.casefold().rstrip(".:")
    if param in WORD_VALUED:
        v = v.removeprefix("torch.")
        return v if re.fullmatch(r"[a-z][\w.-]*", v) else None
    if v in _MEMORY_OR_COUNT_WORDS.get(param, ()):
        return v
    return v if _NUMBER.fullmatch(v) else None


def extract_launch(text: str, low: str | None = None) -> dict[str, str]:
    """Launcher and engine arguments: normalised name -> value (lower case), the last value of a repeated one.

    >>> extract_launch("torchrun --nproc_per_node 8 train.py --per_device_train_batch_size 4 --cutoff_len=2048")
    {'nproc_per_node': '8', 'per_device_train_batch_size': '4', 'cutoff_len': '2048'}
    >>> extract_launch("LLM(model=path, tensor_parallel_size=2, dtype='half'); TP=2 failed; `max_model_len` when")
    {'tensor_parallel_size': '2', 'dtype': 'half'}
    >>> extract_launch("--port 8000 --max-model-len $LEN --dtype 16")
    {}
    """
    low = lower_same_length(text) if low is None else low
    found: list[tuple[int, str, str]] = []
    for m in match_at_triggers(low, _ARG_TRIGGERS, _ARG):
        raw = m["flag"] or m["key"]
        param = _SHORT[m["short"]] if m["short"] else canonical_parameter(raw or "")
        if param is None:
            continue
        value = m["value"]
        if m["key"] and value is None and param in SWITCHES:
            continue  # a bare name in prose is not a switch that is on
        cleaned = _clean_value(param, value)
        if cleaned is not None:
            found.append((m.start(), param, cleaned))
    for m in match_at_triggers(text, ("TP", "tp="), _PROSE_TP):
        if not m.start() or not (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_-"):
            found.append((m.start(), "tensor_parallel_size", m["value"]))
    for m in match_at_triggers(low, ("tensor", "pipeline"), _PROSE_PARALLEL):
        found.append((m.start(), f"{m['kind']}_parallel_size", m["value"]))
    found.sort()
    out: dict[str, str] = {}
    for _, param, value in found:
        out[param] = value  # first place, last value
    return out


# ------------------------------------------------------------------------------------------------------- GPU count

_COUNT_WORDS = {"one": 1, "single": 1, "a single": 1, "two": 2, "dual": 2, "three": 3, "four": 4, "five": 5,
                "six": 6, "seven": 7, "eight": 8, "sixteen": 16}
_GPU_MODEL = (r"(?:[ahlbvtp]\d{2,3}[a-z]?\d?|gh200|gb200|l40s?|l4|mi\d{3}[a-z]?|\d{4}(?:\s?ti)?|m40|k80|a6000"
              r"|910[a-c]?)(?:s(?![\w]))?")
_COUNT_TAIL = (r"(?:\s*[x×*]\s*|\s*-\s*|\s+)(?:\d{1,3}\s?gb?\s+)?"
               r"(?:(?:nvidia|amd|geforce|tesla|rtx|gtx|quadro|instinct|ascend)[\s-]+)*"
               r"(?:(?:gpus?|cards?|npus?|gpu\s+node)(?![\w-])|" + _GPU_MODEL + r"(?![\w-]))")
#: On lower-cased text: "2x A100", "8 GPUs", "8-card RTX 3090" (the character before the number is checked apart,
#: so that the scan can skip to the digits).
_DIGIT_COUNT = re.compile(r"(?P<n>\d{1,2})(?![\d.])" + _COUNT_TAIL)
#: "two GPUs", "a single A100", tried where the word starts.
_GPU_WORDS = re.compile(r"gpu|card|npu|" + _GPU_MODEL)
_WORD_COUNT = re.compile(r"(?<![\w.])(?P<n>a single|single|one|two|dual|three|four|five|six|seven|eight|sixteen)"
                         + _COUNT_TAIL)
_COUNT_TRIGGERS = minimal_triggers(["a single", "single", "one", "two", "dual", "three", "four", "five", "six",
                                    "seven", "eight", "sixteen"])
#: "more than one GPU", "at least 2 GPUs", "80GB per GPU": not the run's count.
_NOT_A_COUNT = re.compile(r"(?:than|least|most|to|per|each|every|of|vs\.?|versus)(?:\s+on)?\s+$")
_VISIBLE = re.compile(r"cuda_visible_devices['\"\]]*\s*[=:]\s*['\"]?(?P<ids>\d+(?:\s*,\s*\d+)*)")


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) <= 4096 else None


def extract_gpu_count(text: str, launch: dict[str, str], low: str | None = None) -> int | None:
    """The number of GPUs the run uses (see the module docstring for the order of the evidence).

    >>> extract_gpu_count("torchrun --nnodes 2 --nproc_per_node 8 train.py", {"nnodes": "2", "nproc_per_node": "8"})
    16
    >>> extract_gpu_count("Serving on 2x A100 80GB", {}), extract_gpu_count("one NVIDIA GPU (16GB)", {"np": "2"})
    (2, 1)
    >>> extract_gpu_count("GPU 0 has 79 GiB; 7B and 13B work; port 8000", {}) is None
    True
    """
    low = lower_same_length(text) if low is None else low
    nodes = _count(launch.get("nnodes")) or _count(launch.get("num_nodes")) or 1
    per_node = (_count(launch.get("nproc_per_node")) or _count(launch.get("num_gpus")))
    count = per_node * nodes if per_node else (
        _count(launch.get("num_processes")) or _count(launch.get("np")) or _count(launch.get("num_shard")))
    if count is None:
        sizes = [_count(launch.get(p)) for p in ("tensor_parallel_size", "pipeline_parallel_size",
                                                 "data_parallel_size")]
        if any(sizes):
            count = 1
            for s in sizes:
                count *= s or 1
    if count is None and "visible" in low:
        m = _VISIBLE.search(low)
        if m:
            count = len(m["ids"].split(","))
    digits = _DIGIT_COUNT.finditer(low) if _GPU_WORDS.search(low) else ()
    matches = [m for m in digits if not m.start() or not (low[m.start() - 1].isalnum() or low[m.start() - 1] in "_.")]
    matches += match_at_triggers(low, _COUNT_TRIGGERS, _WORD_COUNT)
    prose = [n for n in (_COUNT_WORDS.get(m["n"]) or _count(m["n"]) for m in matches
                         if not _NOT_A_COUNT.search(low, max(0, m.start() - 14), m.start())) if n]
    if count is None:
        return max(prose) if prose else None
    if prose and nodes == 1:
        return min(count, *prose)
    return count


# ---------------------------------------------------------------------------------------------------------- device

#: Explicit statements, on lower-cased text; the group name is the device.
_DEVICE = re.compile(
    r"(?:device_map|device|--device|torch\.device\()\s*[=:(]?\s*['\"]?(?P<dev>cuda|cpu|mps|npu|xpu|auto)\b"
    r"|device_map\s*=\s*\{\s*['\"]{2}\s*:\s*(?P<idx>\d)"
    r"|\.to\(\s*['\"](?P<to>cuda|cpu|mps|npu|xpu)"
    r"|\.(?P<call>cuda|npu|xpu)\(\)"
    r"|(?<![\w-])(?:on|using|with|via|in|\()\s+(?:the\s+|a\s+|my\s+)?(?P<cpu>cpu)s?(?:\s+only)?(?![\w/-])"
    r"|\((?P<cpu2>cpu)\)|(?<![\w-])(?P<cpu3>cpu)[- ]only"
    r"|_cpu_?\"? not implemented for (?P<cpu4>)"
    r"|(?<![\w-])(?:without\s+(?:a\s+|any\s+)?(?P<cpu5>gpu)s?|no\s+(?P<cpu7>gpu)s?(?=\s*(?:[),.;]|available|present"
    r"|\Z)))(?![\w-])"
    r"|(?<![\w-])(?:-ngl|--n-gpu-layers|n_gpu_layers|num_gpu)\s*[= ]\s*(?P<cpu6>0)(?![\w.])"
    r"|(?<![\w-])on\s+(?:my\s+|an?\s+)?(?:apple\s+)?(?P<mac>m[1-4])(?:\s+(?:pro|max|ultra))?\s+(?:mac|macbook)"
    r"|(?<![\w.])(?P<metal>metal)(?![\w])"
    r"|(?<![\w.])(?P<rocm>rocm|hip)(?![\w])"
    r"|(?<![\w.])(?P<xpu>intel\s+arc|ipex(?:-llm)?)(?![\w])")
_DEVICE_TRIGGERS = minimal_triggers(("device", "--device", "torch.device(", ".to(", ".cuda()", ".npu()", ".xpu()",
                                     "cpu", "_cpu", "metal", "rocm", "hip", "intel", "ipex", "-ngl", "--n-gpu",
                                     "n_gpu", "num_gpu"))
#: Where the statement starts before the word that says it ("on CPU", "without a GPU", "on my M2 Mac"), tried
#: only when that word is in the text.
_CPU_TRIGGERS = ("on ", "using ", "with ", "via ", "in ", "(")
_GPU_TRIGGERS = ("without", "no ")
_MAC_TRIGGERS = ("on ",)
_NPU = re.compile(r"(?<![a-z])npu(?::\d|s?\b)|torch_npu")
#: CUDA evidence: device strings, CUDA errors, the visible-devices variable, an NVIDIA GPU in prose.
_CUDA = re.compile(r"cuda:\d(?![\d.])|cuda out of memory|cuda error|cuda arch|torch\.cuda\.\w+error"
                   r"|cuda_visible_devices['\"\]]*\s*[=:]\s*['\"]?\d|nvidia\s+gpu")


def _device_of(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    if g["dev"]:
        return None if g["dev"] == "auto" else g["dev"]
    if g["idx"] is not None:
        return "cuda"
    if g["to"] or g["call"]:
        return g["to"] or g["call"]
    if g["cpu"] or g["cpu2"] or g["cpu3"] or g["cpu4"] is not None or g["cpu5"] or g["cpu6"] or g["cpu7"]:
        return "cpu"
    if g["mac"] or g["metal"]:
        return "mps"
    if g["rocm"]:
        return "rocm"
    return "xpu" if g["xpu"] else None


def _device_of_gpu(name: str) -> str:
    if name.startswith("Apple"):
        return "mps"
    if name.startswith("Ascend"):
        return "npu"
    return "rocm" if name.startswith("AMD") else "cuda"


def extract_device(text: str, gpus: Sequence[str] = (), low: str | None = None) -> str | None:
    """Where the model runs: the first explicit statement, else the first accelerator named (``gpus``, from
    :func:`failgraph.ingest.extract.hardware.find_gpus`), else CUDA evidence.

    >>> extract_device('model = AutoModelForCausalLM.from_pretrained(p, device_map="cpu")')
    'cpu'
    >>> extract_device("RuntimeError: \\"addmm_impl_cpu_\\" not implemented for 'Half'"), extract_device("on my M2 Mac")
    ('cpu', 'mps')
    >>> extract_device("ValueError: Found modules on cpu/disk. offload to cpu; device_map='auto'") is None
    True
    """
    low = lower_same_length(text) if low is None else low
    triggers = (*_DEVICE_TRIGGERS, *(_CPU_TRIGGERS if "cpu" in low else ()),
                *(_GPU_TRIGGERS if "gpu" in low else ()), *(_MAC_TRIGGERS if "mac" in low else ()))
    for m in match_at_triggers(low, minimal_triggers(triggers), _DEVICE):
        dev = _device_of(m)
        if dev:
            return dev
    if "npu" in low and _NPU.search(low):
        return "npu"
    if gpus:
        return _device_of_gpu(gpus[0])
    if ("cuda" in low or "nvidia" in low) and _CUDA.search(low):
        return "cuda"
    return None


# ---------------------------------------------------------------------------------------------------- model variant

_INSTRUCT_MARK = re.compile(r"(?:^|[-_.:/ ])(?:instruct|chat|it|sft|rlhf|dpo)(?=$|[-_.: ])", re.IGNORECASE)
_BASE_MARK = re.compile(r"(?:^|[-_.:/ ])base(?=$|[-_.: ])", re.IGNORECASE)
#: "base model" / "chat model" next to a model name (within a few characters, parentheses allowed).
_PROSE_VARIANT = re.compile(r"(?<![\w-])(?:(?P<base>base|pretrained|foundation)|(?P<chat>chat|instruct|instruction"
                            r"[- ]tuned))(?P<sep>\s+|-)(?:model|version|variant|checkpoint)s?(?![\w-])")
#: "Meta-Llama-3-8B (base, ...)", "Qwen2-7B (chat)": a bare variant word in parentheses right after a model name.
_PAREN_VARIANT = re.compile(r"\(\s*(?:the\s+|a\s+)?(?:(?P<base>base)|(?P<chat>chat|instruct))\b")
#: A sentence about someone else's setup: its models are not the reporter's.
_OTHERS = re.compile(r"(?:another|other)\s+(?:user|person|people|users)|someone\s+else|\bothers\b")
_VARIANT_TRIGGERS = ("base", "pretrained", "foundation", "chat", "instruct")
_SIZE_VARIANT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?b\s+(?P<v>chat|instruct)(?![\w-])")
#: A chat/instruct marker after a dash, in a token with a digit (a file or folder name of a model).
_DASHED_INSTRUCT = re.compile(r"-(?:instruct|chat|it)(?=$|[-.:/\s])")
_MODELISH = re.compile(r"[a-z]{2,}\d|\d(?:\.\d+)?b(?![a-z])")
_NOT_BEFORE = re.compile(r"(?:\bnot|\binstead\s+of|\brather\s+than|\bvs\.?|\bunlike)\s+(?:the\s+)?\S*$")


def extract_model_variant(text: str, models: Sequence[str], low: str | None = None) -> str | None:
    """``base`` or ``instruct`` (chat models count as instruct), or None when the report does not say.

    >>> extract_model_variant("I deploy Qwen2-7B (the base model, not Qwen2-7B-Instruct)", ["Qwen2-7B",
    ...                       "Qwen2-7B-Instruct"])
    'base'
    >>> extract_model_variant("ValueError: Target modules not found in the base model.", [])
    """
    low = lower_same_length(text) if low is None else low
    for m in match_at_triggers(low, _VARIANT_TRIGGERS, _PROSE_VARIANT):
        if m["base"] and m["sep"] != "-" and not _near_model(low, m, models):
            continue  # "not found in the base model" (an adapter's base), unless next to a model name
        return "base" if m["base"] else "instruct"
    for m in _PAREN_VARIANT.finditer(low) if "(" in low else ():
        if any(low.rfind(n.lower(), max(0, m.start() - len(n) - 2), m.start()) >= 0 for n in models):
            return "base" if m["base"] else "instruct"
    for name in models:
        i = low.find(name.lower())
        if i > 0 and _NOT_BEFORE.search(low, max(0, i - 20), i):
            continue
        if _OTHERS.search(low, _sentence_start(low, i), i):
            continue
        tail = name.rsplit("/", 1)[-1]
        if _INSTRUCT_MARK.search(tail):
            return "instruct"
        if _BASE_MARK.search(tail):
            return "base"
    m = _SIZE_VARIANT.search(low) if "chat" in low or "instruct" in low else None
    if m:
        return "instruct"
    for m in _DASHED_INSTRUCT.finditer(low):
        lo = max(0, m.start() - 120)
        start = max(lo - 1, *(low.rfind(c, lo, m.start()) for c in " \t\n/'\"`(")) + 1
        if _MODELISH.search(low, start, m.start()) and not _OTHERS.search(low, _sentence_start(low, start), start):
            return "instruct"  # Meta-Llama-3-70B-Instruct.IQ2_XS.gguf, CodeQwen1.5-Chat-stream.py: not model names
    return None


def _sentence_start(low: str, i: int) -> int:
    lo = max(0, i - 300)
    return max(lo - 1, low.rfind("\n", lo, i), low.rfind(". ", lo, i), low.rfind("; ", lo, i)) + 1


def _near_model(low: str, m: re.Match[str], models: Sequence[str]) -> bool:
    """A model name within the same clause: ``Llama-2-13b-hf base model``, ``Mistral-7B (base model)``,
    ``the base model (Llama-3.1-8B)``."""
    before, after = low[max(0, m.start() - 45):m.start()], low[m.end():m.end() + 45]
    for name in models:
        n = name.lower()
        k = before.rfind(n)
        if k >= 0 and not re.search(r"[.;!?]\s|\n", before[k + len(n):]):
            return True
        k = after.find(n)
        if k >= 0 and not re.search(r"[.;!?]\s|\n", after[:k]):
            return True
    return False


__all__ = ["ALIASES", "PARAMETERS", "SWITCHES", "WORD_VALUED", "canonical_parameter", "extract_device",
           "extract_gpu_count", "extract_launch", "extract_model_variant", "normalise_parameter"]
