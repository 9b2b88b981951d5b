"""Who the bot is on GitHub: a token (token mode) or a GitHub App (an RS256 JWT exchanged for installation tokens,
each cached until shortly before it expires). App mode needs PyJWT and cryptography (``pip install
'failgraph[github]'``); token mode needs neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import SecretStr

from .config import BotConfig, ConfigError

API_VERSION = "2022-11-28"
BASE_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "failgraph-bot"}
#: An installation token is renewed this many seconds before GitHub says it expires (they live one hour).
REFRESH_MARGIN_S = 300.0


class AuthError(Exception):
    """No credentials could be obtained (one line, without secrets)."""


class TokenAuth:
    """A fixed token (``FAILGRAPH_GITHUB_TOKEN``, or the Action's ``GITHUB_TOKEN``)."""

    def __init__(self, token: SecretStr):
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token=**********)"

    def headers(self, installation_id: int | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get_secret_value()}"}

    def invalidate(self, installation_id: int | None) -> None:
        """Nothing to renew: a refused token stays refused."""


class AppAuth:
    """A GitHub App: a JWT signed with the App's key (10 minutes at most, ``iat`` 60 s in the past against clock
    drift) buys an installation token at ``POST /app/installations/{id}/access_tokens``; tokens are cached per
    installation until :data:`REFRESH_MARGIN_S` before their ``expires_at``."""

    def __init__(self, app_id: int, private_key: SecretStr, api_url: str, http: httpx.Client, *,
                 default_installation: int | None = None, clock: Callable[[], float] = time.time):
        try:
            import jwt  # noqa: F401  (PyJWT, with cryptography for RS256)
            from cryptography.hazmat.primitives import serialization  # noqa: F401
        except ImportError:
            raise ConfigError("GitHub App mode needs PyJWT and cryptography: pip install 'failgraph[github]'") from None
        self.app_id = app_id
        self._key = private_key
        self.api_url = api_url.rstrip("/")
        self._http = http
        self.clock = clock
        self.default_installation = default_installation
        self._tokens: dict[int, tuple[SecretStr, float]] = {}
        self._lock = threading.Lock()
        self.exchanges = 0  # how many installation tokens were fetched (the tests count refreshes)

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self.app_id}, key=**********)"

    def app_jwt(self) -> str:
        """A fresh JWT identifying the App (RS256)."""
        import jwt

        now = int(self.clock())
        try:
            return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(self.app_id)},
                              self._key.get_secret_value(), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise AuthError("the GitHub App's private key is not a valid RSA key in PEM format") from None

    def installation_token(self, installation_id: int) -> str:
        """A valid installation token (cached; renewed shortly before it expires)."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and self.clock() < cached[1] - REFRESH_MARGIN_S:
                return cached[0].get_secret_value()
            url = f"{self.api_url}/app/installations/{installation_id}/access_tokens"
            try:
                resp = self._http.post(url, headers={**BASE_HEADERS, "Authorization": f"Bearer {self.app_jwt()}"})
            except httpx.HTTPError as e:
                raise AuthError(f"could not reach {self.api_url} for an installation token: "
                                f"{type(e).__name__}") from None
            if resp.status_code != 201:
                raise AuthError(f"GitHub refused an installation token for installation {installation_id}: "
                                f"HTTP {resp.status_code}")
            data = resp.json()
            try:
                expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00")).timestamp()
                token = SecretStr(data["token"])
            except (KeyError, TypeError, ValueError, AttributeError):
                raise AuthError("GitHub's installation-token answer has no token or expires_at") from None
            self._tokens[installation_id] = (token, expires)
            self.exchanges += 1
            return token.get_secret_value()

    def headers(self, installation_id: int | None) -> dict[str, str]:
        inst = installation_id or self.default_installation
        if inst is None:
            raise AuthError("GitHub App mode needs the installation id (from the webhook, or "
                            "FAILGRAPH_GITHUB_INSTALLATION_ID)")
        return {"Authorization": f"Bearer {self.installation_token(inst)}"}

    def invalidate(self, installation_id: int | None) -> None:
        """Forget a token GitHub refused (revoked early): the next call fetches a new one."""
        with self._lock:
            self._tokens.pop(installation_id or self.default_installation or 0, None)


def make_auth(cfg: BotConfig, http: httpx.Client, clock: Callable[[], float] = time.time) -> TokenAuth | AppAuth:
    """The credentials the configuration names; :class:`ConfigError` when it names none."""
    if cfg.auth_mode == "token":
        return TokenAuth(cfg.token)
    if cfg.auth_mode == "app":
        return AppAuth(cfg.app_id, SecretStr(cfg.private_key_pem()), cfg.api_url, http,
                       default_installation=cfg.installation_id, clock=clock)
    raise ConfigError("the GitHub bot needs FAILGRAPH_GITHUB_TOKEN, or FAILGRAPH_GITHUB_APP_ID with "
                      "FAILGRAPH_GITHUB_PRIVATE_KEY or FAILGRAPH_GITHUB_PRIVATE_KEY_FILE")


__all__ = ["BASE_HEADERS", "REFRESH_MARGIN_S", "AppAuth", "AuthError", "TokenAuth", "make_auth"]
