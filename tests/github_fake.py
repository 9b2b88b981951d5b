"""What the GitHub bot's tests share: a fake GitHub REST API (an ``httpx.MockTransport`` handler with comments,
labels, App installation tokens, pagination, and scripted failures), webhook payloads in GitHub's documented shapes,
signed deliveries, and a stand-in diagnosis (no model to load) built from the real taxonomy."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime

import httpx

from failgraph.assistant.models import CauseAnswer, Diagnosis, Question, RankedFix, SimilarFailure
from failgraph.ontology import load_taxonomy
from failgraph.ontology.taxonomy import Level
from failgraph.ui.github.config import BotConfig
from failgraph.ui.github.signature import sign

SECRET = "wh-s3cret-value"
TOKEN = "ghp_faketoken0123456789"
BOT_LOGIN = "failgraph-bot"


def make_cfg(**kw) -> BotConfig:
    """The bot's settings for the tests: token mode against the fake, threshold 0.5; ``kw`` overrides fields."""
    env = {"FAILGRAPH_GITHUB_WEBHOOK_SECRET": SECRET, "FAILGRAPH_GITHUB_TOKEN": TOKEN,
           "FAILGRAPH_GITHUB_BOT_LOGIN": BOT_LOGIN, "FAILGRAPH_BOT_MIN_SCORE": "0.5"}
    return BotConfig.from_env(env).model_copy(update=kw)


class FakeGitHub:
    """An in-memory GitHub: issue comments, labels, and (App mode) installation tokens checked against a JWT.

    ``fail(method, path_regex, response, times)`` makes the next ``times`` matching requests answer ``response``.
    Comments created carry ``user`` = ``bot_user``. Thread-safe: the bot's worker and the test share it.
    """

    def __init__(self, *, token: str = TOKEN, bot_user: dict | None = None, public_key: str | None = None,
                 app_id: int | None = None, token_ttl_s: float = 3600.0, per_page_max: int = 100,
                 delay_s: float = 0.0):
        self.token = token
        self.bot_user = bot_user or {"login": BOT_LOGIN, "type": "User"}
        self.public_key, self.app_id, self.token_ttl_s = public_key, app_id, token_ttl_s
        self.per_page_max = per_page_max
        self.delay_s = delay_s
        self.comments: dict[tuple[str, int], list[dict]] = {}
        self.labels: dict[tuple[str, int], list[str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.created_at: dict[tuple[str, int], float] = {}
        self.issued: dict[str, float] = {}  # installation token -> expiry (epoch)
        self.jwts: list[dict] = []
        self._ids = itertools.count(1000)
        self._tokens = itertools.count(1)
        self._failures: list[list] = []
        self._lock = threading.Lock()

    # -- test controls ------------------------------------------------------------------------------------------------

    def fail(self, method: str, path: str, response: httpx.Response, times: int = 1) -> None:
        with self._lock:
            self._failures.append([method, re.compile(path), response, times])

    def add_comment(self, repo: str, number: int, body: str, login: str, *, type_: str = "User",
                    association: str = "NONE") -> dict:
        with self._lock:
            c = {"id": next(self._ids), "body": body, "user": {"login": login, "type": type_},
                 "author_association": association}
            self.comments.setdefault((repo, number), []).append(c)
            return c

    def bot_comments(self, repo: str, number: int) -> list[dict]:
        with self._lock:
            return [c for c in self.comments.get((repo, number), []) if c["user"] == self.bot_user]

    def count(self, method: str, pattern: str = "") -> int:
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and re.search(pattern, p))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # -- the API ------------------------------------------------------------------------------------------------------

    def _authorized(self, request: httpx.Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return False
        tok = auth[len("Bearer "):]
        if self.app_id is None:
            return tok == self.token
        return tok in self.issued and self.issued[tok] > time.time()

    def _exchange(self, request: httpx.Request, installation: int) -> httpx.Response:
        import jwt

        raw = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(raw, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError as e:
            return httpx.Response(401, json={"message": f"bad JWT: {type(e).__name__}"})
        if claims.get("iss") != str(self.app_id) or claims["exp"] - claims["iat"] > 660:
            return httpx.Response(401, json={"message": "bad JWT claims"})
        self.jwts.append(claims)
        tok = f"ghs_inst{installation}_{next(self._tokens)}"
        expires = time.time() + self.token_ttl_s
        self.issued[tok] = expires
        return httpx.Response(201, json={"token": tok, "expires_at": datetime.fromtimestamp(expires, UTC)
                                         .strftime("%Y-%m-%dT%H:%M:%SZ")})

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.delay_s:
            time.sleep(self.delay_s)
        method, path = request.method, request.url.path
        with self._lock:
            self.requests.append((method, path))
            for f in self._failures:
                if f[3] > 0 and f[0] == method and f[1].search(path):
                    f[3] -= 1
                    return f[2]
            m = re.fullmatch(r"/app/installations/(\d+)/access_tokens", path)
            if m and method == "POST":
                return self._exchange(request, int(m[1]))
            if not self._authorized(request):
                return httpx.Response(401, json={"message": "Bad credentials"})
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/(\d+)/(comments|labels)", path)
            if m:
                key = (m[1], int(m[2]))
                if m[3] == "labels" and method == "POST":
                    have = self.labels.setdefault(key, [])
                    have.extend(x for x in json.loads(request.content)["labels"] if x not in have)
                    return httpx.Response(200, json=[{"name": x} for x in have])
                if method == "GET":
                    return self._page(request, self.comments.get(key, []))
                if method == "POST":
                    c = {"id": next(self._ids), "body": json.loads(request.content)["body"], "user": self.bot_user,
                         "author_association": "NONE"}
                    self.comments.setdefault(key, []).append(c)
                    self.created_at.setdefault(key, time.monotonic())
                    return httpx.Response(201, json=c)
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)", path)
            if m:
                for key, cs in self.comments.items():
                    for c in cs:
                        if key[0] == m[1] and c["id"] == int(m[2]):
                            if method == "PATCH":
                                c["body"] = json.loads(request.content)["body"]
                                return httpx.Response(200, json=c)
                            if method == "DELETE":
                                cs.remove(c)
                                return httpx.Response(204)
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(404, json={"message": "Not Found"})

    def _page(self, request: httpx.Request, items: list[dict]) -> httpx.Response:
        per = min(int(request.url.params.get("per_page", "30")), self.per_page_max)
        page = int(request.url.params.get("page", "1"))
        chunk = items[(page - 1) * per: page * per]
        headers = {}
        if page * per < len(items):
            nxt = request.url.copy_set_param("page", str(page + 1))
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)


# ---------------------------------------------------------------------------------------------- payloads
def _user(login: str, type_: str = "User") -> dict:
    return {"login": login, "id": abs(hash(login)) % 10**7, "node_id": "U_x", "type": type_, "site_admin": False,
            "html_url": f"https://github.com/{login}"}


def issue_payload(action: str = "opened", number: int = 1, *, title: str = "Model fails", body: str = "it fails",
                  login: str = "alice", user_type: str = "User", repo: str = "acme/llm", locked: bool = False,
                  pull_request: bool = False, labels: tuple[str, ...] = (), state: str = "open",
                  installation: int | None = None, state_reason: str | None = None,
                  sender: str | None = None) -> dict:
    """An ``issues`` event payload in the shape GitHub documents (the fields the bot reads, and some it does not)."""
    owner, name = repo.split("/")
    issue = {"url": f"https://api.github.com/repos/{repo}/issues/{number}",
             "html_url": f"https://github.com/{repo}/issues/{number}", "id": 10_000 + number, "node_id": "I_x",
             "number": number, "title": title, "body": body, "user": _user(login, user_type), "state": state,
             "locked": locked, "labels": [{"id": i, "name": n, "color": "ededed"} for i, n in enumerate(labels)],
             "comments": 0, "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
             "author_association": "NONE", "assignees": [], "milestone": None, "state_reason": state_reason}
    if pull_request:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{repo}/pulls/{number}",
                                 "html_url": f"https://github.com/{repo}/pull/{number}"}
    payload = {"action": action, "issue": issue,
               "repository": {"id": 42, "name": name, "full_name": repo, "private": False,
                              "owner": _user(owner, "Organization"), "html_url": f"https://github.com/{repo}"},
               "sender": _user(sender or login, user_type)}
    if action == "edited":
        payload["changes"] = {"body": {"from": "old body"}}
    if installation is not None:
        payload["installation"] = {"id": installation, "node_id": "IN_x"}
    return payload


def comment_payload(body: str, number: int = 1, *, login: str = "alice", association: str = "NONE",
                    user_type: str = "User", issue_author: str = "alice", repo: str = "acme/llm",
                    issue_body: str = "it fails", title: str = "Model fails", installation: int | None = None) -> dict:
    """An ``issue_comment`` (created) payload."""
    p = issue_payload("created", number, title=title, body=issue_body, login=issue_author, repo=repo,
                      installation=installation)
    p["comment"] = {"id": 777_000 + number, "node_id": "IC_x", "body": body, "user": _user(login, user_type),
                    "author_association": association, "created_at": "2026-12-01T11:00:00Z",
                    "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-1"}
    p["sender"] = _user(login, user_type)
    return p


def delivery(payload: dict, event: str = "issues", delivery_id: str | None = None, secret: str = SECRET):
    """``(body, headers)`` of a signed webhook delivery."""
    body = json.dumps(payload).encode()
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id or f"d-{time.monotonic_ns()}",
               "X-Hub-Signature-256": sign(secret.encode(), body), "Content-Type": "application/json",
               "User-Agent": "GitHub-Hookshot/abc"}
    return body, headers


# ---------------------------------------------------------------------------------------------- a stand-in diagnosis
def taxonomy_cause(i: int = 0) -> tuple[str, str, str]:
    """(leaf, group, category) labels of the ``i``-th released root-cause leaf of the real taxonomy."""
    t = load_taxonomy()
    leaf = t.leaves("root_cause")[i]
    group = t.at_level(leaf, Level.group)
    return leaf.label, group.label if group else "", t.category_of(leaf).label


def fake_diagnosis(score: float, *, fixes: list[RankedFix] | None = None, questions: list[Question] | None = None,
                   cause_fixes: tuple[str, ...] = ("Upgrade the library.", "Pin the older version."),
                   similar: list[SimilarFailure] | None = None) -> Diagnosis:
    leaf, group, category = taxonomy_cause()
    cause = CauseAnswer(label=leaf, score=score, category=category, group=group, fixes=list(cause_fixes), path=[])
    return Diagnosis(symptoms=[], root_causes=[cause], fixes=fixes or [], questions=questions or [],
                     similar=similar if similar is not None else [
                         SimilarFailure(url="https://github.com/meta-llama/llama/issues/136", score=0.71,
                                        labels=[leaf], title="CUDA out of memory")])


class ScoredByText:
    """Diagnoses by a marker in the text: ``[score=0.9]`` gives that score (default 0.9); counts its calls."""

    def __init__(self, default: float = 0.9):
        self.default = default
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, req) -> Diagnosis:
        with self._lock:
            self.calls += 1
        m = re.search(r"\[score=([0-9.]+)\]", req.report_text)
        return fake_diagnosis(float(m[1]) if m else self.default)


def wait_until(predicate, timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# ---------------------------------------------------------------------------------------------- a flood of deliveries
def flood_deliveries(issues: int, per_issue: int, repo: str = "acme/llm") -> list[tuple[int, str, bytes, dict]]:
    """``issues * per_issue`` signed deliveries: each issue opened, then edited, then ``/failgraph explain``d, with
    distinct delivery ids, as ``(issue number, event, body, headers)``."""
    out = []
    for n in range(1, issues + 1):
        for k in range(per_issue):
            if k == 0:
                payload, event = issue_payload("opened", n, body=f"issue {n} [score=0.9]", repo=repo), "issues"
            elif k % 2:
                payload, event = issue_payload("edited", n, body=f"issue {n} edit {k} [score=0.8]", repo=repo), \
                    "issues"
            else:
                payload, event = comment_payload("/failgraph explain", n, repo=repo,
                                                 issue_body=f"issue {n} [score=0.85]"), "issue_comment"
            body, headers = delivery(payload, event, f"flood-{n}-{k}")
            out.append((n, event, body, headers))
    return out


def send_all(url: str, deliveries, senders: int = 16, timeout: float = 30.0) -> dict:
    """POST the deliveries to ``url`` (loopback) from ``senders`` threads; returns the status counts, the first send
    time of each issue (monotonic) and each POST's latency."""
    from concurrent.futures import ThreadPoolExecutor

    first: dict[int, float] = {}
    lock = threading.Lock()
    local = threading.local()

    def one(item):
        n, _, body, headers = item
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=timeout)
        t0 = time.monotonic()
        with lock:
            first.setdefault(n, t0)
        r = local.client.post(url, content=body, headers=headers)
        return r.status_code, time.monotonic() - t0

    with ThreadPoolExecutor(senders) as pool:
        results = list(pool.map(one, deliveries))
    statuses: dict[int, int] = {}
    for code, _ in results:
        statuses[code] = statuses.get(code, 0) + 1
    return {"statuses": statuses, "first_sent": first, "latencies": [t for _, t in results]}
