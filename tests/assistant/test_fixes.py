"""Fix-level ranking (assistant/fixes.py) and the answers' fixes and questions."""

import json

from failgraph.assistant.diagnose import analyse, diagnose, fixes_for
from failgraph.assistant.fixes import FixCandidate, FixContext, fit, rank_fixes
from failgraph.assistant.models import ExtractedFacts, ReportRequest
from failgraph.assistant.weights import DiagnosisWeights
from failgraph.ontology.fixes import FixSpec

UPGRADE_TF = FixSpec(action="upgrade", target="transformers", target_kind="library", value=">=4.37.0")
SET_TP = FixSpec(action="set-parameter", target="tensor_parallel_size", target_kind="parameter", value="2")
GENERIC = FixSpec(action="other", generic=True)
QWEN_ONLY = FixSpec(action="fix-template-or-tokens", target="eos_token", target_kind="component",
                    applies_to={"model_families": ["Qwen"]})


def cand(spec, score, source="similar", text=None, cause=None):
    return FixCandidate(spec=spec, text=text or f"do {spec.action} {spec.target}", cause=cause, source=source,
                        score=score)


def ctx(**facts):
    return FixContext.of(ExtractedFacts(**facts))


def test_remedies_are_merged_and_ordered_by_their_summed_score():
    w = DiagnosisWeights()
    merged = 0.3 * w.fix_similar + 0.3 * w.fix_cause
    between = (0.3 * w.fix_similar + merged) / 2 / w.fix_similar  # beats either part alone, not their sum
    ranked = rank_fixes([cand(SET_TP, 0.3), cand(UPGRADE_TF, between), cand(SET_TP, 0.3, "cause")], ctx())
    assert [(f.action, f.target) for f in ranked] == [SET_TP.key, UPGRADE_TF.key]
    assert ranked[0].score == round(merged, 4)
    assert [f.score for f in ranked] == sorted((f.score for f in ranked), reverse=True)


def test_an_upgrade_the_stated_version_already_meets_is_never_suggested():
    cands = [cand(UPGRADE_TF, 0.9), cand(SET_TP, 0.1)]
    assert UPGRADE_TF.key not in [(f.action, f.target) for f in rank_fixes(cands, ctx(libraries={"transformers":
                                                                                                  "4.45.2"}))]
    kept = rank_fixes(cands, ctx(libraries={"transformers": "4.36.2"}))
    assert (kept[0].action, kept[0].target, kept[0].fixed_in) == ("upgrade", "transformers", "4.37.0")


def test_a_fix_for_another_model_family_is_discounted_not_hidden():
    w = DiagnosisWeights()
    assert fit(QWEN_ONLY, ctx(models=["Meta-Llama-3-8B-Instruct"]), w) == w.fix_misfit
    assert fit(QWEN_ONLY, ctx(models=["Qwen2.5-7B-Instruct"]), w) == 1.0
    assert fit(QWEN_ONLY, ctx(), w) == 1.0  # nothing stated speaks against it
    ranked = rank_fixes([cand(QWEN_ONLY, 0.5), cand(SET_TP, 0.3)], ctx(models=["Meta-Llama-3-8B-Instruct"]))
    assert [(f.action, f.target) for f in ranked] == [SET_TP.key, QWEN_ONLY.key]


def test_generic_steps_come_last_whatever_their_score():
    ranked = rank_fixes([cand(GENERIC, 5.0, "playbook", text="Print your versions."), cand(SET_TP, 0.01)], ctx())
    assert [f.generic for f in ranked] == [False, True]


def test_text_and_provenance_come_from_the_most_specific_source():
    ranked = rank_fixes([cand(SET_TP, 0.9, "playbook", text="general words"),
                         cand(SET_TP, 0.1, "similar", text="the past failure's words")], ctx())
    assert ranked[0].text == "the past failure's words" and ranked[0].source == "similar"


def test_answers_carry_ranked_fixes_and_causes_in_score_order(small_kb):
    report = ("vllm serve Qwen2.5-72B-Instruct --tensor-parallel-size 3 fails at startup: ValueError: Total number "
              "of attention heads (64) must be divisible by tensor parallel size (3).")
    d = diagnose(small_kb, ReportRequest(text=report))
    scores = [c.score for c in d.root_causes]
    assert scores == sorted(scores, reverse=True)
    assert d.fixes and not d.fixes[0].generic
    assert [f.generic for f in d.fixes] == sorted(f.generic for f in d.fixes)
    remedies = [f.score for f in d.fixes if not f.generic]
    assert remedies == sorted(remedies, reverse=True)
    js = json.loads(d.model_dump_json())
    assert {"text", "action", "target", "value", "cause", "score", "source", "confirmed", "generic"} <= set(
        js["fixes"][0])


def test_leave_one_out_never_words_a_fix_with_the_excluded_case(small_kb):
    f = next(f for f in small_kb.corpus.failures if f.fix_spec is not None and f.root_causes)
    a = analyse(small_kb, ReportRequest(text=f.text, exclude_urls=[f.url]))
    assert f.url not in {x.source_ref for x in fixes_for(small_kb, a)}


def test_a_thin_report_is_asked_for_its_error_text_and_versions(small_kb):
    from failgraph.assistant.diagnose import THIN_NOTE

    d = diagnose(small_kb, ReportRequest(text="The model does not work properly, see the screenshot."))
    assert {"error_text", "versions"} <= {q.fact for q in d.questions}
    assert all(q.separates for q in d.questions)
    assert THIN_NOTE in d.notes


def test_a_sure_answer_asks_nothing(small_kb):
    report = ("Loading Qwen2-7B-Instruct with AutoModelForCausalLM.from_pretrained fails right away:\n"
              "KeyError: 'qwen2'\ntransformers==4.36.2, torch 2.1.2+cu121")
    d = diagnose(small_kb, ReportRequest(text=report))
    assert d.root_causes[0].score >= DiagnosisWeights().ask_below
    assert d.questions == []


def test_a_follow_up_that_answers_the_questions_refines_the_same_diagnosis(small_kb):
    from failgraph.assistant.followup import refine

    first = refine(small_kb, None, "The model does not work properly, see the screenshot.", None)
    asked = {q.fact for q in first.diagnosis.questions}
    assert {"error_text", "versions"} <= asked
    then = refine(small_kb, first.report, "RuntimeError: CUDA error: no kernel image is available for execution on "
                  "the device. transformers 4.44.2, torch 2.4.0, flash-attn 2.6.3 on a V100", first.diagnosis)
    assert first.report in then.report and then.note
    still = {q.fact for q in then.diagnosis.questions}
    assert not {"error_text", "versions", "gpu_model"} & still


def test_a_self_explanatory_error_gets_the_fix_its_message_names(small_kb):
    from failgraph.ontology.error_knowledge import error_knowledge

    entry = next(e for e in error_knowledge() if e.weight >= 0.8 and not e.fix.generic and e.fix.target)
    d = diagnose(small_kb, ReportRequest(text=f"It fails right away:\n{entry.example}"))
    mine = [f for f in d.fixes if f.source == "error" and f.source_ref == entry.id]
    assert mine and (mine[0].action, mine[0].target) == entry.fix.key
    assert any(f"known error {entry.id}" in p.edge for c in d.root_causes for p in c.path if c.label == entry.cause)


def test_knowledge_learnt_from_an_excluded_issue_is_left_out(small_kb):
    from failgraph.assistant.errors import known_errors
    from failgraph.ontology.error_knowledge import error_knowledge

    entry = next(e for e in error_knowledge() if any("github.com" in u and "/issues/" in u for u in e.evidence))
    cited = next(u for u in entry.evidence if "/issues/" in u)
    assert entry in known_errors(entry.example)
    from failgraph.ingest.records import issue_key
    assert entry not in known_errors(entry.example, frozenset({issue_key(cited)}))
    d = diagnose(small_kb, ReportRequest(text=entry.example, exclude_urls=[cited]))
    assert entry.id not in {f.source_ref for f in d.fixes}


def test_a_setting_the_command_already_has_is_not_suggested_again():
    half = FixSpec(action="change-dtype", target="dtype", target_kind="parameter", value="float16")
    bf16 = FixSpec(action="change-dtype", target="dtype", target_kind="parameter", value="bfloat16")
    ranked = rank_fixes([cand(half, 0.9), cand(bf16, 0.2)], ctx(launch={"dtype": "half"}))
    assert [(f.action, f.value) for f in ranked] == [("change-dtype", "bfloat16")]
    ranked = rank_fixes([cand(half, 0.9), cand(bf16, 0.2)], ctx())
    assert [f.value for f in ranked] == ["float16"]  # nothing stated: the merge keeps the best one
