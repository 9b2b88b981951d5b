"""The fix vocabulary and the structured fix shape (ontology/fix_actions.ttl, ontology/fixes.py), and the structured
fixes of the case base and the playbook."""

import pytest
from pydantic import ValidationError

from failgraph.ingest.cases import load_cases
from failgraph.ontology import UnknownTerm
from failgraph.ontology.fixes import FixSpec, fix_action, fix_actions, normalise_target, target_aliases
from failgraph.ontology.rules import load_playbook

ISSUE_ACTIONS = {"upgrade", "downgrade", "install", "uninstall", "set-parameter", "change-code", "change-hardware",
                 "change-dtype", "fix-template-or-tokens", "reduce-memory", "use-other-model-or-file",
                 "wait-for-fix-release", "other"}


def test_the_action_vocabulary_is_the_skos_scheme_with_a_definition_for_each():
    actions = fix_actions()
    assert set(actions) == ISSUE_ACTIONS
    assert all(a.definition and a.iri.endswith(a.name) for a in actions.values())
    assert fix_action("Set_Parameter").name == "set-parameter"
    with pytest.raises(UnknownTerm, match="not a fix action"):
        fix_action("reboot")


@pytest.mark.parametrize(("kind", "raw", "canonical"), [
    ("library", "Auto_GPTQ", "auto-gptq"),
    ("library", "flash_attn", "flash-attn"),
    ("parameter", "--max-model-len", "max_model_len"),
    ("parameter", "torch_dtype", "dtype"),
    ("parameter", "max_tokens", "max_new_tokens"),
    ("hardware", "Host  RAM", "more ram"),
    ("component", "Chat Template", "chat_template"),
])
def test_targets_are_normalised_so_two_spellings_of_one_remedy_compare_equal(kind, raw, canonical):
    assert normalise_target(raw, kind) == canonical


def test_aliases_map_to_canonical_spellings_that_are_not_aliases_themselves():
    for kind, table in target_aliases().items():
        assert not set(table.values()) & set(table), kind


def test_a_spec_refuses_unknown_actions_missing_kinds_and_bad_version_bounds():
    with pytest.raises(ValidationError, match="not a fix action"):
        FixSpec(action="pray")
    with pytest.raises(ValidationError, match="needs its target_kind"):
        FixSpec(action="upgrade", target="vllm")
    with pytest.raises(ValidationError, match="not a version bound"):
        FixSpec(action="upgrade", target="vllm", target_kind="library", value="the latest")
    with pytest.raises(ValidationError, match="not a model series"):
        FixSpec(action="upgrade", target="vllm", target_kind="library", applies_to={"model_families": ["Gemma"]})


@pytest.mark.parametrize(("value", "installed", "met"), [
    (">=4.37.0", "4.40.1", True), (">=4.37.0", "4.36.2", False), (">=4.37.0", "4.37.0+cu121", True),
    ("<2.6", "2.5.1", True), ("<2.6", "2.6.0", False), (">=0.6.4", None, False), (">=0.6.4", "not-a-version", False),
])
def test_a_version_bound_is_met_only_by_a_stated_version_inside_it(value, installed, met):
    spec = FixSpec(action="upgrade" if value.startswith(">") else "downgrade", target="x", target_kind="library",
                   value=value)
    assert spec.satisfied_by(installed) is met


def test_fixed_in_is_the_lowest_version_an_upgrade_admits():
    assert FixSpec(action="upgrade", target="vllm", target_kind="library", value=">=0.6.4").fixed_in() == "0.6.4"
    assert FixSpec(action="downgrade", target="vllm", target_kind="library", value="<0.6").fixed_in() is None
    assert FixSpec(action="set-parameter", target="tp", target_kind="parameter", value="2").fixed_in() is None


def test_every_case_with_a_fix_has_its_structured_fix():
    loaded = load_cases()
    assert not loaded.problems
    with_fix = [c for c in loaded.cases if c.fix]
    missing = [c.source_url for c in with_fix if c.fix_spec is None]
    assert with_fix and not missing, missing[:5]
    assert not [c.source_url for c in loaded.cases if c.fix_spec is not None and not c.fix]


def test_most_case_fixes_are_remedies_not_generic_steps():
    specs = [c.fix_spec for c in load_cases().cases if c.fix_spec is not None]
    assert sum(s.generic for s in specs) / len(specs) < 0.05
    assert len({s.action for s in specs}) >= 10


def test_every_playbook_step_carries_a_valid_structured_fix():
    book = load_playbook()
    steps = [s for v in book.steps.values() for s in v]
    assert len(steps) >= 60
    assert all(isinstance(s.fix, FixSpec) for s in steps)
    assert any(s.fix.generic for s in steps) and not all(s.fix.generic for s in steps)
