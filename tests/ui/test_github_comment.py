"""The comment's Markdown: cause with score, fixes (ranked structured ones, else the cause's), similar failures as
github.com links; below the threshold nothing or the diagnosis's questions; untrusted text always escaped."""

from __future__ import annotations

import re

from github_fake import fake_diagnosis, taxonomy_cause

from failgraph.assistant.models import Question, RankedFix, SimilarFailure
from failgraph.ui.github.comment import MARKER, md_text, render
from failgraph.ui.github.config import BotConfig

CFG = BotConfig(min_score=0.5, max_fixes=2, max_similar=2)


def fix(text, **kw):
    return RankedFix(text=text, action="upgrade", score=0.8, source="similar", **kw)


def test_a_confident_diagnosis_shows_cause_score_fixes_similar_and_a_label():
    d = fake_diagnosis(0.87)
    out = render(d, CFG)
    leaf, _, category = taxonomy_cause()
    assert out.confident and out.label == "failgraph: " + category
    assert out.body.startswith(MARKER + "\n") and "score **0.87**" in out.body
    assert md_text(leaf) in out.body and "1. Upgrade the library\\." in out.body
    assert "CUDA out of memory](https://github.com/meta-llama/llama/issues/136) (similarity 0.71)" in out.body


def test_ranked_fixes_come_first_with_the_release_they_shipped_in():
    d = fake_diagnosis(0.9, fixes=[fix("Upgrade vllm", fixed_in="v0.4.1", confirmed=True), fix("Lower the batch"),
                                   fix("third fix beyond max_fixes")])
    out = render(d, CFG)
    assert "1. Upgrade vllm (shipped in v0\\.4\\.1) (confirmed in a past thread)" in out.body
    assert "2. Lower the batch" in out.body
    assert "third fix" not in out.body and "Upgrade the library" not in out.body


def test_below_the_threshold_the_bot_is_silent_unless_asked_to_ask():
    d = fake_diagnosis(0.3, questions=[Question(fact="versions", text="Which vllm version runs?")])
    assert render(d, CFG).body is None
    asked = render(d, CFG.model_copy(update={"ask_when_unsure": True}))
    assert asked.label is None and not asked.confident
    assert "- Which vllm version runs?" in asked.body and "0.30" in asked.body
    generic = render(fake_diagnosis(0.3), CFG.model_copy(update={"ask_when_unsure": True}))
    assert "collect\\_env" in generic.body or "collect_env" in generic.body


def test_min_score_zero_comments_always():
    assert render(fake_diagnosis(0.0), CFG.model_copy(update={"min_score": 0.0})).confident


def test_untrusted_text_is_escaped():
    evil = ("<img src=x onerror=alert(1)> @octocat ping [click](https://evil.example) ![i](http://t/x.png) "
            "# Heading | table | <!-- failgraph:diagnosis --> `code` **bold** javascript:alert(1) #42")
    d = fake_diagnosis(0.9, fixes=[fix(evil, fixed_in="<b>9</b>")], similar=[
        SimilarFailure(url="https://github.com/a/b/issues/1", score=0.5, labels=[], title=evil),
        SimilarFailure(url="https://evil.example/a/b/issues/2", score=0.5, labels=[], title="phish"),
        SimilarFailure(url="https://github.com/a/b/pull/3", score=0.5, labels=[], title="a PR")])
    body = render(d, CFG).body
    assert "<img" not in body and "<b>" not in body and "<!-- failgraph" not in body.split("\n", 1)[1]
    assert not re.search(r"@octocat", body) and "@\u200boctocat" in body
    links = re.findall(r"\]\(([^)]*)\)", body.replace("\\]\\(", ""))
    assert links == ["https://github.com/a/b/issues/1"]
    assert "phish" not in body and "a PR" not in body
    assert "\\[click\\]" in body and "\\*\\*bold\\*\\*" in body and "\\`code\\`" in body
    assert "\\#\u200b42" in body


def test_text_is_folded_to_one_bounded_line():
    out = md_text("line one\n\n# line two\n" + "x" * 1000, limit=50)
    assert "\n" not in out and out.endswith("…") and "\\# line two" in out
