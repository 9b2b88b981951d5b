"""BM25 on Chinese text: CJK runs are matched by character bigrams, so a report shares words with a past failure
even when its sentences differ (a whole run was one token before: only an identical sentence matched)."""

from failgraph.kg.vectors import KeywordIndex

DOCS = {
    "oom": "训练 Qwen2-7B 时显存不足，报错 CUDA out of memory，批大小为 8",
    "tokenizer": "加载分词器失败，提示找不到 tokenizer.json 文件",
    "nccl": "多卡推理时 NCCL 通信超时，进程卡住不动",
}


def index() -> KeywordIndex:
    return KeywordIndex.build(list(DOCS), list(DOCS.values()))


def test_a_chinese_query_finds_the_failure_with_the_same_words():
    idx = index()
    assert idx.search("微调的时候显存不足怎么办", k=1)[0].id == "oom"
    assert idx.search("分词器加载不了", k=1)[0].id == "tokenizer"
    assert idx.search("两张卡通信超时", k=1)[0].id == "nccl"


def test_english_tokens_in_a_chinese_report_still_match():
    assert index().search("NCCL 报错", k=1)[0].id == "nccl"


def test_text_without_cjk_is_tokenised_as_before():
    idx = KeywordIndex.build(["a", "b"], ["CUDA out of memory on A100", "KeyError: 'qwen2' in transformers"])
    assert idx.search("KeyError qwen2", k=1)[0].id == "b"
