"""The case base's coverage report (failgraph stats --cases)."""

import json

import pytest
from typer.testing import CliRunner

from failgraph.ingest.cases import load_cases
from failgraph.ingest.coverage import THIN, UNKNOWN, case_coverage
from failgraph.ui.cli import app


def test_coverage_counts_every_case_once_per_dimension():
    cases = load_cases().cases
    cov = case_coverage(cases)
    for field in ("root_cause_leaf", "symptom_leaf", "framework", "model_family", "year"):
        assert sum(getattr(cov, field).values()) == len(cases), field
    assert sum(cov.fix_action.values()) == cov.with_fix_spec == sum(c.fix_spec is not None for c in cases)
    assert cov.dated == len(cases) - cov.year.get(UNKNOWN, 0)
    assert all(cov.root_cause_leaf[leaf] < THIN for leaf in cov.thin_root_causes)
    thin = [cov.root_cause_leaf[leaf] for leaf in cov.thin_root_causes]
    assert thin == sorted(thin)


def test_a_slice_moves_the_counts_it_should(tmp_path):
    cases = load_cases().cases
    dated = [c for c in cases if c.date is not None][:5]
    path = tmp_path / "slice.jsonl"
    path.write_text("".join(c.model_dump_json(exclude_none=True) + "\n" for c in dated), encoding="utf-8")
    res = CliRunner().invoke(app, ["stats", "--cases", "--cases-file", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["cases"] == 5 and out["dated"] == 5 and UNKNOWN not in out["year"]
    assert sum(out["year"].values()) == 5 and out["problems"] == []


def test_a_case_about_a_dataset_issue_carries_the_dataset_link_and_labels(full_records):
    """Renamed repositories (QwenLM/Qwen2.5 shown as QwenLM/Qwen3) name one issue: a case about a dataset issue must
    use the dataset's own link and labeler, or the graph would hold one issue with two URLs."""
    from failgraph.ingest.records import issue_key

    dataset = {issue_key(r.issue.url): r.issue.url.casefold() for r in full_records}
    wrong = [c.source_url for c in load_cases().cases
             if c.key in dataset and (c.labeler != "dataset" or c.source_url.casefold() != dataset[c.key])]
    assert not wrong, wrong


@pytest.mark.parametrize(("old", "new"), [
    ("https://github.com/hiyouga/LLaMA-Factory/issues/6897", "https://github.com/hiyouga/LlamaFactory/issues/6897"),
    ("https://github.com/pytorch/torchtune/issues/12", "https://github.com/meta-pytorch/torchtune/issues/12"),
    ("https://github.com/microsoft/DeepSpeed/issues/5", "https://github.com/deepspeedai/DeepSpeed/issues/5"),
    ("https://github.com/QwenLM/Qwen2-VL/issues/3", "https://github.com/QwenLM/Qwen3-VL/issues/3"),
])
def test_one_issue_under_a_renamed_repository_has_one_key(old, new):
    from failgraph.ingest.records import issue_key

    assert issue_key(old) == issue_key(new)
