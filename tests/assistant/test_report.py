import pytest

from failgraph.assistant.report import MAX_CHARS, ReportError, prepare_report


@pytest.mark.parametrize("text", ["", "   \n\t", "### Reminder\n- [x] I have read the above rules and searched the "
                                  "existing issues."])
def test_empty_reports_are_refused(text):
    with pytest.raises(ReportError, match="empty"):
        prepare_report(text)


def test_binary_is_refused():
    with pytest.raises(ReportError, match="binary"):
        prepare_report("PK\x03\x04\x00\x00\x08\x00" * 50)


def test_huge_reports_are_capped_keeping_head_and_tail():
    text = "transformers==4.31.0\n" + "log line\n" * 20_000 + "RuntimeError: CUDA error: out of memory"
    p = prepare_report(text)
    assert len(p.text) <= MAX_CHARS + 10
    assert "transformers==4.31.0" in p.text and "RuntimeError: CUDA error: out of memory" in p.text
    assert any("longer than" in n for n in p.notes)


def test_template_boilerplate_is_stripped_and_language_noted():
    p = prepare_report("### Reminder\n- [x] I have searched the existing issues\n### System Info\n"
                       "模型输出全是乱码，显存也爆了\nKeyError: 'qwen2'")
    assert "Reminder" not in p.text and "I have searched" not in p.text
    assert "KeyError: 'qwen2'" in p.text
    assert any("not in English" in n for n in p.notes)


def test_environment_listings_are_read_but_not_matched():
    listing = "\n".join(f"[pip3] {name}=={v}" for name, v in [("torch", "2.4.0"), ("transformers", "4.44.2"),
                                                                 ("triton", "3.0.0"), ("numpy", "1.26.4")])
    p = prepare_report(f"### System Info\n{listing}\n### Reproduction\nGeneration hangs after the first token.")
    assert p.text == "Generation hangs after the first token."
    assert p.listing == listing and "transformers==4.44.2" in p.full_text
    assert any("4 lines of environment listing" in n for n in p.notes)
    only = prepare_report(listing)  # a listing alone is still a report: it is matched as it is
    assert only.text == listing and only.listing == "" and only.full_text == listing


def test_code_fences_and_screenshots_are_not_matched():
    p = prepare_report("The output is garbled:\n```python\nprint(tokenizer.decode(ids))\n```\n"
                       "![image](https://github.com/user-attachments/assets/0f3c2a9e-1b7d)\n"
                       '<img width="812" alt="out" src="https://github.com/user-attachments/assets/9d1e">\n'
                       "```text\n<|im_end|><|im_end|>\n```")
    assert p.text.splitlines() == ["The output is garbled:", "print(tokenizer.decode(ids))", "<|im_end|><|im_end|>"]
