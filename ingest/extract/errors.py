"""Error signatures: the exception and error lines of tracebacks and logs, masked so that machines agree.

A line is an error line when it is one of

* a Python exception line, ``[pkg.]SomeError: message`` (also ``SomeError("message")``, a bare ``AssertionError``,
  and one written inside a sentence: ``... it fails with KeyError: 'qwen2'. Any idea?``); ``*Warning:`` lines are
  kept with ``severity="warning"``;
* an error-level log line: ``ERROR ...``, ``[ERROR] ...``, ``ERROR:logger:...``, ``... - ERROR - ...``, glog
  ``[E ...]``;
* a native failure: ``CUDA error: ...``, ``NCCL error in: ...``, ``CUBLAS_STATUS_*``/``CUDA_ERROR_*`` codes,
  ``Segmentation fault``, ``Killed``, ``Aborted (core dumped)``, ``GGML_ASSERT``, a CUDA kernel ``Assertion `...`
  failed``, ``terminate called after throwing ...``, Rust and Go panics, ``Error: ...``/``error: ...`` CLI lines,
  llama.cpp-style ``function_name: <failure>`` lines;
* one of a short catalogue of well-known warnings that change results (right padding in decoder-only generation, a
  missing pad token, a missing pre-tokenizer, CUDA kernels not installed, ...), with ``severity="warning"``.

Traceback frames and quoted source lines are never error lines.

The **signature** masks paths (also quoted ones and model directories), URLs, hex addresses, hashes, GPU names,
sizes (``<SIZE>``) and numbers (``<NUM>``, except exit codes and statuses), keeps the first sentence of the message
and prefixes the short exception type:

>>> a = error_signature("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 3.50 GiB (GPU 3; 79.35 GiB"
...                     " total capacity; 77.08 GiB already allocated)")
>>> b = error_signature("[rank1]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 160.00 MiB (GPU 0; "
...                     "22.19 GiB total capacity; 21.65 GiB already allocated)")
>>> a.signature
'OutOfMemoryError: CUDA out of memory. Tried to allocate <SIZE>'
>>> a.signature == b.signature and a.id == b.id
True
>>> error_signature("ImportError: /home/x/env/lib/python3.11/site-packages/flash_attn_2_cuda.so: undefined symbol: _ZN3c10").signature
'ImportError: <PATH>: undefined symbol: _ZN3c10'
>>> error_signature("I tried it again today and it works.") is None
True
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

from ._text import match_at_triggers, minimal_triggers, trigger_positions
from .facts import ErrorSignature
from .hardware import mask_gpus

# ---------------------------------------------------------------------------------------------------------- prefixes

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_LINE_PREFIX = re.compile(
    r"^(?:\s*(?:\[rank\s?\d+\]:?|\[Rank\s?\d+\]|\((?:\w+\s+)?pid=\d+(?:,\s*ip=[\d.]+)?\)"
    r"|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?(?:\s+-)?"
    r"|\[\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?\]"
    r"|E\s{2,}(?=\w)|>>>)\s*)+")

# Log levels. Group "msg" is the rest of the line.
_LOG_ERROR = re.compile(
    r"^(?:"
    r"\[(?:ERROR|FATAL|CRITICAL)\]:?\s*"
    r"|(?:ERROR|FATAL|CRITICAL)(?:"
    r":(?=\S)"  # ERROR:torch.distributed...:msg (python logging basicConfig)
    r"|\s+\d\d-\d\d\s+\d\d:\d\d:\d\d(?:\.\d+)?\s+(?:\[?[\w.-]+:\d+\]\s*)?"  # vLLM: ERROR 05-10 20:17:12 file.py:145]
    r"|\s+(?=\S)|\s*:\s+)"
    r"|(?:[\w.-]+\s+-\s+)?(?:ERROR|CRITICAL|FATAL)\s+-\s+"  # logger - ERROR - msg
    r"|\[[EF](?:\d{4})?\s[^\]]*\]\s*"  # glog / c10: [E ProcessGroupNCCL.cpp:563]
    r"|[EF]\d{4}\s+\d\d:\d\d:\d\d\.\d+\s+\d+\s+\S+:\d+\]\s*"
    r"|level=(?:error|fatal)\b.*?\b(?:msg|err|error)="
    r")(?P<msg>.*)$")
_LOG_WARNING = re.compile(
    r"^(?:\[(?:WARNING|WARN)\]:?\s*|(?:WARNING|WARN)(?::|\s+-|\s+\d\d-\d\d\s+\d\d:\d\d:\d\d(?:\.\d+)?\s+"
    r"(?:\[?[\w.-]+:\d+\]\s*)?|\s+)\s*|(?:[\w.-]+\s+-\s+)?WARNING\s+-\s+|NCCL WARN\s+|(?:!+\s*)?Warning[,:]\s+)"
    r"(?P<msg>.*)$")
_LOG_QUIET = re.compile(r"^(?:\[?(?:INFO|DEBUG|TRACE|NOTE)\]?\b|\[[IWD](?:\d{4})?\s[^\]]*\]|[IWD]\d{4}\s+\d\d:)")

# ---------------------------------------------------------------------------------------------------------- patterns

_QUAL = r"(?P<qual>(?:[A-Za-z_][\w]*\.)*)"
_EXC_TYPE = (r"(?P<type>(?=[A-Z])(?=\w*[a-z])\w+(?:Error|Exception|Warning|Failure|Fault)"
             r"|Exception|KeyboardInterrupt|StopIteration|SystemExit|GeneratorExit)")
_PY_EXC = re.compile(r"^\s*(?:\S+\.py:\d+:\s+)?" + _QUAL + _EXC_TYPE +
                     r"(?:(?P<colon>:)(?:\s+(?P<msg>.*?))?|\((?P<repr>.*)\))?\s*$")
_PY_EXC_INLINE = re.compile(r"(?<![\w.])(?<!except )(?<!raise )" + _QUAL +
                            r"(?P<type>(?=[A-Z])(?=\w*[a-z])\w+(?:Error|Exception))(?P<colon>:)\s+(?P<msg>\S.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)(?<!etc\.)(?<!vs\.)\s+(?=[A-Z\"'(\[<])")

_NATIVE = re.compile(
    r"^(?P<kind>CUDA|NCCL|HIP|CUBLAS|CUDNN|MPS|Triton|triton|Metal|Vulkan|ROCm|XPU|NPU|ACL|llama\.cpp|ggml|GGML"
    r"|llama_cpp|cuda|Cuda|nccl|fatal|Fatal)\s+(?:error|Error|ERROR)(?:\s+(?P<code>-?\d+))?(?:\s+at\s+\S+?(?::\d+)?)?"
    r"(?:\s+in)?\s*:\s*(?:\S+:\d+,\s*)?(?P<msg>.*)$")
_CUDA_FAILURE = re.compile(r"^(?:Cuda|CUDA) failure(?:\s+(?P<code>\d+))?\s*:?\s*(?P<msg>.*)$")
_SIGNAL = re.compile(
    r"^(?:(?:\[\d+\]\s+)?\d+\s+|\w+:\s+(?:line\s+\d+:\s+)?(?:\d+\s+)?)?"
    r"(?P<kind>Killed|Segmentation fault|Aborted|Bus error|Illegal instruction|Floating point exception"
    r"|segmentation fault|killed|aborted)(?:\s*\(core dumped\))?"
    r"(?:\s+(?:\S*python\S*|torchrun|accelerate|deepspeed|llamafactory-cli|vllm|ollama|bash|sh|\.{0,2}/\S+|\S+\.py)"
    r"(?:\s.*)?)?$")
_PANIC_RUST = re.compile(r"^thread '(?P<thread>[^']*)' panicked at "
                         r"(?:'(?P<quoted>.*)', \S+:\d+:\d+|(?P<loc>\S+:\d+:\d+):|(?P<msg>.*))$")
_PANIC_GO = re.compile(r"^panic:\s+(?P<msg>.+)$")
_ERROR_PREFIX = re.compile(r"^(?:Error|error|ERROR)(?:\[\w+\])?:\s*(?P<msg>.+)$")
_ERROR_KV = re.compile(r"(?:^|\s)(?:err|error)=\"(?P<msg>[^\"]+)\"?")
_ERROR_SENTENCE = re.compile(r"^Error (?:while|when|in|during|loading|executing|occurred|occured|processing)\b.*$")
_LOWER_ERROR = re.compile(r"^(?:error|failed|failure)\s+(?:to|loading|while|when|in)\b.*$")
_GGML_ASSERT = re.compile(r"GGML_ASSERT(?::\s*(?P<loc>\S+?:\d+):\s*(?P<cond>.*)|\((?P<cond2>.*)\)\s*failed)")
_KERNEL_ASSERT = re.compile(r"Assertion `(?P<cond>.+?)` failed\.?")
_TERMINATE = re.compile(r"^terminate called after throwing an instance of '(?P<type>[^']+)'")
_WHAT = re.compile(r"^\s*what\(\):\s*(?P<msg>.*)$")
_FUNC_PREFIX = re.compile(r"^(?P<fn>[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z_][\w]*(?:\.[a-z_]\w*)+):\s?(?P<msg>\S.*)$")
_FUNC_INLINE = re.compile(r"(?<![\w.])(?P<fn>[a-z][a-z0-9]*(?:_[a-z0-9]+){2,}):\s(?P<msg>[^.;]*)")
_STATE_DICT = re.compile(r"^\s*(?:size mismatch for \S+: copying a param"
                         r"|(?:Missing|Unexpected) key\(s\) in state_dict)")
_FAILURE_WORDS = re.compile(
    r"\b(?:errors?|fail(?:ed|ure|s)?|invalid|unknown|unable|cannot|can't|could not|not supported|unsupported"
    r"|out of memory|abort(?:ed|ing)?|assert(?:ion)?|DEGRADED|missing|mismatch|not found|insufficient|illegal"
    r"|exceed(?:s|ed)?|denied|timed? ?out|killed|terminated|crash(?:ed)?|not installed|incompatible)\b",
    re.IGNORECASE)
_CODES = re.compile(r"\b(?P<code>(?P<fam>CUBLAS|CUDNN|HIPBLAS|CURAND|CUSOLVER|CUSPARSE)_STATUS_[A-Z_]+"
                    r"|(?P<fam2>CUDA)_ERROR_[A-Z_]+|cudaError[A-Z]\w+"
                    r"|nccl(?:System|Internal|InvalidUsage|InvalidArgument|UnhandledCuda|Remote)Error)\b")
_CODE_LINE = re.compile(r"^\s*(?:[\w.]+\s*=\s|assert\s|raise\s|return\s|if\s|elif\s|for\s|while\s|import\s|from\s+\S+"
                        r"\s+import\s|with\s|def\s|class\s|self\.|[\w.\[\]]+\(.*\)\s*$|--->\s*\d+|\d+\s+[\w.]+\s*=)")
_FRAME = re.compile(r"^\s*(?:File \"|File '|Traceback \(most recent call last\)|During handling of the above"
                    r"|The above exception was the direct cause|\^+\s*$|~+\^*~*\s*$|at [\w.$]+\(\S+:\d+\))")

#: Error messages that are often pasted without their exception type, with the type they are raised as (None when
#: the message is not a Python exception). Matched at the start of a line only.
KNOWN_ERROR_MESSAGES: tuple[tuple[str, str | None], ...] = (
    (r"No module named '", "ModuleNotFoundError"),
    (r"cannot import name '", "ImportError"),
    (r"[\w.]+\(\) got an unexpected keyword argument", "TypeError"),
    (r"[\w.]+\(\) (?:takes \d+ positional arguments? but \d+ (?:were|was) given|missing \d+ required positional)",
     "TypeError"),
    (r"'?[\w.]+'? object has no attribute", "AttributeError"),
    (r"CUDA out of memory", "OutOfMemoryError"),
    (r"probability tensor contains either", "RuntimeError"),
    (r"Expected all tensors to be on the same device", "RuntimeError"),
    (r"element 0 of tensors does not require grad", "RuntimeError"),
    (r"Distributed package doesn't have NCCL built in", "RuntimeError"),
    (r"FlashAttention only supports Ampere GPUs or newer", "RuntimeError"),
    (r"CUDA Setup failed despite GPU being available", "RuntimeError"),
    (r"Error\(s\) in loading state_dict for", "RuntimeError"),
    (r"Trying to set a tensor of shape", "ValueError"),
    (r"Tokenizer class \S+ does not exist or is not currently imported", "ValueError"),
    (r"Asking to pad but the tokenizer does not have a padding token", "ValueError"),
    (r"Cannot use chat template functions because tokenizer\.chat_template is not set", "ValueError"),
    (r"Unknown quantization type", "ValueError"),
    (r"Bfloat16 is only supported on GPUs with compute capability", "ValueError"),
    (r"Model architectures? \[.*\] (?:is|are) not supported", "ValueError"),
    (r"The model's max seq len \(\d+\) is larger than the maximum number of tokens", "ValueError"),
    (r"Total number of attention heads \(\d+\) must be divisible by tensor parallel size", "ValueError"),
    (r"The input size is not aligned with the quantized weight shape", "ValueError"),
    (r"type \w+ not supported in this architecture", "ValueError"),
    (r"(?:Conversion from/to )?\w+ is only supported on (?:GPUs with )?compute capability", None),
    (r"(?:error loading model(?: architecture)?: )?unknown model architecture", None),
    (r"(?=[\w.-]*[\d_.])[\w.-]+ (?:is|are) not supported (?:yet|for now)\b", None),
    (r"\w+ cannot implement due to:", None),
    (r"\S+ \d\S* requires .+, but you have .+ which is incompatible", "pip"),
    (r"\S+\.so(?:\.[\d.]+)?: (?:undefined symbol|cannot open shared object file)", "ImportError"),
    (r"DLL load failed while importing", "ImportError"),
    (r"(?:Exception in worker \S+ while processing method \w+: )?Cannot re-initialize CUDA in forked subprocess",
     "RuntimeError"),
    (r"Can't pickle <", "PicklingError"),
    (r"Cannot instantiate Tokenizer from buffer", "Exception"),
    (r"The checkpoint you are trying to load has model type", "ValueError"),
    (r"`rope_scaling` must be a dictionary", "ValueError"),
    (r"(?:\[Rank \d+\] )?Watchdog caught collective operation timeout", None),
    (r"no kernel image is available for execution on the device", None),
    (r"NVIDIA [\w ]+ with CUDA capability sm_\d+ is not compatible with the current PyTorch installation", None),
    (r"Detected errors during sampling", None),
    (r"[\w.-]+: error: unrecognized arguments:", None),
    (r"(?:error loading model vocabulary ?: )?unknown pre-tokenizer type", None),
    (r"Model type \w+ not supported", None),
    (r"\S+ does not support tools", None),
    (r"The model you are attempting to pull requires a newer version of Ollama", None),
    (r"Failed to parse Jinja template", None),
    (r"(?:Failed to initialize samplers: )?failed to parse grammar", None),
    (r"nvidia-container-cli: requirement error", None),
    (r"(?:Error )?CUDA error: [a-z][\w ]+", "RuntimeError"),
    (r"Missing key\(s\) in state_dict", "RuntimeError"),
    (r"unsupported operand type\(s\) for", "TypeError"),
    (r"module '[\w.]+' has no attribute", "AttributeError"),
    (r"Field required \[type=missing", "ValidationError"),
    (r"Value error, ", "ValidationError"),
    (r"Input prompt \(\d+ tokens\) is too long and exceeds limit of \d+", None),
    (r"Parameter \S+ not found in params_dict", None),
    (r"Scheduler hit an exception", None),
    (r"Failed to load model from file", None),
    (r"\{\s*\"object\"\s*:\s*\"error\"\s*,\s*\"message\"", None),
    (r"what\(\): +\S", None),
    (r"\(Exit code: -?\d+\)\.? Unknown error", None),
    (r"(?:md5|sha\d+)sum: WARNING: \d+ (?:of \d+ )?computed checksums? did NOT match", None),
    (r"(?:fatal: repository '[^']+' not found|remote: Repository not found)", None),
    (r"Server error: [45]\d\d - ", None),
)
_KNOWN_ERROR_RE = re.compile("|".join(f"(?P<k{i}>{rx})" for i, (rx, _) in enumerate(KNOWN_ERROR_MESSAGES)))
#: Where a quoted error message starts inside a sentence: "... it fails with: No module named 'x'".
_INTRO = re.compile(r"(?:with|error|errors? out|says|shows|gives|raises|reports|prints|fails|failed|got|get)\s*$")
_DEPRECATION = re.compile(r"\bdeprecat", re.IGNORECASE)
_NOISY_WARNINGS = frozenset({"DeprecationWarning", "FutureWarning", "PendingDeprecationWarning"})

#: Well-known warnings that change results. Each is matched anywhere in a line; the line from the match on is kept.
KNOWN_WARNINGS: tuple[str, ...] = (
    r"A decoder-only architecture is being used, but right-padding was detected",
    r"The attention mask and the pad token id were not set",
    r"The attention mask is not set and cannot be inferred from input because pad token is same as eos token",
    r"Setting `pad_token_id` to `eos_token_id`",
    r"Some weights of (?:the model checkpoint at )?\S+ were not (?:initialized|used)",
    r"You are using a model of type \S+ to instantiate a model of type",
    r"Special tokens have been added in the vocabulary",
    r"Some parameters are on the meta device",
    r"CUDA extension not installed",
    r"CUDA kernels for auto_gptq are not installed",
    r"Exllama(?:v2)? kernel is not installed",
    r"exllama(?:v2)? kernel is not installed",
    r"`use_cache=True` is incompatible with gradient checkpointing",
    r"missing pre-tokenizer type",
    r"GENERATION QUALITY WILL BE DEGRADED",
    r"tried to get lr value before scheduler/optimizer started stepping",
    r"Unrecognized keys in `rope_scaling`",
    r"Token indices sequence length is longer than the specified maximum sequence length",
    r"the current text generation call will exceed the model's predefined maximum length",
    r"Input length of input_ids is \d+, but `max_length` is set to",
    r"Torch was not compiled with flash attention",
    r"You set `add_prefix_space`",
    r"The tokenizer class you load from this checkpoint is not the same type as the class this function is called",
    r"No chat template is (?:set|defined)",
    r"The NVIDIA driver on your system is too old",
    r"Current loss scale already at minimum",
    r"No available block found in \d+ seconds?",
    r"is preempted by (?:PreemptionMode|RECOMPUTE|SWAP)",
    r"Possibly too large swap space",
    r"Detected that you are passing `past_key_values` as a tuple",
    r"was not (?:found|compiled) with (?:flash.?attention|FlashAttention)",
    r"does not support Flash Attention 2\.0 yet",
    r"quantization is not fully optimized yet",
    r"xFormers can't load C\+\+/CUDA extensions",
)
_KNOWN_WARNING = re.compile("|".join(f"(?:{w})" for w in KNOWN_WARNINGS))
#: The literal start of each known warning: where a search for them is worth trying.
_WARNING_TRIGGERS = minimal_triggers(re.split(r"[\\(\[?*+]", w)[0][:24] for w in KNOWN_WARNINGS)

# ------------------------------------------------------------------------------------------------------ normalising

_MODULE_DIR = re.compile(r"transformers_modules[./\\][^\s'\"]*?[./\\](?=(?:configuration|modeling|tokenization|"
                         r"generation|processing|image_processing)_\w)")
_QUOTED_PATH = re.compile(r"(['\"`])([^'\"`\n]*?[/\\][^'\"`\n]*?)\1")
_ANGLE_PATH = re.compile(r"<([^<>\s]*[/\\][^<>\s]*)>")
_URL = re.compile(r"\b(?:https?|file|s3|gs)://[^\s'\"<>)]+")
_WIN_PATH = re.compile(r"(?<![\w])[A-Za-z]:\\[^\s'\"<>,;]*|(?<![\w\\])\.{1,2}\\[^\s'\"<>,;]+")
_UNIX_PATH = re.compile(r"(?<![\w.<>*-])(?:~|\.{1,2})?(?:/[^\s/'\"`:,;()\[\]{}<>|]+){2,}/?"
                        r"|(?<![\w/<])\.{1,2}/[^\s'\"`:,;()\[\]{}<>|]+"
                        r"|(?<![\w/.<-])[\w.-]+(?:/[\w.-]+)+\.[A-Za-z][\w]{0,9}(?![\w/])")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HASH = re.compile(r"(?<![\w])(?:[0-9a-f]{16,}|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,15})(?![\w])")
_SIZE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s*(?:[KMGTP]i?B|bytes)(?![\w])")
_NUMBER = re.compile(r"(?<![\w.<>])-?\d+(?:\.\d+)*(?:e[-+]?\d+)?(?![\w])")
_KEEP_NUMBER_AFTER = re.compile(r"(?:exit ?code|return code|code|status|signal|errno|exitcode|error)\s*[:=]?\s*$",
                                re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_RANK_TAG = re.compile(r"^\[[Rr]ank <NUM>\]:?\s*")


def _mask_number(m: re.Match[str], mask: str = "<NUM>") -> str:
    """Exit codes, statuses and signals identify the failure: they stay."""
    s = m.string
    if _KEEP_NUMBER_AFTER.search(s, max(0, m.start() - 16), m.start()):
        return m.group(0)
    return mask


def normalise_message(message: str) -> str:
    """The message with machine-specific parts masked and whitespace collapsed (not truncated).

    >>> normalise_message("Can't load tokenizer for '/data/models/Qwen-7B'. Found 3 files at 0x7f3a2c in 2.5 s")
    "Can't load tokenizer for '<PATH>'. Found <NUM> files at <HEX> in <NUM> s"
    >>> normalise_message("failed (exitcode: -9) local_rank: 0 (pid: 29066) of binary: /usr/bin/python3")
    'failed (exitcode: -9) local_rank: <NUM> (pid: <NUM>) of binary: <PATH>'
    """
    s = _ANSI.sub("", message) if "\x1b" in message else message
    if "transformers_modules" in s:
        s = _MODULE_DIR.sub("transformers_modules.<MODEL>.", s)
    if "://" in s:
        s = _URL.sub("<URL>", s)
    slash, backslash = "/" in s, "\\" in s
    if slash or backslash:
        s = _QUOTED_PATH.sub(lambda m: f"{m[1]}<PATH>{m[1]}", s)
        s = _ANGLE_PATH.sub("<PATH>", s)
        if backslash:
            s = _WIN_PATH.sub("<PATH>", s)
        s = _UNIX_PATH.sub("<PATH>", s)
    if any(c.isdigit() for c in s):
        if "-" in s:
            s = _UUID.sub("<UUID>", s)
        if "0x" in s:
            s = _HEX.sub(lambda m: _mask_number(m, "<HEX>"), s)
        s = _HASH.sub("<HASH>", s)
        s = mask_gpus(s)
        s = _SIZE.sub("<SIZE>", s)
        s = _NUMBER.sub(_mask_number, s)
    else:
        s = mask_gpus(s)
    return _SPACES.sub(" ", s).strip()


def _first_sentence(s: str) -> str:
    """The first sentence; when it is very short ("CUDA out of memory."), also the head of the second one."""
    m = _SENTENCE_END.search(s)
    if not m:
        return s.rstrip(" .:;,")
    head = s[:m.start()]
    if len(head.split()) <= 4:
        rest = s[m.end():]
        m2 = _SENTENCE_END.search(rest)
        if m2:
            rest = rest[:m2.start()]
        rest = re.split(r"\s\(|;", rest, maxsplit=1)[0].rstrip(" .:;,")
        if rest:
            return f"{head} {rest}"
    return head.rstrip(" .:;,")


def make_signature(exception_type: str | None, message: str) -> str:
    """``Type: first sentence of the normalised message`` (or either part alone).

    >>> make_signature("KeyError", "'qwen2'")
    "KeyError: 'qwen2'"
    >>> make_signature("ValueError", "Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
    ...                "Your Tesla V100-SXM2-32GB GPU has compute capability 7.0.")
    'ValueError: Bfloat16 is only supported on GPUs with compute capability of at least <NUM>'
    """
    msg = _RANK_TAG.sub("", _first_sentence(normalise_message(message))) if message else ""
    if exception_type and msg:
        return f"{exception_type}: {msg}"
    return exception_type or msg


# ---------------------------------------------------------------------------------------------------------- lines


def _unquote_repr(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def _python_exception(line: str) -> tuple[str, str, str] | None:
    m = _PY_EXC.match(line)
    if not m:
        return None
    etype = m["type"]
    msg = m["msg"] or ""
    if m["repr"] is not None:
        msg = _unquote_repr(m["repr"])
    return etype, msg, "warning" if etype.endswith("Warning") else "error"


def _classify(line: str, next_line: str | None) -> tuple[str | None, str, str] | None:
    """``(type, message, severity)`` when one prepared line (prefixes cut) is an error line, else None."""
    stripped = line.strip()
    if not stripped or _FRAME.match(line):
        return None

    py = _python_exception(line)
    if py:
        if py[0] in _NOISY_WARNINGS or (py[2] == "warning" and _DEPRECATION.search(py[1])):
            return None
        return py[0], py[1], py[2]
    if _STATE_DICT.match(line):
        return None, stripped, "error"
    if line[:1].isspace() and _CODE_LINE.match(line):
        return None  # a traceback frame's source line

    m = _LOG_ERROR.match(stripped)
    if m:
        rest = m["msg"]
        if not rest.strip() or _FRAME.match(rest) or rest[:1].isspace() or _CODE_LINE.match(rest):
            return None
        inner = _python_exception(rest)
        if inner:
            return inner[0], inner[1], "error"
        return _known_message_type(rest.strip()), rest.strip(), "error"
    if _LOG_QUIET.match(stripped):
        return None
    m = _LOG_WARNING.match(stripped)
    if m:
        rest = m["msg"].strip()
        if rest and (_FAILURE_WORDS.search(rest) or _KNOWN_WARNING.search(rest)):
            return None, rest, "warning"
        return None

    m = _TERMINATE.match(stripped)
    if m:
        what = _WHAT.match(next_line or "")
        return m["type"], (what["msg"] if what else ""), "error"
    m = _NATIVE.match(stripped)
    if m:
        kind = m["kind"]
        kind = kind.upper() if kind.lower() in ("cuda", "nccl") else kind
        msg = m["msg"].strip() or (m["code"] or "")
        return f"{kind} error", msg, "error"
    m = _CUDA_FAILURE.match(stripped)
    if m:
        return "CUDA failure", _unquote_repr(m["msg"]) or (m["code"] or ""), "error"
    m = _SIGNAL.match(stripped)
    if m:
        kind = m["kind"]
        return kind[0].upper() + kind[1:], "", "error"
    m = _PANIC_RUST.match(stripped)
    if m:
        msg = m["quoted"] or m["msg"] or (next_line or "").strip()  # Rust >= 1.73 puts the message on the next line
        return "panic", msg, "error"
    m = _PANIC_GO.match(stripped)
    if m:
        return "panic", m["msg"], "error"
    m = _ERROR_PREFIX.match(stripped)
    if m:
        inner = _python_exception(m["msg"])
        if inner:
            return inner[0], inner[1], "error"
        return "Error", m["msg"], "error"
    known = _KNOWN_ERROR_RE.match(stripped)
    if known:
        return KNOWN_ERROR_MESSAGES[int(known.lastgroup[1:])][1], stripped, "error"
    if _ERROR_SENTENCE.match(stripped) or _LOWER_ERROR.match(stripped):
        return None, stripped, "error"
    m = _GGML_ASSERT.search(stripped)
    if m:
        cond = m["cond"] if m["cond"] is not None else m["cond2"]
        return "GGML_ASSERT", cond.strip(), "error"
    m = _KERNEL_ASSERT.search(stripped)
    if m:
        return "Assertion", f"`{m['cond']}` failed", "error"
    m = _FUNC_PREFIX.match(stripped)
    if m and not _CODE_LINE.match(stripped):
        if _KNOWN_WARNING.search(m["msg"]):
            return None, stripped, "warning"
        if _FAILURE_WORDS.search(m["msg"]):
            return None, stripped, "error"
    m = _ERROR_KV.search(stripped)
    if m:
        return "Error", m["msg"], "error"
    return None


def _known_message_type(message: str) -> str | None:
    m = _KNOWN_ERROR_RE.match(message)
    return KNOWN_ERROR_MESSAGES[int(m.lastgroup[1:])][1] if m and m.lastgroup else None


def _inline(line: str, *, code: bool = False,
            warning_here: bool = True) -> Iterator[tuple[str | None, str, str, int, int]]:
    """Exceptions, status codes and known warnings written inside a sentence: (type, message, severity, start, end).

    On a source line (``code``) only exceptions are looked for (``if x["type"] not in, KeyError: 'type'``).
    """
    pos = 0
    while "Error: " in line or "Exception: " in line:
        m = _PY_EXC_INLINE.search(line, pos)
        if not m:
            break
        msg = m["msg"]
        if msg[:1] in "{%":
            pos = m.end()
            continue  # a format string in code: logger.error(f"RuntimeError: {e}")
        end = _SENTENCE_END.search(msg)
        if end:
            msg = msg[:end.start()]
        before = line[m.start() - 1] if m.start() else ""
        if before in "'\"`" and msg.endswith(before):
            msg = msg[:-1]
        msg = msg.rstrip()
        stop = m.start("msg") + len(msg)
        yield m["type"], msg, "error", m.start(), stop
        pos = stop
    if pos == 0 and not code:
        fn = _FUNC_INLINE.search(line) if "_" in line and ": " in line else None
        if fn and _FAILURE_WORDS.search(fn["msg"]):
            text = f"{fn['fn']}: {fn['msg'].rstrip()}"
            yield None, text, "error", fn.start(), fn.start() + len(text)
            return
        colon = line.find(": ")
        while colon > 0:
            at = colon + 2
            while at < len(line) and line[at] == " ":
                at += 1
            known = _KNOWN_ERROR_RE.match(line, at)
            if known and _INTRO.search(line, max(0, colon - 12), colon):
                msg = line[at:]
                end = _SENTENCE_END.search(msg)
                msg = (msg[:end.start()] if end else msg).rstrip()
                yield KNOWN_ERROR_MESSAGES[int(known.lastgroup[1:])][1], msg, "error", at, at + len(msg)
                return
            colon = line.find(": ", colon + 1)
        code = _CODES.search(line) if ("_STATUS_" in line or "CUDA_ERROR_" in line or "cudaError" in line
                                       or "nccl" in line) else None
        if code:
            fam = code["fam"] or code["fam2"] or ("NCCL" if code["code"].startswith("nccl") else "CUDA")
            yield fam, code["code"], "error", code.start(), code.end()
            return
        w = next(iter(match_at_triggers(line, _WARNING_TRIGGERS, _KNOWN_WARNING)), None) if warning_here else None
        if w and not _CODE_LINE.match(line):
            text = line[w.start():].rstrip()
            yield None, text, "warning", w.start(), len(line.rstrip())


def _prepare(line: str) -> tuple[str, int]:
    """Strip ANSI codes and rank/pid/timestamp prefixes; return the line and how many characters were cut in front."""
    clean = _ANSI.sub("", line.rstrip("\r\n"))
    m = _LINE_PREFIX.match(clean)
    cut = m.end() if m and m.end() else 0
    return clean[cut:], cut


_ASSERT_SOURCE = re.compile(r"^\s*assert\s+(?P<expr>.+?)\s*$")


def _iter_errors(text: str) -> Iterator[ErrorSignature]:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    prepared = [_prepare(line) for line in lines]
    warn_at = trigger_positions(text, _WARNING_TRIGGERS)  # where a known warning may start

    def span_of(i: int) -> tuple[int, int]:
        plain = lines[i].rstrip("\r\n")
        lead = len(plain) - len(plain.lstrip())
        return starts[i] + lead, starts[i] + len(plain.rstrip())

    i = 0
    while i < len(lines):
        body, cut = prepared[i]
        nxt = prepared[i + 1][0] if i + 1 < len(prepared) else None
        found = _classify(body, nxt)
        if found:
            etype, msg, severity = found
            first, last = i, i
            if etype == "AssertionError" and not msg and i > 0 and _ASSERT_SOURCE.match(prepared[i - 1][0]):
                msg = "assert " + _ASSERT_SOURCE.match(prepared[i - 1][0])["expr"]  # the failed assertion
                first = i - 1
            elif etype and not msg and body.rstrip().endswith(":"):
                j = i + 1
                while j < len(lines) and j <= i + 2 and not prepared[j][0].strip():
                    j += 1
                if j < len(lines) and prepared[j][0][:1].isspace() and not _FRAME.match(prepared[j][0]):
                    msg, last = prepared[j][0].strip(), j  # "RuntimeError:" with the message on the next line
            if etype is not None or msg:
                sig = make_signature(etype, msg)
                start, end = span_of(first)[0], span_of(last)[1]
                if sig:
                    yield ErrorSignature(exception_type=etype, message=msg, signature=sig, raw=text[start:end],
                                         severity=severity, start=start)
            i = last + 1
            continue
        if not _FRAME.match(body):
            code = body[:1].isspace() or bool(_CODE_LINE.match(body))
            k = bisect_left(warn_at, starts[i])
            here = k < len(warn_at) and warn_at[k] < starts[i + 1]
            for etype, msg, severity, s0, e0 in _inline(body, code=code, warning_here=here):
                raw = body[s0:e0].strip()
                sig = make_signature(etype, msg)
                if sig and raw:
                    start = starts[i] + cut + s0 + (len(body[s0:e0]) - len(body[s0:e0].lstrip()))
                    yield ErrorSignature(exception_type=etype, message=msg, signature=sig, raw=raw,
                                         severity=severity, start=start)
        i += 1


def extract_errors(text: str, *, warnings: bool = True) -> list[ErrorSignature]:
    """Error (and, unless ``warnings=False``, important warning) signatures in order, one per distinct signature.

    >>> report = '''Traceback (most recent call last):
    ...   File "/home/alice/miniconda3/envs/qwen/lib/python3.10/site-packages/transformers/models/auto/configuration_auto.py", line 1022, in from_pretrained
    ...     config_class = CONFIG_MAPPING[config_dict["model_type"]]
    ... KeyError: 'qwen2'
    ... [rank1]: RuntimeError: CUDA error: device-side assert triggered
    ... A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.'''
    >>> [(e.exception_type, e.signature, e.severity) for e in extract_errors(report)]  # doctest: +NORMALIZE_WHITESPACE
    [('KeyError', "KeyError: 'qwen2'", 'error'),
     ('RuntimeError', 'RuntimeError: CUDA error: device-side assert triggered', 'error'),
     (None, 'A decoder-only architecture is being used, but right-padding was detected!', 'warning')]
    """
    out: list[ErrorSignature] = []
    seen: set[str] = set()
    for e in _iter_errors(text):
        if (not warnings and e.severity == "warning") or e.signature in seen:
            continue
        seen.add(e.signature)
        out.append(e)
    return out


def error_signature(line: str) -> ErrorSignature | None:
    """The signature of one error line (the first error in it), or None when it is not an error line."""
    for e in _iter_errors(line):
        return e
    return None


__all__ = ["KNOWN_WARNINGS", "error_signature", "extract_errors", "make_signature", "normalise_message"]
