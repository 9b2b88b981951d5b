"""The GitHub bot: a webhook receiver on ``failgraph serve`` and a GitHub Action that comment a diagnosis on new
issues, one comment per issue kept up to date in place.

- :mod:`.config`: the settings (environment variables, an optional TOML file), secrets as ``SecretStr``.
- :mod:`.signature`: ``X-Hub-Signature-256`` (HMAC-SHA256 over the raw body).
- :mod:`.events`: webhook payloads (pydantic) and which deliveries become work.
- :mod:`.auth`: a personal token, or a GitHub App's JWT exchanged for installation tokens.
- :mod:`.client`: the few REST calls the bot makes, with rate-limit and server-error handling.
- :mod:`.comment`: the comment's Markdown (untrusted text escaped).
- :mod:`.state`: per-issue state (opt-outs, the comment's id) persisted atomically in the graph home.
- :mod:`.handler`: one job end to end (diagnose, find the comment, create or edit it, label).
- :mod:`.queue`: the bounded queue and its worker (delayed retries, drained or persisted on shutdown).
- :mod:`.bot`: the webhook service that ties them together; :mod:`.action`: the server-less entry of the Action.
"""
