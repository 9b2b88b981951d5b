"""The bot learns: an issue closed as completed with a maintainer's taxonomy label, or a maintainer's ``/failgraph cause
<leaf>``, makes the thread a labeled past failure (the repository and the maintainer as provenance), without a
rebuild; against the fake GitHub API and payloads in GitHub's shapes."""

from __future__ import annotations

import pytest
from github_fake import (
    BOT_LOGIN,
    SECRET,
    FakeGitHub,
    ScoredByText,
    comment_payload,
    delivery,
    issue_payload,
    make_cfg,
    wait_until,
)
from stand_in_embedders import BowEmbedder

from failgraph.ontology import load_taxonomy
from failgraph.ui.github.bot import GitHubBot
from failgraph.ui.github.comment import MARKER
from failgraph.ui.github.events import Ignored, Job, route

REPO = "acme/llm"
LEAF = load_taxonomy().leaves("root_cause")[4].label
SHORT = LEAF.rpartition(" - ")[2]
CATEGORY = load_taxonomy().category_of(load_taxonomy().leaves("root_cause")[4]).label


def closed(labels, *, reason="completed", sender="maint", body="vLLM crashes with CUDA error", number=5):
    return issue_payload("closed", number, body=body, state="closed", labels=labels, state_reason=reason,
                         sender=sender)


# ---------------------------------------------------------------------------------------------- routing
def test_a_completed_issue_with_a_leaf_label_is_learned():
    cfg = make_cfg()
    job = route("issues", closed(("bug", cfg.label_prefix + SHORT)), "d1", cfg)
    assert isinstance(job, Job) and job.kind == "learn"
    assert (job.cause, job.requested_by, job.label) == (LEAF, "maint", cfg.label_prefix + SHORT)


@pytest.mark.parametrize(("labels", "reason", "sender", "why"), [
    (("failgraph: " + SHORT,), "not_planned", "maint", "not completed"),
    (("bug",), "completed", "maint", "without a taxonomy label"),
    (("failgraph: " + CATEGORY,), "completed", "maint", "without a taxonomy label"),  # the bot's own category label
    (("failgraph: " + SHORT,), "completed", "ci[bot]", "by a bot"),
])
def test_other_closed_issues_teach_nothing(labels, reason, sender, why):
    res = route("issues", closed(labels, reason=reason, sender=sender), "d1", make_cfg())
    assert isinstance(res, Ignored) and why in res.reason


def test_a_maintainers_cause_command_is_learned_and_nobody_elses():
    cfg = make_cfg()
    job = route("issue_comment", comment_payload(f"/failgraph cause {SHORT}", association="MEMBER", login="maint"),
                "d1", cfg)
    assert isinstance(job, Job) and (job.kind, job.cause, job.requested_by) == ("learn", LEAF, "maint")
    res = route("issue_comment", comment_payload(f"/failgraph cause {SHORT}", association="NONE"), "d2", cfg)
    assert isinstance(res, Ignored) and "maintainers" in res.reason
    res = route("issue_comment", comment_payload("/failgraph cause no such thing", association="OWNER"), "d3", cfg)
    assert isinstance(res, Ignored) and "names no root-cause leaf" in res.reason


# ---------------------------------------------------------------------------------------------- the handler
def test_the_thread_learned_is_the_peoples_words_with_provenance(tmp_path):
    fake, learned = FakeGitHub(), []
    bot = GitHubBot.create(make_cfg(), tmp_path / "state", ScoredByText(), transport=fake.transport,
                           learn=learned.append)
    fake.add_comment(REPO, 5, MARKER + "\nthe bot's comment", BOT_LOGIN)
    fake.add_comment(REPO, 5, "Same on 0.6.1 with <b>two</b> GPUs", "bob")
    fake.add_comment(REPO, 5, "/failgraph explain", "alice")
    out = bot.handler.handle(route("issues", closed(("failgraph: " + SHORT,)), "d1", bot.cfg))
    assert out.action == "learned"
    [item] = learned
    assert item.url == f"https://github.com/{REPO}/issues/5" and item.key == f"{REPO}#5"
    assert (item.root_cause, item.labeler, item.source) == (LEAF, "maint", f"github/{REPO}")
    assert "vLLM crashes" in item.text and "Same on 0.6.1" in item.text
    assert "the bot's comment" not in item.text and "/failgraph" not in item.text
    assert fake.count("POST") == 0  # learning posts nothing


def test_a_dry_run_learns_nothing(tmp_path):
    learned = []
    bot = GitHubBot.create(make_cfg(dry_run=True, token=None), tmp_path / "state", ScoredByText(), learn=learned.append)
    out = bot.handler.handle(route("issues", closed(("failgraph: " + SHORT,)), "d1", bot.cfg))
    assert out.action == "dry-run" and not learned


# ---------------------------------------------------------------------------------------------- end to end


def test_the_webhook_service_learns_into_the_graph_and_answers_from_it(tmp_path, dataset_slice):
    from fastapi.testclient import TestClient

    from failgraph.assistant.knowledge import KnowledgeBase
    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import build_graph
    from failgraph.kg.delta import read_delta
    from failgraph.kg.home import GraphHome
    from failgraph.kg.learn import learn
    from failgraph.ui.httpapi import create_app

    emb = BowEmbedder()
    home = GraphHome(tmp_path / "home")
    build_graph(home, load_dataset(dataset_slice).records, embedder=emb, validate=False)
    fake = FakeGitHub()
    bots = []

    def factory(_diagnose):
        bots.append(GitHubBot.create(make_cfg(), tmp_path / "state", ScoredByText(), transport=fake.transport,
                                     learn=lambda item: learn(home, [item], embedder=emb)))
        return bots[0]

    text = "Qwerty decoder segfaults in zorblax kernel after upgrading the frobnicator"
    app = create_app(lambda: KnowledgeBase.from_home(home, emb), None, github=factory)
    body, headers = delivery(closed(("failgraph: " + SHORT,), number=9, body=text), "issues", "d-9", SECRET)
    url = f"https://github.com/{REPO}/issues/9"
    with TestClient(app) as client:
        def similar_urls():
            return [s["url"] for s in client.post("/v1/similar", json={"text": text}).json()["results"]]

        assert url not in similar_urls()
        assert client.get(f"/v1/issues/{REPO}/9").status_code == 503  # this app has no store, and knows no such issue
        assert client.post("/github/webhook", content=body, headers=headers).json()["status"] == "queued"
        assert wait_until(lambda: url in similar_urls(), timeout=30)  # no rebuild, no restart
        facts = client.get(f"/v1/issues/{REPO}/9").json()  # what it learned, from the knowledge base
        assert facts["id"] == f"{REPO}#9" and facts["url"] == url
        assert [lab["root_cause"] for lab in facts["labels"]] == [LEAF] and facts["sources"] == ["learned"]
        assert text in facts["text"]
        assert client.get(f"/v1/issues/{REPO}/10").status_code == 503
    [entry] = read_delta(home.current())
    assert entry.item.key == f"{REPO}#9" and entry.item.labeler == "maint"
    kb = KnowledgeBase.from_home(home, emb)
    assert kb.failures[f"{REPO}#9"].root_causes == [LEAF]


def test_the_action_entry_learns_a_maintainers_cause(tmp_path, dataset_slice, monkeypatch):
    import json

    from github_fake import TOKEN
    from typer.testing import CliRunner

    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import build_graph
    from failgraph.kg.delta import read_delta
    from failgraph.kg.home import GraphHome
    from failgraph.ui import cli_github
    from failgraph.ui.cli import app

    fake = FakeGitHub()
    monkeypatch.setattr(cli_github, "http_transport", lambda: fake.transport)
    for var in ("FAILGRAPH_GITHUB_WEBHOOK_SECRET", "FAILGRAPH_GITHUB_APP_ID", "FAILGRAPH_GITHUB_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FAILGRAPH_GITHUB_TOKEN", TOKEN)
    home = GraphHome(tmp_path / "home")
    build_graph(home, load_dataset(dataset_slice).records, validate=False)
    fake.add_comment(REPO, 3, "It happens with bf16 only", "bob")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(comment_payload(f"/failgraph cause {SHORT}", 3, login="maint", association="OWNER",
                                                issue_body="Loss becomes NaN after step 100")))
    r = CliRunner().invoke(app, ["github", "handle-event", "--home", str(home.root), "--event-name", "issue_comment",
                                 "--event-path", str(event)])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("learned")
    [entry] = read_delta(home.current())
    assert (entry.item.key, entry.item.root_cause, entry.item.labeler) == (f"{REPO}#3", LEAF, "maint")
    assert "NaN after step 100" in entry.item.text and "bf16 only" in entry.item.text
    assert fake.count("POST") == 0


def test_learning_while_a_build_runs_is_retried_later_and_nothing_is_lost(tmp_path, dataset_slice):
    from failgraph.ingest.dataset import load_dataset
    from failgraph.kg.build import build_graph
    from failgraph.kg.delta import read_delta
    from failgraph.kg.home import GraphHome
    from failgraph.ui.github.client import Unavailable
    from failgraph.ui.github.learner import home_learner

    home = GraphHome(tmp_path / "home")
    build_graph(home, load_dataset(dataset_slice).records, validate=False)
    learner = home_learner(home.root, wait_s=0.1, retry_s=0.01)
    bot = GitHubBot.create(make_cfg(), tmp_path / "state", ScoredByText(), transport=FakeGitHub().transport,
                           learn=learner)
    bot.worker.max_delay = 0.05
    job = route("issues", closed(("failgraph: " + SHORT,), number=11), "d-11", bot.cfg)
    with home.build_lock():  # a build holds the home
        with pytest.raises(Unavailable):
            learner(bot.handler.learned_failure(job, []))
        bot.start()
        try:
            assert bot.queue.put(job)
            assert wait_until(lambda: bot.worker.retried >= 1)
            assert not read_delta(home.current())
        except BaseException:
            bot.stop(1)
            raise
    try:
        assert wait_until(lambda: bool(read_delta(home.current())))  # the build is over: the retry learns it
    finally:
        bot.stop(1)
    assert [e.item.key for e in read_delta(home.current())] == [f"{REPO}#11"]
