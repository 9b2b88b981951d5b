"""``failgraph bench vectors|sparql|e2e``: benchmarks at scale over synthetic data (figures, never pass/fail).

Each prints a table, or with ``--json`` one JSON object (``recall_at_10``, ``speedup_vs_bruteforce`` /
``speedup_vs_rdflib`` and every measurement behind them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .console import HomeOpt, err, user_errors

#: Tables are wide: when stdout is not a terminal (a file, a CI log) print them at 160 columns instead of 80.
out = Console(width=None if sys.stdout.isatty() else 160)

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print figures (never pass/fail).")
def _user_error_types() -> tuple[type[BaseException], ...]:
    from ..ingest.dataset import DatasetError

    return (DatasetError, FileNotFoundError, ValueError, OSError, KeyError)


_errors = user_errors(_user_error_types, interrupted="interrupted")  # resolved when an error is raised

SizeOpt = Annotated[int, typer.Option("--size", min=100, help="Synthetic issues (records, documents or vectors).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the synthetic data.")]
DatasetOpt = Annotated[Path | None, typer.Option(
    "--dataset", help="Labeled dataset whose label distribution the synthetic records follow (default: "
    "$FAILGRAPH_DATASET or a cached download, else the case base's labels; never downloads).")]
SaveOpt = Annotated[Path | None, typer.Option("--save", help="Also write the JSON object to this file.")]
WorkdirOpt = Annotated[Path | None, typer.Option("--workdir", help="Where the temporary graph goes (default: the "
                                                                      "system temporary directory).")]


def _progress(as_json: bool):
    """Progress lines on stderr (stdout stays one JSON object with --json)."""
    return lambda m: err.print(f"[dim]… {m}[/]", highlight=False)


def _emit_json(model) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


def _save(model, path: Path | None) -> None:
    if path is not None:
        path.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _emitted(model, path: Path | None, as_json: bool) -> bool:
    """Save the figures if asked; with --json print them and say so (the caller then prints no table)."""
    _save(model, path)
    if as_json:
        _emit_json(model)
    return as_json


def _columns(t: Table, columns: tuple[str, ...], left: tuple[str, ...] | None = None) -> Table:
    """Add the columns, right-aligned except ``left`` (default: the first column)."""
    for col in columns:
        t.add_column(col, justify="left" if col in (left or columns[:1]) else "right")
    return t


def _table(title: str, columns: tuple[str, ...], left: tuple[str, ...] | None = None) -> Table:
    return _columns(Table(title=title), columns, left)


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


@bench_app.command("vectors")
@_errors
def bench_vectors_cmd(size: SizeOpt = 100_000, as_json: JsonOpt = False, seed: SeedOpt = 0,
                      queries: Annotated[int, typer.Option(help="Single queries timed per index.")] = 200,
                      data: Annotated[str, typer.Option(help="cases (near MiniLM vectors of the case base, "
                                                            "calibrated), cases-hard (spread much wider) or "
                                                            "gaussian (random centres, no model).")] = "cases",
                      gpu: Annotated[bool | None, typer.Option("--gpu/--no-gpu", help="Also measure faiss on the "
                                                                  "GPU (default: when faiss sees one).")] = None,
                      recall: Annotated[float | None, typer.Option(
                          "--recall", min=0.01, max=1.0, metavar="TARGET",
                          help="Choose the IVF index's nprobe for this recall@10, as `failgraph build --recall` "
                               "does (held-out sample of the vectors).")] = None,
                      save: SaveOpt = None):
    """Exact faiss vs the approximate index failgraph picks vs numpy brute force: build, p50/p99, recall@10, memory."""
    from ..bench.vectors import VECTOR_DATA, bench_vectors

    if data not in VECTOR_DATA:
        raise ValueError(f"--data must be one of {', '.join(VECTOR_DATA)}, not {data!r}")
    rep = bench_vectors(size, queries=queries, seed=seed, data=data, gpu=gpu, recall=recall,
                        progress=_progress(as_json))
    if _emitted(rep, save, as_json):
        return
    t = _table(f"vector search over {rep.size:,} × {rep.dim} vectors ({rep.data})",
               ("method", "device", "build s", "p50 ms", "p99 ms", "recall@10", "memory MiB", "queries",
                "batch queries/s"))
    for r in rep.rows:
        t.add_row(r.method, r.device, _f(r.build_s, 2), _f(r.p50_ms), _f(r.p99_ms), _f(r.recall_at_10),
                  _f(r.memory_mib, 1), str(r.queries), _f(r.batch_queries_per_s, 0),
                  style="bold" if r.method.startswith("failgraph:") else None)
    out.print(t)
    if rep.gpu_backend:
        out.print(f"GPU: {rep.gpu_name or 'unknown'}; failgraph's GPU path: {rep.gpu_backend}; faiss: {rep.faiss_gpu}",
                  highlight=False)
    if rep.curve:
        c = _table("IVF recall/latency over nprobe (the benchmark's queries)", ("nprobe", "recall@10", "p50 ms"))
        for pt in rep.curve:
            c.add_row(str(pt.nprobe), _f(pt.recall_at_10), _f(pt.p50_ms), style="bold" if pt.nprobe == rep.nprobe
                      else None)
        out.print(c)
    out.print(f"failgraph's pick: {rep.index}; recall@10 {rep.recall_at_10:.3f}, "
              f"{rep.speedup_vs_bruteforce:,.1f}× faster than numpy brute force (p50)", highlight=False)


@bench_app.command("embed")
@_errors
def bench_embed_cmd(texts: Annotated[int, typer.Option("--texts", min=16, help="Synthetic case-like documents "
                                                       "embedded per device.")] = 2000,
                    device: Annotated[str, typer.Option(help="cpu, cuda or all (every device here; CUDA in fp32 "
                                                        "and fp16).")] = "all",
                    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 64,
                    embedder: Annotated[str, typer.Option("--embedder", metavar="minilm|static|all",
                                                          help="Tiers to measure (static: on the CPU, with the "
                                                               "model cached in --home).")] = "minilm",
                    home: HomeOpt = None, as_json: JsonOpt = False, save: SaveOpt = None):
    """Embedding throughput (texts/s) and single-report latency: MiniLM by torch on the CPU and, when present, the GPU,
    and by ONNX Runtime on the CPU; the static tier on the CPU."""
    from ..bench.embed import bench_embed, embed_devices
    from ..kg.home import resolve_home

    if device not in ("cpu", "cuda", "all"):
        raise ValueError(f"--device must be cpu, cuda or all, not {device!r}")
    if embedder not in ("minilm", "static", "all"):
        raise ValueError(f"--embedder must be minilm, static or all, not {embedder!r}")
    devices = [] if embedder == "static" else [d for d in embed_devices() if device == "all" or d[0] == device]
    if not devices and embedder != "static":
        raise ValueError("--device cuda asked for, but torch sees no CUDA device")
    rep = bench_embed(texts, devices=devices, batch_size=batch_size, progress=_progress(as_json),
                      static_home=resolve_home(home) if embedder != "minilm" else None,
                      onnx=embedder != "static" and device != "cuda")
    if _emitted(rep, save, as_json):
        return
    t = _table(f"{rep.model}: {rep.texts:,} texts (mean {rep.mean_chars:,.0f} characters)",
               ("tier", "device", "precision", "batch", "seconds", "texts/s", "single p50 ms", "single p99 ms"))
    for r in rep.rows:
        t.add_row(r.tier, r.device, r.precision, str(r.batch_size), _f(r.seconds, 2), _f(r.texts_per_s, 1),
                  _f(r.single_p50_ms, 1), _f(r.single_p99_ms, 1))
    out.print(t)
    if rep.speedup_gpu_vs_cpu:
        out.print(f"GPU ({rep.gpu_name}): {rep.speedup_gpu_vs_cpu:,.1f}× the CPU's texts/s", highlight=False)


@bench_app.command("sparql")
@_errors
def bench_sparql_cmd(size: SizeOpt = 100_000, as_json: JsonOpt = False, seed: SeedOpt = 0,
                     repeats: Annotated[int, typer.Option(min=1, help="Timed repeats per query on Oxigraph "
                                                                  "(median; a cold run comes first).")] = 3,
                     rdflib_max: Annotated[int, typer.Option("--rdflib-max", help="Largest size rdflib is run "
                                                            "at (slow: minutes at 100k).")] = 100_000,
                     rdflib_queries: Annotated[str, typer.Option("--rdflib-queries", help="all, or table2 "
                                                                "(symptom_cause_category only).")] = "all",
                     legacy: Annotated[bool, typer.Option(help="Also time the Table-2 query in its pre-#7 shape "
                                                          "(skos:broader* per record; minutes past 10k).")] = False,
                     dataset: DatasetOpt = None, workdir: WorkdirOpt = None, save: SaveOpt = None):
    """The study's named queries on Oxigraph (on disk) vs rdflib in memory over synthetic labeled records."""
    from ..bench.sparql import bench_sparql

    if rdflib_queries not in ("all", "table2"):
        raise ValueError(f"--rdflib-queries must be all or table2, not {rdflib_queries!r}")
    rep = bench_sparql(size, seed=seed, repeats=repeats, rdflib_max=rdflib_max, rdflib_queries=rdflib_queries,
                       legacy=legacy, dataset=dataset, workdir=workdir, progress=_progress(as_json))
    if _emitted(rep, save, as_json):
        return
    t = Table(title=f"study queries over {rep.size:,} synthetic records ({rep.quads:,} quads, labels from the "
                    f"{rep.distribution})")
    _columns(t, ("query", "rows", "Oxigraph s", "Oxigraph cold s", "rdflib s", "speed-up", "same rows"))
    for q in rep.queries:
        t.add_row(q.name, str(q.rows), _f(q.oxigraph_s), _f(q.oxigraph_cold_s), _f(q.rdflib_s, 2),
                  "—" if q.speedup_vs_rdflib is None else f"{q.speedup_vs_rdflib:,.1f}×",
                  "—" if q.same_rows is None else ("yes" if q.same_rows else "NO"))
    out.print(t)
    out.print(f"write N-Quads {rep.write_nquads_s:.1f} s, Oxigraph bulk load {rep.oxigraph_load_s:.1f} s, rdflib load "
              f"{_f(rep.rdflib_load_s, 1)} s (rdflib: {rep.rdflib}); slowest query on Oxigraph {rep.max_query_s:.3f} s"
              + (f"; Table 2 in its pre-#7 shape {rep.legacy_table2_s:.2f} s" if rep.legacy_table2_s else ""),
              highlight=False)


@bench_app.command("e2e")
@_errors
def bench_e2e_cmd(size: SizeOpt = 100_000, as_json: JsonOpt = False, seed: SeedOpt = 0,
                  reports: Annotated[int, typer.Option("-n", "--reports", min=1, help="Real case reports "
                                                       "diagnosed (after warm-up).")] = 100,
                  embed_sample: Annotated[int, typer.Option(help="Texts embedded with MiniLM to measure its "
                                                            "rate.")] = 256,
                  text_model_sample: Annotated[int | None, typer.Option(
                      "--text-model-sample", help="Train the text models on this many documents only (their "
                      "memory grows by about 8 KB a document; retrieval and statistics still use all).")] = None,
                  graph: Annotated[bool, typer.Option("--graph/--no-graph", help="Build and load the graph "
                                                      "(default), or make the corpus in memory to time diagnose at "
                                                      "sizes whose build takes too long.")] = True,
                  dataset: DatasetOpt = None, workdir: WorkdirOpt = None, save: SaveOpt = None):
    """Build a synthetic graph and corpus of SIZE records + SIZE documents, then time diagnose on real reports."""
    from ..bench.e2e import bench_e2e

    rep = bench_e2e(size, seed=seed, reports=reports, embed_sample=embed_sample, dataset=dataset, workdir=workdir,
                    text_model_sample=text_model_sample, graph=graph, progress=_progress(as_json))
    if _emitted(rep, save, as_json):
        return
    t = Table(title=f"end to end over {rep.size:,} records + {rep.size:,} documents (labels from the "
                    f"{rep.distribution}; index {rep.index})")
    _columns(t, ("phase", "seconds", "items", "items/s", "RSS MiB", "peak RSS MiB", "note"), left=("phase", "note"))
    for p in rep.phases:
        t.add_row(p.name, _f(p.seconds, 2), f"{p.items:,}", f"{p.per_s:,.1f}", f"{p.rss_mib:,.0f}",
                  f"{p.peak_rss_mib:,.0f}", p.note)
    out.print(t)
    out.print(f"diagnose over {rep.reports} real reports: p50 {rep.diagnose_p50_ms:.1f} ms (MiniLM query embedding "
              f"{rep.query_embedding_p50_ms:.1f} ms, the rest {rep.diagnose_without_embedding_p50_ms:.1f} ms), p99 "
              f"{rep.diagnose_p99_ms:.1f} ms, {rep.batch_reports_per_s:.1f} reports/s; "
              f"build {rep.build_issues_per_s:,.0f} "
              f"issues/s without embeddings, {rep.build_with_embeddings_issues_per_s:,.1f} with MiniLM "
              f"({rep.embed_texts_per_s:.0f} texts/s); corpus index recall@10 {rep.recall_at_10:.3f}, "
              f"{rep.speedup_vs_bruteforce:,.1f}× brute force; peak RSS {rep.peak_rss_mib / 1024:.2f} GiB",
              highlight=False)


@bench_app.command("learn")
@_errors
def bench_learn_cmd(size: SizeOpt = 100_000, as_json: JsonOpt = False, seed: SeedOpt = 0,
                    adds: Annotated[int, typer.Option("--adds", min=1, help="Issues learned one at a time.")] = 5,
                    dataset: DatasetOpt = None, workdir: WorkdirOpt = None, save: SaveOpt = None):
    """Seconds to add one labeled issue to a knowledge base of SIZE issues without a rebuild (and to open it after)."""
    from ..bench.learn import bench_learn

    rep = bench_learn(size, adds=adds, seed=seed, dataset=dataset, workdir=workdir, progress=_progress(as_json))
    if _emitted(rep, save, as_json):
        return
    t = _table(f"learning without a rebuild: {rep.size:,} issues (index {rep.index})",
               ("build s", "add one s (median)", "add one s (max)", "open s", "open with delta s",
                "apply per issue s", "learned issue found"))
    t.add_row(_f(rep.build_s, 1), _f(rep.add_median_s, 3), _f(rep.add_max_s, 3), _f(rep.open_base_s, 2),
              _f(rep.open_learned_s, 2), _f(rep.apply_per_issue_s, 3), "yes" if rep.learned_found else "no")
    out.print(t)
    out.print(f"{rep.adds} issues learned one at a time; embeddings by a hashing stand-in (MiniLM's embedding of one "
              f"thread comes on top); load average {rep.machine.load_average}", highlight=False)


__all__ = ["bench_app"]
