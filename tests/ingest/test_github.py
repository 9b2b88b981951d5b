"""GitHub ingestion against recorded responses (tests/fixtures/github), never the network."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from typer.testing import CliRunner

from failgraph.ingest.github import GitHubClient, GitHubError, GitHubState, ingest_github, parse_repository, state_path
from failgraph.ingest.jsonl import ingest_jsonl
from failgraph.ingest.sources import SourceError, github_store_path, list_sources, load_issue_documents, read_documents
from failgraph.ui import cli_ingest
from failgraph.ui.cli_ingest import ingest_app

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "github"
API = "https://api.github.com"
OWNER, REPO, REPO_ID = "acme-ml", "tinyserve", 712345678
TOKEN = "ghp_TESTtoken0123456789abcdefghijklmnopqrstu"
NOW = 1_710_000_000.0


def load(name: str):
    return json.loads((FIX / name).read_text(encoding="utf-8"))


class Boom(Exception):
    """Stands for a crash or Ctrl-C in the middle of an ingest."""


class FakeGitHub:
    """Serves the recorded bodies the way api.github.com does: Link pagination, ETags/304, ``since``, 404.

    ``hooks`` are tried first, in order; a hook returns a response (or raises) to take over a request.
    """

    page_size = 3

    def __init__(self):
        self.pages = [load(f"issues_page_{i}.json") for i in (1, 2, 3)]
        self.items = [x for p in self.pages for x in p]
        self.by_number = {x["number"]: x for x in self.items}
        self.comments = {101: [load("comments_101.json")], 105: [load("comments_105.json")],
                         88: [load("comments_88_page_1.json"), load("comments_88_page_2.json")],
                         111: [load("comments_111.json")]}
        self.requests: list[httpx.Request] = []
        self.hooks: list = []

    # -- plumbing ------------------------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for hook in self.hooks:
            resp = hook(request)
            if resp is not None:
                return resp
        return self.serve(request)

    @staticmethod
    def json_response(status: int, body, headers: dict | None = None, request: httpx.Request | None = None):
        content = json.dumps(body).encode("utf-8")
        etag = 'W/"' + hashlib.sha256(content).hexdigest()[:32] + '"'
        h = {"Content-Type": "application/json; charset=utf-8", "X-RateLimit-Limit": "5000",
             "X-RateLimit-Remaining": "4990", "X-RateLimit-Reset": str(int(NOW) + 3600),
             "X-RateLimit-Resource": "core", "X-GitHub-Api-Version-Selected": "2022-11-28"}
        if status == 200:
            h["ETag"] = etag
            if request is not None and request.headers.get("if-none-match") == etag:
                return httpx.Response(304, headers={k: v for k, v in h.items() if k != "Content-Type"})
        h.update(headers or {})
        return httpx.Response(status, content=content, headers=h)

    def _paged(self, request, pages: list[list], path: str) -> httpx.Response:
        params = dict(request.url.params)
        page = int(params.pop("page", "1"))
        if page > len(pages):
            return self.json_response(200, [], request=request)
        links = []

        def link(n, rel):
            links.append(f'<{API}{path}?{urlencode({**params, "page": n})}>; rel="{rel}"')

        if page > 1:
            link(page - 1, "prev")
        if page < len(pages):
            link(page + 1, "next")
            link(len(pages), "last")
        if page > 1:
            link(1, "first")
        headers = {"Link": ", ".join(links)} if links else {}
        return self.json_response(200, pages[page - 1], headers, request)

    def serve(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.replace(f"/repositories/{REPO_ID}/", f"/repos/{OWNER}/{REPO}/", 1)
        if path == f"/repos/{OWNER}/{REPO}/issues":
            since = request.url.params.get("since")
            if since is None:
                pages = self.pages
            else:
                items = sorted((x for x in self.items if x["updated_at"] >= since), key=lambda x: x["updated_at"])
                pages = [items[i:i + self.page_size] for i in range(0, len(items), self.page_size)] or [[]]
            return self._paged(request, pages, f"/repositories/{REPO_ID}/issues")
        parts = path.strip("/").split("/")
        if parts[:4] == ["repos", OWNER, REPO, "issues"] and len(parts) in (5, 6):
            number = int(parts[4])
            if number not in self.by_number:
                return self.json_response(404, load("not_found.json"))
            if len(parts) == 5:
                return self.json_response(200, self.by_number[number], request=request)
            if parts[5] == "comments":
                pages = self.comments.get(number, [[]])
                return self._paged(request, pages, f"/repositories/{REPO_ID}/issues/{number}/comments")
        return self.json_response(404, load("not_found.json"))

    # -- queries on what was asked -------------------------------------------------------------------------------

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def comment_requests(self) -> list[int]:
        return [int(r.url.path.split("/")[-2]) for r in self.requests if r.url.path.endswith("/comments")]


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake, tmp_path, sleeps):
    def make(**kw) -> GitHubClient:
        opts = dict(token=TOKEN, transport=fake.transport(), cache_dir=tmp_path / "home" / "cache" / "github",
                    sleep=sleeps.append, clock=lambda: NOW)
        opts.update(kw)
        return GitHubClient(**opts)

    return make


def ingest(make_client, tmp_path, **kw):
    with make_client() as client:
        return ingest_github(f"{OWNER}/{REPO}", tmp_path / "home", client=client, **kw)


def stored_numbers(tmp_path) -> list[int]:
    return [d.issue.number for d in read_documents(github_store_path(tmp_path / "home", OWNER, REPO))]


def state(tmp_path) -> GitHubState:
    return GitHubState.model_validate_json(state_path(github_store_path(tmp_path / "home", OWNER, REPO)).read_text())


def respond_once(match, response, times: int = 1):
    """A hook answering the first ``times`` requests that ``match`` with ``response(request)``."""
    left = [times]

    def hook(request):
        if left[0] > 0 and match(request):
            left[0] -= 1
            return response(request)
        return None

    return hook


def is_page(n: int):
    return lambda r: r.url.path.endswith("/issues") and r.url.params.get("page", "1") == str(n)


def is_comments(n: int):
    return lambda r: r.url.path.endswith(f"/issues/{n}/comments")


# ---------------------------------------------------------------------------------------------------------------------


def test_list_mode_follows_three_pages_skips_prs_and_stores_documents(fake, make_client, tmp_path):
    stats = ingest(make_client, tmp_path)
    assert (stats.fetched, stats.updated, stats.unchanged, stats.skipped_prs) == (5, 5, 0, 2)
    assert stats.complete and stats.stored == 5

    lists = [r for r in fake.requests if r.url.path.endswith("/issues")]
    assert len(lists) == 3
    first = lists[0]
    assert first.url.path == f"/repos/{OWNER}/{REPO}/issues"
    assert dict(first.url.params) == {"state": "all", "per_page": "100", "sort": "updated", "direction": "asc"}
    assert [r.url.path for r in lists[1:]] == [f"/repositories/{REPO_ID}/issues"] * 2  # followed from Link
    assert [r.url.params["page"] for r in lists[1:]] == ["2", "3"]
    for r in fake.requests:
        assert r.headers["authorization"] == f"Bearer {TOKEN}"
        assert r.headers["accept"] == "application/vnd.github+json"
        assert r.headers["x-github-api-version"] == "2022-11-28"
    # comments: only issues that have some, #88 over two pages, never for PRs (#102, #110) or #97 (0 comments)
    assert fake.comment_requests() == [101, 105, 88, 88, 111]

    docs = {d.issue.number: d for d in load_issue_documents(tmp_path / "home")}
    assert sorted(docs) == [88, 97, 101, 105, 111] == stored_numbers(tmp_path)
    d = docs[101]
    assert d.title.startswith("CUDA error: an illegal memory access")
    assert "\r" not in d.body and "tensor-parallel-size 2" in d.body
    assert d.labels == ["bug", "cuda"]
    assert len(d.comments) == 2 and "disable-custom-all-reduce" in d.comments[0]
    assert (d.created_at, d.updated_at) == ("2024-03-01T08:15:02Z", "2024-03-04T17:40:11Z")
    assert d.issue.url == "https://github.com/acme-ml/tinyserve/issues/101"
    assert (d.issue.repository, d.issue.number, d.issue.status) == ("acme-ml/tinyserve", 101, "closed")
    assert (d.provenance.kind, d.provenance.source) == ("github", "github/acme-ml/tinyserve")
    assert len(docs[88].comments) == 3 and "#110" in docs[88].comments[2]
    assert docs[111].body == "" and docs[111].issue.status == "open" and docs[97].comments == []

    s = state(tmp_path)
    assert s.cursor == "2024-03-11T06:00:00Z" and s.complete and s.mode == "list"
    assert sorted(s.done) == [88, 97, 101, 105, 111]
    assert [x.name for x in list_sources(tmp_path / "home")] == ["github/acme-ml/tinyserve"]


def test_second_list_run_is_incremental_from_the_cursor(fake, make_client, tmp_path):
    ingest(make_client, tmp_path)
    fake.requests.clear()
    # someone comments on #105 after the first run
    i105 = fake.by_number[105]
    i105["updated_at"], i105["comments"] = "2024-03-12T09:00:00Z", 2
    extra = dict(fake.comments[105][0][0], id=1960000099, body="It was the scheduler; fixed in 0.4.4.")
    fake.comments[105] = [fake.comments[105][0] + [extra]]

    stats = ingest(make_client, tmp_path)
    first = fake.requests[0]
    assert first.url.params["since"] == "2024-03-11T05:59:59Z"  # one second before the cursor
    assert (stats.fetched, stats.updated, stats.unchanged) == (2, 1, 1)  # #111 unchanged, #105 updated
    assert fake.comment_requests() == [105]
    assert stored_numbers(tmp_path) == [88, 97, 101, 105, 111]
    docs = {d.issue.number: d for d in load_issue_documents(tmp_path / "home")}
    assert docs[105].comments[-1] == "It was the scheduler; fixed in 0.4.4."
    assert state(tmp_path).cursor == "2024-03-12T09:00:00Z"


def test_rate_limit_waits_until_the_reset(fake, make_client, tmp_path, sleeps):
    limited = lambda r: FakeGitHub.json_response(  # noqa: E731
        403, load("rate_limited.json"), {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 42)})
    fake.hooks.append(respond_once(is_page(2), limited))
    stats = ingest(make_client, tmp_path)
    assert sleeps == [43.0]  # until the reset, plus a second
    assert stats.fetched == 5 and stats.complete


def test_secondary_rate_limit_honours_retry_after(fake, make_client, tmp_path, sleeps):
    fake.hooks.append(respond_once(is_comments(101), lambda r: FakeGitHub.json_response(
        429, load("secondary_rate_limited.json"), {"Retry-After": "7"})))
    assert ingest(make_client, tmp_path).fetched == 5
    assert sleeps == [7.0]


def test_rate_limit_reset_too_far_away_is_a_clear_error(fake, make_client, tmp_path, sleeps):
    fake.hooks.append(lambda r: FakeGitHub.json_response(
        403, load("rate_limited.json"), {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 86400)}))
    with make_client(token="") as client, pytest.raises(GitHubError) as e:
        ingest_github(f"{OWNER}/{REPO}", tmp_path / "home", client=client)
    assert "rate limit exhausted" in str(e.value) and "GITHUB_TOKEN" in str(e.value)
    assert sleeps == []


def test_http_500_is_retried_with_backoff_then_succeeds(fake, make_client, tmp_path, sleeps):
    fake.hooks.append(respond_once(is_page(2), lambda r: FakeGitHub.json_response(500, load("server_error.json")),
                                   times=2))
    stats = ingest(make_client, tmp_path)
    assert sleeps == [1.0, 2.0]
    assert stats.fetched == 5 and stats_complete(stats)


def stats_complete(stats) -> bool:
    return stats.complete and stats.stored == 5


def test_transport_errors_are_retried(fake, make_client, tmp_path, sleeps):
    def drop(request):
        raise httpx.ConnectError("connection reset by peer", request=request)

    fake.hooks.append(respond_once(is_comments(88), drop))
    assert ingest(make_client, tmp_path).fetched == 5
    assert sleeps == [1.0]


def test_persistent_500_is_a_clear_error_naming_the_url(fake, make_client, tmp_path, sleeps):
    fake.hooks.append(lambda r: FakeGitHub.json_response(500, load("server_error.json"))
                      if is_comments(105)(r) else None)
    with pytest.raises(GitHubError) as e:
        ingest(make_client, tmp_path)
    msg = str(e.value)
    assert "HTTP 500" in msg and "Server Error" in msg and "after 5 attempts" in msg
    assert f"{API}/repos/{OWNER}/{REPO}/issues/105/comments?per_page=100" in msg
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert stored_numbers(tmp_path) == [97, 101]  # what completed before the failure is kept


@pytest.mark.parametrize("body, expected", [
    (b"<html><body>Unicorn!</body></html>", "body is not valid JSON"),
    (json.dumps({"message": "Moved Permanently"}).encode(), "expected a list of issues"),
    (json.dumps([{"title": "no number", "html_url": "x"}]).encode(), "item 0: number: Field required"),
])
def test_malformed_body_is_reported_with_the_url(fake, make_client, tmp_path, body, expected):
    fake.hooks.append(respond_once(is_page(1), lambda r: httpx.Response(200, content=body)))
    with pytest.raises(GitHubError) as e:
        ingest(make_client, tmp_path)
    assert expected in str(e.value)
    assert f"malformed response from {API}/repos/{OWNER}/{REPO}/issues?state=all" in str(e.value)


def test_etag_304_reuses_the_cached_body_and_link(fake, make_client, tmp_path):
    with make_client() as client:
        url = client.issues_url(OWNER, REPO)
        a = client.get(url)
        b = client.get(url)
    assert not a.not_modified and b.not_modified
    assert b.data == a.data and b.next_url == a.next_url and a.next_url.endswith("page=2")
    assert "if-none-match" not in fake.requests[0].headers
    assert fake.requests[1].headers["if-none-match"].startswith('W/"')

    cache_files = list((tmp_path / "home" / "cache" / "github").rglob("*"))
    assert [f for f in cache_files if f.is_file() and f.name.startswith(".")] == []  # no temp files left
    assert len([f for f in cache_files if f.is_file()]) == 1


def test_issues_mode_second_run_is_all_304(fake, make_client, tmp_path):
    first = ingest(make_client, tmp_path, numbers=[101, 88])
    assert (first.fetched, first.updated, first.not_modified) == (2, 2, 0)
    before = (github_store_path(tmp_path / "home", OWNER, REPO)).read_bytes()
    fake.requests.clear()
    second = ingest(make_client, tmp_path, numbers=[101, 88])
    assert (second.fetched, second.updated, second.unchanged) == (2, 0, 2)
    assert second.requests == second.not_modified == 2  # the issues, answered 304; comments not asked again
    assert all("if-none-match" in r.headers for r in fake.requests)
    assert github_store_path(tmp_path / "home", OWNER, REPO).read_bytes() == before


def test_issues_mode_fetches_only_the_given_numbers(fake, make_client, tmp_path):
    stats = ingest(make_client, tmp_path, numbers=[101, 102, 97])
    assert (stats.fetched, stats.skipped_prs) == (2, 1)
    base = f"/repos/{OWNER}/{REPO}/issues"
    assert fake.paths() == [f"{base}/97", f"{base}/101", f"{base}/101/comments", f"{base}/102"]
    assert stored_numbers(tmp_path) == [97, 101]
    s = state(tmp_path)
    assert (s.mode, s.requested, s.complete, s.cursor) == ("issues", [97, 101, 102], True, None)

    with pytest.raises(GitHubError) as e:
        ingest(make_client, tmp_path, numbers=[999])
    assert "HTTP 404" in str(e.value) and f"{base}/999" in str(e.value) and "Not Found" in str(e.value)
    with make_client() as client, pytest.raises(GitHubError):  # a failed first ingest leaves no files behind
        ingest_github(f"{OWNER}/{REPO}", tmp_path / "fresh", client=client, numbers=[999])
    assert [f.name for f in (tmp_path / "fresh").rglob("*") if f.is_file()] == [".tinyserve.lock"]


def test_interrupted_list_ingest_resumes_without_duplicates_or_refetching(fake, make_client, tmp_path):
    def crash(request):
        raise Boom("killed")

    fake.hooks.append(respond_once(is_comments(88), crash))
    with pytest.raises(Boom):
        ingest(make_client, tmp_path)
    assert stored_numbers(tmp_path) == [97, 101, 105]  # page 1 and #105 of page 2 were complete
    s = state(tmp_path)
    assert not s.complete and s.cursor == "2024-03-08T14:02:19Z"

    fake.requests.clear()
    stats = ingest(make_client, tmp_path)
    assert fake.requests[0].url.params["since"] == "2024-03-08T14:02:18Z"  # resumes at the cursor
    assert fake.comment_requests() == [88, 88, 111]  # nothing completed is fetched again
    assert (stats.fetched, stats.updated, stats.unchanged) == (3, 2, 1)
    lines = github_store_path(tmp_path / "home", OWNER, REPO).read_text().splitlines()
    assert len(lines) == 5 and stored_numbers(tmp_path) == [88, 97, 101, 105, 111]
    assert state(tmp_path).complete


def test_interrupted_issues_ingest_resumes_skipping_done_numbers(fake, make_client, tmp_path):
    def crash(request):
        raise Boom("killed")

    fake.hooks.append(respond_once(lambda r: r.url.path.endswith("/issues/105"), crash))
    with pytest.raises(Boom):
        ingest(make_client, tmp_path, numbers=[88, 101, 105, 111])
    assert stored_numbers(tmp_path) == [88, 101]
    fake.requests.clear()
    stats = ingest(make_client, tmp_path, numbers=[111, 105, 101, 88])  # same set, any order
    assert stats.resumed == 2 and stats.fetched == 2
    assert not any(p.endswith(("/issues/88", "/issues/101")) for p in fake.paths())
    assert stored_numbers(tmp_path) == [88, 101, 105, 111]


def test_max_issues_stops_early_and_the_next_run_continues(fake, make_client, tmp_path):
    stats = ingest(make_client, tmp_path, max_issues=2)
    assert stats.fetched == 2 and not stats.complete and stored_numbers(tmp_path) == [97, 101]
    fake.requests.clear()
    stats = ingest(make_client, tmp_path)
    assert stats.complete and stored_numbers(tmp_path) == [88, 97, 101, 105, 111]
    assert 101 not in fake.comment_requests()


def test_token_never_appears_in_logs_errors_or_files(fake, make_client, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)

    def echo(request):  # a server that echoes the credentials back in its error
        return FakeGitHub.json_response(401, {"message": f"Bad credentials: {request.headers['authorization']}"})

    fake.hooks.append(respond_once(is_comments(111), echo))
    with make_client() as client:
        assert TOKEN not in repr(client)
        with pytest.raises(GitHubError) as e:
            ingest_github(f"{OWNER}/{REPO}", tmp_path / "home", client=client)
    msg = str(e.value)
    assert "HTTP 401" in msg and "Bad credentials: Bearer ***" in msg and "GITHUB_TOKEN" in msg
    assert TOKEN not in msg and TOKEN not in caplog.text
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any("cache" in f.parts for f in files) and any(f.suffix == ".jsonl" for f in files)
    for f in files:
        assert TOKEN.encode() not in f.read_bytes(), f


def test_token_is_never_sent_to_another_host(fake, make_client, tmp_path):
    def redirect_link(request):
        return FakeGitHub.json_response(200, load("issues_page_1.json"),
                                        {"Link": '<https://evil.example/steal?page=2>; rel="next"'})

    fake.hooks.append(respond_once(is_page(1), redirect_link))
    with pytest.raises(GitHubError, match=r"refusing to follow https://evil\.example"):
        ingest(make_client, tmp_path)
    assert all(r.url.host == "api.github.com" for r in fake.requests)


def test_parse_repository_and_bad_input():
    assert parse_repository("acme-ml/tinyserve") == ("acme-ml", "tinyserve")
    assert parse_repository("https://github.com/acme-ml/tinyserve/") == ("acme-ml", "tinyserve")
    for bad in ("acme-ml", "acme-ml/tiny/serve", "a b/c", "../etc"):
        with pytest.raises(ValueError, match="not a GitHub repository"):
            parse_repository(bad)


def test_load_issue_documents_reads_github_and_jsonl_sources(fake, make_client, tmp_path):
    home = tmp_path / "home"
    assert load_issue_documents(home) == []
    ingest(make_client, tmp_path, numbers=[101])
    export = tmp_path / "tracker-export.jsonl"
    export.write_text(json.dumps({"url": "https://github.com/acme-ml/tinyserve/issues/7", "title": "Hang in NCCL init"})
                      + "\n")
    ingest_jsonl(export, home)
    docs = load_issue_documents(home)
    assert [(d.provenance.kind, d.provenance.source, d.issue.number) for d in docs] == [
        ("github", "github/acme-ml/tinyserve", 101), ("jsonl", "jsonl/tracker-export", 7)]
    github_store_path(home, OWNER, REPO).write_text("{not json\n")
    with pytest.raises(SourceError, match=r"tinyserve\.jsonl:1: "):
        load_issue_documents(home)


# --- the CLI ------------------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli(fake, monkeypatch):
    monkeypatch.setattr(cli_ingest, "http_client", lambda: httpx.Client(transport=fake.transport()))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    def run(*args):
        return runner.invoke(ingest_app, [str(a) for a in args])

    return run


def test_cli_github_prints_counts_and_the_build_hint(cli, tmp_path):
    home = tmp_path / "home"
    r = cli("github", f"{OWNER}/{REPO}", "--home", home)
    assert r.exit_code == 0, r.output
    assert "fetched 5 issue(s): 5 new or updated, 0 unchanged" in r.output
    assert "2 pull request(s) skipped" in r.output
    assert "failgraph build" in r.output and TOKEN not in r.output
    r = cli("github", f"{OWNER}/{REPO}", "--issues", "101,88", "--home", home)
    assert r.exit_code == 0, r.output
    assert "fetched 2 issue(s): 0 new or updated, 2 unchanged" in r.output
    assert "stored 5 issue(s)" in r.output
    r = cli("github", f"{OWNER}/{REPO}", "--issues", "101,88", "--home", home)
    assert "2 of 2 response(s) unchanged (304" in r.output


def test_cli_github_max_issues_and_since(cli, tmp_path):
    r = cli("github", f"{OWNER}/{REPO}", "--since", "2024-03-08", "--max-issues", "1", "--home", tmp_path / "h")
    assert r.exit_code == 0, r.output
    assert "fetched 1 issue(s)" in r.output and "stopped early" in r.output


def test_cli_github_errors_are_one_line_with_exit_2(cli, tmp_path, monkeypatch):
    home = tmp_path / "home"
    cases = [(["not-a-repo"], "not a GitHub repository"),
             ([f"{OWNER}/{REPO}", "--issues", "x,2"], "bad --issues"),
             ([f"{OWNER}/{REPO}", "--since", "last tuesday"], "not a date"),
             ([f"{OWNER}/{REPO}", "--issues", "999"], "HTTP 404")]
    for args, expected in cases:
        r = cli("github", *args, "--home", home)
        assert r.exit_code == 2, (args, r.output)
        assert expected in r.output and "Traceback" not in r.output and TOKEN not in r.output
        assert r.output.strip().splitlines()[-1].startswith("error:")
    monkeypatch.delenv("GITHUB_TOKEN")
    r = cli("github", f"{OWNER}/{REPO}", "--issues", "97", "--home", home)
    assert r.exit_code == 0 and "60 an hour" in r.output


def test_a_second_concurrent_ingest_of_the_same_repository_is_refused(make_client, tmp_path):
    import fcntl

    store = github_store_path(tmp_path / "home", OWNER, REPO)
    store.parent.mkdir(parents=True)
    with open(store.with_name(".tinyserve.lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(GitHubError, match="another ingest of acme-ml/tinyserve is running"):
            ingest(make_client, tmp_path)
    assert ingest(make_client, tmp_path).fetched == 5
