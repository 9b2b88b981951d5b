"""Issue threads from the GitHub REST API, stored resumably as :class:`IssueDocument` lines.

Two layers:

- :class:`GitHubClient` — GET with the API's headers, a token from ``$GITHUB_TOKEN`` (sent only to the API host, never
  logged, written or shown: error messages mask it), ``Link``-header pagination, waits for rate limits (through an
  injectable ``sleep``), bounded retries with backoff for 5xx and transport errors, and an on-disk ETag cache (a
  ``304 Not Modified`` reuses the cached body; 304s do not count against an authenticated rate limit).
- :func:`ingest_github` — issues of one repository (all of them, updated since a date, or given numbers) and their
  comments, stored under ``<home>/sources/github/<owner>/<repo>.jsonl`` keyed by issue number, with a state file
  beside it (``<repo>.state.json``: the ``updated_at`` cursor and the numbers done), both written atomically after
  each page (list mode; every :data:`FLUSH_EVERY` issues with ``numbers``) and whenever the ingest stops, error or
  interrupt included, so an interrupted ingest resumes without duplicates and without fetching completed issues
  again.

Everything network-facing takes an ``httpx.Client`` or transport, so tests use ``httpx.MockTransport``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .files import now_iso, write_atomic
from .records import IssueDocument, IssueRef, Provenance
from .sources import github_store_path, read_documents, write_documents

try:  # advisory lock so that two ingests of one repository do not interleave (POSIX only)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
TOKEN_ENV = "GITHUB_TOKEN"
PER_PAGE = 100
#: In ``--issues`` mode, store and state are written after every this many issues (and whenever the run stops);
#: list mode writes them after every page of up to PER_PAGE issues.
FLUSH_EVERY = 25
ACCEPT = "application/vnd.github+json"

log = logging.getLogger(__name__)

_REPO = re.compile(r"^(?:https?://github\.com/)?(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
                   r"(?P<repo>[A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$")
_LINK = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="(?P<rel>[^"]+)"')


class GitHubError(Exception):
    """A GitHub request or ingest failed for good; the message names the URL and never contains the token."""


# --------------------------------------------------------------------------------------------------------------------
# The API's objects, as far as we read them (unknown fields are ignored)


class GitHubLabel(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class GitHubUser(BaseModel):
    model_config = ConfigDict(extra="ignore")
    login: str


class GitHubIssue(BaseModel):
    """An item of ``GET /repos/{owner}/{repo}/issues`` or ``GET /repos/{owner}/{repo}/issues/{number}``."""

    model_config = ConfigDict(extra="ignore")

    number: int = Field(ge=1)
    html_url: str
    title: str
    body: str | None = None
    state: str
    labels: list[GitHubLabel | str] = Field(default_factory=list)
    user: GitHubUser | None = None
    comments: int = Field(default=0, ge=0)
    created_at: str
    updated_at: str
    pull_request: dict[str, Any] | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class GitHubComment(BaseModel):
    """An item of ``GET /repos/{owner}/{repo}/issues/{number}/comments``."""

    model_config = ConfigDict(extra="ignore")

    id: int
    body: str | None = None
    user: GitHubUser | None = None
    created_at: str | None = None


_ISSUE = TypeAdapter(GitHubIssue)
_ISSUES = TypeAdapter(list[GitHubIssue])
_COMMENTS = TypeAdapter(list[GitHubComment])


def _shape_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        loc = list(err["loc"])
        where = (f"item {loc.pop(0)}" if loc and isinstance(loc[0], int) else "")
        field = ".".join(map(str, loc))
        parts.append(": ".join(p for p in (where, field, err["msg"]) if p))
    more = f" (and {e.error_count() - 3} more)" if e.error_count() > 3 else ""
    return "; ".join(parts) + more


def parse_as(adapter: TypeAdapter, data: Any, url: str, what: str):
    """Validate a decoded body against the expected shape, or raise :class:`GitHubError` naming the URL."""
    try:
        return adapter.validate_python(data)
    except ValidationError as e:
        raise GitHubError(f"malformed response from {url}: expected {what}: {_shape_error(e)}") from None


# --------------------------------------------------------------------------------------------------------------------
# ETag cache


class CachedResponse(BaseModel):
    """What the cache keeps per URL: never request headers, so never the token."""

    url: str
    etag: str
    link: str | None = None
    body: str


class ETagCache:
    """ETag and body per URL, one JSON file each under ``root`` (written atomically)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, url: str) -> Path:
        h = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / h[:2] / f"{h}.json"

    def get(self, url: str) -> CachedResponse | None:
        try:
            entry = CachedResponse.model_validate_json(self.path(url).read_bytes())
        except (OSError, ValidationError):
            return None  # missing or damaged: fetch afresh
        return entry if entry.url == url else None

    def put(self, entry: CachedResponse) -> None:
        write_atomic(self.path(entry.url), entry.model_dump_json())


# --------------------------------------------------------------------------------------------------------------------
# The client


class Page(BaseModel):
    """A decoded response body, the ``next`` page URL if any, and whether it came from the cache (304)."""

    url: str
    data: Any
    next_url: str | None = None
    not_modified: bool = False


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header.

    >>> next_link('<https://api.github.com/repositories/1/issues?page=2>; rel="next", '
    ...           '<https://api.github.com/repositories/1/issues?page=5>; rel="last"')
    'https://api.github.com/repositories/1/issues?page=2'
    """
    for m in _LINK.finditer(header or ""):
        if "next" in m["rel"].split():
            return m["url"]
    return None


class GitHubClient:
    """A small, polite client for the read-only REST endpoints failgraph needs.

    Parameters
    ----------
    token:
        Personal access token; ``None`` reads ``$GITHUB_TOKEN``, ``""`` sends none (60 requests an hour).
    http, transport:
        An ``httpx.Client`` to use (left open), or a transport for a client of our own (closed by :meth:`close`).
    cache_dir:
        Directory of the ETag cache; ``None`` disables it.
    sleep, clock:
        ``time.sleep`` and ``time.time`` by default; tests inject fakes.
    max_retries, backoff:
        Retries after a 5xx or transport error, waiting ``backoff * 2**k`` seconds (1, 2, 4, 8 by default).
    max_wait:
        Longest rate-limit wait accepted; a reset further away is an error.
    notify:
        Called with a sentence before each wait (the CLI prints it).
    """

    def __init__(self, *, token: str | None = None, http: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None, base_url: str = API_URL,
                 cache_dir: str | Path | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, max_retries: int = 4, backoff: float = 1.0,
                 max_wait: float = 3900.0, max_rate_limit_waits: int = 10,
                 notify: Callable[[str], None] | None = None, timeout: float = 30.0):
        self._token = os.environ.get(TOKEN_ENV, "") if token is None else token
        self._token = self._token.strip()
        self._own = http is None
        self._http = http or httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url)
        self.cache = ETagCache(cache_dir) if cache_dir is not None else None
        self._sleep, self._clock = sleep, clock
        self.max_retries, self.backoff, self.max_wait = max_retries, backoff, max_wait
        self.max_rate_limit_waits = max_rate_limit_waits
        self._notify = notify
        self.requests = 0
        self.not_modified = 0

    def __repr__(self) -> str:  # never the token
        return f"GitHubClient(base_url={self.base_url!r}, authenticated={self.authenticated})"

    @property
    def authenticated(self) -> bool:
        return bool(self._token)

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------------------------------

    def mask(self, text: str) -> str:
        """``text`` with the token replaced by ``***``."""
        return text.replace(self._token, "***") if self._token else text

    def _error(self, message: str) -> GitHubError:
        return GitHubError(self.mask(message))

    def _headers(self, etag: str | None) -> dict[str, str]:
        h = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION, "User-Agent": "failgraph"}
        if self._token:
            h["Authorization"] = f"Bearer {self._token}"
        if etag:
            h["If-None-Match"] = etag
        return h

    def _say(self, message: str) -> None:
        log.info("%s", message)
        if self._notify:
            self._notify(message)

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The absolute API URL of ``path`` with ``params`` in a stable order."""
        clean = {k: str(v) for k, v in (params or {}).items() if v is not None}
        return str(httpx.URL(self.base_url + "/" + path.lstrip("/"), params=clean))

    def _check_host(self, url: str) -> None:
        u = httpx.URL(url)
        if (u.scheme, u.host, u.port) != (self._base.scheme, self._base.host, self._base.port):
            raise self._error(f"refusing to follow {url}: not on {self.base_url}")

    @staticmethod
    def _message(resp: httpx.Response) -> str:
        """GitHub's ``message`` from an error body, or a short excerpt of the body."""
        try:
            data = resp.json()
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                return data["message"]
        except (ValueError, UnicodeDecodeError):
            pass
        text = resp.text.strip().replace("\n", " ")
        return text[:200]

    def _rate_limit_wait(self, resp: httpx.Response) -> float | None:
        """Seconds to wait when ``resp`` is a rate-limit refusal, else ``None``."""
        if resp.status_code not in (403, 429):
            return None
        h = resp.headers
        if "retry-after" in h:
            try:
                return max(float(h["retry-after"]), 1.0)
            except ValueError:
                return 60.0
        if h.get("x-ratelimit-remaining") == "0":
            try:
                return max(float(h["x-ratelimit-reset"]) - self._clock(), 0.0) + 1.0
            except (KeyError, ValueError):
                return 60.0
        if resp.status_code == 429 or "rate limit" in self._message(resp).lower():
            return 60.0  # a secondary rate limit without headers: GitHub asks for at least a minute
        return None

    def _fail_status(self, url: str, resp: httpx.Response, attempts: int = 1) -> GitHubError:
        code, msg = resp.status_code, self._message(resp)
        hint = {401: "check GITHUB_TOKEN",
                403: "the token may lack access to this repository",
                404: "check OWNER/REPO and the issue number; private repositories need GITHUB_TOKEN",
                410: "issues are disabled or the issue was deleted"}.get(code)
        text = f"GitHub answered HTTP {code} {resp.reason_phrase}".rstrip()
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return self._error(f"{text} for {url}{tries}" + (f": {msg}" if msg else "") + (f" ({hint})" if hint else ""))

    # -- the request -------------------------------------------------------------------------------------------------

    def get(self, url: str) -> Page:
        """GET ``url`` (absolute, on the API host) and decode its JSON body, waiting and retrying as needed."""
        self._check_host(url)
        cached = self.cache.get(url) if self.cache else None
        failures = waits = 0
        while True:
            self.requests += 1
            log.debug("GET %s%s", url, " (conditional)" if cached else "")
            try:
                resp = self._http.get(url, headers=self._headers(cached.etag if cached else None))
            except httpx.TransportError as e:
                failures += 1
                if failures > self.max_retries:
                    raise self._error(f"could not reach {url} after {failures} attempts: "
                                      f"{type(e).__name__}: {e}") from None
                delay = self.backoff * 2 ** (failures - 1)
                self._say(f"{type(e).__name__} on {url}; retrying in {delay:g} s")
                self._sleep(delay)
                continue
            if resp.status_code == 304:
                if cached is None:
                    raise self._error(f"GitHub answered 304 Not Modified for {url} without a cached copy")
                self.not_modified += 1
                return Page(url=url, data=self._decode(url, cached.body.encode("utf-8"), "cached body"),
                            next_url=next_link(cached.link), not_modified=True)
            wait = self._rate_limit_wait(resp)
            if wait is not None:
                waits += 1
                if waits > self.max_rate_limit_waits or wait > self.max_wait:
                    reset = resp.headers.get("x-ratelimit-reset")
                    when = (f"; it resets at {datetime.fromtimestamp(int(reset), UTC).isoformat()}"
                            if reset and reset.isdigit() else "")
                    raise self._error(f"GitHub rate limit exhausted for {url}{when}"
                                      + ("" if self.authenticated else "; set GITHUB_TOKEN for a higher limit"))
                self._say(f"GitHub rate limit reached; waiting {wait:.0f} s")
                self._sleep(wait)
                continue
            if resp.status_code >= 500:
                failures += 1
                if failures > self.max_retries:
                    raise self._fail_status(url, resp, failures)
                delay = self.backoff * 2 ** (failures - 1)
                self._say(f"HTTP {resp.status_code} from {url}; retrying in {delay:g} s")
                self._sleep(delay)
                continue
            if resp.status_code >= 400:
                raise self._fail_status(url, resp)
            if resp.status_code != 200:
                raise self._error(f"unexpected HTTP {resp.status_code} for {url}")
            data = self._decode(url, resp.content, "body")
            link = resp.headers.get("link")
            etag = resp.headers.get("etag")
            if self.cache is not None and etag:
                self.cache.put(CachedResponse(url=url, etag=etag, link=link, body=resp.content.decode("utf-8")))
            nxt = next_link(link)
            if nxt:
                self._check_host(nxt)
            return Page(url=url, data=data, next_url=nxt)

    def _decode(self, url: str, content: bytes, what: str) -> Any:
        try:
            return json.loads(content)
        except UnicodeDecodeError as e:
            raise self._error(f"malformed response from {url}: {what} is not UTF-8 ({e.reason})") from None
        except json.JSONDecodeError as e:
            raise self._error(f"malformed response from {url}: {what} is not valid JSON "
                              f"({e.msg} at line {e.lineno} column {e.colno})") from None

    def pages(self, url: str) -> Iterator[Page]:
        """``url`` and every page after it, following ``Link: rel="next"``."""
        seen = set()
        next_url: str | None = url
        while next_url:
            if next_url in seen:
                raise self._error(f"pagination loops back to {next_url}")
            seen.add(next_url)
            page = self.get(next_url)
            yield page
            next_url = page.next_url

    # -- endpoints ---------------------------------------------------------------------------------------------------

    def issues_url(self, owner: str, repo: str, since: str | None = None) -> str:
        return self.url(f"/repos/{owner}/{repo}/issues", {"state": "all", "per_page": PER_PAGE, "since": since,
                                                          "sort": "updated", "direction": "asc"})

    def issue(self, owner: str, repo: str, number: int) -> tuple[GitHubIssue, bool]:
        """One issue (or pull request) and whether it came from the cache (304)."""
        page = self.get(self.url(f"/repos/{owner}/{repo}/issues/{number}"))
        return parse_as(_ISSUE, page.data, page.url, "an issue object"), page.not_modified

    def comments(self, owner: str, repo: str, number: int) -> list[GitHubComment]:
        """All comments of an issue, oldest first, over as many pages as it takes."""
        out: list[GitHubComment] = []
        for page in self.pages(self.url(f"/repos/{owner}/{repo}/issues/{number}/comments",
                                        {"per_page": PER_PAGE})):
            out.extend(parse_as(_COMMENTS, page.data, page.url, "a list of comments"))
        return out


# --------------------------------------------------------------------------------------------------------------------
# Ingest


class GitHubState(BaseModel):
    """The resume state of one repository's ingest, stored beside its documents."""

    repository: str
    cursor: str | None = Field(default=None, description="updated_at of the last item handled in list mode "
                                                         "(issues come oldest-updated first)")
    mode: Literal["list", "issues"] | None = None
    since: str | None = Field(default=None, description="The --since that the last list run was asked for")
    requested: list[int] | None = Field(default=None, description="The numbers the last --issues run was asked for")
    done: list[int] = Field(default_factory=list, description="Issue numbers handled by the last run")
    complete: bool = True
    updated: str | None = None


class GitHubIngestStats(BaseModel):
    """What one ingest did."""

    repository: str
    path: str
    fetched: int = Field(default=0, description="Issues (not PRs) seen in this run")
    updated: int = Field(default=0, description="Issues stored new or changed")
    unchanged: int = Field(default=0, description="Issues already stored with the same updated_at")
    skipped_prs: int = 0
    resumed: int = Field(default=0, description="Issues done by the interrupted run that this one resumed")
    not_modified: int = Field(default=0, description="Responses answered 304 and served from the ETag cache")
    requests: int = 0
    stored: int = Field(default=0, description="Issues in the store after this run")
    complete: bool = False


def parse_repository(spec: str) -> tuple[str, str]:
    """``OWNER/REPO`` (or a ``https://github.com/OWNER/REPO`` URL) as ``(owner, repo)``.

    >>> parse_repository("vllm-project/vllm")
    ('vllm-project', 'vllm')
    >>> parse_repository("https://github.com/QwenLM/Qwen2.5.git")
    ('QwenLM', 'Qwen2.5')
    """
    m = _REPO.match(spec.strip())
    if not m or m["repo"] in {".", ".."}:
        raise ValueError(f"not a GitHub repository: {spec!r}; expected OWNER/REPO")
    return m["owner"], m["repo"]


def normalise_since(value: str) -> str:
    """An ISO 8601 date or time as GitHub's ``YYYY-MM-DDTHH:MM:SSZ`` (UTC; a naive time is taken as UTC).

    >>> normalise_since("2024-05-01")
    '2024-05-01T00:00:00Z'
    >>> normalise_since("2024-05-01T12:00:00+02:00")
    '2024-05-01T10:00:00Z'
    """
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a date: {value!r}; use YYYY-MM-DD or an ISO 8601 time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()


def issue_document(issue: GitHubIssue, comments: list[GitHubComment], source: str) -> IssueDocument:
    """An :class:`IssueDocument` from an issue and its comments."""
    try:
        ref = IssueRef.from_url(issue.html_url, status=issue.state if issue.state in ("open", "closed") else None)
    except ValueError as e:
        raise GitHubError(f"issue #{issue.number} of {source}: {e}") from None
    labels = [label if isinstance(label, str) else label.name for label in issue.labels]
    return IssueDocument(issue=ref, title=issue.title.strip(), body=_clean(issue.body),
                         comments=[c for c in (_clean(x.body) for x in comments) if c], labels=labels,
                         created_at=issue.created_at, updated_at=issue.updated_at,
                         provenance=Provenance(source=source, kind="github"))


def state_path(store: Path) -> Path:
    return store.with_name(store.name.removesuffix(".jsonl") + ".state.json")


def github_cache_dir(home_root: str | Path) -> Path:
    """Where the ETag cache of a home lives."""
    return Path(home_root) / "cache" / "github"


@contextlib.contextmanager
def _locked(store: Path, repository: str) -> Iterator[None]:
    store.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(store.with_name(f".{store.stem}.lock"), "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise GitHubError(f"another ingest of {repository} is running (lock on {fh.name})") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _shift(ts: str, seconds: int) -> str:
    dt = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(seconds=seconds)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def ingest_github(repository: str, home_root: str | Path, *, client: GitHubClient, since: str | None = None,
                  numbers: list[int] | None = None, max_issues: int | None = None,
                  progress: Callable[[GitHubIngestStats], None] | None = None) -> GitHubIngestStats:
    """Fetch issues and their comments into ``<home_root>/sources/github/<owner>/<repo>.jsonl``.

    List mode (``numbers`` is ``None``) pages through ``/issues?state=all&sort=updated&direction=asc``, from
    ``since`` if given, else from the stored cursor (one second early, as ``since`` is a timestamp, and issues
    already stored with the same ``updated_at`` are skipped without fetching their comments). An interrupted list
    run asked for the same ``since`` resumes from its cursor. ``numbers`` mode fetches those issues only; an
    interrupted run asked for the same numbers skips those it finished. Pull requests are skipped. Documents and
    state are written atomically after each page (list) or every :data:`FLUSH_EVERY` issues (numbers) and whenever
    the run stops, so completed issues are never fetched twice.
    """
    owner, repo = parse_repository(repository)
    if numbers is not None and not numbers:
        raise ValueError("no issue numbers given")
    if numbers is not None and any(n < 1 for n in numbers):
        raise ValueError("issue numbers must be positive")
    since = normalise_since(since) if since else None
    source = f"github/{owner}/{repo}"
    store = github_store_path(home_root, owner, repo)
    spath = state_path(store)
    stats = GitHubIngestStats(repository=f"{owner}/{repo}", path=str(store))
    requests0, not_modified0 = client.requests, client.not_modified

    with _locked(store, f"{owner}/{repo}"):
        docs: dict[int, IssueDocument] = {}
        if store.exists():
            for d in read_documents(store):
                docs[d.issue.number] = d
        try:
            state = GitHubState.model_validate_json(spath.read_bytes()) if spath.exists() else None
        except ValidationError:
            state = None  # a damaged state costs a full pass, never wrong data
        state = state or GitHubState(repository=f"{owner}/{repo}")
        if not docs:
            state.cursor = None  # documents gone: the cursor means nothing

        dirty = False

        def flush() -> None:
            nonlocal dirty
            if not docs and not store.exists() and state.cursor is None and not state.done:
                return  # nothing happened (e.g. the repository does not exist): leave no files behind
            if dirty or not store.exists():
                write_documents(store, [docs[n] for n in sorted(docs)])
                dirty = False
            state.updated = now_iso()
            write_atomic(spath, state.model_dump_json(indent=1) + "\n")

        def report() -> None:
            stats.requests = client.requests - requests0
            stats.not_modified = client.not_modified - not_modified0
            stats.stored = len(docs)
            if progress:
                progress(stats)

        def handle(item: GitHubIssue) -> None:
            """Store one listed or fetched issue (comments only when it changed), or count a skipped PR."""
            nonlocal dirty
            if item.is_pull_request:
                stats.skipped_prs += 1
                return
            stats.fetched += 1
            before = docs.get(item.number)
            if before is not None and before.updated_at == item.updated_at:
                stats.unchanged += 1
                return
            comments = client.comments(owner, repo, item.number) if item.comments else []
            doc = issue_document(item, comments, source)
            if doc == before:
                stats.unchanged += 1
                return
            stats.updated += 1
            docs[item.number] = doc
            dirty = True

        try:
            if numbers is None:
                resuming = state.mode == "list" and not state.complete and state.since == since
                start = since
                if resuming and state.cursor:
                    start = max(state.cursor, since) if since else state.cursor
                elif since is None and state.cursor:
                    start = state.cursor
                done = set(state.done) if resuming else set()
                state.mode, state.since, state.requested, state.complete = "list", since, None, False
                state.done = sorted(done)
                request_since = _shift(start, -1) if start and start == state.cursor else start
                stopped = False
                for page in client.pages(client.issues_url(owner, repo, request_since)):
                    for item in parse_as(_ISSUES, page.data, page.url, "a list of issues"):
                        handle(item)
                        if not item.is_pull_request and item.number not in done:
                            done.add(item.number)
                            state.done.append(item.number)
                        if state.cursor is None or item.updated_at > state.cursor:
                            state.cursor = item.updated_at
                        report()
                        if max_issues is not None and stats.fetched >= max_issues:
                            stopped = True
                            break
                    flush()
                    if stopped:
                        break
                state.complete = not stopped
            else:
                wanted = sorted(set(numbers))
                resuming = state.mode == "issues" and not state.complete and state.requested == wanted
                done = set(state.done) if resuming else set()
                state.mode, state.requested, state.complete = "issues", wanted, False
                state.done = sorted(done)
                handled = 0
                for n in wanted:
                    if n in done:
                        stats.resumed += 1
                        report()
                        continue
                    if max_issues is not None and handled >= max_issues:
                        break
                    handled += 1
                    item, _ = client.issue(owner, repo, n)
                    handle(item)
                    state.done.append(n)
                    report()
                    if handled % FLUSH_EVERY == 0:
                        flush()
                else:
                    state.complete = True
        finally:
            flush()  # whatever was completed survives an error or an interrupt
            report()
    stats.complete = state.complete
    return stats


__all__ = [
    "API_URL",
    "API_VERSION",
    "TOKEN_ENV",
    "CachedResponse",
    "ETagCache",
    "GitHubClient",
    "GitHubComment",
    "GitHubError",
    "GitHubIngestStats",
    "GitHubIssue",
    "GitHubState",
    "Page",
    "github_cache_dir",
    "ingest_github",
    "issue_document",
    "next_link",
    "normalise_since",
    "parse_as",
    "parse_repository",
    "state_path",
]
