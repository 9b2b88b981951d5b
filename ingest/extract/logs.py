"""Log output pasted into a report — INFO/DEBUG lines of vLLM, uvicorn, DeepSpeed, transformers and Python logging,
llama.cpp loader dumps, finished tqdm progress bars — found and set aside from what is matched.

A report that pastes a server's or a trainer's start-up log (or its per-step loss lines) carries 20–100 such lines, each as long as a paragraph
(vLLM prints its whole engine config on one). They say the same in every report of that library and, matched as text,
drown what went wrong: a vLLM or DeepSpeed log of about 28 lines put into every case report took root-cause category
from 0.664 to 0.458 and 0.451 over the 736 cases (see the README's robustness figures); a single vLLM start-up warning
about CPU threads and OMP_NUM_THREADS in front of each report took it from 0.659 to 0.541 on every third case. ERROR lines, and any line that says something failed, ran out,
is missing or unsupported, stay whatever their level: they are often the failure itself. What is set aside stays
readable to the extractors (versions, GPU counts, dtypes).
"""

from __future__ import annotations

import re

from ._text import PROCESS_PREFIX, split_lines

_LEVEL = r"(?:INFO|DEBUG|TRACE|WARNING|WARN)"
_LOG_LINE = re.compile(
    r"^\s*" + PROCESS_PREFIX + r"\s*(?:"
    + _LEVEL + r"\s+\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s.*"                        # vLLM
    r"|" + _LEVEL + r":\s+.*"                                                      # uvicorn
    r"|" + _LEVEL + r":[\w.]+:.*"                                                  # logging.basicConfig
    r"|\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+\]\s*\[" + _LEVEL + r"\].*"           # DeepSpeed
    r"|\[" + _LEVEL + r"\|[\w.]+:\d+\]\s.*"                                         # transformers' trainer logging
    r"|(?:\d\d/\d\d/\d{4}|\d{4}-\d\d-\d\d)[ T]\d\d:\d\d:\d\d(?:[,.]\d+)?\s*[-|]?\s*(?:[\w.]+\s*-\s*)?"
    + _LEVEL + r"\b.*"                                                             # logging with a timestamp
    r"|\S+\.py:\d+: (?:FutureWarning|DeprecationWarning|PendingDeprecationWarning): .*"  # warnings.warn
    r"|[IW]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.]+:\d+\].*"                        # glog
    r"|\{'(?:loss|eval_loss|train_loss|train_runtime|grad_norm|learning_rate|epoch)':[^{}]*\}"  # trainer metrics
    r"|(?:llama_model_loader|llm_load_\w+|llama_\w+_init|llama_new_context_with_model|llama_context|load_tensors|"
    r"print_info|clip_model_load|common_init_from_params|system_info)\s*:.*"          # llama.cpp loader dumps
    r")$")


# A log line that says something failed is part of the story whatever its level: it stays. Searched in the lower-cased
# line (a case-insensitive search of vLLM's paragraph-long config lines costs ten times more).
_FAILURE = re.compile(r"error|fail|exception|fatal|abort|out of memory|\boom\b|killed|time ?out|timed out|denied|"
                      r"not found|no available|not available|unavailable|missing|unsupported|not supported|invalid|insufficient|mismatch|deprecat|degraded|"
                      r"\bnan\b|\binf\b|hang|stuck|\bsig(?:term|kill|segv|abrt|bus|int|hup)\b|refused|cannot|can't|"
                      r"unable|overflow|exceed|slowdown|slower|too (?:large|long|small|old|new)|\bbug\b|"
                      r"'(?:eval_|train_)?loss': 0\.0\b")
_PROGRESS = re.compile(r"^[^|\n]{0,80}\s(\d{1,3})%\|[^|]*\|\s*[\d.]+[kMG]?/[\d.]+[kMG]?\s*\[[^\]]*\]\s*$")


def is_log_line(line: str) -> bool:
    """An INFO/DEBUG/WARNING log line that reports nothing failing."""
    return bool(_LOG_LINE.match(line)) and not _FAILURE.search(line.lower())


def _progress_aside(lines: list[str]) -> list[bool]:
    """Progress bars: each run of them keeps its last line (where it stopped: 30% of a shard load is a hang's
    evidence), unless that one reached 100%."""
    aside = [False] * len(lines)
    i = 0
    while i < len(lines):
        if not _PROGRESS.match(lines[i]):
            i += 1
            continue
        j = i
        while j + 1 < len(lines) and _PROGRESS.match(lines[j + 1]):
            j += 1
        for k in range(i, j):
            aside[k] = True
        aside[j] = _PROGRESS.match(lines[j]).group(1) == "100"
        i = j + 1
    return aside


def split_logs(text: str) -> tuple[str, str]:
    """(the text without its INFO/DEBUG/WARNING log lines, trainer metric lines and finished progress bars, those
    lines).

    >>> kept, aside = split_logs("Serving Qwen2-7B-AWQ with --tensor-parallel-size 2 hangs.\\n"
    ...     "INFO 11-05 10:21:41 pynccl.py:63] vLLM is using nccl==2.20.5\\n"
    ...     "(VllmWorkerProcess pid=2140) INFO 11-05 10:21:41 utils.py:1008] Found nccl from library libnccl.so.2\\n"
    ...     "WARNING 11-05 10:31:41 shm_broadcast.py:396] No available block found in 60 second.")
    >>> kept.splitlines()[1]
    'WARNING 11-05 10:31:41 shm_broadcast.py:396] No available block found in 60 second.'
    >>> len(aside.splitlines())
    2
    """
    lines = text.splitlines()
    aside = [log or bar for log, bar in zip(map(is_log_line, lines), _progress_aside(lines), strict=True)]
    return split_lines(lines, aside) if any(aside) else (text, "")


__all__ = ["is_log_line", "split_logs"]
