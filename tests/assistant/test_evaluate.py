import json

import numpy as np
import pytest

from failgraph.assistant.evaluate import (
    METHODS,
    LabeledReport,
    calibration,
    evaluate,
    label_agreement,
    load_labeled,
    plot_evaluation,
)


def test_leave_one_out_evaluation_runs_every_method(tmp_path, small_kb):
    cases = [f for f in small_kb.corpus.failures if f.root_causes][:12]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps({"report": f.text, "symptom": f.symptoms[0], "root_cause": f.root_causes[0],
                                          "source_url": f.url}) for f in cases))
    items = load_labeled(path)
    res = evaluate(small_kb, items)
    assert res.items == 12 and set(res.methods) == set(METHODS)
    for m in res.methods.values():
        for level in m.root_cause.values():
            assert 0 <= level.top1 <= level.top3 <= 1 and level.n == 12
    assert sum(sum(r.values()) for r in res.confusion.values()) == 12
    for cal in res.calibration.values():
        assert sum(b.n for b in cal.bins) == 12 and 0 <= cal.ece <= 1
        assert cal.accuracy == sum(b.accuracy * b.n for b in cal.bins) / 12
    assert res.calibration["leaf"].accuracy == res.methods["failgraph"].root_cause["leaf"].top1
    assert res.calibration["category"].accuracy == res.methods["failgraph"].root_cause["category"].top1
    assert 0 <= res.agreement.pairs <= 12 * 11 // 2 and set(res.agreement.same) == set(res.methods["failgraph"].root_cause)
    png = tmp_path / "c.png"
    plot_evaluation(res, png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_items_name_their_line(tmp_path):
    import pytest
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "x", "symptom": "Crash - Nope", "root_cause": "y"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        load_labeled(p)


def test_label_agreement_counts_only_near_duplicate_pairs():
    env_dep = "Environment Compatibility Issues - Dependency Library Compatibility"
    env_arch = "Environment Compatibility Issues - System Architecture Compatibility"
    tok = "Tokenizer and Text Processing Issues - Control Token Issues"
    items = [LabeledReport(text=str(i), symptom="Hang - Generation Process Stuck", root_cause=c)
             for i, c in enumerate([env_dep, env_arch, tok, tok])]
    # 0 and 1 are near duplicates (same group and category, other leaf), 2 and 3 identical (same leaf), 1 and 2 far apart
    v = np.array([[1, 0, 0], [0.9, np.sqrt(1 - 0.81), 0], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    ag = label_agreement(v, items, threshold=0.8)
    assert ag.pairs == 2
    assert ag.same == {"category": 1.0, "subcategory": 1.0, "group": 1.0, "leaf": 0.5}
    assert label_agreement(v, items, threshold=0.95).pairs == 1
    assert label_agreement(v[:1], items[:1]).pairs == 0


def test_calibration_bins_and_error():
    scores = [0.9, 0.9, 0.1, 0.1, 0.5, 0.5]
    right = [True, True, False, False, True, False]
    cal = calibration(scores, right, bins=3)
    assert [(round(b.mean_score, 6), b.accuracy, b.n) for b in cal.bins] == [(0.1, 0.0, 2), (0.5, 0.5, 2), (0.9, 1.0, 2)]
    assert cal.ece == pytest.approx((0.1 + 0.0 + 0.1) * 2 / 6)
    overconfident = calibration([0.95] * 4, [True, False, False, False], bins=5)
    assert len(overconfident.bins) == 4 and overconfident.ece == pytest.approx((0.05 + 3 * 0.95) / 4)


def test_reports_that_cannot_be_diagnosed_are_listed_not_fatal(small_kb):
    cases = [f for f in small_kb.corpus.failures if f.root_causes][:3]
    items = [LabeledReport(text=f.text, symptom=f.symptoms[0], root_cause=f.root_causes[0], source_url=f.url)
             for f in cases]
    only_template = items[0].model_copy(update={"text": "### Reminder\n- [x] I have read the above rules.\n"
                                                        "### Reproduction\n_No response_"})
    res = evaluate(small_kb, [only_template, *items[1:]])
    assert res.items == 2 and [u.source_url for u in res.unanswered] == [cases[0].url]
    assert "empty" in res.unanswered[0].reason
    assert all(level.n == 2 for m in res.methods.values() for level in m.root_cause.values())


def test_cli_eval_says_which_reports_it_left_out(tmp_path, small_kb, monkeypatch):
    from typer.testing import CliRunner

    from failgraph.ui import cli
    monkeypatch.setattr(cli, "_load_kb", lambda home, embedder=None: small_kb)
    f = next(f for f in small_kb.corpus.failures if f.root_causes)
    line = {"symptom": f.symptoms[0], "root_cause": f.root_causes[0], "source_url": f.url}
    path = tmp_path / "items.jsonl"
    texts = (f.text, "### What is the issue?\n_No response_")
    path.write_text("\n".join(json.dumps({**line, "text": t}) for t in texts))
    r = CliRunner().invoke(cli.app, ["eval", str(path), "--json", str(tmp_path / "e.json")])
    assert r.exit_code == 0, r.output
    assert "1 of 2 reports could not be diagnosed" in r.stderr and f.url in r.stderr
    assert json.loads((tmp_path / "e.json").read_text())["items"] == 1
    path.write_text(json.dumps({**line, "text": "```\n```"}))
    r = CliRunner().invoke(cli.app, ["eval", str(path)])
    assert r.exit_code == 2 and "nothing to score" in r.stderr


def test_the_three_harnesses_share_one_evaluator_shape(small_kb, tmp_path):
    """Extraction, doctor and diagnosis are each an Evaluator: run() gives typed figures, render() plain text."""
    from failgraph.assistant.doctor_eval import DoctorEvaluator
    from failgraph.assistant.evaluate import DiagnosisEvaluator, LabeledReport
    from failgraph.ingest.cases import load_cases
    from failgraph.ingest.evaluator import Evaluator
    from failgraph.ingest.extract.evaluate import ExtractionEvaluator

    cases = load_cases().cases[::25]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(c.model_dump_json() + "\n" for c in cases), encoding="utf-8")
    labeled = [f for f in small_kb.corpus.failures if f.root_causes][:4]
    items = [LabeledReport(text=f.text, symptom=f.symptoms[0], root_cause=f.root_causes[0], source_url=f.url)
             for f in labeled]
    harnesses = [ExtractionEvaluator(path), DoctorEvaluator(cases), DiagnosisEvaluator(small_kb, items)]
    assert {h.name for h in harnesses} == {"extraction", "doctor", "diagnosis"}
    for h in harnesses:
        assert isinstance(h, Evaluator)
        done = []
        result = h.run(done.append)
        assert sum(done) > 0
        text = h.render(result)
        assert text.strip() and "Traceback" not in text
    assert harnesses[0].run().cases == len(cases)
    assert harnesses[2].run().items == len(items)


def test_fix_metrics_compare_failgraph_with_the_neighbour_baselines(tmp_path, small_kb):
    from failgraph.assistant.evaluate import FIX_METHODS

    fixed = [f for f in small_kb.corpus.failures if f.root_causes and f.fix_spec and not f.fix_spec.generic][:8]
    items = [LabeledReport(text=f.text, symptom=f.symptoms[0], root_cause=f.root_causes[0], source_url=f.url,
                           fix_spec=f.fix_spec, fix_confirmed=f.fix_confirmed) for f in fixed]
    res = evaluate(small_kb, items)
    assert set(res.fixes) == set(FIX_METHODS)
    for f in res.fixes.values():
        assert f.n == 8 and 0 <= f.fix_at_1 <= f.fix_at_3 <= 1
        assert f.confirmed_n == sum(x.fix_confirmed for x in fixed)
    shares = [t.share for t in res.above_threshold]
    assert shares == sorted(shares, reverse=True) and all(0 <= s <= 1 for s in shares)


def test_a_time_split_diagnoses_the_later_items_without_any_of_them(small_kb):
    import datetime

    from failgraph.assistant.diagnose import analyse
    from failgraph.assistant.evaluate import time_split
    from failgraph.assistant.models import ReportRequest
    from failgraph.ingest.records import issue_key

    cases = [f for f in small_kb.corpus.failures if f.root_causes][:6]
    items = [LabeledReport(text=f.text, symptom=f.symptoms[0], root_cause=f.root_causes[0], source_url=f.url,
                           date=datetime.date(2024, 1 + i, 1)) for i, f in enumerate(cases)]
    later, excluded = time_split([*items, items[0].model_copy(update={"date": None})], datetime.date(2024, 4, 1))
    assert [i.date.month for i in later] == [4, 5, 6] and excluded == [i.source_url for i in later]
    a = analyse(small_kb, ReportRequest(text=later[0].text, exclude_urls=excluded), strict_rules=True)
    assert not {n.failure.key for n in a.neighbours} & {issue_key(u) for u in excluded}
