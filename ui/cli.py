"""The ``failgraph`` command line: a thin typer layer over ingest, kg and assistant."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..ingest.cases import load_cases
from ..ingest.dataset import DatasetError, load_dataset
from ..ingest.decode import decode_argv, read_stream
from ..ingest.sources import load_issue_documents
from ..kg.build import BuildError, GraphInputs, Phase, build_graph, open_store
from ..kg.home import GraphHome, HomeBusy, NoGraphError
from ..kg.named_queries import list_queries, resolve_query_text
from ..kg.results import AskResult, GraphResult, SelectResult
from ..kg.stats import category_table
from ..kg.store import EXPORT_FORMATS, StoreError
from ..ontology import load_taxonomy
from .cli_bench import bench_app
from .cli_doctor import doctor as doctor_command
from .cli_ingest import ingest_app
from .cli_serve import serve as serve_command
from .cli_serve import ui as ui_command
from .console import AllowServiceOpt, HomeOpt, err, fail, out, query_policy, require_extra
from .console import user_errors as _user_errors

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="failgraph: knowledge-graph troubleshooting for open-source LLM failures.")
app.add_typer(ingest_app, name="ingest")
app.command("doctor")(doctor_command)
app.command("serve")(serve_command)
app.command("ui")(ui_command)
USER_ERRORS = (DatasetError, NoGraphError, StoreError, BuildError, HomeBusy, FileNotFoundError, KeyError, ValueError,
               OSError)
user_errors = _user_errors(USER_ERRORS)


BUILD_PHASES = {Phase.WRITING: "writing the graph", Phase.VALIDATING: "validating (SHACL)",
                Phase.LOADING: "loading the store", Phase.INDEXING: "indexing texts (embedding)",
                Phase.PUBLISHING: "publishing"}


@app.command()
@user_errors
def build(dataset: Annotated[Path | None, typer.Option(
              "--dataset", help="Dataset directory or JSON file (default: $FAILGRAPH_DATASET, else a cached "
                                "download).")] = None,
          home: HomeOpt = None,
          cases: Annotated[Path | None, typer.Option("--cases", help="Case-base JSONL (default: the curated case "
                                                        "base shipped with failgraph).")] = None,
          no_cases: Annotated[bool, typer.Option("--no-cases", help="Build from the labeled dataset only.")] = False,
          skip_invalid: Annotated[bool, typer.Option(
              help="Build from the valid records when some are malformed.")] = False,
          validate: Annotated[bool | None, typer.Option("--validate/--no-validate",
                                                           help="SHACL-validate before publishing (default: "
                                                                "all inputs up to 20,000, an even sample of 20,000 "
                                                                "above; --validate checks all).")] = None,
          index: Annotated[bool, typer.Option("--index/--no-index",
                                              help="Embed the past failures' texts into the new graph's text index "
                                                   "(so the first diagnosis does not).")] = True,
          wait: Annotated[bool, typer.Option("--wait/--no-wait", help="While another build of the home runs: wait "
                                                                      "for it, or fail at once.")] = True):
    """Ingest the labeled dataset, the case base and ingested threads, and (re)build the graph atomically."""
    loaded = load_dataset(dataset)
    case_load = None if no_cases else load_cases(cases)
    problems = [str(p) for p in loaded.problems] + ([str(p) for p in case_load.problems] if case_load else [])
    if problems:
        for p in problems[:20]:
            err.print(f"[yellow]invalid record:[/] {p}", highlight=False, soft_wrap=True)
        if len(problems) > 20:
            err.print(f"... and {len(problems) - 20} more")
        if not skip_invalid:
            fail(f"{len(problems)} malformed record(s) (first: {problems[0]}); fix them or pass --skip-invalid")
    gh = GraphHome(home)
    inputs = GraphInputs(records=loaded.records, cases=case_load.cases if case_load else [],
                         documents=load_issue_documents(gh.root))
    total = len(inputs.records) + len(inputs.cases) + len(inputs.documents)
    embedder = None
    if index:
        from ..kg.embed import Embedder

        embedder = Embedder()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("building graph", total=total)

        def on_phase(phase: str) -> None:
            label = BUILD_PHASES.get(phase, phase)
            if phase == Phase.WRITING:
                bar.update(task, description=label)
            else:  # no per-item progress: an indeterminate bar with the step's name
                bar.update(task, description=label, total=None, completed=0)

        def on_wait() -> None:
            err.print(f"waiting for another build of {gh.root} to finish (--no-wait fails instead)",
                      highlight=False, soft_wrap=True)

        report = build_graph(gh, inputs, validate=validate, problems=len(problems),
                             progress=lambda n: bar.advance(task, n),
                             embedder=embedder, on_phase=on_phase, wait=wait, on_wait=on_wait)
    m = report.manifest
    shacl = "skipped" if report.shacl is None else ("conforms" if report.shacl.conforms else "violations")
    if report.shacl is not None and report.shacl.sample:
        shacl += f" (validated a sample: {report.shacl.sample})"
    out.print(f"built {m.records} labeled records from {len(loaded.files)} dataset files, {m.cases} curated cases and "
              f"{m.documents} ingested threads about {m.issues} issues: {m.quads} quads, SHACL {shacl}; "
              f"graph home {gh.root}", highlight=False)


def _case_stats(cases_path: Path | None, as_json: bool) -> None:
    loaded = load_cases(cases_path)
    tax = load_taxonomy()
    by = {"root_cause": {c.label: 0 for c in tax.leaves("root_cause")},
          "symptom": {c.label: 0 for c in tax.leaves("symptom")}}
    dataset = 0
    for c in loaded.cases:
        by["root_cause"][c.root_cause] += 1
        by["symptom"][c.symptom] += 1
        dataset += c.labeler == "dataset"
    summary = {"cases": len(loaded.cases), "dataset_issues": dataset, "curator_labeled": len(loaded.cases) - dataset,
               "problems": [str(p) for p in loaded.problems], "root_cause_leaf": by["root_cause"],
               "symptom_leaf": by["symptom"]}
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    out.print(f"{len(loaded.cases)} cases ({dataset} issues of the labeled dataset, {len(loaded.cases) - dataset} "
              f"labeled by failgraph curators) in {loaded.path}", highlight=False)
    for scheme, title in (("root_cause", "Cases per root-cause leaf"), ("symptom", "Cases per symptom leaf")):
        table = Table(title=title)
        table.add_column("leaf")
        table.add_column("cases", justify="right")
        for label, n in sorted(by[scheme].items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(label, str(n), style="red" if n < 3 else None)
        out.print(table)


@app.command()
@user_errors
def stats(home: HomeOpt = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
          cases: Annotated[bool, typer.Option("--cases",
                                              help="Report the curated case base per taxonomy leaf.")] = False,
          cases_file: Annotated[Path | None, typer.Option("--cases-file", help="Case file for --cases (default: the "
                                                             "shipped case base).")] = None):
    """The symptom × root-cause category matrix of the study's records (its Table 2), or the case base's spread."""
    if cases:
        _case_stats(cases_file, as_json)
        return
    store = open_store(GraphHome(home))
    t = category_table(store)
    if as_json:
        sys.stdout.write(json.dumps(t.model_dump(exclude={"total"}), indent=2) + "\n")
        return
    symptoms = list(t.symptom_category)
    table = Table(title=f"Failure records by root cause × symptom ({t.total} records)")
    table.add_column("Root-cause category")
    for s in symptoms:
        table.add_column(s, justify="right")
    table.add_column("Total", justify="right", style="bold")
    for rc, row in t.matrix.items():
        table.add_row(rc, *(str(row[s]) for s in symptoms), str(t.root_cause_category[rc]))
    table.add_row("Total", *(str(t.symptom_category[s]) for s in symptoms), str(t.total), style="bold")
    out.print(table)


def _print_table(res: SelectResult) -> None:
    table = Table(show_lines=False)
    for v in res.variables:
        table.add_column(v)
    for r in res.rows:
        table.add_row(*(r[v].value if v in r else "" for v in res.variables))
    out.print(table)
    out.print(f"{len(res.rows)} row(s)" + (" (truncated)" if res.truncated else ""), highlight=False)


@app.command()
@user_errors
def sparql(file_or_query: Annotated[str, typer.Argument(help="A .rq file, a named query from kg/queries, or query "
                                                              "text.")],
           home: HomeOpt = None,
           fmt: Annotated[str, typer.Option("--format", help="table, json, csv, tsv or xml (CONSTRUCT: ntriples)")] =
           "table",
           allow_service: AllowServiceOpt = None):
    """Run a read-only SPARQL 1.1 query against the graph (SERVICE only to --allow-service endpoints)."""
    if fmt not in {"table", "json", "csv", "tsv", "xml", "ntriples"}:
        fail(f"unknown format {fmt!r}: use table, json, csv, tsv, xml or ntriples")
    policy = query_policy(allow_service)
    text = resolve_query_text(file_or_query)
    res = open_store(GraphHome(home), policy=policy).query(text)
    if isinstance(res, AskResult):
        sys.stdout.write(json.dumps(res.to_json()) + "\n" if fmt == "json" else f"{str(res.value).lower()}\n")
    elif isinstance(res, GraphResult):
        sys.stdout.write(res.to_ntriples())
    elif fmt == "json":
        sys.stdout.write(json.dumps(res.to_json(), indent=1) + "\n")
    elif fmt == "csv":
        sys.stdout.write(res.to_csv())
    elif fmt == "tsv":
        sys.stdout.write(res.to_tsv())
    elif fmt == "xml":
        sys.stdout.write(res.to_xml())
    else:
        _print_table(res)


@app.command()
@user_errors
def queries():
    """List the named SPARQL queries."""
    table = Table("name", "title")
    for q in list_queries():
        table.add_row(q.name, q.title)
    out.print(table)


@app.command()
@user_errors
def export(path: Annotated[Path, typer.Argument(help="Output file.")], home: HomeOpt = None,
           fmt: Annotated[str | None, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)} "
                                                      "(default: from the file extension).")] = None):
    """Export the graph as Turtle, JSON-LD, TriG, N-Quads or N-Triples (written atomically)."""
    if fmt is None:
        by_ext = {ext: name for name, ext in EXPORT_FORMATS.items()} | {"json": "json-ld", "ttl": "turtle"}
        fmt = by_ext.get(path.suffix.lstrip(".").lower())
        if fmt is None:
            fail(f"cannot tell the format from {path.name!r}; pass --format ({', '.join(EXPORT_FORMATS)})")
    store = open_store(GraphHome(home))
    store.export(path, fmt)
    out.print(f"wrote {path} ({fmt}, {path.stat().st_size:,} bytes)", highlight=False)


def _load_kb(home: Path | None):
    from ..assistant.knowledge import KnowledgeBase

    gh = GraphHome(home)
    gh.current()  # a clear error before the model loads when nothing is built
    with err.status("loading the knowledge graph, the embedding model and the text index "
                    "(the first run after a build embeds every case text)…"):
        return KnowledgeBase.from_home(gh)


def _print_diagnosis(d, console=None) -> None:
    """The answer for a terminal: at any width, URLs, labels and scores wrap or fold, never end in an ellipsis."""
    from rich.markup import escape
    from rich.panel import Panel

    console = console or out
    for note in d.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print("[bold]Symptoms[/]: " + ", ".join(f"{escape(s.label)} ({s.score:.2f})" for s in d.symptoms))
    for i, c in enumerate(d.root_causes, 1):
        body = [f"[bold]{i}. {escape(c.label)}[/]  score {c.score:.2f}",
                f"[dim]{escape(c.category)} › {escape(c.group)}[/]", "", "[bold]Fix[/]:"]
        body += [f"  {k}. {escape(f)}" for k, f in enumerate(c.fixes, 1)]
        body += ["", "[bold]Why[/]:"] + [f"  {escape(p.source)} —{escape(p.edge)}"
                                          f"{'' if p.weight is None else f' ({p.weight:.2f})'}→ {escape(p.target)}"
                                          for p in c.path]
        console.print(Panel("\n".join(body)))  # the title inside: a title in the border is cut with "…"
    if d.similar:
        table = Table(title="Similar past failures")
        table.add_column("score", justify="right", no_wrap=True, min_width=5)
        table.add_column("issue", overflow="fold")
        table.add_column("labels", overflow="fold")
        for s in d.similar:
            table.add_row(f"{s.score:.2f}", escape(s.url), escape("; ".join(s.labels)))
        console.print(table)


@app.command()
@user_errors
def diagnose(text: Annotated[str | None, typer.Argument(help="The report: error output, what you saw, versions. "
                                                           "'-' reads standard input.")] = None,
             title: Annotated[str | None, typer.Option(help="The issue's title, if the report has one (matched "
                                                          "with the text).")] = None,
             batch: Annotated[Path | None, typer.Option("--batch", help="JSONL of {id, text, title?, "
                                                           "exclude_urls}; one JSON answer per line.")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
             top_k: Annotated[int, typer.Option("--top-k", min=1, max=27, help="Causes and symptoms to list.")] = 3,
             home: HomeOpt = None):
    """Diagnose a failure report: ranked root causes with fixes, similar past failures and the graph path."""
    from ..assistant.batch import batch_answers, validation_message
    from ..assistant.diagnose import diagnose as run_diagnosis
    from ..assistant.models import ReportRequest
    from ..assistant.report import ReportError
    from ..ingest.decode import byte_lines, decode_lines

    if (text is None) == (batch is None):
        fail("give either a report TEXT (or '-' for stdin) or --batch FILE.jsonl")
    if batch is not None:
        lines = decode_lines(byte_lines(batch.read_bytes()))
        kb = _load_kb(home)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task("diagnosing", total=len(lines))
            for n, answer in enumerate(batch_answers(kb, lines, top_k), 1):
                bar.advance(task)
                if answer is None:
                    continue
                if "error" in answer:
                    err.print(f"[yellow]{escape(str(batch))}:{n}:[/] {escape(answer['error'])}", highlight=False)
                sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        return
    report = read_stream(sys.stdin) if text == "-" else decode_argv(text, "the report")
    title = decode_argv(title, "--title") if title is not None else None
    try:
        d = run_diagnosis(_load_kb(home), ReportRequest(text=report, title=title, top_k=top_k))
    except ReportError as e:
        fail(str(e))
    except ValidationError as e:
        fail(validation_message(e))
    if as_json:
        sys.stdout.write(d.model_dump_json(indent=2) + "\n")
    else:
        _print_diagnosis(d)


@app.command("eval")
@user_errors
def evaluate_cmd(cases: Annotated[Path, typer.Argument(help="JSONL with text/report, symptom, root_cause, "
                                                       "source_url (e.g. ingest/cases/cases.jsonl).")],
                 home: HomeOpt = None,
                 json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON.")] = None,
                 plot: Annotated[Path | None, typer.Option("--plot", help="Write the confusion matrices "
                                                              "and the score's reliability as a PNG.")] = None,
                 limit: Annotated[int | None, typer.Option(help="Evaluate only the first N items.")] = None,
                 prepend: Annotated[Path | None, typer.Option(
                     help="Paste this file's text in front of every report (e.g. a collect_env or pip listing, "
                          "tests/fixtures/listings/, or a start-up log, tests/fixtures/logs/) to measure how pasted "
                          "environments and logs change the answers.")] = None):
    """Leave-one-out accuracy of the diagnosis against baselines, side by side in one run."""
    from ..assistant.evaluate import DiagnosisEvaluator, load_labeled, plot_evaluation

    if plot:  # before the run, not after it
        require_extra(("matplotlib",), "bench", "failgraph eval --plot")
    from ..ingest.files import write_atomic

    items = load_labeled(cases)[:limit]
    if prepend is not None:
        if not prepend.is_file():
            fail(f"--prepend {prepend}: no such file")
        head = prepend.read_text(encoding="utf-8", errors="replace")
        items = [i.model_copy(update={"text": f"{head}\n{i.text}"}) for i in items]
    kb = _load_kb(home)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("leave-one-out", total=len(items))
        res = DiagnosisEvaluator(kb, items).run(progress=lambda n: bar.advance(task, n))
    if res.unanswered:
        err.print(f"{len(res.unanswered)} of {len(items)} reports could not be diagnosed and are left out of every "
                  "method's figures:", highlight=False)
        for u in res.unanswered[:10]:
            err.print(f"  {u.source_url or '(no source_url)'}: {u.reason}", highlight=False, markup=False)
        if len(res.unanswered) > 10:
            err.print(f"  … and {len(res.unanswered) - 10} more (all listed in --json)", highlight=False)
    if not res.items:
        fail("no report could be diagnosed, so there is nothing to score")
    for scheme, title in (("root_cause", "Root cause"), ("symptom", "Symptom")):
        table = Table(title=f"{title}: leave-one-out over {res.items} reports (top-1 / top-3 / MRR)")
        table.add_column("method")
        levels = list(getattr(res.methods["failgraph"], scheme))
        for lv in levels:
            table.add_column(lv, justify="right")
        for method, scores in res.methods.items():
            cells = [f"{s.top1:.3f} / {s.top3:.3f} / {s.mrr:.3f}" for s in getattr(scores, scheme).values()]
            table.add_row(method, *cells, style="bold" if method == "failgraph" else None)
        out.print(table)
    ag = res.agreement
    if ag.pairs:
        out.print(f"Labels of near-duplicate reports (cosine ≥ {ag.threshold}, {ag.pairs} pairs) agree on the "
                  "root-cause "
                  + ", ".join(f"{lv} {share:.3f}" for lv, share in ag.same.items())
                  + " of the time (the noise in the labels that any text-based method meets).")
    for level, cal in res.calibration.items():
        out.print(f"First {level} answer: mean score {cal.mean_score:.3f}, right {cal.accuracy:.3f} of the time, "
                  f"expected calibration error {cal.ece:.3f}.")
    if json_out:
        write_atomic(json_out, res.model_dump_json(indent=2))
        out.print(f"wrote {json_out}")
    if plot:
        plot_evaluation(res, plot)
        out.print(f"wrote {plot}")


app.add_typer(bench_app, name="bench")  # vectors | sparql | e2e | embed (ui/cli_bench.py) and diagnose (below)


@bench_app.command("diagnose")
@user_errors
def bench_diagnose(home: HomeOpt = None,
                   n: Annotated[int, typer.Option("-n", help="How many case reports to diagnose.")] = 200,
                   as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """Median / p99 latency of `diagnose` on real case reports after warm-up."""
    from ..bench.latency import diagnose_latency
    from ..ingest.cases import load_cases

    texts = [c.report for c in load_cases().cases][:n]
    kb = _load_kb(home)
    rep = diagnose_latency(kb, texts)
    if as_json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
        return
    table = Table(title=f"diagnose latency over {rep.reports} case reports ({rep.corpus} past failures, {rep.index})")
    for col in ("median ms", "p90 ms", "p99 ms", "mean ms", "reports/s"):
        table.add_column(col, justify="right")
    table.add_row(f"{rep.median_ms:.1f}", f"{rep.p90_ms:.1f}", f"{rep.p99_ms:.1f}", f"{rep.mean_ms:.1f}",
                  f"{rep.throughput_per_s:.1f}")
    out.print(table)


@bench_app.command("judged")
@user_errors
def bench_judged(verdicts: Annotated[Path | None, typer.Option(
                     "--verdicts", help="Verdicts JSONL (default: the shipped bench/judged/verdicts.jsonl).")] = None,
                 posts: Annotated[Path | None, typer.Option(
                     "--posts", help="Opening posts JSONL {id, url, title, text}: re-diagnose them (and the case "
                                     "reports judged) and list the verdicts whose first fix changed.")] = None,
                 home: HomeOpt = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """Judged first-fix rates per set (helps = yes, helps-or-partly, harmful); with --posts, the stale verdicts."""
    from ..bench.judged import load_posts, load_verdicts, rates, rediagnose, stale_verdicts

    vs = load_verdicts(verdicts)
    if not vs:
        fail("the verdicts file has no verdicts")
    figures = rates(vs)
    stale = None
    if posts is not None:
        stale = stale_verdicts(vs, rediagnose(_load_kb(home), vs, load_posts(posts)))
    if as_json:
        doc = {"rates": [r.model_dump() for r in figures]}
        if stale is not None:
            doc["stale"] = [s.model_dump() for s in stale]
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title="Judged first fix (helps = the first fix is what resolved the issue)")
    for col in ("set", "n", "yes", "partly", "no", "harmful", "helps", "helps or partly", "harmful rate"):
        table.add_column(col, justify="left" if col == "set" else "right", no_wrap=col == "set")
    for r in figures:
        table.add_row(r.set, str(r.n), str(r.yes), str(r.partly), str(r.no), str(r.harmful), f"{r.helps:.0%}",
                      f"{r.helps_or_partly:.0%}", f"{r.harmful_rate:.0%}")
    out.print(table)
    if stale is not None:
        out.print(f"{len(stale)} stale verdict(s) (first fix changed since judged; judge them again):")
        for s in stale:
            now = f"{s.now.action} {s.now.target or ''}".strip() if s.now else "no fix"
            out.print(f"  {s.set} {s.issue}: {s.judged.action} {s.judged.target or ''} -> {now}", highlight=False)


def main() -> None:
    app()


__all__ = ["app", "main"]
