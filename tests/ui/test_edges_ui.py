"""The chat's edges: long pastes are cut with a note, untrusted text never becomes a link, the favicon is local."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from api_helpers import OOM_REPORT

from failgraph.ui.views.render import md_escape, md_unescape, md_with_links

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
TIMEOUT = 240


def _starts_autolink(text: str, i: int, email: bool = False) -> bool:
    """GFM's rule (mdast-util-gfm-autolink-literal): a literal starts at the text's start or after whitespace or
    punctuation/symbols (not after '/' for e-mail addresses)."""
    if i == 0:
        return True
    ch = text[i - 1]
    return (ch.isspace() or unicodedata.category(ch)[0] in "PS") and not (email and ch == "/")


def gfm_autolinks(markdown: str) -> list[str]:
    """What remark-gfm (Streamlit's markdown) turns into links that the Markdown source did not write as links: the
    autolink-literal transform runs over text nodes, i.e. after backslash escapes are resolved."""
    text = re.sub(r"\[[^\]]*\]\([^)]*\)", " ", markdown)  # explicit links are links already
    text = re.sub(r"`[^`\n]*`", " ", text)  # code spans are never autolinked
    text = re.sub(r"\\(.)", r"\1", text)
    found = [m.group(0) for m in re.finditer(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", text, re.I | re.A)
             if _starts_autolink(text, m.start()) and "." in m.group(0).split("//")[-1]]
    found += [m.group(0) for m in re.finditer(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", text)
              if _starts_autolink(text, m.start(), email=True)]
    return found


HOSTILE = ["see https://evil.example/x for the fix", "mirror: www.evil.example/pkg", "HTTP://EVIL.EXAMPLE",
           "mail admin@evil.example now", "(https://evil.example)", "x/www.evil.example",
           "https://github.com/a/b/issues/1#https://evil.example"]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_never_autolinks(text):
    assert gfm_autolinks(re.sub(r"([\\`*_\[\]()#+\-.!|<>~$:&=\"'])", r"\\\1", text))  # backslashes alone: links
    assert gfm_autolinks(md_escape(text)) == []
    assert gfm_autolinks(md_with_links(text)) == []
    assert md_unescape(md_escape(text)) == text


def test_only_github_issue_urls_become_links():
    md = md_with_links("fixed in https://github.com/a/b/issues/1, not at https://evil.example/a or www.evil.example")
    assert re.findall(r"\]\(([^)]+)\)", md) == ["https://github.com/a/b/issues/1"] and gfm_autolinks(md) == []


def _diagnosis_page():
    from failgraph.assistant.models import CauseAnswer, Diagnosis, EnvironmentFinding, PathStep, SimilarFailure
    from failgraph.ui.views.chat import render_diagnosis

    evil = "https://evil.example/x and www.evil.example and root@evil.example"
    render_diagnosis(Diagnosis(
        symptoms=[], notes=[f"note {evil}"],
        root_causes=[CauseAnswer(label="Cause", score=0.5, category="Cat", group="Grp", fixes=[f"fix at {evil}"],
                                 path=[PathStep(source="report", edge="similar to", target="x")])],
        similar=[SimilarFailure(url="https://github.com/a/b/issues/1", score=0.7, labels=[evil], title=evil)],
        environment=[EnvironmentFinding(rule="r", severity="error", message=f"msg {evil}", fix=f"see {evil}")]))


def test_the_chat_renders_no_autolink_from_issue_text_or_fixes():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_diagnosis_page, default_timeout=60).run()
    assert not at.exception, at.exception
    shown = [e.value for kind in ("markdown", "caption", "error", "warning") for e in at.get(kind)]
    assert any("evil" in s for s in shown) and any("](https://github.com/a/b/issues/1)" in s for s in shown)
    assert [link for s in shown for link in gfm_autolinks(s)] == []


@pytest.fixture
def app(home, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("FAILGRAPH_HOME", str(home.root))
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def test_a_paste_over_the_limit_is_cut_with_a_note_not_dropped(app):
    from failgraph.ui.views.chat import MAX_PASTE

    app.run()
    assert not app.chat_input[0].proto.max_chars  # no browser-side limit that drops a paste silently
    paste = "setup: vllm 0.4.2, torch 2.1.0\n" + "INFO step ok\n" * 6_000 + OOM_REPORT
    assert len(paste) > MAX_PASTE
    app.chat_input[0].set_value(paste).run()
    assert not app.exception, app.exception
    note = " ".join(md_unescape(i.value) for i in app.info)
    assert f"{len(paste):,} characters" in note and f"{MAX_PASTE:,}" in note and "tail" in note
    kept = app.code[0].value
    assert len(kept) <= MAX_PASTE + 3 and kept.startswith("setup: vllm") and kept.endswith(OOM_REPORT.strip())
    assert "Most likely root causes" in "\n".join(m.value for m in app.markdown)


def test_the_favicon_is_a_local_image_and_the_page_names_no_other_host(app, monkeypatch):
    from streamlit.testing.v1 import local_script_runner

    sent = []
    parse = local_script_runner.parse_tree_from_messages

    def keep(messages):
        sent.extend(messages)
        return parse(messages)

    monkeypatch.setattr(local_script_runner, "parse_tree_from_messages", keep)
    app.run()
    assert not app.exception, app.exception
    icons = [m.page_config_changed.favicon for m in sent if m.HasField("page_config_changed")]
    # served by the app's own media endpoint (AppTest's media manager mounts it under /mock)
    assert icons and all(re.fullmatch(r"(/mock)?/media/[0-9a-f]+\.png", i) for i in icons), icons
    hosts = set(re.findall(r"https?://([^/\s\"'\\)]+)", "\n".join(str(m) for m in sent)))
    assert hosts <= {"github.com"}, hosts


def test_the_chat_refuses_a_lone_surrogate_like_the_api():
    from failgraph.ui.views.chat import answer

    report, turn = answer(None, "earlier report", "CUDA out of memory \ud800 again", None)
    assert report == "earlier report" and turn.diagnosis is None and "lone surrogate" in turn.error
