"""The scale benchmarks (issue #7) at tiny sizes: their JSON, and that every ratio comes from real measurements.
Timings are never asserted."""

import hashlib
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from failgraph.bench.e2e import bench_e2e
from failgraph.bench.embed import bench_embed
from failgraph.bench.sparql import TABLE2_QUERY, bench_sparql
from failgraph.bench.vectors import bench_vectors
from failgraph.kg.named_queries import list_queries
from failgraph.ui.cli_bench import bench_app

STUDY = {q.name for q in list_queries() if q.kind == "study"}


class HashEmbedder:
    """A stand-in for MiniLM: deterministic unit vectors from a hash of the text (no model to load)."""

    def encode(self, texts, *, show_progress=False):
        out = np.empty((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(384)
            out[i] = v / np.linalg.norm(v)
        return out


def test_vectors_bench_measures_every_method_on_the_same_queries():
    rep = bench_vectors(3000, queries=25, brute_queries=10, data="gaussian")
    methods = [r.method for r in rep.rows]
    assert methods[0] == "numpy brute force" and methods[1] == "faiss exact IndexFlatIP"
    assert methods[2].startswith("failgraph: flat") and methods[3].startswith("forced approximate: hnsw")
    exact = rep.rows[1]
    assert exact.recall_at_10 == 1.0 and rep.rows[0].recall_at_10 == 1.0  # brute force agrees with faiss
    pick = rep.rows[2]
    assert rep.recall_at_10 == round(pick.recall_at_10, 4) == 1.0  # exact search below the threshold
    assert rep.speedup_vs_bruteforce == round(rep.rows[0].p50_ms / pick.p50_ms, 2)
    assert 0 < rep.rows[3].recall_at_10 <= 1 and all(r.p50_ms > 0 and r.p99_ms >= r.p50_ms for r in rep.rows)
    assert rep.rows[0].memory_mib == pytest.approx(3000 * 384 * 4 / 2**20)
    assert set(rep.neighbour_cosine) == {"top1_median", "top10_median"}
    assert all(r.batch_queries_per_s > 0 and r.device == "cpu" for r in rep.rows)
    assert rep.gpu_backend is None and rep.faiss_gpu == "no GPU in this faiss build"


def test_vectors_bench_refuses_a_gpu_it_does_not_have(monkeypatch):
    monkeypatch.setattr("failgraph.kg.gpu.gpu_backend", lambda: None)
    with pytest.raises(ValueError, match="GPU"):
        bench_vectors(500, queries=5, data="gaussian", gpu=True)


def test_embed_bench_measures_the_real_model_on_the_cpu():
    rep = bench_embed(24, devices=[("cpu", False)], batch_size=8, single=3)
    row, onnx, int8 = rep.rows  # torch, then ONNX Runtime in fp32 and int8
    assert (row.device, row.precision, row.texts, row.batch_size) == ("cpu", "fp32", 24, 8)
    assert (onnx.tier, onnx.precision, int8.tier, int8.precision) == ("minilm", "fp32 onnxruntime", "minilm-int8",
                                                                      "int8 onnxruntime")
    assert onnx.texts == int8.texts == 24 and onnx.single_p50_ms > 0 and int8.single_p50_ms > 0
    assert row.texts_per_s == pytest.approx(24 / row.seconds, rel=0.01)
    assert row.single_p99_ms >= row.single_p50_ms > 0 and rep.mean_chars > 100
    assert rep.speedup_gpu_vs_cpu is None and rep.gpu_name is None


def test_sparql_bench_compares_the_stores_on_identical_results(tmp_path):
    rep = bench_sparql(800, repeats=1, rdflib_queries="table2", legacy=True, workdir=tmp_path)
    assert {q.name for q in rep.queries} == STUDY
    t2 = next(q for q in rep.queries if q.name == TABLE2_QUERY)
    assert t2.same_rows is True and t2.rdflib_s > 0 and t2.oxigraph_s > 0
    assert rep.speedup_vs_rdflib == t2.speedup_vs_rdflib == round(t2.rdflib_s / t2.oxigraph_s, 2)
    assert rep.max_query_s == max(q.oxigraph_s for q in rep.queries)
    assert rep.legacy_table2_s > 0  # and the legacy shape agreed with the current one (checked inside)
    assert all(q.rows > 0 for q in rep.queries) and rep.quads > 800 * 10
    assert rep.rdflib == f"measured ({TABLE2_QUERY} only)" and not list(tmp_path.iterdir())  # nothing left behind
    skipped = bench_sparql(300, repeats=1, rdflib_max=100, workdir=tmp_path)
    assert skipped.rdflib.startswith("skipped") and skipped.speedup_vs_rdflib is None


def test_e2e_bench_builds_loads_and_diagnoses(tmp_path):
    rep = bench_e2e(300, reports=3, warmup=1, embed_sample=8, data="gaussian", embedder=HashEmbedder(),
                    workdir=tmp_path)
    names = [p.name for p in rep.phases]
    assert names[:3] == ["generate + map + write N-Quads", "Oxigraph bulk load + compaction",
                         "load corpus (SPARQL)"]
    assert names[-1] == "diagnose" and rep.reports == 3
    corpus = next(p for p in rep.phases if p.name == "load corpus (SPARQL)")
    assert corpus.items == 300  # every synthetic document is a past failure with text
    assert 0 <= rep.recall_at_10 <= 1 and rep.speedup_vs_bruteforce > 0
    assert rep.diagnose_p99_ms >= rep.diagnose_p50_ms > 0 and rep.batch_reports_per_s > 0
    assert rep.build_issues_per_s > rep.build_with_embeddings_issues_per_s > 0
    assert rep.peak_rss_mib >= max(p.rss_mib for p in rep.phases) * 0.99


def test_cli_prints_one_json_object_and_tables():
    runner = CliRunner()
    res = runner.invoke(bench_app, ["vectors", "--size", "500", "--queries", "10", "--data", "gaussian", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"recall_at_10", "speedup_vs_bruteforce", "p50_ms", "rows", "index", "machine"} <= set(data)
    res = runner.invoke(bench_app, ["vectors", "--size", "500", "--queries", "10", "--data", "gaussian"])
    assert res.exit_code == 0 and "recall@10" in res.stdout and "failgraph's pick" in res.stdout
    res = runner.invoke(bench_app, ["vectors", "--size", "1000", "--data", "nope"])
    assert res.exit_code == 2
    res = runner.invoke(bench_app, ["embed", "--device", "tpu"])
    assert res.exit_code == 2 and "--device" in res.output


def test_vectors_bench_reports_the_setting_a_recall_target_chooses_and_the_curve():
    runner = CliRunner()
    res = runner.invoke(bench_app, ["vectors", "--size", "20100", "--queries", "30", "--data", "gaussian",
                                    "--recall", "0.9", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["recall_target"] == 0.9 and "target 0.9" in data["index"]
    curve = {pt["nprobe"]: pt for pt in data["curve"]}
    assert data["nprobe"] in curve and max(curve) == int(data["index"].split("nlist ")[1].split(",")[0])
    assert curve[max(curve)]["recall_at_10"] == 1.0  # probing every list is exhaustive
    assert data["recall_at_10"] > 0 and data["p50_ms"] > 0 and data["speedup_vs_bruteforce"] > 0
    assert runner.invoke(bench_app, ["vectors", "--size", "500", "--recall", "1.5"]).exit_code == 2
