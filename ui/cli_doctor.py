"""``failgraph doctor``: check an environment report against the compatibility knowledge base.

Registered on the main app by ``app.command("doctor")(doctor)`` in :mod:`failgraph.ui.cli`; errors are one line on
stderr with exit code 2 (:mod:`failgraph.ui.console`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .console import fail, out
from .console import user_errors as _user_errors

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def doctor_errors() -> tuple[type[BaseException], ...]:
    """The errors the doctor reports in one line (imported when one is raised: the command starts light)."""
    from ..assistant.doctor import DoctorError
    from ..kg.home import NoGraphError
    from ..kg.store import StoreError

    return (DoctorError, NoGraphError, StoreError, FileNotFoundError, IsADirectoryError, PermissionError,
            UnicodeDecodeError, ValueError, OSError)


user_errors = _user_errors(doctor_errors)


def _read_input(file: str) -> str:
    """The report as text, decoded from its bytes like every input (:mod:`failgraph.ingest.decode`)."""
    from ..ingest.decode import decode_bytes, read_stream

    if file == "-":
        return read_stream(sys.stdin)
    path = Path(file)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {file}")
    if path.is_dir():
        raise IsADirectoryError(f"{file} is a directory; give an environment report file or '-' for stdin")
    return decode_bytes(path.read_bytes(), file)


def _past_failures(home: Path | None):
    """Past environments from the graph: the given ``--home`` (which must hold a graph), else $FAILGRAPH_HOME or the
    default home when a graph is built there; None (no links) otherwise."""
    from ..assistant.doctor import past_environments_from_store
    from ..kg.build import open_store
    from ..kg.home import GraphHome, NoGraphError

    if home is None:
        gh = GraphHome(None)
        try:
            gh.current()
        except NoGraphError:
            return None
    else:
        gh = GraphHome(home)
    return past_environments_from_store(open_store(gh))


def _print_report(report) -> None:
    env = report.environment
    read = [f"{n} {v}" for n, v in env.libraries.items()][:12]
    if len(env.libraries) > 12:
        read.append(f"… {len(env.libraries) - 12} more packages")
    read += env.gpus + [f"CUDA {env.cuda}"] * bool(env.cuda) + [f"driver {env.driver}"] * bool(env.driver)
    read += [f"OS {env.os}"] * bool(env.os) + [f"model {m}" for m in env.models[:2]]
    out.print("[dim]read:[/] " + escape(", ".join(read) if read else "no versions, GPUs or platform facts"),
              highlight=False, soft_wrap=True)
    if not report.findings:
        out.print("[green]No known incompatibility found[/] among the compatibility rules for this environment.")
        return
    table = Table(title=f"Environment doctor: {len(report.errors)} error(s), "
                        f"{sum(f.severity == 'warning' for f in report.findings)} warning(s)", show_lines=True)
    table.add_column("severity")
    table.add_column("library")
    table.add_column("problem", ratio=3, overflow="fold")
    table.add_column("fix", ratio=2)
    for f in report.findings:
        problem = [f"[bold]{escape(f.title)}[/]", escape(f.message), f"[dim]matched: {escape('; '.join(f.facts))}[/]",
                   f"[dim]rule {escape(f.rule)} · evidence: {escape(' '.join(f.evidence[:2]))}"
                   + (f" (+{len(f.evidence) - 2})" if len(f.evidence) > 2 else "") + "[/]"]
        if f.past_failures:
            problem.append("[dim]past failures with this combination: " + escape(" ".join(f.past_failures)) + "[/]")
        table.add_row(f"[{SEVERITY_STYLE[f.severity]}]{f.severity}[/]", escape(f.library or "platform"),
                      "\n".join(problem), escape(f.fix))
    out.print(table)
    if not report.past_failures_searched:
        out.print("[dim]no graph found: build one (failgraph build) or pass --home to list past failures with the same "
                  "combination[/]")


@user_errors
def doctor(file: Annotated[str | None, typer.Argument(help="Environment report: pip freeze / pip list / conda "
                                                         "list / collect_env / transformers env / nvidia-smi output "
                                                         "or prose naming versions; '-' reads standard input.")] = None,
           model: Annotated[str | None, typer.Option("--model", help="Model name, e.g. Qwen2.5-7B-Instruct.")] = None,
           stage: Annotated[str | None, typer.Option("--stage", help="inference or fine-tuning.")] = None,
           framework: Annotated[str | None, typer.Option("--framework", help="What runs the model: vllm, "
                                                            "transformers, ollama, llama.cpp, tgi...")] = None,
           here: Annotated[bool, typer.Option("--here", help="Check this Python environment (installed packages; "
                                              "CUDA and GPUs through torch when importable).")] = False,
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
           home: Annotated[Path | None, typer.Option("--home", help="Graph home for past failures with the same "
                                                        "combination (default: $FAILGRAPH_HOME or the user data dir, "
                                                        "when a graph is built there).")] = None):
    """Check an environment for known-broken library, CUDA, GPU and platform combinations."""
    from ..assistant.doctor import diagnose_environment

    if file is None and not here:
        fail("give an environment report FILE ('-' for stdin) or --here")
    if stage is not None and stage not in ("inference", "fine-tuning"):
        fail(f"unknown stage {stage!r}: use inference or fine-tuning")
    text = _read_input(file) if file is not None else None
    past = _past_failures(home)
    report = diagnose_environment(text, here=here, model=model, stage=stage, framework=framework, past=past)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        _print_report(report)


__all__ = ["doctor"]
