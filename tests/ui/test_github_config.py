"""The bot's settings: environment variables over a TOML file; secrets never in reprs, logs or error messages."""

from __future__ import annotations

import logging

import pytest

from failgraph.ui.github.auth import TokenAuth
from failgraph.ui.github.bot import GitHubBot
from failgraph.ui.github.config import BotConfig, ConfigError

SECRETS = {"FAILGRAPH_GITHUB_WEBHOOK_SECRET": "whsec-AAAA1111", "FAILGRAPH_GITHUB_TOKEN": "ghp_BBBB2222",
           "FAILGRAPH_GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----CCCC3333"}


def test_environment_variables_are_read():
    cfg = BotConfig.from_env({"FAILGRAPH_GITHUB_TOKEN": "t", "FAILGRAPH_GITHUB_API_URL": "https://ghe.example/api/v3/",
                              "FAILGRAPH_BOT_MIN_SCORE": "0", "FAILGRAPH_BOT_LABEL_PREFIX": "triage/",
                              "FAILGRAPH_BOT_DRY_RUN": "yes", "FAILGRAPH_BOT_EXCLUDE_REPOS": "Acme/A, acme/b",
                              "FAILGRAPH_BOT_EXCLUDE_LABELS": "question,", "FAILGRAPH_BOT_ASK_WHEN_UNSURE": "1"})
    assert cfg.api_url == "https://ghe.example/api/v3" and cfg.min_score == 0.0 and cfg.label_prefix == "triage/"
    assert cfg.dry_run and cfg.ask_when_unsure and cfg.exclude_repos == ["acme/a", "acme/b"]
    assert cfg.exclude_labels == ["question"] and cfg.auth_mode == "token" and not cfg.webhook_enabled


def test_defaults_are_the_public_api_and_no_credentials():
    cfg = BotConfig.from_env({})
    assert cfg.api_url == "https://api.github.com" and cfg.auth_mode == "none" and not cfg.webhook_enabled


def test_a_toml_file_is_overridden_by_the_environment(tmp_path):
    f = tmp_path / "bot.toml"
    f.write_text('min_score = 0.8\nlabel_prefix = "fg/"\nexclude_labels = ["wontfix"]\napp_id = 12\n'
                 'private_key_file = "key.pem"\n')
    cfg = BotConfig.from_env({"FAILGRAPH_GITHUB_CONFIG": str(f), "FAILGRAPH_BOT_MIN_SCORE": "0.4"})
    assert cfg.min_score == 0.4 and cfg.label_prefix == "fg/" and cfg.exclude_labels == ["wontfix"]
    assert cfg.auth_mode == "app"


@pytest.mark.parametrize("env,words", [
    ({"FAILGRAPH_BOT_MIN_SCORE": "high"}, "FAILGRAPH_BOT_MIN_SCORE"),
    ({"FAILGRAPH_BOT_MIN_SCORE": "1.5"}, "FAILGRAPH_BOT_MIN_SCORE"),
    ({"FAILGRAPH_GITHUB_API_URL": "ftp://x"}, "FAILGRAPH_GITHUB_API_URL"),
    ({"FAILGRAPH_GITHUB_API_URL": "https://user:ghp_BBBB2222@evil"}, "FAILGRAPH_GITHUB_API_URL"),
    ({"FAILGRAPH_GITHUB_APP_ID": "ghp_BBBB2222"}, "FAILGRAPH_GITHUB_APP_ID"),
    ({"FAILGRAPH_GITHUB_CONFIG": "/nonexistent/bot.toml"}, "cannot read"),
])
def test_bad_settings_are_one_line_without_the_secret(env, words):
    with pytest.raises(ConfigError) as e:
        BotConfig.from_env({**SECRETS, **env})
    msg = str(e.value)
    assert words in msg and "\n" not in msg
    assert not any(s in msg for s in SECRETS.values())


def test_secrets_never_reach_reprs_or_logs(tmp_path, caplog):
    cfg = BotConfig.from_env(SECRETS)
    bot = GitHubBot.create(cfg, tmp_path, lambda req: None)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("failgraph.github").info("config %s %r bot %r api %r auth %r", cfg, cfg, bot,
                                                   bot.handler.api, bot.handler.api.auth)
    text = caplog.text + repr(cfg) + str(cfg) + cfg.model_dump_json() + repr(bot) + repr(TokenAuth(cfg.token))
    assert caplog.text and not any(s in text for s in SECRETS.values())
    assert cfg.token.get_secret_value() == SECRETS["FAILGRAPH_GITHUB_TOKEN"]


def test_a_private_key_with_escaped_line_breaks_is_restored():
    cfg = BotConfig.from_env({"FAILGRAPH_GITHUB_APP_ID": "1",
                              "FAILGRAPH_GITHUB_PRIVATE_KEY": "-----BEGIN KEY-----\\nAAAA\\n-----END KEY-----"})
    assert cfg.private_key_pem().splitlines() == ["-----BEGIN KEY-----", "AAAA", "-----END KEY-----"]


def test_serve_refuses_a_webhook_secret_without_credentials_in_one_line(home, monkeypatch):
    from typer.testing import CliRunner

    from failgraph.ui.cli import app

    for var in ("FAILGRAPH_GITHUB_TOKEN", "FAILGRAPH_GITHUB_APP_ID", "FAILGRAPH_GITHUB_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FAILGRAPH_GITHUB_WEBHOOK_SECRET", SECRETS["FAILGRAPH_GITHUB_WEBHOOK_SECRET"])
    r = CliRunner().invoke(app, ["serve", "--home", str(home.root), "--port", "1"])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "no credentials" in lines[0]
    assert SECRETS["FAILGRAPH_GITHUB_WEBHOOK_SECRET"] not in r.output


def test_token_mode_needs_neither_pyjwt_nor_cryptography(tmp_path, monkeypatch):
    import sys

    from github_fake import FakeGitHub, ScoredByText, issue_payload, make_cfg

    from failgraph.ui.github.action import handle_event
    from failgraph.ui.github.auth import make_auth

    for mod in ("jwt", "cryptography", "cryptography.hazmat.primitives"):
        monkeypatch.setitem(sys.modules, mod, None)  # import fails as if not installed
    fake = FakeGitHub()
    bot = GitHubBot.create(make_cfg(), tmp_path, ScoredByText(), transport=fake.transport)
    assert handle_event("issues", issue_payload(body="[score=0.9]"), bot.handler).action == "created"
    app_cfg = BotConfig.from_env({"FAILGRAPH_GITHUB_APP_ID": "1", "FAILGRAPH_GITHUB_PRIVATE_KEY": "k"})
    with pytest.raises(ConfigError, match=r"pip install 'failgraph\[github\]'"):
        make_auth(app_cfg, None)
