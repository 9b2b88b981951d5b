"""`failgraph ingest jsonl`: an export's threads (labeled or not) join the graph at once, without a rebuild."""

import json

from typer.testing import CliRunner

from failgraph.ingest.learned import load_learned
from failgraph.kg.build import open_store
from failgraph.kg.corpus import read_learned
from failgraph.kg.delta import read_delta
from failgraph.kg.home import GraphHome
from failgraph.ontology import load_taxonomy
from failgraph.ui.cli import app

runner = CliRunner()
CAUSE = load_taxonomy().leaves("root_cause")[3].label
SYMPTOM = load_taxonomy().leaves("symptom")[2].label


def _export(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


LINES = [
    {"url": "https://github.com/acme/llm/issues/7", "title": "OOM when loading", "body": "CUDA out of memory",
     "comments": ["same here", {"body": "fixed by lowering the batch"}], "root_cause": CAUSE,
     "symptom": SYMPTOM.rpartition(" - ")[2], "fix": "lower the batch size"},
    {"url": "https://github.com/acme/llm/issues/8", "title": "tokenizer warning", "body": "a warning"},
]


def test_ingest_jsonl_adds_to_the_published_graph_without_a_rebuild(tmp_path, dataset_slice):
    home = tmp_path / "home"
    r = runner.invoke(app, ["build", "--dataset", str(dataset_slice), "--home", str(home), "--no-cases",
                            "--no-index"])
    assert r.exit_code == 0, r.output
    snapshot = GraphHome(home).current_name()
    r = runner.invoke(app, ["ingest", "jsonl", str(_export(tmp_path / "x.jsonl", LINES)), "--home", str(home)])
    assert r.exit_code == 0, r.output
    assert "added 2 issue(s)" in r.stdout and "1 labeled" in r.stdout and "without a rebuild" in r.stdout
    gh = GraphHome(home)
    assert gh.current_name() == snapshot  # no new snapshot: the delta is beside the published one
    delta = read_delta(gh.current())
    assert [e.item.key for e in delta] == ["acme/llm#7", "acme/llm#8"]
    first = delta[0].item
    assert (first.root_cause, first.symptom, first.fix) == (CAUSE, SYMPTOM, "lower the batch size")
    assert "fixed by lowering the batch" in first.text and first.source == "jsonl/x"
    with open_store(gh) as store:
        assert {it.key for it in read_learned(store)} == {"acme/llm#7", "acme/llm#8"}
    assert len(load_learned(home)) == 2


def test_ingest_jsonl_without_a_graph_keeps_the_lines_for_the_build(tmp_path, dataset_slice):
    home = tmp_path / "home"
    r = runner.invoke(app, ["ingest", "jsonl", str(_export(tmp_path / "x.jsonl", LINES)), "--home", str(home)])
    assert r.exit_code == 0, r.output
    assert "stored 2 issue(s)" in r.stdout and "for the next build" in r.stdout
    r = runner.invoke(app, ["build", "--dataset", str(dataset_slice), "--home", str(home), "--no-cases",
                            "--no-index"])
    assert r.exit_code == 0, r.output
    assert "2 learned past failures" in r.stdout
    with open_store(GraphHome(home)) as store:
        learned = {it.key: it for it in read_learned(store)}
    assert learned["acme/llm#7"].root_cause == CAUSE


def test_ingest_jsonl_refuses_a_label_that_is_no_leaf(tmp_path):
    bad = [{**LINES[0], "root_cause": "Not A Cause"}]
    r = runner.invoke(app, ["ingest", "jsonl", str(_export(tmp_path / "x.jsonl", bad)), "--home",
                            str(tmp_path / "home")])
    assert r.exit_code == 2
    assert "names no root-cause leaf" in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert lines[-1].startswith("error:")
