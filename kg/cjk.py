"""CJK-aware text for the BM25 tokenizer: runs of Chinese, Japanese or Korean characters become overlapping character
bigrams, so that a report in Chinese matches past failures on words (CJK text has no spaces; a whole run is otherwise
one token that only an identical run matches).

>>> cjk_bigrams("模型加载失败 KeyError: 'qwen2' 显存")
"模型 型加 加载 载失 失败 KeyError: 'qwen2' 显存"
>>> cjk_bigrams("no CJK here, unchanged")
'no CJK here, unchanged'
>>> cjk_bigrams("用vllm")  # a lone character is only set apart (BM25 keeps tokens of 2+ characters)
'用 vllm'
"""

from __future__ import annotations

import re

#: Han (with extension A, compatibility ideographs and extension B+), kana and Hangul syllables.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\uac00-\ud7af"
                     r"\U00020000-\U0002ebef]+")


def _bigrams(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join(run[i:i + 2] for i in range(len(run) - 1))


def cjk_bigrams(text: str) -> str:
    """``text`` with every CJK run replaced by its space-separated character bigrams (set off by spaces)."""
    if not CJK_RUN.search(text):
        return text
    return re.sub(r" {2,}", " ", CJK_RUN.sub(lambda m: f" {_bigrams(m[0])} ", text)).strip()


__all__ = ["CJK_RUN", "cjk_bigrams"]
