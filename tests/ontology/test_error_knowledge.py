"""The error knowledge (ontology/rules/errors.yaml): every entry's example matches it and its near miss does not,
entries are well formed, and no entry's example is claimed by another entry with a different cause."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from failgraph.ontology.error_knowledge import (
    ERRORS_FILE,
    ErrorEntry,
    error_knowledge,
    load_error_knowledge,
    matching_errors,
)
from failgraph.ontology.files import data_path
from failgraph.ontology.fixes import VERSION_ACTIONS, FixSpec, fix_actions
from failgraph.ontology.taxonomy import Level, load_taxonomy

ENTRIES = error_knowledge()
IDS = [e.id for e in ENTRIES]


def test_the_table_is_large_unique_and_kebab_case():
    assert len(ENTRIES) >= 80
    assert len(IDS) == len(set(IDS)), [i for i, n in Counter(IDS).items() if n > 1]
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", i) for i in IDS)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_example_matches_and_near_miss_does_not(entry: ErrorEntry):
    assert entry.search(entry.example) is not None, entry.pattern
    assert entry.search(entry.near_miss) is None, entry.near_miss
    assert entry in matching_errors(entry.example)
    assert entry not in matching_errors(entry.near_miss)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_well_formed(entry: ErrorEntry):
    tax = load_taxonomy()
    assert Level.leaf in tax.by_label("root_cause", entry.cause).levels
    assert 0 < entry.weight <= 1
    assert entry.fix.action in fix_actions()
    assert FixSpec.model_validate(entry.fix.model_dump()) == entry.fix
    assert not entry.fix.generic, "an error entry names a concrete remedy"
    assert entry.fix.target, "a concrete remedy has a target"
    if entry.fix.action in VERSION_ACTIONS and entry.fix.value:
        assert entry.fix.fixed_in() or entry.fix.action == "downgrade"
    assert len(entry.fix_text) >= 20
    assert entry.evidence and all(u.startswith("https://") for u in entry.evidence)
    assert entry.regex.flags & re.IGNORECASE


def test_search_is_case_insensitive():
    e = next(e for e in ENTRIES if e.id == "flash-attn-needs-ampere")
    assert e.search(e.example.upper()) is not None


def cross_matches() -> list[tuple[str, str]]:
    """(A, B) where A's example matches B's pattern and B names a different cause."""
    return [(a.id, b.id) for a in ENTRIES for b in ENTRIES
            if a.id != b.id and a.cause != b.cause and b.search(a.example) is not None]


def test_no_example_is_claimed_by_an_entry_with_another_cause():
    assert cross_matches() == []


def test_matching_errors_orders_by_weight_and_ignores_unrelated_text():
    text = ("RuntimeError: FlashAttention only supports Ampere GPUs or newer.\n"
            "AssertionError: Loading a checkpoint for MP=2 but world size is 1")
    got = matching_errors(text)
    assert [e.id for e in got] == ["llama-checkpoint-mp-world-size", "flash-attn-needs-ampere"]
    assert [e.weight for e in got] == sorted((e.weight for e in got), reverse=True)
    assert matching_errors("The answers are fine but slower than yesterday.") == []


def test_the_file_keeps_fix_text_beside_the_spec():
    raw = yaml.safe_load(data_path(ERRORS_FILE).read_text(encoding="utf-8"))
    assert [r["id"] for r in raw] == IDS
    assert all(set(r["fix"]) >= {"text", "action"} for r in raw)


def _write(tmp_path, entries: list[dict]) -> str:
    p = tmp_path / "errors.yaml"
    p.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return str(p)


GOOD = {
    "id": "demo-entry", "pattern": "demo failure \\d+", "weight": 0.5,
    "cause": "Hardware and Resource Limitations - GPU Memory Insufficiency",
    "fix": {"text": "Lower the batch size of the demo.", "action": "reduce-memory",
            "target": "batch_size", "target_kind": "parameter"},
    "evidence": ["https://example.org/demo"], "example": "demo failure 42", "near_miss": "demo success 42",
}


def test_a_good_entry_loads(tmp_path):
    (e,) = load_error_knowledge(_write(tmp_path, [GOOD]))
    assert e.fix.key == ("reduce-memory", "batch_size")
    assert e.fix_text.startswith("Lower")


@pytest.mark.parametrize("change, message", [
    ({"cause": "Hardware and Resource Limitations"}, "not a leaf"),
    ({"cause": "Cosmic rays"}, "not a root-cause label"),
    ({"pattern": "demo (failure"}, "bad pattern"),
    ({"example": "something else entirely"}, "example does not match"),
    ({"near_miss": "demo failure 7"}, "near_miss matches"),
    ({"fix": {"text": "Do the thing now.", "action": "pray"}}, "not a fix action"),
    ({"fix": {"text": "Upgrade it please.", "action": "upgrade", "target": "torch", "target_kind": "library",
              "value": "newest"}}, "not a version bound"),
    ({"weight": 0}, "greater than 0"),
    ({"evidence": ["ftp://example.org/x"]}, "https"),
    ({"id": "Not_Kebab"}, "pattern"),
])
def test_bad_entries_are_rejected_naming_the_entry(tmp_path, change, message):
    with pytest.raises(ValueError, match=r"entry (demo-entry|Not_Kebab)") as info:
        load_error_knowledge(_write(tmp_path, [{**GOOD, **change}]))
    assert message in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="entry demo-entry: duplicate id"):
        load_error_knowledge(_write(tmp_path, [GOOD, GOOD]))
