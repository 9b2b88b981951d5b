"""Environment listings in an issue or a pasted report — `python -m torch.utils.collect_env`, `transformers env`,
`pip list` / `pip freeze` / `conda list`, nvidia-smi tables, lscpu — found and set aside from the narrative.

Real reports paste such listings whole: 40–100 lines of versions that every other report of the same tracker shares.
Matched as text they drown what the user says went wrong (the embedding reads only the first 256 tokens; BM25 and the
n-gram models weigh the package names). The versions stay available to the extractors and the environment checks; only
matching reads the narrative. A line counts as a listing line by its shape; a run of at least ``MIN_RUN`` of them
(blank lines inside allowed) is set aside, so a version mentioned in a sentence or a short line or two stays put.
"""

from __future__ import annotations

import re

from ._text import split_lines

MIN_RUN = 3

_KEYS = (r"Is debug build|CUDA used to build PyTorch|ROCM used to build PyTorch|OS|GCC version|Clang version|"
         r"CMake version|Libc version|Python platform|Is CUDA available|CUDA_MODULE_LOADING set to|"
         r"GPU models and configuration|GPU \d+|Nvidia driver version|cuDNN version|HIP runtime version|"
         r"MIOpen runtime version|Is XNNPACK available|CPU|Architecture|CPU op-mode\(s\)|Byte Order|CPU\(s\)|"
         r"On-line CPU\(s\) list|Off-line CPU\(s\) list|Vendor ID|Model name|CPU family|Model|Thread\(s\) per core|"
         r"Core\(s\) per socket|Socket\(s\)|Stepping|BogoMIPS|Flags|Virtualization|Virtualization type|"
         r"Hypervisor vendor|Address sizes|Frequency boost|CPU (?:max|min) MHz|CPU MHz|L[123][di]? cache|"
         r"NUMA node\(?s?\)?\d*(?: CPU\(s\))?|Vulnerability [\w ]+|Versions of relevant libraries|Platform|"
         r"Accelerate config|Using distributed or parallel set-up in script\??|Using GPU in script\??|GPU type|"
         r"vLLM Build Flags|CUDA Archs|ROCm|GPU Topology|Neuron SDK Version|Total (?:GPU|CPU) memory|Machine|"
         r"Processor|Kernel|Driver Version|CUDA Version|Environment|Versions|System Info|Hardware|"
         r"Python|PyTorch|Transformers|CUDA(?: \(`python -c [^`]*`\))?")                       # Qwen's template
_LISTING_LINE = re.compile(
    r"^\s*(?:"
    r"\[(?:pip3?|conda)\]\s.*"                                                     # collect_env's library lines
    r"|[A-Za-z0-9][\w.\-]*(?:\[[\w,.\-]+\])?\s*(?:==|>=|<=|~=|===)\s*[\w.+!*\-]+"   # pip freeze
    r"|[A-Za-z0-9][\w.\-]* @ (?:file|https?|git\+\w+)://\S+"                       # pip freeze, local builds
    r"|[A-Za-z0-9][\w.\-]*\s{2,}v?\d[\w.+!\-]*(?:\s+\S+){0,3}"                      # pip list / conda list
    r"|Package\s+Version.*|[-=]{3,}(?:\s+[-=]{3,})+"                               # their headers
    r"|[-*]?\s*[`'\"]?[\w .()/?`'+\-]{0,60}?\b(?:version|Version|VERSION)\b[\w ()/?]*:\s*\S.*"  # "X version: 1.2"
    r"|[-*]?\s*(?:" + _KEYS + r")\s*:.*"                                           # collect_env, lscpu, env keys
    r"|Collecting environment information\.*"
    r"|\|(?=.*(?:NVIDIA|MiB|GPU|Driver|CUDA|Persistence|Pwr|PID|Bus-Id|Volatile|Default|Processes)).*\|"
    r"|[|+][-=+|]{10,}[|+]"                                                        # nvidia-smi tables
    r"|(?:GPU\d+|NIC\d+|mlx\w+)(?:\s+(?:X|NV\d+|SYS|PIX|PXB|PHB|NODE|[\d,\-]+|N/A|GPU\d+|NIC\d+|"
    r"CPU Affinity|NUMA Affinity|GPU NUMA ID))+"                                    # topology matrix
    r")\s*$")


def is_listing_line(line: str) -> bool:
    return bool(_LISTING_LINE.match(line))


def split_listings(text: str, min_run: int = MIN_RUN) -> tuple[str, str]:
    """(the narrative, the listings set aside), each as lines of ``text`` in their order.

    >>> narrative, listing = split_listings("Loading fails with KeyError: 'qwen2'\\n"
    ...     "- `transformers` version: 4.36.2\\n- Platform: Linux\\n- Python version: 3.10.14\\n"
    ...     "[pip3] torch==2.1.2\\nI use transformers==4.36.2 as the README says.")
    >>> narrative.splitlines()
    ["Loading fails with KeyError: 'qwen2'", 'I use transformers==4.36.2 as the README says.']
    >>> len(listing.splitlines())
    4
    """
    lines = text.splitlines()
    aside = [False] * len(lines)
    i = 0
    while i < len(lines):
        if not is_listing_line(lines[i]):
            i += 1
            continue
        j, listed, last = i, 0, i
        while j < len(lines) and (is_listing_line(lines[j]) or not lines[j].strip()):
            if lines[j].strip():
                listed, last = listed + 1, j
            j += 1
        if listed >= min_run:
            for k in range(i, last + 1):
                aside[k] = True
        i = last + 1
    return split_lines(lines, aside)


__all__ = ["MIN_RUN", "is_listing_line", "split_listings"]
