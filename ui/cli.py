"""The ``failgraph`` command line: a thin typer layer over ingest, kg and assistant."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..ingest.dataset import DatasetError, load_dataset
from ..kg.build import BuildError, build_graph, open_store
from ..kg.home import GraphHome, NoGraphError
from ..kg.named_queries import list_queries, resolve_query_text
from ..kg.results import AskResult, GraphResult, SelectResult
from ..kg.stats import category_table
from ..kg.store import EXPORT_FORMATS, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="failgraph: knowledge-graph troubleshooting for open-source LLM failures.")
out = Console()
err = Console(stderr=True)

HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Graph home directory (default: $FAILGRAPH_HOME or "
                                                                  "the user data dir).")]

USER_ERRORS = (DatasetError, NoGraphError, StoreError, BuildError, FileNotFoundError, KeyError, ValueError, OSError)


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def user_errors(fn):
    """Turn expected failures into one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except typer.Exit:
            raise
        except USER_ERRORS as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            fail(str(msg))

    return wrapper


@app.command()
@user_errors
def build(dataset: Annotated[Optional[Path], typer.Option("--dataset", help="Dataset directory or JSON file "
                                                          "(default: $FAILGRAPH_DATASET, else a cached download).")] = None,
          home: HomeOpt = None,
          skip_invalid: Annotated[bool, typer.Option(help="Build from the valid records when some are malformed.")] = False,
          validate: Annotated[Optional[bool], typer.Option("--validate/--no-validate",
                                                           help="SHACL-validate before publishing (default: "
                                                                "on for graphs up to 20,000 records).")] = None):
    """Ingest the labeled dataset and (re)build the knowledge graph atomically."""
    loaded = load_dataset(dataset)
    if loaded.problems:
        for p in loaded.problems[:20]:
            err.print(f"[yellow]invalid record:[/] {p}", highlight=False, soft_wrap=True)
        if len(loaded.problems) > 20:
            err.print(f"... and {len(loaded.problems) - 20} more")
        if not skip_invalid:
            fail(f"{len(loaded.problems)} malformed record(s) in {loaded.root}; fix them or pass --skip-invalid")
    gh = GraphHome(home)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("building graph", total=len(loaded.records))
        report = build_graph(gh, loaded.records, validate=validate, problems=len(loaded.problems),
                             progress=lambda n: bar.advance(task, n))
    m = report.manifest
    shacl = "skipped" if report.shacl is None else ("conforms" if report.shacl.conforms else "violations")
    out.print(f"built {m.records} failure records about {m.issues} issues from {len(loaded.files)} files: "
              f"{m.quads} quads, SHACL {shacl}; graph home {gh.root}", highlight=False)


@app.command()
@user_errors
def stats(home: HomeOpt = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """The symptom × root-cause category matrix of the study's records (its Table 2)."""
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
           "table"):
    """Run a read-only SPARQL 1.1 query against the graph."""
    if fmt not in {"table", "json", "csv", "tsv", "xml", "ntriples"}:
        fail(f"unknown format {fmt!r}: use table, json, csv, tsv, xml or ntriples")
    text = resolve_query_text(file_or_query)
    res = open_store(GraphHome(home)).query(text)
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
           fmt: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)} "
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


def main() -> None:
    app()


__all__ = ["app", "main"]
