"""``failgraph github``: the GitHub bot without a server (the entry of the GitHub Action, ``action.yml``).

Registered on the main CLI by ``ui/cli.py``; the webhook service is ``failgraph serve`` with
``FAILGRAPH_GITHUB_WEBHOOK_SECRET`` set (see docs/github-bot.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .console import HomeOpt, out
from .console import user_errors as _user_errors

if TYPE_CHECKING:  # the HTTP client loads only when an event is handled
    import httpx

github_app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                         help="The GitHub bot: diagnose an issue and keep one comment on it up to date.")


def http_transport() -> httpx.BaseTransport | None:
    """The transport of the bot's HTTP client (None: the network; tests replace this function with a fake GitHub)."""
    return None


def _errors():
    from ..kg.home import NoGraphError
    from ..kg.store import StoreError
    from .github.action import EventError
    from .github.auth import AuthError
    from .github.client import ApiError
    from .github.config import ConfigError

    return (ConfigError, EventError, AuthError, ApiError, NoGraphError, StoreError, OSError, ValueError)


def handle_event(event_path: Annotated[Path, typer.Option("--event-path", envvar="GITHUB_EVENT_PATH",
                                                          help="The event's JSON payload (in an Action: "
                                                               "$GITHUB_EVENT_PATH).")],
                 event_name: Annotated[str, typer.Option("--event-name", envvar="GITHUB_EVENT_NAME",
                                                         help="issues or issue_comment (in an Action: "
                                                              "$GITHUB_EVENT_NAME).")],
                 home: HomeOpt = None,
                 dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be posted; write nothing "
                                                                         "to GitHub.")] = False):
    """Handle one issues / issue_comment event: diagnose the issue and create or edit the bot's one comment.
    Settings come from FAILGRAPH_GITHUB_* / FAILGRAPH_BOT_* (docs/github-bot.md)."""
    _user_errors(_errors())(_handle)(event_path, event_name, home, dry_run)


def _handle(event_path: Path, event_name: str, home: Path | None, dry_run: bool) -> None:
    from ..assistant.diagnose import diagnose
    from ..assistant.knowledge import KnowledgeBase
    from ..kg.home import GraphHome
    from .github.action import handle_event as run_event
    from .github.action import read_event
    from .github.bot import GitHubBot
    from .github.config import BotConfig
    from .github.events import Ignored

    cfg = BotConfig.from_env()
    if dry_run:
        cfg = cfg.model_copy(update={"dry_run": True})
    payload = read_event(event_path)
    gh = GraphHome(home)
    gh.current()  # no graph: one error line before anything else
    kb: list[KnowledgeBase] = []

    def diagnose_one(req):
        if not kb:
            kb.append(KnowledgeBase.from_home(gh))
        return diagnose(kb[0], req)

    if cfg.auth_mode == "none" and not cfg.dry_run:
        raise ValueError("set FAILGRAPH_GITHUB_TOKEN (in an Action: the workflow's GITHUB_TOKEN), or GitHub App "
                         "credentials, or use --dry-run")
    def learn_one(item):
        from ..kg.learn import learn

        learn(gh, [item], embedder=kb[0].embedder if kb else None)

    bot = GitHubBot.create(cfg, gh.root / "github", diagnose_one, transport=http_transport(), learn=learn_one)
    result = run_event(event_name, payload, bot.handler)
    if isinstance(result, Ignored):
        out.print(f"ignored: {result.reason}", highlight=False, soft_wrap=True)
        return
    if result.action == "learned":
        out.print(f"learned: the thread is a past failure now{f' (label {result.label!r})' if result.label else ''}",
                  highlight=False, soft_wrap=True)
        return
    score = f", score {result.score:.2f}" if result.score is not None else ""
    label = f", label {result.label!r}" if result.label else ""
    cid = f" {result.comment_id}" if result.comment_id else ""
    out.print(f"{result.action}: comment{cid}{score}{label}", highlight=False, soft_wrap=True)


github_app.command("handle-event")(handle_event)

__all__ = ["github_app", "handle_event", "http_transport"]
