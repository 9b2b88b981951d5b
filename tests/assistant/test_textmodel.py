from failgraph.assistant.textmodel import TextModel

DOCS = [("a#1", "KeyError qwen2 transformers too old upgrade", ["dep"]),
        ("a#2", "KeyError qwen2 after install transformers", ["dep"]),
        ("a#3", "garbled output im_end token never stops", ["tok"]),
        ("a#4", "output never stops im_end eos token missing", ["tok"]),
        ("a#5", "KeyError qwen2 loading with vllm", ["dep"])]


def test_posterior_follows_words_and_leaves_out_issues():
    m = TextModel(DOCS, min_df=1)
    p = m.posterior("model never stops, im_end shows up")
    assert p["tok"] > p["dep"]
    q = m.posterior("KeyError: 'qwen2'")
    assert q["dep"] > 0.8
    # leaving out every dep document removes the words' evidence for dep
    q2 = m.posterior("KeyError: 'qwen2'", exclude=frozenset({"a#1", "a#2", "a#5"}))
    assert q2["dep"] < q["dep"]
    assert m.posterior("") == {}
