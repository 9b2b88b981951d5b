"""Issue-template text (headings, prompts, placeholders, checklists, empty fields) is dropped before matching, on the
report side and the indexed side alike; what the user wrote stays."""

from pathlib import Path

import pytest

from failgraph.assistant.report import ReportError, prepare_report
from failgraph.ingest.extract.templates import is_template_line, split_template
from failgraph.kg.corpus import PastFailure

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"

#: The lines the user wrote into each template fixture (the rest of each file is the tracker's template).
WRITTEN = {
    "vllm_bug": ["## Qwen2-72B-Instruct-AWQ with TP=2 never finishes loading",
                 ("Serving the AWQ checkpoint across two L40S cards stops during start-up; both GPUs stay busy and "
                  "nothing is served."),
                 "**Command**",
                 "vllm serve Qwen/Qwen2-72B-Instruct-AWQ --tensor-parallel-size 2 --quantization awq"],
    "qwen_bilingual": [('Qwen-7B-Chat loaded with bf16 on a V100 prints "RuntimeError: probability tensor contains '
                        'either `inf`, `nan` or element < 0" on the first generate call.')],
    "github_default": [('DeepSpeed ZeRO-3 fine-tuning of Llama-2-13B stops with "CUDA out of memory" once the first '
                        'checkpoint is saved.')],
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_only_what_the_user_wrote_is_matched(name):
    p = prepare_report((TEMPLATES / f"{name}.md").read_text(encoding="utf-8"))
    assert _lines(p.text) == WRITTEN[name]
    assert p.template  # the template was there and went


def test_nothing_but_template_is_dropped_and_nothing_else_is_lost():
    for path in TEMPLATES.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        kept, dropped = split_template(text)
        assert sorted(_lines(kept) + _lines(dropped)) == sorted(_lines(text))
        assert all(is_template_line(line) for line in dropped.splitlines())


def test_listings_inside_a_template_still_reach_the_extractors():
    p = prepare_report((TEMPLATES / "vllm_bug.md").read_text(encoding="utf-8"))
    assert "[pip3] vllm==0.6.0" in p.listing and "transformers==4.44.2" in p.full_text
    assert "Describe the bug" not in p.full_text and "documentation page" not in p.full_text


@pytest.mark.parametrize("line", ["## Qwen2-7B answers in Chinese", "**Command**", "- Transformers: 4.32.0",
                                  "### Fine-tuning with LoRA on 8 x A100", "Expected behavior is that it stops.",
                                  "- OS: Ubuntu 22.04", "See the error below:"])
def test_the_users_own_lines_are_not_template(line):
    assert not is_template_line(line)


@pytest.mark.parametrize("line", ["### What is the issue?", "### 🐛 Describe the bug", "**Expected behavior**",
                                  "### 当前行为 | Current Behavior", "### Name and Version", "- Transformers:",
                                  " - OS: [e.g. Ubuntu 18.04]", "_No response_", "```python", "</details>",
                                  "A clear and concise description of what the bug is.", "@ArthurZucker @gante"])
def test_template_lines_are_recognised(line):
    assert is_template_line(line)


def test_a_report_that_is_only_template_is_refused():
    text = (TEMPLATES / "qwen_bilingual.md").read_text(encoding="utf-8")
    only_template = "\n".join(line for line in text.splitlines() if line.strip() not in WRITTEN["qwen_bilingual"])
    with pytest.raises(ReportError, match="empty"):
        prepare_report(only_template)


def test_indexed_past_failures_drop_the_template_too():
    text = (TEMPLATES / "github_default.md").read_text(encoding="utf-8")
    failure = PastFailure(key="github.com/microsoft/deepspeed#1", url="https://github.com/microsoft/DeepSpeed/issues/1",
                          title="ZeRO-3 OOM after first checkpoint", text=text)
    assert _lines(failure.index_text) == ["ZeRO-3 OOM after first checkpoint", *WRITTEN["github_default"]]
    assert failure.full_text.endswith(text)  # the extractors still read the whole body
