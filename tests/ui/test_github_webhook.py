"""POST /github/webhook on the HTTP API, against a fake GitHub: signatures, replays, routing, one comment per issue
edited in place, commands, opt-out, rate limits and outages (retried, nothing lost), shutdown (persisted)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from api_helpers import assert_error
from github_fake import (
    BOT_LOGIN,
    SECRET,
    TOKEN,
    FakeGitHub,
    ScoredByText,
    comment_payload,
    delivery,
    issue_payload,
    make_cfg,
    taxonomy_cause,
    wait_until,
)

from failgraph.ui.github.bot import GitHubBot
from failgraph.ui.github.comment import MARKER
from failgraph.ui.github.events import Job
from failgraph.ui.github.queue import read_jobs

REPO = "acme/llm"


@pytest.fixture
def fake():
    return FakeGitHub()


@pytest.fixture
def diag():
    return ScoredByText()


def make_app(cfg, fake, diag, state_dir, **bot_kw):
    from failgraph.ui.httpapi import create_app

    bots = []

    def factory(_server_diagnose):
        bot = GitHubBot.create(cfg, state_dir, diag, transport=fake.transport, **bot_kw)
        bot.worker.max_delay = 0.05  # rate-limit waits shortened: the tests check the retry, not the clock
        bot.handler.api.backoff = 0.001
        bots.append(bot)
        return bot

    app = create_app(None, None, github=factory)
    return app, bots[0] if bots else None


@pytest.fixture
def server(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    app, bot = make_app(make_cfg(), fake, diag, tmp_path / "github")
    with TestClient(app) as client:
        yield client, bot


def post(client, payload, event="issues", delivery_id=None, secret=SECRET):
    body, headers = delivery(payload, event, delivery_id, secret)
    return client.post("/github/webhook", content=body, headers=headers)


def settle(bot) -> bool:
    return wait_until(lambda: len(bot.queue) == 0 and not bot.worker._inflight)


# ---------------------------------------------------------------------------------------------- signatures
def test_the_route_is_off_without_a_secret(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    app, bot = make_app(make_cfg(webhook_secret=None), fake, diag, tmp_path)
    with TestClient(app) as client:
        r = post(client, issue_payload())
    assert bot is not None and r.status_code == 404 and r.json() == {"detail": "Not Found"}
    assert fake.requests == []


@pytest.mark.parametrize("how", ["missing", "wrong secret", "tampered body", "not sha256"])
def test_bad_or_missing_signatures_are_401(server, fake, how):
    client, bot = server
    body, headers = delivery(issue_payload(), secret="wrong" if how == "wrong secret" else SECRET)
    if how == "missing":
        del headers["X-Hub-Signature-256"]
    if how == "tampered body":
        body = body.replace(b"it fails", b"it works")
    if how == "not sha256":
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].replace("sha256=", "sha1=")
    r = client.post("/github/webhook", content=body, headers=headers)
    assert_error(r, 401, "X-Hub-Signature-256")
    assert SECRET not in r.text
    assert settle(bot) and len(bot.queue) == 0 and fake.requests == []


def test_ping_answers_200(server):
    client, _ = server
    r = post(client, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping")
    assert r.status_code == 200 and r.json() == {"status": "pong"}


def test_malformed_deliveries_are_one_line_4xx(server):
    client, _ = server
    body, headers = delivery(issue_payload())
    del headers["X-GitHub-Delivery"]
    assert_error(client.post("/github/webhook", content=body, headers=headers), 400, "X-GitHub-Delivery")
    broken = issue_payload()
    del broken["issue"]["number"]
    assert_error(post(client, broken), 422, "issue.number")
    raw = b"not json"
    from failgraph.ui.github.signature import sign
    r = client.post("/github/webhook", content=raw, headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x1",
                                                             "X-Hub-Signature-256": sign(SECRET.encode(), raw)})
    assert_error(r, 400, "not a JSON payload")


def test_a_delivery_larger_than_the_api_body_limit_is_accepted(server, fake):
    client, bot = server
    big = "x" * 200_000 + " [score=0.9]"  # GitHub sends issue bodies of up to 65,536 characters, escaped in JSON
    assert post(client, issue_payload(number=15, body=big)).status_code == 202
    assert settle(bot) and len(fake.bot_comments(REPO, 15)) == 1
    r = client.post("/v1/similar", json={"text": big})
    assert r.status_code == 413  # the other routes keep their limit


def test_form_encoded_deliveries_are_read(server, fake):
    from urllib.parse import urlencode

    from failgraph.ui.github.signature import sign

    client, bot = server
    raw = urlencode({"payload": json.dumps(issue_payload(number=9))}).encode()
    r = client.post("/github/webhook", content=raw, headers={
        "X-GitHub-Event": "issues", "X-GitHub-Delivery": "form-1", "X-Hub-Signature-256": sign(SECRET.encode(), raw),
        "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 202, r.text
    assert settle(bot) and len(fake.bot_comments(REPO, 9)) == 1


# ---------------------------------------------------------------------------------------------- routing
@pytest.mark.parametrize("payload,event,reason", [
    (issue_payload(pull_request=True), "issues", "pull request"),
    (issue_payload(locked=True), "issues", "locked"),
    (issue_payload(login="dependabot[bot]"), "issues", "bot"),
    (issue_payload(login="renovate", user_type="Bot"), "issues", "bot"),
    (issue_payload(repo="acme/private-stuff"), "issues", "repository excluded"),
    (issue_payload(labels=("Question",)), "issues", "label excluded"),
    (issue_payload(action="labeled"), "issues", "not handled"),
    (issue_payload(action="closed", state="closed"), "issues", "closed"),
    (issue_payload(action="edited", state="closed"), "issues", "closed"),
    (comment_payload("thanks!"), "issue_comment", "not a /failgraph command"),
    (comment_payload("/failgraph explain", login="someone-else"), "issue_comment", "author and maintainers"),
    (comment_payload("/failgraph explain", login="github-actions[bot]"), "issue_comment", "bot"),
    ({"action": "created"}, "star", "not handled"),
])
def test_ignored_deliveries_do_nothing(tmp_path, fake, diag, payload, event, reason):
    from fastapi.testclient import TestClient

    cfg = make_cfg(exclude_repos=["acme/private-stuff"], exclude_labels=["question"])
    app, bot = make_app(cfg, fake, diag, tmp_path)
    with TestClient(app) as client:
        r = post(client, payload, event)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ignored" and reason in r.json()["reason"]
        assert settle(bot)
    assert fake.requests == [] and diag.calls == 0


# ---------------------------------------------------------------------------------------------- the comment
def test_an_opened_issue_gets_one_comment_and_a_label(server, fake, diag):
    client, bot = server
    r = post(client, issue_payload(number=3, body="OOM on A100 [score=0.9]"))
    assert r.status_code == 202 and r.json() == {"status": "queued"}
    assert settle(bot)
    [c] = fake.bot_comments(REPO, 3)
    assert c["body"].startswith(MARKER) and "0.90" in c["body"]
    assert fake.labels[(REPO, 3)] == ["failgraph: " + taxonomy_cause()[2]]


def test_replayed_deliveries_are_ignored(server, fake, diag):
    client, bot = server
    first = post(client, issue_payload(number=4), delivery_id="same-id")
    again = post(client, issue_payload(number=4), delivery_id="same-id")
    assert first.status_code == 202 and again.status_code == 200 and again.json()["status"] == "duplicate"
    assert settle(bot)
    assert diag.calls == 1 and fake.count("POST", r"/issues/4/comments$") == 1


def test_edits_update_the_one_comment_in_place(server, fake, diag):
    client, bot = server
    post(client, issue_payload(number=5, body="first text [score=0.8]"))
    assert settle(bot)
    [c] = fake.bot_comments(REPO, 5)
    cid, before = c["id"], c["body"]
    for i, score in enumerate(["0.95", "0.7", "0.7"]):
        post(client, issue_payload("edited", number=5, body=f"edit {i} [score={score}]"))
        assert settle(bot)
    [c] = fake.bot_comments(REPO, 5)
    assert c["id"] == cid and c["body"] != before and "0.70" in c["body"]
    assert fake.count("POST", r"/issues/5/comments$") == 1
    assert fake.count("PATCH", rf"/comments/{cid}$") == 2  # the third edit renders the same comment: no request


def test_an_edit_below_the_threshold_replaces_the_old_answer(server, fake):
    client, bot = server
    post(client, issue_payload(number=6, body="clear [score=0.9]"))
    assert settle(bot)
    post(client, issue_payload("edited", number=6, body="now vague [score=0.1]"))
    assert settle(bot)
    [c] = fake.bot_comments(REPO, 6)
    assert "more information needed" in c["body"] and "### failgraph: likely cause" not in c["body"]


def test_below_the_threshold_the_bot_stays_silent(server, fake, diag):
    client, bot = server
    post(client, issue_payload(number=7, body="vague [score=0.2]"))
    assert settle(bot)
    assert diag.calls == 1 and fake.bot_comments(REPO, 7) == [] and (REPO, 7) not in fake.labels


def test_the_comment_is_found_again_by_its_marker_after_a_restart(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    old = fake.add_comment(REPO, 8, MARKER + "\nold answer", BOT_LOGIN)
    fake.add_comment(REPO, 8, MARKER + "\nsomeone pasting the marker", "mallory")
    app, bot = make_app(make_cfg(), fake, diag, tmp_path / "fresh-state")
    with TestClient(app) as client:
        post(client, issue_payload("edited", number=8, body="[score=0.9]"))
        assert settle(bot)
    mine = fake.bot_comments(REPO, 8)
    assert [c["id"] for c in mine] == [old["id"]] and "old answer" not in mine[0]["body"]
    assert "pasting" in fake.comments[(REPO, 8)][1]["body"]  # another user's comment is never edited


def test_explain_refreshes_even_below_the_threshold(server, fake):
    client, bot = server
    post(client, comment_payload("/failgraph explain", number=10, issue_body="vague [score=0.3]"), "issue_comment")
    assert settle(bot)
    [c] = fake.bot_comments(REPO, 10)
    assert "0.30" in c["body"] and (REPO, 10) not in fake.labels  # no label below the threshold


def test_the_bot_ignores_its_own_comments(server, fake, diag):
    client, bot = server
    p = comment_payload(MARKER + "\n/failgraph explain", number=11, login="failgraph[bot]", user_type="Bot")
    assert post(client, p, "issue_comment").json()["status"] == "ignored"
    assert settle(bot) and diag.calls == 0


# ---------------------------------------------------------------------------------------------- opt-out
@pytest.mark.parametrize("who,association", [("alice", "NONE"), ("maintainer", "MEMBER")])
def test_ignore_deletes_the_comment_and_stops_further_comments(server, fake, diag, tmp_path, who, association):
    client, bot = server
    post(client, issue_payload(number=12, body="[score=0.9]"))
    assert settle(bot) and len(fake.bot_comments(REPO, 12)) == 1
    r = post(client, comment_payload("/failgraph ignore", number=12, login=who, association=association),
             "issue_comment")
    assert r.status_code == 202
    assert settle(bot) and fake.bot_comments(REPO, 12) == []
    calls = diag.calls
    post(client, issue_payload("edited", number=12, body="edited [score=0.95]"))
    post(client, comment_payload("/failgraph explain", number=12), "issue_comment")
    assert settle(bot)
    assert fake.bot_comments(REPO, 12) == [] and diag.calls == calls
    state = json.loads((tmp_path / "github" / "issues" / "acme" / "llm" / "12.json").read_text())
    assert state["ignored"] is True and state["ignored_by"] == who


def test_ignore_by_a_stranger_is_refused(server, fake):
    client, bot = server
    post(client, issue_payload(number=13, body="[score=0.9]"))
    r = post(client, comment_payload("/failgraph ignore", number=13, login="troll"), "issue_comment")
    assert r.json()["status"] == "ignored"
    assert settle(bot) and len(fake.bot_comments(REPO, 13)) == 1


def test_an_opt_out_in_the_thread_is_honoured_without_state(server, fake, diag):
    client, bot = server
    fake.add_comment(REPO, 14, "/failgraph ignore", "alice")
    post(client, issue_payload("edited", number=14, body="[score=0.9]"))
    assert settle(bot)
    assert fake.bot_comments(REPO, 14) == [] and diag.calls == 0


# ---------------------------------------------------------------------------------------------- API errors
@pytest.mark.parametrize("status,headers", [
    (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"}),
    (429, {"Retry-After": "1"}),
    (403, {"Retry-After": "2"}),
])
def test_rate_limits_are_retried_later_and_nothing_is_lost(server, fake, status, headers):
    client, bot = server
    fake.fail("POST", r"/issues/\d+/comments$", httpx.Response(status, headers=headers,
                                                               json={"message": "API rate limit exceeded"}), times=3)
    for n in (20, 21):
        post(client, issue_payload(number=n, body="[score=0.9]"))
    assert wait_until(lambda: all(len(fake.bot_comments(REPO, n)) == 1 for n in (20, 21)))
    assert bot.worker.retried == 3 and bot.worker.failed == 0


def test_server_errors_are_retried_with_backoff(server, fake):
    client, bot = server
    fake.fail("GET", r"/issues/22/comments$", httpx.Response(502), times=2)
    post(client, issue_payload(number=22, body="[score=0.9]"))
    assert settle(bot) and len(fake.bot_comments(REPO, 22)) == 1
    assert fake.count("GET", r"/issues/22/comments$") == 3 and bot.worker.retried == 0


def test_a_persistent_outage_is_retried_later_then_kept(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    fake.fail("GET", r"/issues/23/comments$", httpx.Response(503), times=10_000)
    app, bot = make_app(make_cfg(), fake, diag, tmp_path)
    bot.worker.max_attempts = 3
    with TestClient(app) as client:
        post(client, issue_payload(number=23, body="[score=0.9]"))
        assert wait_until(lambda: bot.worker.failed == 1)
    [kept] = read_jobs(tmp_path / "failed.jsonl")
    assert kept.number == 23 and kept.attempts == 2


def test_other_4xx_are_logged_once_and_kept(server, fake, caplog, tmp_path):
    client, bot = server
    fake.fail("POST", r"/issues/24/comments$", httpx.Response(404, json={"message": "Not Found"}), times=5)
    with caplog.at_level(logging.ERROR, logger="failgraph.github"):
        post(client, issue_payload(number=24, body="[score=0.9]"))
        assert wait_until(lambda: bot.worker.failed == 1)
    lines = [r for r in caplog.records if "acme/llm#24" in r.getMessage()]
    assert len(lines) == 1 and "HTTP 404" in lines[0].getMessage() and TOKEN not in caplog.text
    assert fake.count("POST", r"/issues/24/comments$") == 1
    assert [j.number for j in read_jobs(tmp_path / "github" / "failed.jsonl")] == [24]


# ---------------------------------------------------------------------------------------------- queue and shutdown
def test_a_full_queue_answers_503_and_accepts_the_redelivery(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    app, bot = make_app(make_cfg(queue_size=1), fake, diag, tmp_path)
    with TestClient(app) as client:
        bot.worker.stop(0)  # no worker: the queue fills
        assert post(client, issue_payload(number=30), delivery_id="a").status_code == 202
        r = post(client, issue_payload(number=31), delivery_id="b")
        assert r.status_code == 503 and r.json()["status"] == "busy" and r.headers["Retry-After"]
        bot.worker.start()
        assert settle(bot)
        assert post(client, issue_payload(number=31), delivery_id="b").status_code == 202
        assert settle(bot)
    assert all(len(fake.bot_comments(REPO, n)) == 1 for n in (30, 31))


def test_jobs_left_at_shutdown_are_persisted_and_resumed(tmp_path, fake, diag):
    from fastapi.testclient import TestClient

    fake.fail("POST", r"/issues/4\d/comments$", httpx.Response(429, headers={"Retry-After": "3600"}), times=3)
    app, bot = make_app(make_cfg(), fake, diag, tmp_path)
    bot.worker.max_delay = 3600  # the retry waits past the shutdown
    with TestClient(app) as client:
        for n in (40, 41, 42):
            post(client, issue_payload(number=n, body="[score=0.9]"))
        assert wait_until(lambda: bot.worker.retried == 3)
    assert sorted(j.number for j in read_jobs(tmp_path / "pending.jsonl")) == [40, 41, 42]
    assert all(fake.bot_comments(REPO, n) == [] for n in (40, 41, 42))

    app, bot = make_app(make_cfg(), fake, diag, tmp_path)
    with TestClient(app):
        assert wait_until(lambda: all(len(fake.bot_comments(REPO, n)) == 1 for n in (40, 41, 42)))
    assert not (tmp_path / "pending.jsonl").exists()


def test_jobs_survive_a_round_trip_through_json():
    job = Job(kind="update", delivery="d", repo=REPO, number=1, title="t", body="b\u200b")
    assert Job.model_validate_json(job.model_dump_json()) == job


# ---------------------------------------------------------------------------------------------- the real diagnosis
@pytest.mark.slow
def test_end_to_end_with_the_real_knowledge_base(kb, tmp_path, fake):
    from api_helpers import OOM_REPORT
    from fastapi.testclient import TestClient

    from failgraph.ui.httpapi import create_app

    cfg = make_cfg(min_score=0.3)
    app = create_app(kb, None, github=lambda d: GitHubBot.create(cfg, tmp_path, d, transport=fake.transport))
    with TestClient(app) as client:
        bot = app.state.github
        r = post(client, issue_payload(number=50, title="OOM with LLaMA 7B", body=OOM_REPORT))
        assert r.status_code == 202
        assert wait_until(lambda: fake.bot_comments(REPO, 50), timeout=60)
        assert settle(bot)
    [c] = fake.bot_comments(REPO, 50)
    assert "https://github.com/meta-llama/llama/issues/136" in c["body"]
    assert fake.labels[(REPO, 50)][0].startswith("failgraph: ")
