"""English glosses for the Chinese terms of failure reports (``glossary_zh.yaml``): a report written in Chinese keeps
its error lines, versions and names in English, but its prose — 显存不足, 卡住, 乱码 — says what happened in words the
mostly English knowledge base cannot match. :func:`english_glosses` names those words in English.

>>> english_glosses("用vllm部署Qwen2后显存不足，一直卡住")
['deployment serving', 'CUDA out of memory GPU memory', 'hang stuck']
>>> english_glosses("no Chinese here")
[]
"""

from __future__ import annotations

import re
from functools import cache

from .files import read_yaml

GLOSSARY_FILE = "glossary_zh.yaml"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@cache
def glossary() -> tuple[tuple[str, str], ...]:
    """(term, gloss) pairs, longest term first (so that a term wins over the shorter ones inside it)."""
    raw = read_yaml(GLOSSARY_FILE) or {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                            for k, v in raw.items()):
        raise ValueError(f"{GLOSSARY_FILE} must map Chinese terms to English glosses")
    return tuple(sorted(((k.casefold(), v) for k, v in raw.items()), key=lambda kv: -len(kv[0])))


def english_glosses(text: str) -> list[str]:
    """The glosses of the glossary's terms in ``text``, in order of first appearance, each once; a term inside a longer
    matched term does not count."""
    if not _HAN.search(text):
        return []
    work = text.casefold()
    found: list[tuple[int, str]] = []
    for term, gloss in glossary():
        start = work.find(term)
        if start < 0:
            continue
        found.append((start, gloss))
        work = work.replace(term, "\0" * len(term))  # masked: the shorter terms inside it no longer match
    out: list[str] = []
    for _, gloss in sorted(found):
        if gloss not in out:
            out.append(gloss)
    return out


__all__ = ["GLOSSARY_FILE", "english_glosses", "glossary"]
