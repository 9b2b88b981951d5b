"""Agreement of two labelings: levels, kappa, matching issues across URL spellings, bad input."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from failgraph.ingest.agreement import agreement, cohen_kappa, read_second_labels
from failgraph.ingest.cases import load_cases
from failgraph.ontology import Level, load_taxonomy
from failgraph.ui.cli import app

REPO = Path(__file__).resolve().parents[2]
SECOND = REPO / "bench/agreement/second_labels.jsonl"


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_kappa_is_one_for_identical_labelings_and_zero_at_chance():
    assert cohen_kappa([("a", "a"), ("b", "b"), ("c", "c")]) == 1.0
    # both labelers say "a" half the time, independently of each other: observed agreement equals chance
    assert cohen_kappa([("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]) == 0.0
    assert cohen_kappa([("a", "a")]) is None and cohen_kappa([]) is None


def test_levels_count_a_leaf_disagreement_inside_one_category_only_at_the_finer_levels(tmp_path):
    tax = load_taxonomy()
    cases = load_cases().cases
    case = next(c for c in cases if c.fix_spec)
    category = tax.label_at("root_cause", case.root_cause, Level.category)
    sibling = next(leaf.label for leaf in tax.leaves("root_cause") if leaf.label != case.root_cause
                   and tax.label_at("root_cause", leaf.label, Level.category) == category
                   and tax.label_at("root_cause", leaf.label, Level.group)
                   != tax.label_at("root_cause", case.root_cause, Level.group))
    url = case.source_url.upper().replace("HTTPS://GITHUB.COM", "https://github.com")  # another spelling, same issue
    second = read_second_labels(write(tmp_path / "s.jsonl", [
        {"source_url": url, "symptom": case.symptom, "root_cause": sibling, "fix_spec": case.fix_spec.model_dump()},
        {"source_url": "https://github.com/nobody/nothing/issues/1", "symptom": case.symptom,
         "root_cause": case.root_cause}]))
    rep = agreement(cases, second)
    rows = {r.what: r for r in rep.overall}
    assert rep.cases == 1 and rep.unmatched == ["https://github.com/nobody/nothing/issues/1"]
    assert rows["root_cause category"].agreement == 1.0 and rows["root_cause group"].agreement == 0.0
    assert rows["root_cause leaf"].agreement == 0.0 and rows["symptom leaf"].agreement == 1.0
    assert rows["fix action+target"].agreement == 1.0
    assert rep.disagreements == [{"issue": case.source_url, "first": case.root_cause, "second": sibling}]


def test_a_label_that_is_not_a_leaf_is_refused_with_its_line(tmp_path):
    bad = write(tmp_path / "bad.jsonl", [{"source_url": "https://github.com/a/b/issues/1",
                                          "symptom": "Process Hang", "root_cause": "whatever"}])
    with pytest.raises(ValueError, match=r"bad.jsonl:1: 'Process Hang' is not a symptom leaf"):
        read_second_labels(bad)
    r = CliRunner().invoke(app, ["stats", "--agreement", str(bad)])
    assert r.exit_code == 2 and "is not a symptom leaf" in r.stderr and "Traceback" not in r.stderr


def test_the_published_agreement_study_covers_every_level():
    rep = agreement(load_cases().cases, read_second_labels(SECOND))
    assert rep.cases == 100 and not rep.unmatched
    assert set(rep.by_first_labeler) == {"dataset", "failgraph-curator"}
    for row in rep.overall:
        assert row.pairs >= 90 and 0.0 <= row.agreement <= 1.0
    r = CliRunner().invoke(app, ["stats", "--agreement", str(SECOND), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["cases"] == 100
