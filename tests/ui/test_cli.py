import csv
import io
import json

import rdflib
from typer.testing import CliRunner

from failgraph.ui.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_build_stats_sparql_export(tmp_path, dataset_slice):
    from failgraph.ingest.dataset import load_dataset
    n = len(load_dataset(dataset_slice).records)
    home = tmp_path / "home"
    r = run("build", "--dataset", dataset_slice, "--home", home, "--no-cases")
    assert r.exit_code == 0, r.output
    assert f"built {n} labeled records" in r.output
    r = run("stats", "--json", "--home", home)
    data = json.loads(r.stdout)
    assert set(data) == {"symptom_category", "root_cause_category", "matrix"}
    assert sum(data["symptom_category"].values()) == n == sum(data["root_cause_category"].values())
    r = run("sparql", "symptom_cause_category", "--format", "json", "--home", home)
    res = json.loads(r.stdout)
    assert res["head"]["vars"] == ["root_cause_category", "symptom_category", "records"]
    assert sum(int(b["records"]["value"]) for b in res["results"]["bindings"]) == n
    r = run("sparql", "symptom_cause_leaf", "--format", "csv", "--home", home)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert sum(int(x["records"]) for x in rows) == n
    for name, fmt in [("g.ttl", "turtle"), ("g.jsonld", "json-ld")]:
        r = run("export", tmp_path / name, "--home", home)
        assert r.exit_code == 0, r.output
        g = rdflib.Dataset().parse(tmp_path / name, format=fmt)
        assert sum(1 for _ in g.quads()) > 500


def test_errors_are_one_line_with_exit_2(tmp_path, dataset_slice):
    r = run("build", "--dataset", tmp_path / "missing", "--home", tmp_path / "h")
    assert r.exit_code == 2 and "does not exist" in r.output and "Traceback" not in r.output
    r = run("stats", "--home", tmp_path / "empty")
    assert r.exit_code == 2 and "failgraph build" in r.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text('[{"number": 1}]')
    r = run("build", "--dataset", tmp_path / "bad", "--home", tmp_path / "h")
    assert r.exit_code == 2 and "x.json record #0" in r.output
    run("build", "--dataset", dataset_slice, "--home", tmp_path / "h", "--no-index")
    r = run("sparql", "SELECT WHERE {", "--home", tmp_path / "h")
    assert r.exit_code == 2 and "syntax" in r.output.lower()


def test_build_persists_the_text_index(tmp_path, dataset_slice):
    """``failgraph build`` embeds the past failures into the new snapshot, so the first diagnosis does not."""
    from failgraph.assistant.knowledge import KnowledgeBase
    from failgraph.assistant.persist import MODELS_DIR
    from failgraph.ingest.cases import default_cases_path
    from failgraph.kg.corpus import CORPUS_FILE
    from failgraph.kg.embed import make_embedder
    from failgraph.kg.home import GraphHome
    from failgraph.kg.snapshot_index import INDEX_DIR

    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(default_cases_path().read_text(encoding="utf-8").splitlines(keepends=True)[:12]))
    home = tmp_path / "home"
    r = run("build", "--dataset", dataset_slice, "--home", home, "--cases", cases)
    assert r.exit_code == 0, r.output
    assert (GraphHome(home).current() / INDEX_DIR / "fingerprint").is_file()
    # the corpus and the trained models too: a start reads them instead of reading the graph back and training
    assert (GraphHome(home).current() / CORPUS_FILE).is_file()
    assert (GraphHome(home).current() / MODELS_DIR / "models.json").is_file()

    class NoEmbedding:
        key = make_embedder(None).key  # the default tier's, which the build used (creating it loads nothing)

        def encode(self, texts, **kw):
            raise AssertionError("re-embedded")

    kb = KnowledgeBase.from_home(GraphHome(home), NoEmbedding())
    assert not kb.index_built and not kb.models_trained
    r = run("build", "--dataset", dataset_slice, "--home", home, "--cases", cases, "--no-index")
    assert r.exit_code == 0 and not (GraphHome(home).current() / INDEX_DIR).exists()


def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path, dataset_slice, monkeypatch):
    """`pip install failgraph` has no server or UI: those commands say which extra to install, in one line."""
    import importlib.util

    runner = CliRunner()
    home = tmp_path / "home"
    assert runner.invoke(app, ["build", "--dataset", str(dataset_slice), "--home", str(home), "--no-cases",
                               "--no-index"]).exit_code == 0
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("fastapi", "streamlit") else real(name, *a))
    for command, extra in (("serve", "serve"), ("ui", "ui")):
        r = runner.invoke(app, [command, "--home", str(home)])
        assert r.exit_code == 2, r.output
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and f"failgraph[{extra}]" in lines[0]


HEAVY = ("torch", "sklearn", "sentence_transformers", "transformers", "scipy", "faiss", "bm25s", "streamlit", "fastapi",
         "uvicorn", "matplotlib", "pandas", "networkx", "pyshacl", "httpx")


def _loaded_after(args: list[str], home=None) -> tuple[list[str], str]:
    """Run ``failgraph ARGS`` in a fresh interpreter: which heavy modules (and whether pyoxigraph, rdflib, numpy)
    it loaded, and what it printed."""
    import os
    import subprocess
    import sys

    watched = (*HEAVY, "pyoxigraph", "rdflib", "numpy")
    code = ("import sys, failgraph.ui.cli as c\n"
            f"sys.argv = ['failgraph', *{args!r}]\n"
            "try:\n    c.main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            f"print('LOADED', [m for m in {watched!r} if m in sys.modules])")
    env = dict(os.environ, **({"FAILGRAPH_HOME": str(home.root)} if home is not None else {}))
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120, env=env)
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("LOADED "), r.stdout
    return eval(last.removeprefix("LOADED ")), r.stdout  # a list literal printed by the child


def test_the_cli_starts_without_loading_the_model_or_the_numeric_stack(built_home):
    """`failgraph --help` and every command's start import only what the command needs: not torch, the text models'
    libraries, the UI stack or the server (they load inside the commands that use them); `--help` and `queries`
    not even the graph store, `stats` the store but not the numeric stack, the mapping or SHACL."""
    import subprocess
    import sys

    code = ("import sys, failgraph.ui.cli; "
            f"print([m for m in {(*HEAVY, 'pyoxigraph', 'rdflib', 'numpy')!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "[]", r.stdout
    loaded, printed = _loaded_after(["--help"])
    assert loaded == [] and "diagnose" in printed
    loaded, printed = _loaded_after(["queries"])
    assert loaded == [] and "symptom_cause_category" in printed
    loaded, printed = _loaded_after(["stats", "--json"], built_home)
    assert set(loaded) <= {"pyoxigraph", "rdflib"}, loaded
    assert '"matrix"' in printed
