"""The bot's settings: environment variables ``FAILGRAPH_GITHUB_*`` / ``FAILGRAPH_BOT_*``, over an optional TOML file.

Secrets (the webhook secret, a token, an App's private key) are ``SecretStr``: they never appear in a repr, a log line
or an error message.

>>> c = BotConfig.from_env({"FAILGRAPH_GITHUB_TOKEN": "ghp_abc", "FAILGRAPH_BOT_MIN_SCORE": "0.7"})
>>> c.min_score, c.auth_mode, "ghp_abc" in repr(c)
(0.7, 'token', False)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ...assistant.weights import COMMENT_THRESHOLD

CONFIG_FILE_ENV = "FAILGRAPH_GITHUB_CONFIG"
PUBLIC_API = "https://api.github.com"

#: Environment variable -> field. Lists are comma-separated; booleans 1/true/yes/on or 0/false/no/off.
ENV_FIELDS = {
    "FAILGRAPH_GITHUB_WEBHOOK_SECRET": "webhook_secret",
    "FAILGRAPH_GITHUB_TOKEN": "token",
    "FAILGRAPH_GITHUB_APP_ID": "app_id",
    "FAILGRAPH_GITHUB_PRIVATE_KEY": "private_key",
    "FAILGRAPH_GITHUB_PRIVATE_KEY_FILE": "private_key_file",
    "FAILGRAPH_GITHUB_INSTALLATION_ID": "installation_id",
    "FAILGRAPH_GITHUB_API_URL": "api_url",
    "FAILGRAPH_GITHUB_BOT_LOGIN": "bot_login",
    "FAILGRAPH_BOT_MIN_SCORE": "min_score",
    "FAILGRAPH_BOT_LABEL_PREFIX": "label_prefix",
    "FAILGRAPH_BOT_DRY_RUN": "dry_run",
    "FAILGRAPH_BOT_EXCLUDE_REPOS": "exclude_repos",
    "FAILGRAPH_BOT_EXCLUDE_LABELS": "exclude_labels",
    "FAILGRAPH_BOT_ASK_WHEN_UNSURE": "ask_when_unsure",
    "FAILGRAPH_BOT_MAX_SIMILAR": "max_similar",
    "FAILGRAPH_BOT_MAX_FIXES": "max_fixes",
    "FAILGRAPH_BOT_QUEUE_SIZE": "queue_size",
}
_LISTS = {"exclude_repos", "exclude_labels"}


class ConfigError(ValueError):
    """The bot's settings are incomplete or malformed (one line, no secret in it)."""


class BotConfig(BaseModel):
    """Everything the bot needs to know; build it with :meth:`from_env`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook_secret: SecretStr | None = Field(None, description="Shared secret of the webhook; without one "
                                                               "POST /github/webhook answers 404")
    token: SecretStr | None = Field(None, description="Token mode: a token allowed to write issue comments and labels")
    app_id: int | None = Field(None, ge=1, description="App mode: the GitHub App's id")
    private_key: SecretStr | None = Field(None, description="App mode: the App's private key (PEM)")
    private_key_file: Path | None = Field(None, description="App mode: a file holding the private key")
    installation_id: int | None = Field(None, ge=1, description="App mode without a webhook (the Action): the "
                                                                "installation to act as")
    api_url: str = Field(PUBLIC_API, description="The REST API root (GitHub Enterprise: https://HOST/api/v3)")
    bot_login: str | None = Field(None, description="The account the bot comments as (token mode), so that its "
                                                    "comment is found again after a restart")
    min_score: float = Field(COMMENT_THRESHOLD, ge=0.0, le=1.0,
                             description="Score of the first root cause needed to comment and label; 0 comments on "
                                         "every issue")
    label_prefix: str = Field("failgraph: ", max_length=40, description="Prefix of the taxonomy label")
    dry_run: bool = Field(False, description="Log what would be posted; write nothing to GitHub")
    exclude_repos: list[str] = Field(default_factory=list, description="owner/name of repositories to ignore")
    exclude_labels: list[str] = Field(default_factory=list, description="Issues with one of these labels are ignored")
    ask_when_unsure: bool = Field(False, description="Below the threshold, post the diagnosis's questions instead "
                                                     "of staying silent")
    max_similar: int = Field(3, ge=0, le=10)
    max_fixes: int = Field(3, ge=1, le=10)
    queue_size: int = Field(1000, ge=1, le=100_000, description="Deliveries waiting at most (then 503)")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if not v.startswith(("https://", "http://")) or "@" in v.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return v

    @field_validator("exclude_repos", "exclude_labels")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [x.strip().lower() for x in v if x.strip()]

    # -- derived ----------------------------------------------------------------------------------------------------

    @property
    def auth_mode(self) -> Literal["token", "app", "none"]:
        """``token`` (a token is set), ``app`` (an App id and key are set) or ``none``."""
        if self.token is not None and self.token.get_secret_value():
            return "token"
        if self.app_id is not None and (self.private_key is not None or self.private_key_file is not None):
            return "app"
        return "none"

    @property
    def webhook_enabled(self) -> bool:
        return self.webhook_secret is not None and bool(self.webhook_secret.get_secret_value())

    def private_key_pem(self) -> str:
        """The App's private key (read from the file when given by path)."""
        if self.private_key is not None:
            pem = self.private_key.get_secret_value()
            # a key pasted into one environment variable often carries its line breaks as the two characters \n
            return pem.replace("\\n", "\n") if "\n" not in pem.strip() else pem
        if self.private_key_file is None:
            raise ConfigError("App mode needs FAILGRAPH_GITHUB_PRIVATE_KEY or FAILGRAPH_GITHUB_PRIVATE_KEY_FILE")
        try:
            return self.private_key_file.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read the private key file {self.private_key_file}: {e.strerror}") from None

    # -- loading ----------------------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, file: str | Path | None = None) -> BotConfig:
        """Settings from a TOML file (``file``, else ``$FAILGRAPH_GITHUB_CONFIG``; keys are the field names) with the
        environment variables of :data:`ENV_FIELDS` on top. Raises :class:`ConfigError` (no secret in its text)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        path = file or env.get(CONFIG_FILE_ENV)
        if path:
            try:
                values.update(tomllib.loads(Path(path).read_text(encoding="utf-8")))
            except OSError as e:
                raise ConfigError(f"cannot read the bot's config file {path}: {e.strerror}") from None
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"the bot's config file {path} is not valid TOML: {e}") from None
        for var, name in ENV_FIELDS.items():
            raw = env.get(var)
            if raw is None or (raw.strip() == "" and name not in ("label_prefix",)):
                continue
            values[name] = [x for x in raw.split(",")] if name in _LISTS else raw
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "config"
            var = next((k for k, v in ENV_FIELDS.items() if v == where), where)
            # the message only: pydantic's text would quote the input, which may be a secret
            raise ConfigError(f"{var}: {first['msg']}") from None


__all__ = ["CONFIG_FILE_ENV", "ENV_FIELDS", "PUBLIC_API", "BotConfig", "ConfigError"]
