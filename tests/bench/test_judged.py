"""The judged check's arithmetic and stale detection, on a tiny verdict file (no network, no posts, no graph)."""

import json

import pytest
from typer.testing import CliRunner

from failgraph.bench.judged import DEFAULT_VERDICTS, FirstFix, first_fix, load_verdicts, rates, stale_verdicts
from failgraph.ui.cli import app


def _v(issue, set_, action, target, verdict, harmful=False):
    return {"issue": issue, "set": set_, "first_fix": {"action": action, "target": target, "text": "t"},
            "verdict": verdict, "harmful": harmful, "reason": "r"}


TINY = [
    _v("huggingface/peft#1583", "opening-post", "upgrade", "peft", "yes"),
    _v("QwenLM/Qwen2.5#16", "opening-post", "set-parameter", "max_model_len", "partly"),
    _v("meta-llama/llama#136", "opening-post", "change-hardware", "gpu", "no", harmful=True),
    _v("vllm-project/vllm#4180", "opening-post", "other", None, "no"),
    _v("huggingface/peft#1583", "case-report", "downgrade", "peft", "yes"),
    _v("QwenLM/Qwen2.5#16", "case-report", "set-parameter", "max_model_len", "yes"),
]


@pytest.fixture
def tiny(tmp_path):
    p = tmp_path / "verdicts.jsonl"
    p.write_text("".join(json.dumps(v) + "\n" for v in TINY), encoding="utf-8")
    return p


def test_rates_per_set(tiny):
    figures = {r.set: r for r in rates(load_verdicts(tiny))}
    op = figures["opening-post"]
    assert (op.n, op.yes, op.partly, op.no, op.harmful) == (4, 1, 1, 2, 1)
    assert (op.helps, op.helps_or_partly, op.harmful_rate) == (0.25, 0.5, 0.25)
    cr = figures["case-report"]
    assert (cr.n, cr.yes, cr.no, cr.helps) == (2, 2, 0, 1.0)
    assert [r.set for r in rates(load_verdicts(tiny))] == ["opening-post", "case-report"]


def test_stale_only_when_action_or_target_changed(tiny):
    vs = load_verdicts(tiny)
    now = {
        ("opening-post", "huggingface/peft#1583"): FirstFix(action="upgrade", target="PEFT", text="reworded"),
        # the renamed repository's key: QwenLM/Qwen3 threads are QwenLM/Qwen2.5 issues
        ("opening-post", "qwenlm/qwen2.5#16"): FirstFix(action="set-parameter", target="gpu_memory_utilization"),
        ("opening-post", "meta-llama/llama#136"): None,  # the answer lost its fix
        ("case-report", "huggingface/peft#1583"): FirstFix(action="upgrade", target="peft"),
    }
    stale = {(s.set, s.issue): s for s in stale_verdicts(vs, now)}
    assert set(stale) == {("opening-post", "QwenLM/Qwen2.5#16"), ("opening-post", "meta-llama/llama#136"),
                          ("case-report", "huggingface/peft#1583")}
    assert stale[("opening-post", "meta-llama/llama#136")].now is None
    # not re-diagnosed (vllm#4180, the case report of Qwen2.5#16) is not stale


def test_first_fix_of_an_answer():
    assert first_fix({"fixes": []}) is None
    ff = first_fix({"fixes": [{"action": "upgrade", "target": "vllm", "text": "Upgrade vllm", "score": 1.0}]})
    assert (ff.action, ff.target) == ("upgrade", "vllm")


def test_bad_lines_are_named(tmp_path):
    p = tmp_path / "v.jsonl"
    bad = _v("not-an-issue", "opening-post", "upgrade", "peft", "yes")
    p.write_text(json.dumps(TINY[0]) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v.jsonl:2: issue"):
        load_verdicts(p)
    p.write_text(json.dumps(TINY[0]) + "\n" + json.dumps(TINY[0]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="judged twice"):
        load_verdicts(p)


def test_cli_prints_rates_and_one_line_errors(tiny, tmp_path):
    r = CliRunner().invoke(app, ["bench", "judged", "--verdicts", str(tiny), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [x["n"] for x in doc["rates"]] == [4, 2] and "stale" not in doc
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"issue": "a/b#1"}\n', encoding="utf-8")
    r = CliRunner().invoke(app, ["bench", "judged", "--verdicts", str(bad)])
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_shipped_verdicts_are_valid_and_hold_no_post_text():
    vs = load_verdicts(DEFAULT_VERDICTS)
    assert len([v for v in vs if v.set == "opening-post"]) >= 100
    assert all(len(v.reason) <= 300 for v in vs)
