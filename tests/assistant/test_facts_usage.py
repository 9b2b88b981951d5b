"""The usage facts in the answer: ExtractedFacts' new optional fields and `failgraph diagnose --json`."""

import json

import pytest
from typer.testing import CliRunner

from failgraph.assistant.facts import extract_facts
from failgraph.assistant.models import ExtractedFacts

REPORT = ("vllm serve Qwen/Qwen2-57B-A14B-Instruct -tp 4 --max-model-len 8192 --enforce-eager on 4x A100 fails with "
          "KeyError: 'model.layers.0.mlp.experts.w2_weight'. I tried upgrading vllm to 0.5.4 but the error is the "
          "same. I am not using Ray.")


def test_extracted_facts_carry_the_usage_fields():
    f = extract_facts(REPORT)
    assert (f.device, f.gpu_count, f.model_variant) == ("cuda", 4, "instruct")
    assert f.launch == {"tensor_parallel_size": "4", "max_model_len": "8192", "enforce_eager": "true"}
    assert [(t.action, t.target, t.value) for t in f.tried] == [("upgrade", "vllm", "0.5.4")]
    assert f.not_using == ["ray"]
    assert f.libraries.get("vllm") == "0.5.4"


def test_the_json_contract_stays_backward_compatible():
    """An answer written before the new fields still reads, and the new fields have empty defaults."""
    old = {"libraries": {"torch": "2.1.0"}, "cuda": "12.1", "gpus": [], "os": None, "frameworks": ["vllm"],
           "models": [], "quantization": [], "errors": []}
    f = ExtractedFacts.model_validate(old)
    assert f.device is None and f.gpu_count is None and f.model_variant is None
    assert f.launch == {} and f.tried == [] and f.not_using == []
    assert set(old) < set(json.loads(f.model_dump_json()))


@pytest.fixture(scope="module")
def kb(tmp_path_factory, full_records):
    """A small knowledge base built without the SHACL check (facts do not depend on the graph's contents)."""
    from failgraph.assistant.knowledge import KnowledgeBase
    from failgraph.ingest.cases import load_cases
    from failgraph.kg.build import GraphInputs, build_graph
    from failgraph.kg.home import GraphHome
    home = GraphHome(tmp_path_factory.mktemp("factskb"))
    build_graph(home, GraphInputs(records=full_records[::10], cases=load_cases().cases[::40]), validate=False)
    return KnowledgeBase.from_home(home)


def test_diagnose_json_shows_the_usage_facts(kb, monkeypatch):
    from failgraph.ui import cli
    monkeypatch.setattr(cli, "_load_kb", lambda home, *args, **kwargs: kb)
    r = CliRunner().invoke(cli.app, ["diagnose", REPORT, "--json"])
    assert r.exit_code == 0, r.output
    facts = json.loads(r.stdout)["facts"]
    assert facts["device"] == "cuda" and facts["gpu_count"] == 4 and facts["model_variant"] == "instruct"
    assert facts["launch"]["tensor_parallel_size"] == "4" and facts["launch"]["enforce_eager"] == "true"
    assert facts["tried"] == [{"action": "upgrade", "target": "vllm", "value": "0.5.4"}]
    assert facts["not_using"] == ["ray"]
