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
    d = diagnose(small_kb, ReportRequest(text="The model does not work properly, see the screenshot."))
    assert {"error_text", "versions"} <= {q.fact for q in d.questions}
    assert all(q.separates for q in d.questions)


def test_a_sure_answer_asks_nothing(small_kb):
    report = ("Loading Qwen2-7B-Instruct with AutoModelForCausalLM.from_pretrained fails right away:\n"
              "KeyError: 'qwen2'\ntransformers==4.36.2, torch 2.1.2+cu121")
    d = diagnose(small_kb, ReportRequest(text=report))
    assert d.root_causes[0].score >= DiagnosisWeights().ask_below
    assert d.questions == []
