"""Accelerator names: NVIDIA data-centre and consumer cards, Apple silicon, Ascend NPUs, AMD Instinct/Radeon, Jetson.

Shared by :mod:`.environment` (to list the GPUs of a report) and :mod:`.errors` (to mask GPU names in messages, so
that "Your Tesla V100-SXM2-32GB GPU" and "Your Quadro GV100 GPU" give one signature).

Matching runs on a lower-cased copy of the text (same offsets), and only where a trigger word starts (see
:mod:`._text`).

>>> find_gpus("8 x NVIDIA A800-SXM4-80GB, an RTX 4090, a 2080 Ti, Tesla T4, Apple M1 Max, Ascend 910B and MI300X")
['NVIDIA A800', 'NVIDIA RTX 4090', 'NVIDIA RTX 2080 Ti', 'NVIDIA T4', 'Apple M1 Max', 'Ascend 910B', 'AMD MI300X']
>>> find_gpus("Qwen2.5-7B on port 8000 at 1080p, FLASH_ATTN_V100 backend, --port 4090")
[]
>>> mask_gpus("Your Tesla V100-SXM2-32GB GPU has compute capability 7.0")
'Your <GPU> GPU has compute capability 7.0'
"""

from __future__ import annotations

import re

from ._text import lower_same_length, match_at_triggers, minimal_triggers

_DC = (r"gh200|gb200|b200|b100|h200|h100|h800|h20|a100|a800|a10g|a6000|a5000|a4000|a40|a30|a10|l40s|l40|l20|"
       r"v100s?|gv100|p100|p40|t4|k80")
_DC_SUFFIX = r"(?:[-\s](?:sxm\d?|pcie|nvl|hbm3e?|\d+\s?gb?|tensor\s+core))*"
_LEFT = r"(?:(?<=\dx)|(?<=\d\sx)|(?<![\w.\-/]))"

#: On lower-cased text. Each alternative starts with a literal, so the scan skips most positions quickly.
GPU_RE = re.compile(
    r"(?P<nv>" + _LEFT + r"(?P<dc>" + _DC + r")" + _DC_SUFFIX + r"(?:s(?![a-z0-9]))?(?![a-z0-9]))"
    r"|(?P<l4>(?<![\w.\-/])nvidia\s+l4(?![\w.])|(?<![\w.\-/])l4(?=\s+gpus?\b))"
    r"|(?P<rtxpro>(?<![\w.\-/])rtx\s+(?:pro\s+)?(?P<pro>\d{4})\s+(?:ada|blackwell)\b)"
    r"|(?P<geforce>(?<![\w.\-/])(?P<series>rtx|gtx)\s*-?(?P<num>\d{3,4})(?:\s*(?P<ti>ti|super|d)\b)?s?(?![\w]|\.\w))"
    r"|(?P<bare>(?:(?<=\dx)|(?<=\d\sx)|(?<![\w.\-/:=]))(?<!port )(?<!port=)"
    r"(?P<bnum>20[6-8]0|30[5-9]0|40[6-9]0|50[6-9]0|1080|1660)(?:\s*(?P<bti>ti|super|d)\b)?"
    r"(?![\w.]|p\b|\s*(?:mib|mb|gb|tokens|steps|s\b)))"
    r"|(?P<apple>(?<![\w.])(?:apple\s+(?P<am1>m[1-4](?:\s+(?:pro|max|ultra))?)|(?P<am2>m[1-4]\s+(?:pro|max|ultra))"
    r"|(?P<am3>m[1-4])(?=\s+(?:mac|macbook|chip|laptop))|macbook\s*(?:pro|air)?\s*(?P<am4>m[1-4])"
    r"|(?P<silicon>apple\s+silicon))\b)"
    r"|(?P<mps>(?<![\w.])mps(?![\w.]))"
    r"|(?P<ascend>(?<![\w.])(?:ascend\s*(?P<anum>910[a-c]?\d?|310p?)|(?P<anum2>910[a-c]\d?))(?![\w.]))"
    r"|(?P<ascendnpu>(?<![\w.])ascend(?:\s+npus?)?(?![\w.]))"
    r"|(?P<amd>(?<![\w.])(?:instinct\s+)?(?P<mi>mi\d{2,3}[axl]?)(?![\w.]))"
    r"|(?P<radeon>(?<![\w.])radeon\s+(?P<rnum>(?:rx\s+|pro\s+)?\w*\d{3,4}\w*(?:\s+xtx?)?))"
    r"|(?P<jetson>(?<![\w.])jetson\s+(?P<jname>(?:agx\s+|orin\s+)?(?:thor|orin|xavier|nano)))")

_GPU_TRIGGERS = minimal_triggers((*tuple(t.replace("s?", "") for t in _DC.split("|")), "l4", "nvidia l4", "rtx", "gtx",
                                  "2060", "2070", "2080", "3050", "3060", "3070", "3080", "3090", "4060", "4070",
                                  "4080", "4090", "5060", "5070", "5080", "5090", "1080", "1660", "apple", "m1", "m2",
                                  "m3", "m4", "macbook", "mps", "ascend", "910", "instinct", "mi1", "mi2", "mi3",
                                  "radeon", "jetson"))

_PREFIX = re.compile(r"(?:nvidia\s+)?(?:geforce\s+|tesla\s+|quadro\s+)?(?:rtx\s+)?(?:amd\s+)?$")


def _variant(v: str | None) -> str:
    if not v:
        return ""
    return "D" if v == "d" else " Ti" if v == "ti" else " SUPER"


def _title(chip: str) -> str:
    parts = chip.split()
    return " ".join([parts[0].upper(), *(p.title() for p in parts[1:])])


def canonical_gpu(m: re.Match[str]) -> str | None:
    """The canonical name for one match of :data:`GPU_RE` (on lower-cased text); None for a match to ignore."""
    g = m.groupdict()
    if g["nv"]:
        return "NVIDIA Quadro GV100" if g["dc"] == "gv100" else "NVIDIA " + g["dc"].upper()
    if g["l4"]:
        return "NVIDIA L4"
    if g["rtxpro"]:
        return f"NVIDIA RTX PRO {g['pro']}"
    if g["geforce"]:
        return f"NVIDIA {g['series'].upper()} {g['num']}{_variant(g['ti'])}"
    if g["bare"]:
        series = "GTX" if g["bnum"] in ("1080", "1660") else "RTX"
        return f"NVIDIA {series} {g['bnum']}{_variant(g['bti'])}"
    if g["apple"]:
        if g["silicon"]:
            return "Apple Silicon"
        return "Apple " + _title(g["am1"] or g["am2"] or g["am3"] or g["am4"])
    if g["mps"]:
        return "Apple MPS"
    if g["ascend"]:
        return "Ascend " + (g["anum"] or g["anum2"]).upper()
    if g["ascendnpu"]:
        return "Ascend NPU"
    if g["amd"]:
        return "AMD " + g["mi"].upper()
    if g["radeon"]:
        return "AMD Radeon " + " ".join(p.upper() for p in g["rnum"].split())
    if g["jetson"]:
        return "NVIDIA Jetson " + " ".join(p.upper() if p == "agx" else p.title() for p in g["jname"].split())
    return None  # pragma: no cover


def _gpu_matches(text: str, low: str | None = None):
    low = lower_same_length(text) if low is None else low
    for m in match_at_triggers(low, _GPU_TRIGGERS, GPU_RE):
        if m["mps"] and text[m.start():m.end()] != "MPS":
            continue  # "mps" in prose or a device string, not necessarily the Apple backend
        yield m


def find_gpus(text: str, low: str | None = None) -> list[str]:
    """Canonical accelerator names in order of first mention, without repeats."""
    out: list[str] = []
    for m in _gpu_matches(text, low):
        name = canonical_gpu(m)
        if name and name not in out:
            out.append(name)
    if "Ascend NPU" in out and any(n.startswith("Ascend ") and n != "Ascend NPU" for n in out):
        out.remove("Ascend NPU")  # "Ascend NPU" says less than "Ascend 910B"
    return out


def mask_gpus(text: str) -> str:
    """Replace accelerator names (with their vendor prefixes) by ``<GPU>``; the Apple ``MPS`` backend stays."""
    low = lower_same_length(text)
    pieces, last = [], 0
    for m in _gpu_matches(text, low):
        if m["mps"]:
            continue
        start = m.start()
        pre = _PREFIX.search(low, max(0, start - 30), start)
        if pre:
            start = pre.start()
        pieces.append(text[last:start])
        pieces.append("<GPU>")
        last = m.end()
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


__all__ = ["GPU_RE", "canonical_gpu", "find_gpus", "lower_same_length", "mask_gpus"]  # lower_same_length: re-export
