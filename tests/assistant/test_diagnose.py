import json

import pytest
from typer.testing import CliRunner

from failgraph.assistant.diagnose import analyse, diagnose, similar
from failgraph.assistant.models import ReportRequest
from failgraph.assistant.report import ReportError
from failgraph.ontology import Level, load_taxonomy

QWEN2_KEYERROR = ("Loading Qwen2-7B-Instruct with AutoModelForCausalLM.from_pretrained fails right away:\n"
                  "KeyError: 'qwen2'\ntransformers==4.36.2, torch 2.1.2+cu121")


def test_answer_shape_and_taxonomy(small_kb):
    d = diagnose(small_kb, ReportRequest(id="r1", text=QWEN2_KEYERROR, top_k=3))
    tax = load_taxonomy()
    assert d.id == "r1" and len(d.root_causes) == 3 and len(d.symptoms) == 3
    for c in d.root_causes:
        leaf = tax.leaf("root_cause", c.label)
        assert c.category == tax.category_of(leaf).label
        assert c.fixes and c.path and c.path[-1].target == c.category
    scores = [c.score for c in d.root_causes]
    assert 0 < scores[0] <= 1 and sum(scores) <= 1.0001
    assert d.facts.libraries.get("transformers") == "4.36.2"
    assert all(s.url.startswith("https://github.com/") and s.labels for s in d.similar)
    js = json.loads(d.model_dump_json())
    assert {"id", "symptoms", "root_causes", "similar"} <= set(js)
    assert {"label", "score", "fixes", "path"} <= set(js["root_causes"][0])
    assert {"url", "score", "labels"} <= set(js["similar"][0])


def test_dependency_report_ranks_dependency_first(small_kb):
    d = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR))
    assert d.root_causes[0].category == "Environment and Infrastructure Fault"
    assert any("Dependency" in c.label for c in d.root_causes[:2])
    assert d.symptoms[0].label.startswith(("Loading Failure", "Crash"))


def test_excluded_issue_is_never_cited(small_kb):
    first = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR))
    cited = first.similar[0].url
    again = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR, exclude_urls=[cited.upper().replace("HTTPS", "https")]))
    assert cited.lower() not in {s.url.lower() for s in again.similar}
    for c in again.root_causes:
        assert cited.lower() not in {u.lower() for u in c.evidence}
    hits = similar(small_kb, QWEN2_KEYERROR, k=3, exclude_urls=[cited])
    assert len(hits) == 3 and cited not in {h.url for h in hits}


def test_leave_one_out_removes_the_issue_from_statistics(small_kb):
    case = next(f for f in small_kb.corpus.failures if f.root_causes)
    a = analyse(small_kb, ReportRequest(text=case.text, exclude_urls=[case.url]))
    assert case.key not in {n.failure.key for n in a.neighbours}
    stats, key = small_kb.stats, frozenset({case.key})
    for symptom, cause in set(stats.by_key[case.key]):
        own = sum(1 for pair in stats.by_key[case.key] if pair == (symptom, cause))
        assert stats.count(symptom, cause, key) == stats.count(symptom, cause) - own
    # the character n-gram model leaves the issue out too: its own text no longer pulls towards its own category
    own_category = load_taxonomy().category_of(load_taxonomy().leaf("root_cause", case.root_causes[0])).label
    model = small_kb.cause_category_model
    assert model.posterior(case.index_text, key)[own_category] < model.posterior(case.index_text)[own_category]


def test_category_text_model_is_evidence_on_the_path(small_kb):
    d = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR, top_k=3))
    p = small_kb.cause_category_model.posterior(QWEN2_KEYERROR)
    assert max(p, key=p.get) == "Environment and Infrastructure Fault"
    for c in d.root_causes:
        steps = [s for s in c.path if "character n-grams" in s.edge]
        assert len(steps) == 1 and steps[0].target == c.category
        assert steps[0].weight == pytest.approx(p[c.category], abs=1e-4)


def test_group_discriminant_is_evidence_on_the_path_and_leaves_issues_out(small_kb):
    d = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR, top_k=3))
    p = small_kb.cause_group_model.posterior(small_kb.embedder.encode([QWEN2_KEYERROR])[0])
    for c in d.root_causes:
        steps = [s for s in c.path if "vector discriminant" in s.edge]
        assert len(steps) == 1 and steps[0].target == c.group
        assert steps[0].weight == pytest.approx(p[c.group], abs=1e-3)
    case = next(f for f in small_kb.corpus.failures if f.root_causes)
    tax = load_taxonomy()
    own_group = tax.at_level(tax.leaf("root_cause", case.root_causes[0]), Level.group).label
    vec = small_kb.vector_of(case.key)
    model = small_kb.cause_group_model
    assert model.posterior(vec, frozenset({case.key}))[own_group] < model.posterior(vec)[own_group]


def test_a_pasted_environment_listing_does_not_drown_the_report(small_kb):
    """Real reports paste collect_env / transformers env output whole; the answer must still be about the report,
    and the listing's versions must still reach the extracted facts."""
    from pathlib import Path
    env = (Path(__file__).resolve().parents[1] / "fixtures" / "listings" / "collect_env.txt").read_text(encoding="utf-8")
    plain = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR, top_k=3))
    pasted = diagnose(small_kb, ReportRequest(text=f"### System Info\n{env}\n### Reproduction\n{QWEN2_KEYERROR}",
                                              top_k=3))
    assert [c.label for c in pasted.root_causes] == [c.label for c in plain.root_causes]
    assert [s.url for s in pasted.similar] == [s.url for s in plain.similar]
    assert pasted.facts.libraries.get("numpy") == "1.26.4" and "numpy" not in plain.facts.libraries
    assert any("environment listing" in n for n in pasted.notes)


def test_a_pasted_log_and_traceback_do_not_drown_the_report(small_kb):
    """A server start-up log and a long traceback around the same report: same answer, and the notes say what was
    set aside."""
    from pathlib import Path
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    log = (fixtures / "logs" / "vllm_serve.log").read_text(encoding="utf-8")
    frames = "".join(f'  File "/opt/conda/lib/python3.10/site-packages/transformers/models/auto/auto_factory.py", '
                     f'line {400 + i}, in from_pretrained\n    config, kwargs = AutoConfig.from_pretrained(\n'
                     for i in range(25))
    first, rest = QWEN2_KEYERROR.split("\n", 1)
    plain = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR, top_k=3))
    pasted_text = f"{first}\n```\n{log}\nTraceback (most recent call last):\n{frames}{rest}\n```"
    pasted = diagnose(small_kb, ReportRequest(text=pasted_text, top_k=3))
    assert [c.label for c in pasted.root_causes] == [c.label for c in plain.root_causes]
    # what is matched is the report plus the traceback's header and innermost frame, so the nearest failure stays
    assert pasted.similar[0].url == plain.similar[0].url
    from failgraph.assistant.report import prepare_report
    matched = [line for line in prepare_report(pasted_text).text.splitlines() if line.strip()]
    assert len(matched) == len(QWEN2_KEYERROR.splitlines()) + 3 and "in from_pretrained" in matched[2]
    assert any("log output" in n for n in pasted.notes) and any("traceback frames" in n for n in pasted.notes)


@pytest.mark.parametrize("text,kind", [("", "empty"), ("\x00\x01\x02" * 100, "binary")])
def test_unreadable_reports_raise_clear_errors(small_kb, text, kind):
    with pytest.raises(ReportError, match=kind):
        diagnose(small_kb, ReportRequest(text=text))


def test_odd_reports_still_get_answers(small_kb):
    huge = diagnose(small_kb, ReportRequest(text="vllm 0.4.2 serving Qwen2\n" + "x " * 60_000 + "\nKilled"))
    assert huge.root_causes and any("longer than" in n for n in huge.notes)
    chinese = diagnose(small_kb, ReportRequest(text="模型输出全是乱码，重复同一句话"))
    assert chinese.root_causes and any("English" in n for n in chinese.notes)
    novel = diagnose(small_kb, ReportRequest(text="the coffee machine in the office is broken again"))
    assert novel.novel and any("nothing similar" in n for n in novel.notes)


def test_cli_batch_contract(tmp_path, small_kb, monkeypatch):
    from failgraph.ui import cli
    monkeypatch.setattr(cli, "_load_kb", lambda home, embedder=None: small_kb)
    batch = tmp_path / "in.jsonl"
    lines = [{"id": 1, "text": QWEN2_KEYERROR, "exclude_urls": []},
             {"id": "two", "text": "training Llama 2 with deepspeed zero3 hangs at the first step"},
             {"id": 3, "text": ""}]
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    r = CliRunner().invoke(cli.app, ["diagnose", "--batch", str(batch), "--json", "--top-k", "2"])
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert [o.get("id") for o in out[:3]] == [1, "two", 3]
    assert len(out[0]["root_causes"]) == 2 and out[0]["similar"]
    assert "error" in out[2] and "error" in out[3]


def test_environment_rules_feed_the_diagnosis(small_kb):
    d = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR))
    assert any(f.rule == "transformers-qwen2-min" and f.severity == "error" for f in d.environment)
    dep = next(c for c in d.root_causes if "Dependency Library" in c.label)
    assert any("environment check" in p.edge for p in dep.path)
    fixed = diagnose(small_kb, ReportRequest(text=QWEN2_KEYERROR.replace("4.36.2", "4.45.0")))
    assert not any(f.rule == "transformers-qwen2-min" for f in fixed.environment)


def test_a_title_is_matched_with_the_text(small_kb):
    """A batch line may carry the issue's title: it is read as the report's first line, and a short title-less body
    is answered differently from the same body under its title."""
    title, body = "KeyError: 'qwen2' when loading Qwen2-7B-Instruct", "It fails right away, see above."
    with_title = diagnose(small_kb, ReportRequest(text=body, title=title))
    joined = diagnose(small_kb, ReportRequest(text=f"{title}\n{body}"))
    assert with_title.model_dump(exclude={"id"}) == joined.model_dump(exclude={"id"})
    bare = diagnose(small_kb, ReportRequest(text=body))
    assert [s.url for s in bare.similar] != [s.url for s in with_title.similar]
    assert ReportRequest(text=body, title="  ").report_text == body
