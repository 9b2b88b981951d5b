"""The ``failgraph`` command line: a thin typer layer over ingest, kg and assistant."""

from __future__ import annotations

import json
import sys
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..kg.formats import EXPORT_FORMATS
from .cli_bench import bench_app
from .cli_doctor import doctor as doctor_command
from .cli_github import github_app
from .cli_ingest import ingest_app
from .cli_serve import serve as serve_command
from .cli_serve import ui as ui_command
from .console import AllowServiceOpt, EmbedderOpt, HomeOpt, cli_embedder, err, fail, out, query_policy, require_extra
from .console import user_errors as _user_errors

# Every module is imported inside the command that needs it, so that `failgraph --help` and the light commands
# start without the graph store, the numeric stack or the models (tests/ui/test_cli.py checks which modules load).

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="failgraph: knowledge-graph troubleshooting for open-source LLM failures.")
app.add_typer(ingest_app, name="ingest")
app.add_typer(github_app, name="github")
app.command("doctor")(doctor_command)
app.command("serve")(serve_command)
app.command("ui")(ui_command)
#: The user errors of failgraph's own modules, by module and class name: an exception of one of them can only have been
#: raised once its module is loaded, so only the loaded ones are looked up (and nothing is imported to catch them).
FAILGRAPH_ERRORS = (("failgraph.ingest.dataset", "DatasetError"), ("failgraph.kg.home", "NoGraphError"),
                    ("failgraph.kg.store", "StoreError"), ("failgraph.kg.build", "BuildError"),
                    ("failgraph.kg.locks", "HomeBusy"))
BUILTIN_ERRORS = (FileNotFoundError, KeyError, ValueError, OSError)


def user_error_types() -> tuple[type[BaseException], ...]:
    """The errors a command reports in one line (exit code 2): failgraph's, of the modules loaded so far, and the
    built-in ones."""
    loaded = tuple(getattr(sys.modules[module], name) for module, name in FAILGRAPH_ERRORS if module in sys.modules)
    return loaded + BUILTIN_ERRORS


user_errors = _user_errors(user_error_types)


def progress_bar():
    """A transient progress bar on stderr: description, bar, n of total, elapsed time."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


def build_phases() -> dict[str, str]:
    from ..kg.build import Phase

    return {Phase.WRITING: "writing the graph", Phase.VALIDATING: "validating (SHACL)",
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
                                                                      "for it, or fail at once.")] = True,
          embedder: EmbedderOpt = None,
          recall: Annotated[float | None, typer.Option(
              "--recall", min=0.01, max=1.0, envvar="FAILGRAPH_RECALL", metavar="TARGET",
              help="Recall@10 the text index must reach when it is approximate (IVF, past 20,000 texts): nprobe is "
                   "chosen by measuring a held-out sample and kept with the index (default: a fixed 1/64 of the "
                   "lists; also $FAILGRAPH_RECALL).")] = None):
    """Ingest the labeled dataset, the case base and ingested threads, and (re)build the graph atomically."""
    from ..ingest.cases import load_cases
    from ..ingest.dataset import load_dataset
    from ..ingest.sources import load_issue_documents
    from ..kg.build import GraphInputs, Phase, build_graph
    from ..kg.home import GraphHome

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
    encoder = cli_embedder(embedder, gh.root, follow_graph=False) if index else None
    phases = build_phases()
    with progress_bar() as bar:
        task = bar.add_task("building graph", total=total)

        def on_phase(phase: str) -> None:
            label = phases.get(phase, phase)
            if phase == Phase.WRITING:
                bar.update(task, description=label)
            else:  # no per-item progress: an indeterminate bar with the step's name
                bar.update(task, description=label, total=None, completed=0)

        def on_wait() -> None:
            err.print(f"waiting for another build of {gh.root} to finish (--no-wait fails instead)",
                      highlight=False, soft_wrap=True)

        report = build_graph(gh, inputs, validate=validate, problems=len(problems),
                             progress=lambda n: bar.advance(task, n),
                             embedder=encoder, on_phase=on_phase, wait=wait, on_wait=on_wait, recall=recall)
        from ..kg.snapshot_index import INDEX_DIR

        if (Path(report.snapshot) / INDEX_DIR).is_dir():  # past failures with text were indexed: keep the corpus
            from ..assistant.knowledge import KnowledgeBase  # and the trained models too, a start reads them
            from ..kg.home import NoGraphError

            bar.update(task, description="training the models", total=None, completed=0)
            with suppress(NoGraphError):  # a newer build replaced it meanwhile: that one's first start trains its own
                KnowledgeBase.from_home(gh, encoder, snapshot=Path(report.snapshot).name)
    m = report.manifest
    shacl = "skipped" if report.shacl is None else ("conforms" if report.shacl.conforms else "violations")
    if report.shacl is not None and report.shacl.sample:
        shacl += f" (validated a sample: {report.shacl.sample})"
    learned = f", {m.learned} learned past failures" if m.learned else ""
    out.print(f"built {m.records} labeled records from {len(loaded.files)} dataset files, {m.cases} curated cases and "
              f"{m.documents} ingested threads{learned} about {m.issues} issues: {m.quads} quads, SHACL {shacl}; "
              f"graph home {gh.root}", highlight=False)


def _case_stats(cases_path: Path | None, as_json: bool) -> None:
    from ..ingest.cases import load_cases
    from ..ingest.coverage import THIN, case_coverage

    loaded = load_cases(cases_path)
    cov = case_coverage(loaded.cases)
    summary = {"problems": [str(p) for p in loaded.problems], **cov.model_dump()}
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    out.print(f"{cov.cases} cases ({cov.dataset_issues} issues of the labeled dataset, {cov.curator_labeled} "
              f"labeled by failgraph curators; {cov.with_fix_spec} with a structured fix, {cov.dated} dated) in "
              f"{loaded.path}", highlight=False)
    for field, title in (("root_cause_leaf", "Cases per root-cause leaf"), ("symptom_leaf", "Cases per symptom leaf"),
                         ("framework", "Cases per framework"), ("model_family", "Cases per model family"),
                         ("year", "Cases per year (of the issue)"), ("fix_action", "Structured fixes per action")):
        table = Table(title=title)
        table.add_column(field.replace("_", " "))
        table.add_column("cases", justify="right")
        for label, n in sorted(getattr(cov, field).items(), key=lambda kv: (-kv[1], kv[0])):
            thin = field in ("root_cause_leaf", "symptom_leaf") and n < THIN
            table.add_row(label, str(n), style="red" if thin else None)
        out.print(table)
    if cov.thin_root_causes:
        out.print(f"Thin spots (fewer than {THIN} cases): " + "; ".join(
            f"{leaf} {cov.root_cause_leaf[leaf]}" for leaf in cov.thin_root_causes), highlight=False)


def _agreement_stats(second_path: Path, cases_path: Path | None, as_json: bool) -> None:
    from ..ingest.agreement import agreement, read_second_labels
    from ..ingest.cases import load_cases

    rep = agreement(load_cases(cases_path).cases, read_second_labels(second_path))
    if as_json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
        return
    groups = {"all": rep.overall, **rep.by_first_labeler}
    table = Table(title=f"Agreement of two independent labelings: {rep.cases} cases (agreement / Cohen's kappa)")
    table.add_column("level")
    for who, rows in groups.items():
        table.add_column(f"{who} ({max(r.pairs for r in rows)})", justify="right")
    for i, row in enumerate(rep.overall):
        table.add_row(row.what, *(f"{g[i].agreement:.2f} / {'-' if g[i].kappa is None else f'{g[i].kappa:.2f}'}"
                                  for g in groups.values()))
    out.print(table)
    if rep.unmatched:
        err.print(f"{len(rep.unmatched)} second label(s) name an issue that is not in the case base: "
                  + ", ".join(rep.unmatched[:5]), highlight=False)


@app.command()
@user_errors
def stats(home: HomeOpt = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
          cases: Annotated[bool, typer.Option("--cases",
                                              help="Report the curated case base per leaf, framework, model family, "
                                                   "year and fix action, and its thin spots.")] = False,
          cases_file: Annotated[Path | None, typer.Option("--cases-file", help="Case file for --cases (default: the "
                                                             "shipped case base).")] = None,
          agreement: Annotated[Path | None, typer.Option(
              "--agreement", help="A JSONL file of second, independent labels (source_url, symptom, root_cause, "
                                  "fix_spec) of some cases: agreement with the case base's labels per level.")] = None):
    """The symptom × root-cause category matrix of the study's records (its Table 2), the case base's spread, or the
    agreement of two labelings."""
    if agreement is not None:
        _agreement_stats(agreement, cases_file, as_json)
        return
    if cases:
        _case_stats(cases_file, as_json)
        return
    from ..kg.home import GraphHome
    from ..kg.snapshot_store import open_store
    from ..kg.stats import category_table

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


def _print_table(res) -> None:
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
    from ..kg.home import GraphHome
    from ..kg.named_queries import resolve_query_text
    from ..kg.results import AskResult, GraphResult
    from ..kg.snapshot_store import open_store

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
    from ..kg.named_queries import list_queries

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
    from ..kg.home import GraphHome
    from ..kg.snapshot_store import open_store

    store = open_store(GraphHome(home))
    store.export(path, fmt)
    out.print(f"wrote {path} ({fmt}, {path.stat().st_size:,} bytes)", highlight=False)


def _load_kb(home: Path | None, embedder: str | None = None):
    from ..assistant.knowledge import KnowledgeBase
    from ..kg.home import GraphHome

    gh = GraphHome(home)
    gh.current()  # a clear error before the model loads when nothing is built
    encoder = cli_embedder(embedder, gh.root)
    with err.status("loading the knowledge graph, the embedding model and the text index "
                    "(the first run after a build embeds every case text)…"):
        return KnowledgeBase.from_home(gh, encoder)


def _print_diagnosis(d, console=None) -> None:
    """The answer for a terminal: at any width, URLs, labels and scores wrap or fold, never end in an ellipsis."""
    from rich.markup import escape
    from rich.panel import Panel

    console = console or out
    for note in d.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print("[bold]Symptoms[/]: " + ", ".join(f"{escape(s.label)} ({s.score:.2f})" for s in d.symptoms))
    if d.fixes:
        body = []
        for k, f in enumerate(d.fixes[:5], 1):
            where = f" — [dim]{escape(f.source)}{': ' + escape(f.source_ref) if f.source_ref else ''}[/]"
            tag = " [dim](general step)[/]" if f.generic else (" [green]confirmed[/]" if f.confirmed else "")
            shipped = f" [dim](fixed in {escape(f.target or '')} {escape(f.fixed_in)})[/]" if f.fixed_in else ""
            body.append(f"  {k}. {escape(f.text)}{shipped}{tag}{where}")
        console.print(Panel("\n".join(["[bold]Try first[/] (best-supported fix first)", *body])))
    if d.questions:
        console.print(Panel("\n".join(["[bold]Not sure yet[/]: answering these would tell the likely causes apart",
                                        *(f"  - {escape(q.text)}" for q in d.questions)])))
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
             home: HomeOpt = None, embedder: EmbedderOpt = None):
    """Diagnose a failure report: ranked root causes with fixes, similar past failures and the graph path."""
    from pydantic import ValidationError
    from rich.markup import escape

    from ..assistant.batch import batch_answers, validation_message
    from ..assistant.diagnose import diagnose as run_diagnosis
    from ..assistant.models import ReportRequest
    from ..assistant.report import ReportError
    from ..ingest.decode import byte_lines, decode_argv, decode_lines, read_stream

    if (text is None) == (batch is None):
        fail("give either a report TEXT (or '-' for stdin) or --batch FILE.jsonl")
    if batch is not None:
        lines = decode_lines(byte_lines(batch.read_bytes()))
        kb = _load_kb(home, embedder)
        with progress_bar() as bar:
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
        d = run_diagnosis(_load_kb(home, embedder), ReportRequest(text=report, title=title, top_k=top_k))
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
                 before: Annotated[str | None, typer.Option(
                     "--before", help="Time split: diagnose only the items opened on or after this date (YYYY-MM-DD), "
                                      "each with every such item and the rules citing them left out of the "
                                      "knowledge, as a bot meets new issues.")] = None,
                 prepend: Annotated[Path | None, typer.Option(
                     help="Paste this file's text in front of every report (e.g. a collect_env or pip listing, "
                          "tests/fixtures/listings/, or a start-up log, tests/fixtures/logs/) to measure how pasted "
                          "environments and logs change the answers.")] = None,
                 embedder: EmbedderOpt = None):
    """Leave-one-out accuracy of the diagnosis against baselines, side by side in one run."""
    from ..assistant.evaluate import DiagnosisEvaluator, load_labeled, plot_evaluation

    if plot:  # before the run, not after it
        require_extra(("matplotlib",), "bench", "failgraph eval --plot")
    from ..ingest.files import write_atomic

    items = load_labeled(cases)
    also_exclude = None
    mode = "leave-one-out"
    if before is not None:
        import datetime

        from ..assistant.evaluate import time_split

        try:
            day = datetime.date.fromisoformat(before)
        except ValueError:
            fail(f"--before {before!r}: not a date (YYYY-MM-DD)")
        items, also_exclude = time_split(items, day)
        mode = f"time split at {day}"
        if not items:
            fail(f"no item of {cases} is dated on or after {day}")
        err.print(f"time split at {day}: {len(items)} items opened since, diagnosed without them", highlight=False)
    items = items[:limit]
    if prepend is not None:
        if not prepend.is_file():
            fail(f"--prepend {prepend}: no such file")
        head = prepend.read_text(encoding="utf-8", errors="replace")
        items = [i.model_copy(update={"text": f"{head}\n{i.text}"}) for i in items]
    kb = _load_kb(home, embedder)
    with progress_bar() as bar:
        task = bar.add_task("leave-one-out", total=len(items))
        res = DiagnosisEvaluator(kb, items, also_exclude=also_exclude).run(progress=lambda n: bar.advance(task, n))
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
        table = Table(title=f"{title}: {mode} over {res.items} reports (top-1 / top-3 / MRR)")
        table.add_column("method")
        levels = list(getattr(res.methods["failgraph"], scheme))
        for lv in levels:
            table.add_column(lv, justify="right")
        for method, scores in res.methods.items():
            cells = [f"{s.top1:.3f} / {s.top3:.3f} / {s.mrr:.3f}" for s in getattr(scores, scheme).values()]
            table.add_row(method, *cells, style="bold" if method == "failgraph" else None)
        out.print(table)
    if res.fixes:
        n = next(iter(res.fixes.values())).n
        table = Table(title=f"Fixes: {mode} over the {n} reports with a structured fix (first fix has the "
                            "resolving fix's action and target)")
        for col in ("method", "fix@1", "fix@3", "action@1", "first fix generic", "fix@1 (confirmed fixes)"):
            table.add_column(col, justify="left" if col == "method" else "right")
        for method, f in res.fixes.items():
            table.add_row(method, f"{f.fix_at_1:.3f}", f"{f.fix_at_3:.3f}", f"{f.action_at_1:.3f}",
                          f"{f.first_generic:.3f}",
                          f"{f.confirmed_fix_at_1:.3f} (n={f.confirmed_n})",
                          style="bold" if method == "failgraph" else None)
        out.print(table)
    if res.above_threshold:
        table = Table(title="A bot that answers only above a first-cause score")
        for col in ("first cause ≥", "answers", "category top-1", "leaf top-1", "fix@1"):
            table.add_column(col, justify="right")
        for t in res.above_threshold:
            table.add_row(f"{t.threshold:.2f}", f"{t.share:.3f}", f"{t.category_top1:.3f}", f"{t.leaf_top1:.3f}",
                          f"{t.fix_at_1:.3f} (n={t.fix_n})")
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


app.add_typer(bench_app, name="bench")  # vectors | sparql | e2e | embed (ui/cli_bench.py), diagnose and startup (below)


@bench_app.command("diagnose")
@user_errors
def bench_diagnose(home: HomeOpt = None,
                   n: Annotated[int, typer.Option("-n", help="How many case reports to diagnose.")] = 200,
                   as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
                   embedder: EmbedderOpt = None):
    """Median / p99 latency of `diagnose` on real case reports after warm-up."""
    from ..bench.latency import diagnose_latency
    from ..ingest.cases import load_cases

    texts = [c.report for c in load_cases().cases][:n]
    kb = _load_kb(home, embedder)
    rep = diagnose_latency(kb, texts)
    if as_json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
        return
    table = Table(title=f"diagnose latency over {rep.reports} case reports ({rep.corpus} past failures, {rep.index}, "
                        f"{rep.embedder} embeddings)")
    for col in ("median ms", "p90 ms", "p99 ms", "mean ms", "reports/s"):
        table.add_column(col, justify="right")
    table.add_row(f"{rep.median_ms:.1f}", f"{rep.p90_ms:.1f}", f"{rep.p99_ms:.1f}", f"{rep.mean_ms:.1f}",
                  f"{rep.throughput_per_s:.1f}")
    out.print(table)


@bench_app.command("startup")
@user_errors
def bench_startup_cmd(home: HomeOpt = None,
                      runs: Annotated[int, typer.Option("--runs", min=1, max=20, help="Runs of each command.")] = 3,
                      serve: Annotated[bool, typer.Option("--serve/--no-serve",
                                                          help="Also time the server's start.")] = True,
                      as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """Start-up times in fresh processes: --help, a one-shot diagnose, the server until its knowledge base is loaded
    (median wall and CPU seconds, and the ratio to the target)."""
    from ..bench.startup import bench_startup
    from ..kg.home import GraphHome

    gh = GraphHome(home)
    gh.current()  # a clear error when nothing is built
    rep = bench_startup(gh.root, runs=runs, serve=serve,
                        progress=lambda m: err.print(f"[dim]… {m}[/]", highlight=False))
    if as_json:
        sys.stdout.write(rep.model_dump_json(indent=2) + "\n")
        return
    table = Table(title=f"start-up, median of {rep.runs} runs (load average {rep.machine.load_average}, "
                        f"{rep.machine.cpus} CPUs)")
    for col in ("command", "wall s", "CPU s", "target s", "wall / target"):
        table.add_column(col, justify="left" if col == "command" else "right")
    for r in rep.rows:
        table.add_row(r.command if len(r.command) < 60 else r.command[:57] + "…", f"{r.median_wall_s:.2f}",
                      f"{r.median_cpu_s:.2f}", "—" if r.target_s is None else f"{r.target_s:.1f}",
                      "—" if r.ratio_to_target is None else f"{r.ratio_to_target:.2f}")
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
