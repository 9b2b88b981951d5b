"""The GitHub Action: ``action.yml`` (composite: install, knowledge base from actions/cache, the CLI entry) and
``failgraph github handle-event`` run on an event file against a fake GitHub, without a server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from api_helpers import OOM_REPORT
from github_fake import TOKEN, FakeGitHub, comment_payload, issue_payload
from typer.testing import CliRunner

from failgraph.ui import cli_github
from failgraph.ui.cli import app
from failgraph.ui.github.comment import MARKER

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_action_yml_is_a_composite_action_that_caches_the_knowledge_base_and_runs_the_cli():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    build = next(s for s in steps if "failgraph build" in s.get("run", ""))
    handle = next(s for s in steps if "failgraph github handle-event" in s.get("run", ""))
    assert cache["id"] in build["if"] and "cache-hit" in build["if"]
    assert cache["with"]["path"] in build["run"] and cache["with"]["path"] in handle["run"]
    assert "$GITHUB_EVENT_PATH" in handle["run"] and handle["env"]["FAILGRAPH_GITHUB_TOKEN"]
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", json.dumps(steps)))
    assert {"github-token", "min-score", "cache-key"} <= used
    assert used <= set(action["inputs"]), used - set(action["inputs"])  # every input referenced is declared
    assert all(s.get("shell") == "bash" for s in steps if "run" in s)


@pytest.fixture
def fake(monkeypatch):
    fake = FakeGitHub()
    monkeypatch.setattr(cli_github, "http_transport", lambda: fake.transport)
    for var in ("FAILGRAPH_GITHUB_WEBHOOK_SECRET", "FAILGRAPH_GITHUB_APP_ID", "FAILGRAPH_GITHUB_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FAILGRAPH_GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("FAILGRAPH_BOT_MIN_SCORE", "0.3")
    return fake


def event_file(tmp_path, payload) -> str:
    p = tmp_path / "event.json"
    p.write_text(json.dumps(payload))
    return str(p)


def handle(home, path, name="issues", *extra):
    return runner.invoke(app, ["github", "handle-event", "--home", str(home.root), "--event-name", name,
                               "--event-path", path, *extra])


@pytest.mark.slow
def test_handle_event_comments_once_and_edits_in_place(home, fake, tmp_path):
    opened = event_file(tmp_path, issue_payload(number=5, title="OOM with LLaMA 7B", body=OOM_REPORT))
    r = handle(home, opened)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("created: comment ")
    [c] = fake.bot_comments("acme/llm", 5)
    assert c["body"].startswith(MARKER) and "https://github.com/meta-llama/llama/issues/136" in c["body"]
    # an Action's state does not survive the run: the comment is found again by its marker on a Bot's comment
    c["user"] = fake.bot_user = {"login": "github-actions[bot]", "type": "Bot"}
    (home.root / "github").rename(tmp_path / "old-state")
    edited = event_file(tmp_path, issue_payload("edited", number=5, title="OOM with LLaMA 7B",
                                                body=OOM_REPORT + "\nAlso with batch size 16."))
    r = handle(home, edited)
    assert r.exit_code == 0 and r.output.split(":")[0] in ("updated", "unchanged"), r.output
    assert len(fake.bot_comments("acme/llm", 5)) == 1 and fake.count("POST", r"/comments$") == 1


def test_handle_event_reports_ignored_events(home, fake, tmp_path):
    r = handle(home, event_file(tmp_path, issue_payload(pull_request=True)))
    assert r.exit_code == 0 and r.output.strip() == "ignored: pull request"
    r = handle(home, event_file(tmp_path, comment_payload("/failgraph ignore", login="troll")), "issue_comment")
    assert r.exit_code == 0 and "author and maintainers" in r.output
    assert fake.requests == []


@pytest.mark.slow
def test_dry_run_writes_nothing(home, fake, tmp_path):
    r = handle(home, event_file(tmp_path, issue_payload(number=6, body=OOM_REPORT)), "issues", "--dry-run")
    assert r.exit_code == 0 and r.output.startswith("dry-run"), r.output
    assert not any(m != "GET" for m, _ in fake.requests)


@pytest.mark.parametrize("case,words", [
    ("no token", "FAILGRAPH_GITHUB_TOKEN"),
    ("missing file", "cannot read the event file"),
    ("not json", "is not JSON"),
    ("bad shape", "not in GitHub's shape"),
    ("bad setting", "FAILGRAPH_BOT_MIN_SCORE"),
])
def test_handle_event_errors_are_one_line_exit_2(home, fake, tmp_path, monkeypatch, case, words):
    path = event_file(tmp_path, issue_payload())
    if case == "no token":
        monkeypatch.delenv("FAILGRAPH_GITHUB_TOKEN")
    if case == "missing file":
        path = str(tmp_path / "nope.json")
    if case == "not json":
        Path(path).write_text("{oops")
    if case == "bad shape":
        Path(path).write_text(json.dumps({"action": "opened", "issue": {"title": "no number"}}))
    if case == "bad setting":
        monkeypatch.setenv("FAILGRAPH_BOT_MIN_SCORE", "lots")
    r = handle(home, path)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], r.output
    assert TOKEN not in r.output and "Traceback" not in r.output
