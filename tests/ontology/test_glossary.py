"""The Chinese glossary: longest terms win, each gloss once, English reports untouched; a Chinese report is matched
with the English meaning of its prose."""

from __future__ import annotations

import re

from failgraph.assistant.report import prepare_report
from failgraph.ontology.glossary import english_glosses, glossary

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_entry_is_a_chinese_term_with_an_english_gloss():
    entries = glossary()
    assert len(entries) >= 150
    for term, gloss in entries:
        assert HAN.search(term), term
        assert gloss.isascii() and gloss.strip() == gloss and gloss, (term, gloss)
    assert [len(t) for t, _ in entries] == sorted((len(t) for t, _ in entries), reverse=True)


def test_a_longer_term_wins_over_the_shorter_one_inside_it():
    out = english_glosses("训练时显存不足")
    assert "CUDA out of memory GPU memory" in out
    assert "GPU memory VRAM" not in out  # 显存 alone is not counted inside 显存不足
    assert english_glosses("显存占用很高，之后显存不足") == ["GPU memory usage", "CUDA out of memory GPU memory"]


def test_glosses_come_once_in_order_of_appearance_and_not_for_english():
    assert english_glosses("卡住了……还是卡住，模型输出乱码") == ["hang stuck", "garbled output gibberish"]
    assert english_glosses("vLLM hangs after loading; CUDA out of memory") == []
    assert english_glosses("") == []


def test_a_chinese_report_is_matched_with_the_english_meaning_of_its_prose():
    zh = prepare_report("用vllm 0.6.3部署Qwen2.5-7B-Instruct，推理一直卡住没有反应")
    assert zh.text.splitlines()[0] == "用vllm 0.6.3部署Qwen2.5-7B-Instruct，推理一直卡住没有反应"
    assert "hang stuck" in zh.text and "deployment serving" in zh.text and "hang no response" in zh.text
    assert any("English meaning" in n for n in zh.notes)
    en = prepare_report("Serving Qwen2.5-7B-Instruct with vllm 0.6.3 hangs after the first request")
    assert en.text == "Serving Qwen2.5-7B-Instruct with vllm 0.6.3 hangs after the first request"
    assert not any("English meaning" in n for n in en.notes)
