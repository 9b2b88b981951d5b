"""The Streamlit app's logic without a browser (streamlit.testing.v1.AppTest), and its pure rendering helpers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_helpers import OOM_REPORT, REPORT

from failgraph.assistant.followup import combine_reports
from failgraph.assistant.models import PathStep
from failgraph.ui.views.render import (
    dot_string,
    md_escape,
    md_link,
    md_unescape,
    md_with_links,
    path_dot,
    safe_issue_url,
)

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
TIMEOUT = 240  # the first run in a process loads the sentence-transformer model


@pytest.fixture
def app(home, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("FAILGRAPH_HOME", str(home.root))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def markdown_text(at) -> str:
    return "\n".join(md_unescape(m.value) for m in at.markdown)


def leaf_labels() -> set[str]:
    from failgraph.ontology import Level, load_taxonomy
    return {c.label for c in load_taxonomy().concepts("root_cause", Level.leaf)}


# ---------------------------------------------------------------------------------------------- chat
def test_a_report_gets_causes_fixes_links_and_a_path(app):
    app.chat_input[0].set_value(REPORT).run()
    assert not app.exception, app.exception
    text = markdown_text(app)
    assert "Most likely root causes" in text
    shown = [lab for lab in leaf_labels() if lab in text]
    assert shown, text[:2000]
    assert re.search(r"\*\*1\. .+\*\* — score 0\.\d\d", text)
    assert "Fix steps" in text and re.search(r"\n1\. \S", text)
    links = re.findall(r"\]\((https://github\.com/[^)]+)\)", "\n".join(m.value for m in app.markdown))
    assert links, "similar past failures are linked"
    assert "Similar past failures" in text and "similarity 0." in text
    assert len(app.get("graphviz_chart")) >= 1
    assert [c for c in app.chat_message if c.name == "user"] and [c for c in app.chat_message
                                                                 if c.name == "assistant"]
    assert app.code[0].value == REPORT.strip()  # the user's text is shown verbatim in a code block, never as Markdown


def test_a_follow_up_refines_the_same_diagnosis(app):
    from failgraph.ui.views.chat import REPORT as REPORT_KEY
    app.chat_input[0].set_value(OOM_REPORT).run()
    first = app.session_state[REPORT_KEY]
    assert first == OOM_REPORT
    app.chat_input[0].set_value("pip freeze:\ntorch==2.1.0\ntransformers==4.36.2\naccelerate==0.25.0").run()
    assert not app.exception, app.exception
    combined = app.session_state[REPORT_KEY]
    assert combined.startswith(OOM_REPORT) and combined.endswith("accelerate==0.25.0")
    captions = " ".join(md_unescape(c.value) for c in app.caption)
    assert "Refined with your follow-up" in captions
    assert len([c for c in app.chat_message if c.name == "assistant"]) == 2
    # a new diagnosis forgets the report
    app.sidebar.button[0].click().run()
    assert app.session_state[REPORT_KEY] is None and not app.chat_message


def test_unreadable_input_gets_an_error_not_a_crash(app):
    app.chat_input[0].set_value("\x00\x01\x02\x03").run()
    assert not app.exception
    assert any("binary" in md_unescape(e.value) for e in app.error)


def test_hostile_issue_text_is_escaped(app):
    app.chat_input[0].set_value("<img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) CUDA out of "
                                "memory").run()
    assert not app.exception
    raw = "\n".join(m.value for m in app.markdown)
    assert "javascript:" not in raw and "<img" not in raw


# ---------------------------------------------------------------------------------------------- other pages
def test_explore_page_draws_the_matrix_and_distributions(app):
    app.sidebar.radio[0].set_value("Explore").run()
    assert not app.exception, app.exception
    assert app.metric[0].value == "706"
    assert len(app.get("vega_lite_chart")) >= 4  # heat maps, series, stage, model version
    assert app.dataframe


def test_sparql_page_runs_a_named_query_and_offers_csv(app):
    app.sidebar.radio[0].set_value("SPARQL").run()
    app.selectbox[0].select_index([o for o in app.selectbox[0].options].index(
        next(o for o in app.selectbox[0].options if "(symptom_cause_category)" in o))).run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    df = app.dataframe[0].value
    assert list(df.columns) == ["root_cause_category", "symptom_category", "records"]
    assert int(df["records"].sum()) == 706
    assert app.get("download_button")


def test_sparql_page_refuses_updates(app):
    app.sidebar.radio[0].set_value("SPARQL").run()
    app.selectbox[0].set_value("(your own query)").run()
    app.text_area[0].input("DELETE WHERE { ?s ?p ?o }").run()
    app.button[0].click().run()
    assert not app.exception
    assert any("read-only" in md_unescape(e.value) for e in app.error)


def test_sparql_page_refuses_service_without_connecting(app):
    from test_sparql_service import Recorder, attacks

    recorder = Recorder()
    try:
        app.sidebar.radio[0].set_value("SPARQL").run()
        app.selectbox[0].set_value("(your own query)").run()
        app.text_area[0].input(attacks(recorder.url)[0]).run()
        app.button[0].click().run()
        assert not app.exception
        assert any("SERVICE" in md_unescape(e.value) for e in app.error)
        assert recorder.hits == [] and not app.dataframe
    finally:
        recorder.close()


def test_check_my_environment_lists_findings_with_fixes(app):
    app.sidebar.radio[0].set_value("Check my environment").run()
    app.text_area[0].input("transformers==4.36.2\ntorch==2.1.2\nvllm==0.4.2\n").run()
    app.text_input[0].input("Qwen2.5-7B-Instruct").run()
    app.button[0].click().run()
    assert not app.exception, app.exception
    shown = "\n".join(md_unescape(e.value) for e in app.error)
    assert "transformers>=4.37.0" in shown and "qwen2" in shown.lower()
    app.text_area[0].input("transformers==4.45.0\ntorch==2.4.0\n").run()
    app.button[0].click().run()
    assert not app.error and app.success


def test_check_my_environment_refuses_empty_input(app):
    app.sidebar.radio[0].set_value("Check my environment").run()
    app.button[0].click().run()
    assert not app.exception and any("empty" in md_unescape(e.value) for e in app.error)


# ---------------------------------------------------------------------------------------------- pure helpers
@pytest.mark.parametrize("hostile", ["<script>alert(1)</script>", "[x](javascript:alert(1))", "![](http://e/t.png)",
                                     "**b** _i_ `c` # h", ":red[x] :smile: $x^2$", "a\\*b"])
def test_md_escape_makes_markdown_inert(hostile):
    out = md_escape(hostile)
    assert md_unescape(out) == " ".join(hostile.split())
    assert not re.search(r"(?<!\\)[<>\[\]()*_`#:$]", out)


def test_links_only_to_github_issues():
    assert safe_issue_url("https://github.com/a/b/issues/1")
    for bad in ["javascript:alert(1)", "https://github.com/a/b/issues/1)evil", "http://github.com/a/b/issues/1",
                "https://evil.com/a/b/issues/1", "https://github.com/a/b/issues/1 x"]:
        assert safe_issue_url(bad) is None
        assert "](" not in md_link("t", bad)
    assert md_with_links("see https://github.com/a/b/issues/2.") == "see [a/b\\#2](https://github.com/a/b/issues/2)\\."
    assert "](" not in md_with_links("see https://evil.com/x")


def test_path_dot_escapes_labels():
    dot = path_dot([PathStep(source="report", edge='x" -> evil [label="y', target='a\\"b', weight=0.1234),
                    PathStep(source='a\\"b', edge="similar to", target="https://github.com/a/b/issues/3")])
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == 2 + 1  # two edges, plus the one inside an escaped label
    assert '\\"' in dot and "a/b#3" in dot and "(0.12)" in dot
    assert dot_string('q"q') == '"q\\"q"'


def test_combine_reports():
    assert combine_reports(None, " x ") == "x"
    assert combine_reports("first", "second") == "first\n\n--- follow-up ---\nsecond"


def test_no_unsafe_html_anywhere_in_the_ui():
    ui = APP.parent
    for f in [APP, *ui.joinpath("views").glob("*.py")]:
        assert "unsafe_allow_html=True" not in f.read_text(encoding="utf-8"), f
