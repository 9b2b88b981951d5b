"""One job end to end: diagnose the issue, find the bot's comment (by the id it remembers, else by the hidden marker
on a comment of its own), create it or edit it in place, add the taxonomy label; for ``/failgraph ignore``, delete
the comment and remember the opt-out; for a maintainer's cause (a closed issue's taxonomy label, ``/failgraph
cause``), learn the thread as a labeled past failure.

API errors propagate (the worker retries rate limits and outages later); the same job run twice leaves one comment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel

from ...assistant.models import Diagnosis, ReportRequest
from ...ingest.files import now_iso
from ...ingest.learned import LearnedFailure
from .client import GitHubApi
from .comment import MARKER, render
from .config import BotConfig
from .events import COMMAND, MAINTAINERS, Comment, Job
from .state import IssueState, StateStore

log = logging.getLogger("failgraph.github")
LOCK_STRIPES = 64


class Outcome(BaseModel):
    """What a job did."""

    action: Literal["created", "updated", "unchanged", "deleted", "silent", "opted-out", "dry-run", "learned"]
    comment_id: int | None = None
    label: str | None = None
    score: float | None = None


def report_of(job: Job) -> ReportRequest:
    """The issue as a report: its title and body (the title alone when the body is empty)."""
    title = job.title.strip()
    body = job.body.strip()
    if body:
        return ReportRequest(text=body, title=title[:1000] or None)
    return ReportRequest(text=title or "(empty issue)")


class Handler:
    """Runs jobs against GitHub (``api``; None only in dry-run) with ``diagnose`` and the per-issue ``state``."""

    def __init__(self, cfg: BotConfig, api: GitHubApi | None, state: StateStore,
                 diagnose: Callable[[ReportRequest], Diagnosis],
                 learn: Callable[[LearnedFailure], None] | None = None):
        """``learn``: adds a labeled thread to the knowledge base (None: the bot does not learn)."""
        if api is None and not cfg.dry_run:
            raise ValueError("the bot needs GitHub credentials unless it runs dry")
        self.cfg, self.api, self.state, self._diagnose = cfg, api, state, diagnose
        self.learn = learn
        self._locks = [threading.Lock() for _ in range(LOCK_STRIPES)]  # one job per issue at a time

    def handle(self, job: Job) -> Outcome:
        with self._locks[hash(job.key) % LOCK_STRIPES]:
            if job.kind == "ignore":
                return self._ignore(job)
            if job.kind == "learn":
                return self._learn(job)
            return self._update(job)

    # -- helpers ------------------------------------------------------------------------------------------------------

    def _own(self, c: Comment, remembered: int | None) -> bool:
        if remembered is not None and c.id == remembered:
            return True
        by_bot = c.user.is_bot or (self.cfg.bot_login is not None
                                   and c.user.login.lower() == self.cfg.bot_login.lower())
        return by_bot and (c.body or "").lstrip().startswith(MARKER)

    def _find(self, comments: list[Comment], st: IssueState) -> Comment | None:
        mine = [c for c in comments if self._own(c, st.comment_id)]
        return mine[0] if mine else None

    @staticmethod
    def _opted_out(comments: list[Comment], author: str) -> str | None:
        """Who asked ``/failgraph ignore`` in the thread (the author or a maintainer), if anyone did."""
        for c in comments:
            m = COMMAND.match(c.body or "")
            if m and m["verb"].lower() == "ignore" and not c.user.is_bot and (
                    c.user.login.lower() == author.lower() or c.author_association in MAINTAINERS):
                return c.user.login
        return None

    def _comments(self, job: Job) -> list[Comment]:
        return self.api.list_comments(job.repo, job.number, job.installation_id) if self.api else []

    # -- the two kinds of work ------------------------------------------------------------------------------------

    def _ignore(self, job: Job) -> Outcome:
        st = self.state.get(job.repo, job.number)
        if self.cfg.dry_run:
            log.info("dry run: would delete the comment on %s and stop commenting there", job.key)
            return Outcome(action="dry-run")
        mine = self._find(self._comments(job), st)
        if mine is not None:
            self.api.delete_comment(job.repo, mine.id, job.installation_id)
        self.state.put(job.repo, job.number, IssueState(ignored=True, ignored_by=job.requested_by))
        log.info("%s opted out (asked by %s)", job.key, job.requested_by)
        return Outcome(action="deleted" if mine else "opted-out", comment_id=mine.id if mine else None)

    def learned_failure(self, job: Job, comments: list[Comment]) -> LearnedFailure:
        """The thread as a labeled past failure: the body and the people's comments (not the bot's own, not
        ``/failgraph`` commands), with the cause, the repository and the maintainer who gave it."""
        st = self.state.get(job.repo, job.number)
        said = [c.body.strip() for c in comments if c.body and c.body.strip() and not self._own(c, st.comment_id)
                and not c.user.is_bot and not COMMAND.match(c.body)]
        text = "\n\n".join(p for p in [job.body.strip(), *said] if p) or job.title.strip() or "(empty issue)"
        return LearnedFailure(url=f"https://github.com/{job.repo}/issues/{job.number}", title=job.title.strip(),
                              text=text, root_cause=job.cause, source=f"github/{job.repo}",
                              labeler=job.requested_by, learned_at=now_iso())

    def _learn(self, job: Job) -> Outcome:
        if self.learn is None:
            log.info("%s: %s gave the cause %r, but this bot does not learn", job.key, job.requested_by, job.cause)
            return Outcome(action="silent")
        item = self.learned_failure(job, self._comments(job))
        if self.cfg.dry_run:
            log.info("dry run: would learn %s with the cause %r (from %s)", job.key, job.cause, job.requested_by)
            return Outcome(action="dry-run", label=job.label)
        self.learn(item)
        log.info("learned %s: cause %r, given by %s", job.key, job.cause, job.requested_by)
        return Outcome(action="learned", label=job.label)

    def _update(self, job: Job) -> Outcome:
        st = self.state.get(job.repo, job.number)
        if st.ignored:
            return Outcome(action="opted-out")
        comments = self._comments(job)
        who = self._opted_out(comments, job.author)
        if who is not None:  # an opt-out the state does not know (an Action run, or a lost state): honour it
            self._ignore(job.model_copy(update={"kind": "ignore", "requested_by": who}))
            return Outcome(action="opted-out")
        d = self._diagnose(report_of(job))
        existing = self._find(comments, st)
        out = render(d, self.cfg, force=job.kind == "explain", keep=existing is not None)
        if out.body is None:
            return Outcome(action="silent", score=out.score)
        if self.cfg.dry_run:
            log.info("dry run: would %s the comment on %s (score %.2f, label %s)",
                     "edit" if existing else "post", job.key, out.score, out.label)
            return Outcome(action="dry-run", label=out.label, score=out.score)
        if existing is not None:
            action = "unchanged" if (existing.body or "") == out.body else "updated"
            if action == "updated":
                self.api.update_comment(job.repo, existing.id, out.body, job.installation_id)
            cid = existing.id
        else:
            cid = self.api.create_comment(job.repo, job.number, out.body, job.installation_id)
            action = "created"
        if st.comment_id != cid:
            self.state.put(job.repo, job.number, st.model_copy(update={"comment_id": cid}))
        if out.label:
            self.api.add_labels(job.repo, job.number, [out.label], job.installation_id)
        return Outcome(action=action, comment_id=cid, label=out.label, score=out.score)


__all__ = ["Handler", "Outcome", "report_of"]
