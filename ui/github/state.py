"""What the bot remembers per issue, in the graph home: the id of its comment and whether the issue opted out.

One small JSON file per issue (``<home>/github/issues/<owner>/<name>/<number>.json``), written atomically, so a
crash never leaves a half-written state and issues never contend for one file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ...ingest.files import write_atomic


class IssueState(BaseModel):
    comment_id: int | None = None
    ignored: bool = False
    ignored_by: str | None = None


class StateStore:
    """Per-issue :class:`IssueState` under ``root`` (created on first write)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, repo: str, number: int) -> Path:
        owner, name = repo.lower().split("/", 1)
        if not owner or not name or any(p in ("", ".", "..") for p in (owner, name)):
            raise ValueError(f"not a repository name: {repo!r}")
        return self.root / "issues" / owner / name / f"{int(number)}.json"

    def get(self, repo: str, number: int) -> IssueState:
        try:
            return IssueState.model_validate_json(self._path(repo, number).read_bytes())
        except FileNotFoundError:
            return IssueState()
        except (ValidationError, json.JSONDecodeError, OSError):
            return IssueState()  # unreadable: start afresh (the comment is found again by its marker)

    def put(self, repo: str, number: int, state: IssueState) -> None:
        write_atomic(self._path(repo, number), state.model_dump_json())


__all__ = ["IssueState", "StateStore"]
