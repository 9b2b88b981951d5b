"""GitHub App mode: an RS256 JWT (checked by the fake API with the App's public key) buys installation tokens,
cached until shortly before they expire, renewed when GitHub refuses one."""

from __future__ import annotations

import pytest
from github_fake import FakeGitHub, ScoredByText, issue_payload

from failgraph.ui.github.action import handle_event
from failgraph.ui.github.bot import GitHubBot
from failgraph.ui.github.config import BotConfig

pytest.importorskip("jwt")
APP_ID = 4242


@pytest.fixture(scope="module")
def keypair():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def app_bot(tmp_path, fake, private, *, key_file=False):
    env = {"FAILGRAPH_GITHUB_APP_ID": str(APP_ID), "FAILGRAPH_BOT_MIN_SCORE": "0.5"}
    if key_file:
        (tmp_path / "key.pem").write_text(private)
        env["FAILGRAPH_GITHUB_PRIVATE_KEY_FILE"] = str(tmp_path / "key.pem")
    else:
        env["FAILGRAPH_GITHUB_PRIVATE_KEY"] = private
    cfg = BotConfig.from_env(env)
    assert cfg.auth_mode == "app"
    return GitHubBot.create(cfg, tmp_path / "state", ScoredByText(), transport=fake.transport)


def run(bot, number, installation=77):
    return handle_event("issues", issue_payload(number=number, body="[score=0.9]", installation=installation),
                        bot.handler)


@pytest.mark.parametrize("key_file", [False, True])
def test_the_jwt_is_verified_and_the_token_cached(tmp_path, keypair, key_file):
    private, public = keypair
    fake = FakeGitHub(bot_user={"login": "failgraph[bot]", "type": "Bot"}, public_key=public, app_id=APP_ID)
    bot = app_bot(tmp_path, fake, private, key_file=key_file)
    for n in (1, 2, 3):
        assert run(bot, n).action == "created"
    assert fake.count("POST", r"/access_tokens$") == 1 and len(fake.jwts) == 1
    claims = fake.jwts[0]
    assert claims["iss"] == str(APP_ID) and claims["exp"] - claims["iat"] <= 600
    assert all(len(fake.bot_comments("acme/llm", n)) == 1 for n in (1, 2, 3))
    run(bot, 4, installation=78)  # another installation: its own token
    assert fake.count("POST", r"/installations/78/access_tokens$") == 1


def test_a_token_about_to_expire_is_renewed(tmp_path, keypair):
    import time

    from failgraph.ui.github.auth import REFRESH_MARGIN_S

    private, public = keypair
    # the token lives 30 s past the renewal margin: reused at once, renewed 31 s later
    fake = FakeGitHub(bot_user={"login": "failgraph[bot]", "type": "Bot"}, public_key=public, app_id=APP_ID,
                      token_ttl_s=REFRESH_MARGIN_S + 30)
    bot = app_bot(tmp_path, fake, private)
    auth, offset = bot.handler.api.auth, [0.0]
    auth.clock = lambda: time.time() + offset[0]
    run(bot, 1)
    run(bot, 2)
    assert auth.exchanges == 1
    fake.token_ttl_s = 3600.0  # the next token lives an hour
    offset[0] = 31.0  # 31 s later (the JWT's iat, 60 s back, stays in the past)
    run(bot, 3)
    run(bot, 4)
    assert auth.exchanges == 2 and fake.count("POST", r"/access_tokens$") == 2


def test_a_revoked_token_is_replaced_once(tmp_path, keypair):
    private, public = keypair
    fake = FakeGitHub(bot_user={"login": "failgraph[bot]", "type": "Bot"}, public_key=public, app_id=APP_ID)
    bot = app_bot(tmp_path, fake, private)
    run(bot, 1)
    fake.issued.clear()  # GitHub revoked the installation's tokens
    assert run(bot, 1).action == "unchanged"
    assert fake.count("POST", r"/access_tokens$") == 2


def test_a_wrong_key_is_refused_by_github_without_leaking_it(tmp_path, keypair):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from failgraph.ui.github.client import Unavailable

    public = keypair[1]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    fake = FakeGitHub(public_key=public, app_id=APP_ID)
    bot = app_bot(tmp_path, fake, other)
    with pytest.raises(Unavailable) as e:
        handle_event("issues", issue_payload(body="[score=0.9]", installation=77), bot.handler, attempts=1)
    assert "installation token" in str(e.value) and "PRIVATE KEY" not in str(e.value)
