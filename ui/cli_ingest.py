"""``failgraph ingest``: fetch issue threads from GitHub or import a JSONL export into the graph home.

Registered on the main app by ``app.add_typer(ingest_app, name="ingest")`` in :mod:`failgraph.ui.cli`. This module
shares the consoles and error handling of :mod:`failgraph.ui.console`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from .console import HomeOpt, err, out
from .console import user_errors as _user_errors

ingest_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                         help="Fetch issue threads from GitHub into the graph home (then run `failgraph "
                              "build`), or add a JSONL export's threads to the graph at once.")
BUILD_HINT = "run `failgraph build` to add them to the graph"


def ingest_errors() -> tuple[type[BaseException], ...]:
    """The errors ``ingest`` reports in one line (imported when one is raised: the command starts light)."""
    from ..ingest.github import GitHubError
    from ..ingest.jsonl import JsonlError
    from ..ingest.sources import SourceError
    from ..kg.home import HomeBusy, NoGraphError

    return (GitHubError, JsonlError, SourceError, HomeBusy, NoGraphError, FileNotFoundError, ValueError, OSError)


user_errors = _user_errors(ingest_errors, interrupted="interrupted; what was fetched is saved; run the same "
                                                        "command again to resume")


def http_client():
    """The HTTP client of ``ingest github`` (tests replace this function to inject a mock transport)."""
    import httpx

    return httpx.Client(timeout=30.0, follow_redirects=True)


def parse_numbers(spec: str) -> list[int]:
    """``"12,15,20-22"`` as ``[12, 15, 20, 21, 22]``.

    >>> parse_numbers("12, 15,20-22")
    [12, 15, 20, 21, 22]
    """
    numbers: list[int] = []
    for part in (p.strip() for p in spec.split(",")):
        m = re.fullmatch(r"#?(\d+)(?:\s*-\s*#?(\d+))?", part)
        if not m or int(m[1]) < 1 or (m[2] and int(m[2]) < int(m[1])):
            raise ValueError(f"bad --issues {spec!r}: expected positive numbers like 12,15,20-22")
        hi = int(m[2]) if m[2] else int(m[1])
        if hi - int(m[1]) > 10_000:
            raise ValueError(f"bad --issues {spec!r}: range {part} is too long")
        numbers.extend(range(int(m[1]), hi + 1))
    return sorted(set(numbers))


def _summary(s) -> str:
    parts = [f"fetched {s.fetched} issue(s): {s.updated} new or updated, {s.unchanged} unchanged",
             f"{s.skipped_prs} pull request(s) skipped",
             f"{s.not_modified} of {s.requests} response(s) unchanged (304, from the cache)"]
    if s.resumed:
        parts.append(f"{s.resumed} already done by the interrupted run")
    return f"github/{s.repository}: " + "; ".join(parts)


@ingest_app.command("github")
@user_errors
def github(repository: Annotated[str, typer.Argument(metavar="OWNER/REPO", help="The repository, e.g. "
                                                     "vllm-project/vllm.")],
           since: Annotated[str | None, typer.Option("--since", help="Only issues updated at or after this date "
                                                        "(YYYY-MM-DD or ISO 8601); default: where the last ingest "
                                                        "stopped.")] = None,
           issues: Annotated[str | None, typer.Option("--issues", metavar="N,M", help="Only these issue numbers "
                                                         "(ranges like 20-25 allowed).")] = None,
           home: HomeOpt = None,
           max_issues: Annotated[int | None, typer.Option("--max-issues", min=1, help="Stop after this many "
                                                             "issues; the next run continues.")] = None):
    """Fetch issues and comments of a GitHub repository (token from $GITHUB_TOKEN), resumably."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..ingest.github import GitHubClient, GitHubIngestStats, github_cache_dir, ingest_github
    from ..kg.home import GraphHome

    numbers = parse_numbers(issues) if issues is not None else None
    if numbers is not None and since:
        raise ValueError("--since and --issues do not go together")
    root = GraphHome(home).root
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        total = len(numbers) if numbers is not None else max_issues
        if numbers is not None and max_issues is not None:
            total = min(total, max_issues)
        task = bar.add_task(f"github {repository}", total=total)

        def progress(s: GitHubIngestStats) -> None:
            bar.update(task, completed=s.fetched + s.skipped_prs + s.resumed,
                       description=f"github {s.repository}: {s.fetched} issues, {s.skipped_prs} PRs")

        with http_client() as http, GitHubClient(http=http, cache_dir=github_cache_dir(root),
                                                 notify=lambda m: bar.console.print(m, highlight=False,
                                                                                    soft_wrap=True)) as client:
            if not client.authenticated:
                bar.console.print("GITHUB_TOKEN is not set: unauthenticated requests are limited to 60 an hour",
                                  highlight=False)
            stats = ingest_github(repository, root, client=client, since=since, numbers=numbers,
                                  max_issues=max_issues, progress=progress)
    out.print(_summary(stats), highlight=False, soft_wrap=True)
    more = "" if stats.complete else " (stopped early: run the same command again to continue)"
    out.print(f"stored {stats.stored} issue(s) in {stats.path}{more}; {BUILD_HINT}", highlight=False,
              soft_wrap=True)


@ingest_app.command("jsonl")
@user_errors
def jsonl(file: Annotated[Path, typer.Argument(help="A JSON Lines export: one issue object per line.")],
          home: HomeOpt = None,
          skip_invalid: Annotated[bool, typer.Option(help="Learn the valid lines when some are malformed.")] = False,
          wait: Annotated[bool, typer.Option("--wait/--no-wait", help="While a build or another ingest of the home "
                                                                      "runs: wait for it, or fail at once.")] = True):
    """Add issue threads from a JSONL export to the graph at once, without a rebuild: lines with url, title, body
    (or text), comments, and optionally symptom, root_cause (taxonomy leaves) and fix become past failures."""
    from ..ingest.jsonl import JsonlError, parse_jsonl
    from ..kg.home import GraphHome
    from ..kg.learn import learn

    loaded = parse_jsonl(file)
    for p in loaded.problems[:20]:
        err.print(f"[yellow]invalid line:[/] {p}", highlight=False, soft_wrap=True)
    if len(loaded.problems) > 20:
        err.print(f"... and {len(loaded.problems) - 20} more", highlight=False)
    if loaded.problems and not skip_invalid:
        raise JsonlError(f"{len(loaded.problems)} malformed line(s) in {loaded.file}; fix them or pass --skip-invalid")
    if not loaded.learned:
        raise JsonlError(f"{loaded.file} holds no issue documents")
    res = learn(GraphHome(home), loaded.learned, wait=wait)
    labeled = sum(it.labeled for it in loaded.learned)
    extra = []
    if loaded.problems:
        extra.append(f"{len(loaded.problems)} bad line(s) skipped")
    if loaded.duplicates:
        extra.append(f"{loaded.duplicates} repeated URL(s) kept once")
    what = f"{res.stored} issue(s) from {loaded.file} as {loaded.source} ({labeled} labeled)"
    said = (f"added {what} to the graph (snapshot {res.snapshot}) without a rebuild" if res.applied
            else f"stored {what} for the next build; {BUILD_HINT}")
    out.print(said + (f" ({', '.join(extra)})" if extra else ""), highlight=False, soft_wrap=True)


__all__ = ["http_client", "ingest_app", "parse_numbers"]
