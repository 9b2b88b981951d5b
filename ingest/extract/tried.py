"""What a report has already tried, and what it rules out.

A sentence is read for tried fixes when it says so: before the fix ("I already tried X", "Tried X", "tried upgrading
X", "same with/without X", "also happens with X") or after it ("X didn't help", "X, no luck", "X made no difference",
"X: still fails", "X gives the same error"). "I haven't tried anything" says nothing. Inside that part of the
sentence, the fixes are read in the fix vocabulary (``ontology/fix_actions.ttl``), targets spelled as
``docs/labeling-guide.md`` says:

* ``upgrade``/``downgrade``/``install``/``uninstall`` of a library or component ("upgraded deepspeed and torch",
  "reinstalled flash-attn", "pip install -U peft", "rebuilt llama.cpp", "downgraded transformers to 4.38.2");
* ``set-parameter`` for flags (``--enforce-eager``), ``name=value`` settings, "setting num_ctx to 8192", and the
  sampling and training knobs named in prose (temperature, learning rate, lora rank, gradient checkpointing);
  ``reduce-memory`` when the parameter is a memory limit (``--max-model-len 2048``, "reducing max_seq_length") or
  the quantised model was tried; ``change-dtype`` for ``dtype``/``torch_dtype`` and "fp16"/"float32";
* ``fix-template-or-tokens`` for the chat template, eos/pad/stop tokens; ``change-code`` for an edited ``.py`` file;
  ``use-other-model-or-file`` (``checkpoint``) for a downloaded-again model.

Ruled out (``not_using``): "not using deepspeed or accelerate", "we don't use docker", "not using any quantization"
— libraries as PyPI names, features in lower case.

>>> [(t.action, t.target, t.value) for t in extract_tried(
...     "I already tried --enforce-eager, same crash. Upgraded transformers to 4.41 but it didn't help.")]
[('set-parameter', 'enforce_eager', 'true'), ('upgrade', 'transformers', '4.41')]
>>> extract_not_using("I'm not using deepspeed or accelerate, and we don't use docker.")
['deepspeed', 'accelerate', 'docker']
"""

from __future__ import annotations

import re

from ._text import lower_same_length, match_at_triggers, trigger_positions
from .facts import TriedFix
from .libraries import LIBRARY_ALIASES, normalise_library_name
from .usage import canonical_parameter, normalise_parameter

#: Actions of ``fix_actions.ttl`` this module emits (a test checks them against the vocabulary).
UPGRADE, DOWNGRADE, INSTALL, UNINSTALL = "upgrade", "downgrade", "install", "uninstall"
SET_PARAMETER, REDUCE_MEMORY, CHANGE_DTYPE = "set-parameter", "reduce-memory", "change-dtype"
FIX_TOKENS, CHANGE_CODE, OTHER_MODEL = "fix-template-or-tokens", "change-code", "use-other-model-or-file"
EMITTED_ACTIONS = frozenset({UPGRADE, DOWNGRADE, INSTALL, UNINSTALL, SET_PARAMETER, REDUCE_MEMORY, CHANGE_DTYPE,
                             FIX_TOKENS, CHANGE_CODE, OTHER_MODEL})

#: Parameters whose lowering saves memory: trying one is a ``reduce-memory``.
MEMORY_PARAMETERS = frozenset({
    "max_model_len", "max_num_seqs", "max_num_batched_tokens", "max_seq_length", "max_seq_len", "cutoff_len",
    "per_device_train_batch_size", "per_device_eval_batch_size", "batch_size", "max_batch_size", "max_new_tokens",
    "num_ctx", "ctx_size", "n_ctx", "max_length"})
#: Arguments that name things rather than settings (and pip's own options): never a tried fix.
_NOT_A_FIX = frozenset({
    "model", "model_id", "model_path", "model_name_or_path", "served_model_name", "tokenizer", "tokenizer_path",
    "ckpt_dir", "port", "host", "template", "history", "config", "output_dir", "dataset", "trust_remote_code",
    "pre", "force_reinstall", "index_url", "extra_index_url", "upgrade", "no_cache_dir", "no_build_isolation",
    "user", "no_deps", "u", "y", "deepspeed"})
_TOKEN_TARGETS = (("chat_template", r"chat[_ ]template"), ("eos_token", r"eos[_ ]token(?:_id)?|eos"),
                  ("pad_token", r"pad[_ ]token(?:_id)?"), ("special_tokens", r"special[_ ]tokens"),
                  ("stop_tokens", r"stop(?:ping)?[_ ](?:tokens?|strings?|words?|sequences?)|stop_token_ids"))
_PROSE_PARAMETERS = (("learning_rate", r"learning[_ ]rate|\blr\b"), ("lora_rank", r"lora[_ ]rank"),
                     ("base_url", r"base[_ ]url|api[_ ]base"),
                     ("temperature", r"temperature"), ("top_p", r"top[_ ]p"), ("top_k", r"top[_ ]k"),
                     ("repetition_penalty", r"repetition[_ ]penalty"),
                     ("gradient_checkpointing", r"gradient[_ ]checkpointing"), ("batch_size", r"batch[_ ]size"))
_PROSE_NAMES = frozenset(name for name, _ in _PROSE_PARAMETERS)
_DTYPES = {"fp16": "float16", "float16": "float16", "half": "half", "bf16": "bfloat16", "bfloat16": "bfloat16",
           "fp32": "float32", "float32": "float32"}
_COMPONENTS = {"llama.cpp": "llama.cpp", "llama-cpp": "llama.cpp", "cuda": "cuda", "cuda toolkit": "cuda",
               "nvidia driver": "nvidia driver", "driver": "nvidia driver", "nccl": "nccl", "docker image":
               "docker image"}
#: Features a report may rule out, besides the libraries.
_FEATURES = {"quantization": "quantization", "quantisation": "quantization", "lora": "lora", "qlora": "qlora",
             "docker": "docker", "flash attention": "flash-attn", "flash-attention": "flash-attn",
             "cuda graphs": "cuda graphs", "tensor parallelism": "tensor parallelism", "multi-gpu": "multi-gpu",
             "offloading": "offload", "offload": "offload"}

# ---------------------------------------------------------------------------------------------------------- cues

_BEFORE = (r"(?:\b(?:i|we|i've|we've|have|had|already|also|even)\s+(?:already\s+|also\s+|even\s+)?tried\b"
           r"(?!\s+(?:to\s+)?(?:run|fine|deploy|load|train|serv|start|launch|infer|lora|qlora|sft|quantiz|convert"
           r"|different\s+(?:models|prompts)|(?:the\s+|a\s+)?(?:new|newest|latest|official)\b)\w*)"
           r"|^\s*(?:already\s+|also\s+)?tried\b"
           r"|\btried\s+(?=upgrad|downgrad|reinstall|install|sett|using|add|remov|chang|lower|reduc|increas"
           r"|disabl|enabl|switch|updat|runn|with\b|--)"
           r"|\bsame\s+(?:thing\s+|error\s+|result\s+|problem\s+|issue\s+|crash\s+)?(?:with(?:\s+and\s+without)?"
           r"|without|when)\b"
           r"|\balso\s+(?:happens|fails|occurs|crashes|hangs|breaks)\s+(?:with(?:out)?|when|on)\b"
           r"|\bwith\s+and\s+without\b|\beven\s+after\b)")
_AFTER = (r"(?:\b(?:didn't|did\s+not|doesn't|does\s+not|don't|do\s+not)\s+(?:help|change|fix|work"
          r"|solve|make\s+a\s+difference)"
          r"|\bno\s+(?:luck|difference|effect|improvement|change)\b|\bmade\s+no\s+difference|\bnothing\s+changed"
          r"|\bwithout\s+(?:success|improvement|luck|any\s+(?:change|effect|improvement))"
          r"|\b(?:gives?|got|get|getting|see|shows?|produces?|had|has|have)\s+the\s+same\s+"
          r"(?:error|result|problem|issue|crash|oom|output|behaviou?r)"
          r"|[,;:(]\s*(?:the\s+)?same\s+(?:error|result|problem|issue|crash|oom|output|behaviou?r)"
          r"|\bbehaves\s+the\s+same|\bto\s+no\s+avail|\b(?:error|problem|issue|crash)\s+(?:remains|persists)"
          r"|\bstill\s+(?:fails|failing|failed|happens|get|gets|getting|occurs|crash\w*|the\s+same|garbled|garbage"
          r"|appears|broken|hangs|errors?|repeats|produces|returns|oom|ooms))")
_CUE = re.compile(f"(?P<before>{_BEFORE})|(?P<after>{_AFTER})", re.MULTILINE)
_NEGATED = re.compile(r"\b(?:haven't|have\s+not|hasn't|not\s+yet|never|didn't|did\s+not)\s+(?:yet\s+)?tried\b"
                      r"|\bnot\s+tried\b")
_ENDS = (". ", "! ", "? ", ".\t")  # each two characters long
#: How far a sentence reaches either side of the word that hints at a tried fix (keeps long texts linear).
REACH = 400
_TRIED_HINTS = ("tried", "same", "also ", "help", "luck", "difference", "nothing changed", "without", "still",
                "even after", "remains", "persists",
                "avail", "no effect", "no improvement", "no change", "don't", "doesn't", "didn't", "did not",
                "does not", "do not")

# ------------------------------------------------------------------------------------------------------ fixes


def _names_pattern(names) -> str:
    return "|".join(re.escape(n).replace(r"\-", "[-_ ]?").replace(r"\ ", r"\s+")
                    for n in sorted(names, key=len, reverse=True))


_LIB_NAMES = _names_pattern({*LIBRARY_ALIASES, *_COMPONENTS})
_LIB = r"(?<![\w./-])(?:" + _LIB_NAMES + r")(?![\w-]|\.\w)"
_VERSION = r"v?(?P<v>\d+(?:\.\d+)+[\w.+-]*|\d+)"
_LIB_ACTION = re.compile(
    r"(?<![\w-])(?P<verb>upgrad\w*|updat\w*|downgrad\w*|re-?install\w*|rebuil[dt]\w*|re-?compil\w*|uninstall\w*|remov\w*"
    r"|download\w*|install\w*\s+(?:the\s+)?(?:newest|latest|newer|most\s+recent)(?:\s+version\s+of)?"
    r"|pip3?\s+install\s+(?:-u|--upgrade)|pip3?\s+uninstall(?:\s+-y)?)\s+(?:the\s+|my\s+|to\s+)?"
    r"(?P<names>" + _LIB + r"(?:\s*(?:,|and|&|/)\s*" + _LIB + r")*)"
    r"(?:\s+(?:from\s+v?\S+\s+)?(?:to|->|→)\s+" + _VERSION + r")?")
_ONE_LIB = re.compile(_LIB)
_DOWNLOAD = re.compile(r"(?<![/.\w-])(?:re-?download\w*|download\w*\s+(?:the\s+|a\s+|my\s+|it\s+)?(?:[\w.-]+\s+){0,3}?"
                       r"(?:model|weights|checkpoint|files?|safetensors)\b|(?:manual|another)\s+download"
                       r"|download\s+(?:route|again))")
#: "also tried Qwen2.5-14B": another model (a name with a size).
_OTHER_MODEL = re.compile(r"\btried\s+(?:the\s+|a\s+|with\s+)?(?:[\w.-]+/)?[a-z][\w.-]*?\d+(?:\.\d+)?[bm](?![\w])")
#: A command line in the sentence: its flags are the run's settings, not tries.
_COMMAND = re.compile(r"(?:^|[\s`(])(?:python3?|torchrun|accelerate\s+launch|deepspeed|vllm\s+serve|lm_eval"
                      r"|llamafactory-cli|\./\S+|llama-\w+)\s")
_QUESTION = re.compile(r"^\s*(?:how|why|what|is|are|can|could|should|do|does|shall|would)\b[^\n]*\?\s*$")
_CODE_EDIT = re.compile(r"\b(?:edit\w*|comment\w*\s+out|patch\w*|modif\w*|chang\w*|hack\w*)\b[^\n]{0,160}?"
                        r"(?P<file>[\w-]+\.py)\b")
_ASSIGNED = re.compile(r"=\s*[\w.]*$")
_LEFT_OF, _LEFT_OF_STOP = r"[\w-]", r"[a-z0-9-]"  # stop strings may follow "_" (custom_stopping_strings)
_QUANTIZED = re.compile(r"\b(?:switch\w*\s+to|us(?:e|ed|ing)|tried|load\w*)\s+(?:the\s+|a\s+)?quantized\s+"
                        r"(?:version|model|weights|checkpoint)|\bquantiz(?:ed|ing)\s+the\s+model")
_OFFLOAD = re.compile(r"\b(?:cpu[_ -])?offload(?:ing)?\b")
_TOKENS = re.compile("|".join(
    f"(?P<{name}>(?<!{_LEFT_OF_STOP if name == 'stop_tokens' else _LEFT_OF})(?:{rx})(?![\\w-]))"
    for name, rx in _TOKEN_TARGETS))
_PROSE_PARAM = re.compile("|".join(f"(?P<{name}>(?<![\\w-])(?:{rx})(?![\\w-]))" for name, rx in _PROSE_PARAMETERS))
_DTYPE = re.compile(r"(?<![\w-])(?P<d>fp16|float16|half|bf16|bfloat16|fp32|float32)(?![\w-])")
_LITERAL = r"(?P<value>\"[^\"\n]{1,40}\"|'[^'\n]{1,40}'|[-+]?\d[\w.+-]*|true|false|none|torch\.\w+)"
#: ``--flag``, ``--flag value``, ``--flag=value``.
_FLAG = re.compile(r"(?<![\w-])--(?P<name>[a-z][\w-]*)(?:\s*=\s*|[ \t]+(?=[\w\"'.]))?(?P<value>[\w.:+/\"'-]+)?")
#: ``name=value`` (a keyword argument, an environment variable, an assignment) and ``name value``.
_SETTING = re.compile(r"(?<![\w.\-/$])(?:\w+\.)*(?P<name>[a-z]\w*_\w*|[a-z]\w*(?=\s*=))"
                      r"(?:\s*=\s*|[ \t]+(?=(?:true|false|\d)\b))" + _LITERAL + r"(?![\w(])")
#: "setting num_ctx to 8192", "lowering the learning rate to 1e-5", "reducing max_seq_length to 1024".
_SET_TO = re.compile(r"\b(?:set\w*|chang\w*|lower\w*|reduc\w*|decreas\w*|increas\w*|rais\w*|bump\w*)\s+"
                     r"(?:the\s+)?`?(?P<name>[a-z]\w*_\w*|learning\s+rate|lora\s+rank|batch\s+size|temperature)`?"
                     r"(?:\s+from\s+[\w.+-]+)?\s+(?:to|=)\s+(?P<value>[\w.+-]+)")
_SHORT_FLAG = re.compile(r"(?:^|(?<=\s))-(?P<name>[a-z]{1,5})[ \t]+(?P<value>\d[\w.]*)")
_WITHOUT = re.compile(r"\bwithout\s+(?:the\s+|any\s+)?`?(?:--)?(?P<name>[a-z]\w*_\w*|[a-z][\w]*(?:-[a-z]+)+)`?")
_LOWERING = re.compile(r"\b(?:lower\w*|reduc\w*|decreas\w*|smaller)\b")


def _parameter_fix(name: str, value: str | None, context: str) -> TriedFix | None:
    """A tried setting of a parameter, in the fix vocabulary; None for names that are not settings."""
    param = canonical_parameter(name) or normalise_parameter(name)
    if not param or param in _NOT_A_FIX or not re.fullmatch(r"[a-z]\w*", param):
        return None
    v = None if value is None else value.strip("\"'`").casefold().removeprefix("torch.")
    if param == "dtype":
        return TriedFix(action=CHANGE_DTYPE, target="dtype", value=v, raw=context)
    tokens = _TOKENS.fullmatch(param.replace("_", " ")) or _TOKENS.fullmatch(param)
    if tokens:
        return TriedFix(action=FIX_TOKENS, target=tokens.lastgroup or param, value=v, raw=context)
    action = REDUCE_MEMORY if param in MEMORY_PARAMETERS else SET_PARAMETER
    return TriedFix(action=action, target=param, value=v, raw=context)


def _fixes_in(part: str, raw: str) -> list[TriedFix]:
    """The tried fixes in one (lower-cased) stretch of a tried sentence."""
    out: list[TriedFix] = []
    pip = part.find("pip")
    for m in _LIB_ACTION.finditer(part):
        verb = m["verb"]
        action = (UPGRADE if verb.startswith(("upgrad", "updat", "install"))
                  or (verb.startswith("pip") and "uninstall" not in verb)
                  else DOWNGRADE if verb.startswith("downgrad")
                  else UNINSTALL if verb.startswith(("uninstall", "remov")) or "uninstall" in verb else INSTALL)
        for lib in _ONE_LIB.finditer(m["names"]):
            name = re.sub(r"\s+", " ", lib.group(0))
            target = _COMPONENTS.get(name) or normalise_library_name(name)
            out.append(TriedFix(action=action, target=target, value=m["v"], raw=raw))
    if _DOWNLOAD.search(part) or _OTHER_MODEL.search(part):
        out.append(TriedFix(action=OTHER_MODEL, target="checkpoint", raw=raw))
    command = bool(_COMMAND.search(part))
    for m in _CODE_EDIT.finditer(part):
        out.append(TriedFix(action=CHANGE_CODE, target=m["file"], raw=raw))
    if _QUANTIZED.search(part):
        out.append(TriedFix(action=REDUCE_MEMORY, target="quantization", raw=raw))
    elif _OFFLOAD.search(part) and "offload" not in part[:3]:
        out.append(TriedFix(action=REDUCE_MEMORY, target="offload", raw=raw))
    for m in _FLAG.finditer(part) if not command else ():
        if pip >= 0 and m.start() > pip:
            continue  # pip's own options
        value = m["value"]
        fix = _parameter_fix(m["name"], "true" if value is None else value, raw)
        if fix:
            out.append(fix)
    for rx in (_SETTING, _SET_TO, _SHORT_FLAG):
        for m in rx.finditer(part) if not (command and rx is not _SET_TO) else ():
            name = m["name"].replace(" ", "_")
            if rx is _SETTING and (("_" not in name and not canonical_parameter(name) and name not in _PROSE_NAMES)
                                   or name.endswith("_version")):
                continue  # bits=4, history=..., transformers_version: only settings that look like parameters
            if rx is _SHORT_FLAG and pip >= 0 and m.start() > pip:
                continue
            fix = _parameter_fix(name, m["value"], raw)
            if fix and rx is _SET_TO and fix.action == REDUCE_MEMORY and not _LOWERING.search(m.group(0)):
                fix = fix.model_copy(update={"action": SET_PARAMETER})  # "setting num_ctx to 8192"
            if fix:
                out.append(fix)
    for m in _WITHOUT.finditer(part):
        fix = _parameter_fix(m["name"], "false", raw)
        if fix and fix.target != "success":
            out.append(fix)
    for m in _TOKENS.finditer(part):
        if not _ASSIGNED.search(part, max(0, m.start() - 30), m.start()):  # pad_token = tokenizer.eos_token
            out.append(TriedFix(action=FIX_TOKENS, target=m.lastgroup or "", raw=raw))
    for m in _PROSE_PARAM.finditer(part):
        out.append(_parameter_fix(m.lastgroup or "", None, raw) or TriedFix(action=SET_PARAMETER,
                                                                            target=m.lastgroup or "", raw=raw))
    for m in _DTYPE.finditer(part):
        out.append(TriedFix(action=CHANGE_DTYPE, target="dtype", value=_DTYPES[m["d"]], raw=raw))
    return out


def _sentence_around(low: str, p: int) -> tuple[int, int]:
    """The sentence (or line) that holds offset ``p``, at most :data:`REACH` characters either side; one that ends
    with ":" takes the code lines after it."""
    lo, hi = max(0, p - REACH), min(len(low), p + REACH)
    start = max([low.rfind("\n", lo, p) + 1, lo, *(k + 2 for k in (low.rfind(e, lo, p) for e in _ENDS) if k >= 0)])
    ends = [e for e in (low.find("\n", p, hi), *((k + 1 if k >= 0 else -1) for k in (low.find(e, p, hi)
                                                                                    for e in _ENDS))) if e >= 0]
    end = min(ends) if ends else hi
    if low[start:end].rstrip().endswith(":"):
        for _ in range(7):
            stop = min(len(low), end + 1 + REACH)
            nxt = low.find("\n", end + 1, stop)
            line = low[end + 1:nxt if nxt >= 0 else stop]
            if "=" not in line:
                break
            end = nxt if nxt >= 0 else stop
    return start, end


def _clause_before(sentence: str, cue: int) -> tuple[int, int]:
    """What a cue after the fix looks back on: its own ``;``-clause, or the clause before when the cue opens one
    ("upgraded deepspeed and torch; nothing changed")."""
    k = sentence.rfind(";", 0, cue)
    if k >= 0 and not sentence[k + 1:cue].strip():
        return sentence.rfind(";", 0, k) + 1, k
    return k + 1, cue


def _sentences(low: str):
    """(start, sentence) for each sentence that holds a hint of a tried fix, in order."""
    last_end = -1
    for p in trigger_positions(low, _TRIED_HINTS):
        if p < last_end:
            continue  # a hint in the sentence just read
        start, end = _sentence_around(low, p)
        last_end = end
        yield start, low[start:end]


def extract_tried(text: str, low: str | None = None) -> list[TriedFix]:
    """Fixes the report says it already tried, in order, one per (action, target)."""
    low = lower_same_length(text) if low is None else low
    out: list[TriedFix] = []
    seen: set[tuple[str, str]] = set()
    for start, sentence in _sentences(low):
        if ("tried" in sentence and _NEGATED.search(sentence)) or ("?" in sentence and _QUESTION.match(sentence)):
            continue  # "I haven't tried anything yet", "How can I train in fp16 and still get normal losses?"
        raw = text[start:start + len(sentence)].strip()
        spans: list[tuple[int, int]] = []
        for m in _CUE.finditer(sentence):
            if m["before"]:
                end = len(sentence)
                opened = sentence.count("(", 0, m.start()) > sentence.count(")", 0, m.start())
                if opened and ")" in sentence[m.start():]:
                    end = sentence.index(")", m.start())  # "(also tried the 1.5B) with --enable-reasoning"
                spans.append((m.start(), end))
            else:
                spans.append(_clause_before(sentence, m.start()))
        for a, b in _merged(spans):
            for fix in _fixes_in(sentence[a:b], raw):
                if fix.key not in seen:
                    seen.add(fix.key)
                    out.append(fix)
    return out


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping stretches as one (each part of a sentence is read once)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# ------------------------------------------------------------------------------------------------------ not using

_RULED_OUT_NAMES = _names_pattern({*LIBRARY_ALIASES, *_FEATURES})
_RULED_ONE = r"(?<![\w./-])(?:" + _RULED_OUT_NAMES + r")(?![\w-]|\.\w)"
_NOT_USING = re.compile(
    r"(?:(?<![\w'])not|n't|(?<![\w'])never|(?<![\w'])no\s+longer)\s+(?:be\s+|even\s+)?(?:using|use|used|installed|running|enabled?|"
    r"enabling)\s+(?:any\s+|the\s+|a\s+)?(?P<names>" + _RULED_ONE + r"(?:\s*(?:,|or|and|nor)\s*(?:any\s+)?"
    + _RULED_ONE + r")*)")
_RULED = re.compile(_RULED_ONE)
#: "(no vLLM and no flash-attention)", "no quantization": "no" right before a known name.
_NO_NAME = re.compile(r"(?<![\w'])no\s+(?P<names>" + _RULED_ONE + r"(?:\s*(?:,|or|and|nor)\s*(?:no\s+)?"
                      + _RULED_ONE + r")*)")


def extract_not_using(text: str, low: str | None = None) -> list[str]:
    """Libraries (PyPI names) and features (lower case) the report says are not in play."""
    low = lower_same_length(text) if low is None else low
    out: list[str] = []
    for m in [*match_at_triggers(low, ("not ", "n't ", "never ", "no longer "), _NOT_USING),
              *match_at_triggers(low, ("no ",), _NO_NAME)]:
        for n in _RULED.finditer(m["names"]):
            name = re.sub(r"\s+", " ", n.group(0))
            key = _FEATURES.get(name) or normalise_library_name(name)
            if key not in out:
                out.append(key)
    return out


__all__ = ["EMITTED_ACTIONS", "MEMORY_PARAMETERS", "extract_not_using", "extract_tried"]
