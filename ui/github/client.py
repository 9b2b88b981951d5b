"""The REST calls the bot makes, and nothing else: list, create, edit and delete issue comments, add labels.

Failures are typed so the worker can decide: :class:`RateLimited` (403/429 with ``Retry-After`` or an exhausted
``X-RateLimit-Remaining``: try the job again later), :class:`Unavailable` (5xx or a transport error that persisted
through a few quick retries with backoff: try again later), :class:`ApiError` (any other 4xx: log it once, give up).
No message carries a token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from .auth import BASE_HEADERS, AppAuth, AuthError, TokenAuth
from .events import Comment

log = logging.getLogger("failgraph.github")
PER_PAGE = 100
MAX_PAGES = 30  # 3,000 comments: enough for any issue the bot is useful on


class ApiError(Exception):
    """GitHub refused the request for good (4xx other than rate limits)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class RateLimited(ApiError):
    """Rate limited: ``retry_after`` seconds until GitHub accepts requests again."""

    def __init__(self, message: str, retry_after: float, status: int):
        super().__init__(message, status)
        self.retry_after = retry_after


class Unavailable(ApiError):
    """GitHub answered 5xx (or could not be reached) several times in a row."""

    def __init__(self, message: str, retry_after: float, status: int = 0):
        super().__init__(message, status)
        self.retry_after = retry_after


class PostedComment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int


_COMMENTS = TypeAdapter(list[Comment])


def retry_after(resp: httpx.Response, now: float) -> float | None:
    """Seconds to wait when ``resp`` is a rate-limit refusal (403/429), else None.

    >>> retry_after(httpx.Response(429, headers={"Retry-After": "7"}), 0)
    7.0
    >>> retry_after(httpx.Response(403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "130"}), 100)
    31.0
    >>> retry_after(httpx.Response(403), 0) is None
    True
    """
    if resp.status_code not in (403, 429):
        return None
    h = resp.headers
    if "retry-after" in h:
        try:
            return max(float(h["retry-after"]), 0.0)
        except ValueError:
            return 60.0
    if h.get("x-ratelimit-remaining") == "0":
        try:
            return max(float(h["x-ratelimit-reset"]) - now, 0.0) + 1.0
        except (KeyError, ValueError):
            return 60.0
    return 60.0 if resp.status_code == 429 else None


class GitHubApi:
    """The bot's REST client on ``api_url`` with ``auth``'s credentials."""

    def __init__(self, api_url: str, auth: TokenAuth | AppAuth, http: httpx.Client, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 max_retries: int = 3, backoff: float = 0.5):
        self.api_url = api_url.rstrip("/")
        self._base = httpx.URL(self.api_url)
        self.auth = auth
        self._http = http
        self._sleep, self._clock = sleep, clock
        self.max_retries, self.backoff = max_retries, backoff
        self.writes = 0  # POST/PATCH/DELETE requests that succeeded

    def __repr__(self) -> str:
        return f"GitHubApi(api_url={self.api_url!r}, auth={self.auth!r})"

    def _path(self, repo: str, tail: str) -> str:
        return f"{self.api_url}/repos/{repo}/{tail}"

    def request(self, method: str, url: str, installation_id: int | None, json: object = None) -> httpx.Response:
        """One call, retried on 5xx and transport errors with backoff; raises the errors of this module."""
        u = httpx.URL(url)
        if (u.scheme, u.host, u.port) != (self._base.scheme, self._base.host, self._base.port):
            raise ApiError(f"refusing to call {u.scheme}://{u.host}: not the configured API")
        what = f"{method} {u.path}"
        refreshed = False
        for attempt in range(self.max_retries + 1):
            try:
                headers = {**BASE_HEADERS, **self.auth.headers(installation_id)}
                resp = self._http.request(method, url, headers=headers, json=json)
            except AuthError as e:
                raise Unavailable(str(e), retry_after=60.0) from None
            except httpx.HTTPError as e:
                status, reason = 0, type(e).__name__
            else:
                if resp.status_code < 400:
                    if method != "GET":
                        self.writes += 1
                    return resp
                wait = retry_after(resp, self._clock())
                if wait is not None:
                    raise RateLimited(f"{what}: rate limited (HTTP {resp.status_code}); retry in {wait:.0f} s",
                                      wait, resp.status_code)
                if resp.status_code == 401 and isinstance(self.auth, AppAuth) and not refreshed:
                    self.auth.invalidate(installation_id)  # an installation token revoked early: fetch a new one
                    refreshed = True
                    continue
                if resp.status_code < 500:
                    raise ApiError(f"{what}: HTTP {resp.status_code} {_message(resp)}".rstrip(), resp.status_code)
                status, reason = resp.status_code, f"HTTP {resp.status_code}"
            if attempt < self.max_retries:
                self._sleep(self.backoff * 2 ** attempt)
        raise Unavailable(f"{what}: {reason} after {self.max_retries + 1} attempts",
                          retry_after=self.backoff * 2 ** (self.max_retries + 1), status=status)

    # -- the calls --------------------------------------------------------------------------------------------------

    def list_comments(self, repo: str, number: int, installation_id: int | None = None) -> list[Comment]:
        """All comments of an issue (``Link`` pagination, on the API host only)."""
        url: str | None = f"{self._path(repo, f'issues/{number}/comments')}?per_page={PER_PAGE}"
        out: list[Comment] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            resp = self.request("GET", url, installation_id)
            try:
                out.extend(_COMMENTS.validate_json(resp.content))
            except ValidationError:
                raise ApiError(f"GET {httpx.URL(url).path}: not a list of comments") from None
            url = resp.links.get("next", {}).get("url")
        return out

    def create_comment(self, repo: str, number: int, body: str, installation_id: int | None = None) -> int:
        resp = self.request("POST", self._path(repo, f"issues/{number}/comments"), installation_id, {"body": body})
        return PostedComment.model_validate_json(resp.content).id

    def update_comment(self, repo: str, comment_id: int, body: str, installation_id: int | None = None) -> None:
        self.request("PATCH", self._path(repo, f"issues/comments/{comment_id}"), installation_id, {"body": body})

    def delete_comment(self, repo: str, comment_id: int, installation_id: int | None = None) -> None:
        try:
            self.request("DELETE", self._path(repo, f"issues/comments/{comment_id}"), installation_id)
        except ApiError as e:
            if e.status != 404:  # already gone
                raise

    def add_labels(self, repo: str, number: int, labels: list[str], installation_id: int | None = None) -> None:
        self.request("POST", self._path(repo, f"issues/{number}/labels"), installation_id, {"labels": labels})


def _message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return ""
    msg = data.get("message") if isinstance(data, dict) else None
    return f"({msg[:120]})" if isinstance(msg, str) else ""


__all__ = ["ApiError", "GitHubApi", "RateLimited", "Unavailable", "retry_after"]
