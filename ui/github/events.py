"""Webhook payloads (the fields the bot reads, in GitHub's documented shapes) and which deliveries become jobs.

:func:`route` turns one delivery into a :class:`Job` or an :class:`Ignored` with its reason. Handled: ``issues``
(opened, edited, reopened: diagnose and comment; closed as completed with a taxonomy label naming a root-cause leaf:
learn the thread as a past failure) and ``issue_comment`` (created: the ``/failgraph explain`` and ``/failgraph
ignore`` commands, and a maintainer's ``/failgraph cause <leaf>``, which learns the thread with that cause).
Ignored: pull requests, locked or closed issues, issues and comments by bots, repositories and labels the
configuration excludes.
"""

from __future__ import annotations

import re
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...ingest.learned import resolve_leaf
from .config import BotConfig

#: author_association values of people who may run the bot's commands on any issue
MAINTAINERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
UPDATE_ACTIONS = frozenset({"opened", "edited", "reopened"})
COMMAND = re.compile(r"^\s*/failgraph\s+(?P<verb>explain|ignore|cause)\b[ \t]*(?P<arg>[^\r\n]*)", re.IGNORECASE)


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class User(_Loose):
    login: str
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.lower().endswith("[bot]")


class Label(_Loose):
    name: str


class Issue(_Loose):
    number: int = Field(ge=1)
    title: str = ""
    body: str | None = None
    user: User
    state: str = "open"
    locked: bool = False
    labels: list[Label] = Field(default_factory=list)
    pull_request: dict | None = None
    author_association: str = "NONE"
    state_reason: str | None = None


class Repository(_Loose):
    full_name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


class Comment(_Loose):
    id: int
    body: str | None = None
    user: User
    author_association: str = "NONE"


class Installation(_Loose):
    id: int


class IssuesEvent(_Loose):
    action: str
    issue: Issue
    repository: Repository
    installation: Installation | None = None
    sender: User | None = None


class IssueCommentEvent(IssuesEvent):
    comment: Comment


class Job(BaseModel):
    """One piece of work for the worker (persisted as JSON when the server stops before doing it)."""

    kind: Literal["update", "explain", "ignore", "learn"]
    delivery: str
    repo: str
    number: int
    title: str = ""
    body: str = ""
    author: str = ""
    installation_id: int | None = None
    requested_by: str | None = None
    cause: str | None = None  # learn: the root-cause leaf a maintainer gave
    label: str | None = None  # learn: the taxonomy label it came from (None: a /failgraph cause command)
    attempts: int = 0
    received_at: float = Field(default_factory=time.time)

    @property
    def key(self) -> str:
        """``owner/name#number`` (lower-case owner and name: GitHub's are case-insensitive)."""
        return f"{self.repo.lower()}#{self.number}"


class Ignored(BaseModel):
    """A delivery the bot does nothing for, and why."""

    reason: str


def _issue_filter(ev: IssuesEvent, cfg: BotConfig) -> str | None:
    issue = ev.issue
    if issue.pull_request is not None:
        return "pull request"
    if ev.repository.full_name.lower() in cfg.exclude_repos:
        return "repository excluded by the configuration"
    if any(lab.name.lower() in cfg.exclude_labels for lab in issue.labels):
        return "label excluded by the configuration"
    if issue.locked:
        return "locked issue"
    if issue.user.is_bot:
        return "issue opened by a bot"
    return None


def _job(ev: IssuesEvent, kind: str, delivery: str, by: str | None = None, **extra) -> Job:
    return Job(kind=kind, delivery=delivery, repo=ev.repository.full_name, number=ev.issue.number,
               title=ev.issue.title, body=ev.issue.body or "", author=ev.issue.user.login, requested_by=by,
               installation_id=ev.installation.id if ev.installation else None, **extra)


def taxonomy_leaf(label: str, cfg: BotConfig) -> str | None:
    """The root-cause leaf a taxonomy label (the bot's prefix, then a leaf's label or its part after `` - ``)
    names; None for other labels and for the bot's own category labels."""
    prefix = cfg.label_prefix.strip().lower()
    if not prefix or not label.lower().startswith(prefix):
        return None
    return resolve_leaf("root_cause", label[len(prefix):])


def _learn_on_close(ev: IssuesEvent, delivery: str, cfg: BotConfig) -> Job | Ignored:
    """``issues.closed`` as completed, with a taxonomy label naming a root-cause leaf, closed by a person: learn."""
    if ev.issue.state_reason != "completed":
        return Ignored(reason="closed issue not completed: nothing to learn")
    leaves = {(leaf, lab.name) for lab in ev.issue.labels if (leaf := taxonomy_leaf(lab.name, cfg))}
    if not leaves:
        return Ignored(reason="closed without a taxonomy label naming a root-cause leaf: nothing to learn")
    if len({leaf for leaf, _ in leaves}) > 1:
        return Ignored(reason="closed with taxonomy labels naming different root causes: nothing to learn")
    if ev.sender is None or ev.sender.is_bot:
        return Ignored(reason="closed by a bot: nothing to learn")
    why = _issue_filter(ev, cfg)
    if why:
        return Ignored(reason=why)
    leaf, label = sorted(leaves)[0]
    return _job(ev, "learn", delivery, ev.sender.login, cause=leaf, label=label)


def route(event: str, payload: dict, delivery: str, cfg: BotConfig) -> Job | Ignored:
    """The job for one delivery, or why there is none. Raises ``pydantic.ValidationError`` on a malformed payload of
    an event the bot handles."""
    if event == "issues":
        ev = IssuesEvent.model_validate(payload)
        if ev.action == "closed":  # the bot never comments on closed issues; it may learn from them
            return _learn_on_close(ev, delivery, cfg)
        if ev.action not in UPDATE_ACTIONS:
            return Ignored(reason=f"issues.{ev.action} is not handled")
        if ev.issue.state != "open":
            return Ignored(reason="closed issue")
        why = _issue_filter(ev, cfg)
        return Ignored(reason=why) if why else _job(ev, "update", delivery)
    if event == "issue_comment":
        ev = IssueCommentEvent.model_validate(payload)
        if ev.action != "created":
            return Ignored(reason=f"issue_comment.{ev.action} is not handled")
        if ev.comment.user.is_bot:
            return Ignored(reason="comment by a bot")
        m = COMMAND.match(ev.comment.body or "")
        if not m:
            return Ignored(reason="not a /failgraph command")
        why = _issue_filter(ev, cfg)
        if why:
            return Ignored(reason=why)
        by = ev.comment.user.login
        allowed = (by.lower() == ev.issue.user.login.lower() or ev.comment.author_association in MAINTAINERS)
        verb = m["verb"].lower()
        if verb == "cause":
            if ev.comment.author_association not in MAINTAINERS:
                return Ignored(reason="/failgraph cause is for maintainers")
            leaf = resolve_leaf("root_cause", m["arg"])
            if leaf is None:
                return Ignored(reason="/failgraph cause names no root-cause leaf of the taxonomy")
            return _job(ev, "learn", delivery, by, cause=leaf)
        if not allowed:
            return Ignored(reason=f"/failgraph {verb} is for the issue's author and maintainers")
        if verb == "explain" and ev.issue.state != "open":
            return Ignored(reason="closed issue")
        return _job(ev, verb, delivery, by)
    return Ignored(reason=f"event {event!r} is not handled")


__all__ = ["MAINTAINERS", "Comment", "Ignored", "Issue", "IssueCommentEvent", "IssuesEvent", "Job", "Repository",
           "User", "route", "taxonomy_leaf"]
