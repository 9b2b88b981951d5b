"""The judged check: is failgraph's first suggested fix what resolved real issues of the case base?

``bench/judged/verdicts.jsonl`` holds one verdict per judged answer: the issue (``owner/repo#n``), the set it was
judged on (``opening-post``: the reporter's own first post, kept outside the repository; ``case-report``: the case
base's rewritten report), the first fix failgraph gave (action, target, text), the verdict (``yes`` the fix is what
resolved it, ``partly`` right library or parameter but not the decisive step, ``no``), whether the fix was harmful
(wrong and costly) and a one-line reason. :func:`rates` recomputes the figures per set; :func:`stale_verdicts` lists
the verdicts whose first fix has changed since they were judged (same action and target = still valid), so that only
those need judging again. Re-diagnosing is :func:`rediagnose` (opening posts from a file, case reports from the case
base), each with its own issue left out of retrieval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

SetName = Literal["opening-post", "case-report"]

#: The verdicts shipped with the repository.
DEFAULT_VERDICTS = Path(__file__).resolve().parent / "judged" / "verdicts.jsonl"


def _issue_id(value: str) -> str:
    """``owner/repo#n`` → its canonical key (lower case, repository renames applied)."""
    from ..ingest.records import issue_key

    owner_repo, sep, number = value.strip().rpartition("#")
    if not sep or owner_repo.count("/") != 1 or not number.isdigit():
        raise ValueError(f"not an owner/repo#number issue id: {value[:80]!r}")
    return issue_key(f"https://github.com/{owner_repo}/issues/{number}")


class FirstFix(BaseModel):
    """The first fix of an answer, as judged (or as given now)."""

    action: str
    target: str | None = None
    text: str = ""

    def same_as(self, other: FirstFix | None) -> bool:
        """Same action and target (targets compared case-insensitively); the wording may change freely."""
        return (other is not None and self.action == other.action
                and (self.target or "").casefold() == (other.target or "").casefold())


class Verdict(BaseModel):
    issue: str = Field(description="owner/repo#number of the case-base issue")
    set: SetName
    first_fix: FirstFix
    verdict: Literal["yes", "partly", "no"]
    harmful: bool
    reason: str = Field(min_length=1, max_length=300)

    @field_validator("issue")
    @classmethod
    def _valid_issue(cls, v: str) -> str:
        _issue_id(v)
        return v

    @property
    def key(self) -> str:
        return _issue_id(self.issue)


class SetRates(BaseModel):
    set: SetName
    n: int
    yes: int
    partly: int
    no: int
    harmful: int
    helps: float = Field(description="yes / n")
    helps_or_partly: float = Field(description="(yes + partly) / n")
    harmful_rate: float = Field(description="harmful / n")


class StaleVerdict(BaseModel):
    issue: str
    set: SetName
    judged: FirstFix
    now: FirstFix | None = Field(description="The first fix given now; None when the answer has no fix or failed")


class Post(BaseModel):
    """An opening post as collected (``{"id": "owner/repo#n", "url", "title", "text"}``); never stored in the repo."""

    id: str
    url: str
    title: str = ""
    text: str = Field(min_length=1)


def _read_jsonl(path: Path, model):
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(model.model_validate_json(line))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "line"
            raise ValueError(f"{path}:{n}: {where}: {first['msg']}") from None
    return items


def load_verdicts(path: Path | None = None) -> list[Verdict]:
    """The verdicts of a JSONL file (the shipped ones by default); a bad line raises ``ValueError`` naming it."""
    verdicts = _read_jsonl(Path(path) if path else DEFAULT_VERDICTS, Verdict)
    seen: set[tuple[str, str]] = set()
    for v in verdicts:
        if (v.set, v.key) in seen:
            raise ValueError(f"{path or DEFAULT_VERDICTS}: {v.issue} is judged twice in set {v.set}")
        seen.add((v.set, v.key))
    return verdicts


def load_posts(path: Path) -> list[Post]:
    return _read_jsonl(Path(path), Post)


def rates(verdicts: Iterable[Verdict]) -> list[SetRates]:
    """Per set: how many verdicts, how many yes / partly / no / harmful, and the rates over n."""
    by_set: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_set.setdefault(v.set, []).append(v)
    out = []
    for name in sorted(by_set, reverse=True):  # opening-post first
        vs = by_set[name]
        n = len(vs)
        yes = sum(v.verdict == "yes" for v in vs)
        partly = sum(v.verdict == "partly" for v in vs)
        harmful = sum(v.harmful for v in vs)
        out.append(SetRates(set=name, n=n, yes=yes, partly=partly, no=n - yes - partly, harmful=harmful,
                            helps=round(yes / n, 4), helps_or_partly=round((yes + partly) / n, 4),
                            harmful_rate=round(harmful / n, 4)))
    return out


def stale_verdicts(verdicts: Iterable[Verdict],
                   now: Mapping[tuple[str, str], FirstFix | None]) -> list[StaleVerdict]:
    """The verdicts whose first fix changed: ``now`` maps (set, issue key) to the first fix given today.

    Verdicts of issues absent from ``now`` (not re-diagnosed) are not judged stale."""
    stale = []
    for v in verdicts:
        k = (v.set, v.key)
        if k in now and not v.first_fix.same_as(now[k]):
            stale.append(StaleVerdict(issue=v.issue, set=v.set, judged=v.first_fix, now=now[k]))
    return stale


def first_fix(answer: Mapping) -> FirstFix | None:
    """The first ranked fix of a diagnosis (its JSON form), if any."""
    fixes = answer.get("fixes") or []
    if not fixes:
        return None
    f = fixes[0]
    return FirstFix(action=f["action"], target=f.get("target"), text=f.get("text", ""))


def rediagnose(kb, verdicts: Iterable[Verdict], posts: Iterable[Post],
               cases: Iterable | None = None) -> dict[tuple[str, str], FirstFix | None]:
    """Diagnose again what the verdicts judged: the opening posts given, and the case base's reports for the
    ``case-report`` verdicts; each with its own issue (and a post's own URL) left out of retrieval."""
    from ..assistant.diagnose import diagnose
    from ..assistant.models import ReportRequest
    from ..ingest.cases import load_cases
    from ..ingest.records import issue_key

    wanted = {(v.set, v.key) for v in verdicts}
    case_of = {issue_key(c.source_url): c for c in (cases if cases is not None else load_cases().cases)}
    todo: list[tuple[tuple[str, str], ReportRequest]] = []
    for p in posts:
        k = ("opening-post", _issue_id(p.id))
        if k in wanted:
            urls = [p.url] + ([case_of[k[1]].source_url] if k[1] in case_of else [])
            todo.append((k, ReportRequest(text=p.text, title=p.title or None, exclude_urls=urls)))
    for s, key in sorted(wanted):
        if s == "case-report" and key in case_of:
            c = case_of[key]
            todo.append(((s, key), ReportRequest(text=c.report, title=c.title, exclude_urls=[c.source_url])))
    return {k: first_fix(diagnose(kb, req).model_dump(mode="json")) for k, req in todo}


def dump_jsonl(items: Iterable[BaseModel]) -> str:
    return "".join(json.dumps(i.model_dump(mode="json"), ensure_ascii=False) + "\n" for i in items)


__all__ = ["DEFAULT_VERDICTS", "FirstFix", "Post", "SetRates", "StaleVerdict", "Verdict", "dump_jsonl", "first_fix",
           "load_posts", "load_verdicts", "rates", "rediagnose", "stale_verdicts"]
