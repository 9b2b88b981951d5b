"""``POST /github/webhook``: GitHub's deliveries for the bot (:mod:`failgraph.ui.github`).

Mounted only when a webhook secret is configured (else the path is a 404). Every delivery must carry a valid
``X-Hub-Signature-256`` (401 otherwise); a ``ping`` answers 200; a queued delivery 202 at once (the work runs in the
background), a repeated ``X-GitHub-Delivery`` or an ignored one 200 with the reason, a full queue 503.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ...github.bot import Ack, GitHubBot
from ...github.signature import HEADER, verify
from ..schemas import ErrorResponse

PATH = "/github/webhook"
STATUS = {"queued": 202, "duplicate": 200, "ignored": 200, "pong": 200, "busy": 503}
ERRORS = {400: {"model": ErrorResponse, "description": "Missing GitHub headers or a body that is not JSON"},
          401: {"model": ErrorResponse, "description": "Missing or invalid X-Hub-Signature-256"},
          413: {"model": ErrorResponse, "description": "Request body too large"},
          422: {"model": ErrorResponse, "description": "A payload not in the shape of its event"},
          503: {"model": Ack, "description": "The bot's queue is full; redeliver later"}}


def _payload(body: bytes, content_type: str) -> dict:
    """The delivery's JSON (``application/json``, or the ``payload`` field of a form-encoded delivery)."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
            data = json.loads(fields["payload"][0])
        else:
            data = json.loads(body)
    except (ValueError, KeyError, UnicodeDecodeError):
        raise HTTPException(400, "the delivery's body is not a JSON payload") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the delivery's payload is not a JSON object")
    return data


def github_router(bot: GitHubBot) -> APIRouter:
    """The webhook route of ``bot`` (whose configuration holds the secret)."""
    router = APIRouter(tags=["github"], responses=ERRORS)
    secret = bot.cfg.webhook_secret.get_secret_value().encode("utf-8")

    @router.post(PATH, response_model=Ack, status_code=202, summary="Receive a GitHub webhook delivery "
                 "(issues, issue_comment, ping)")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        if not verify(secret, body, request.headers.get(HEADER)):
            raise HTTPException(401, f"missing or invalid {HEADER}: sign the body with the webhook's secret")
        event = request.headers.get("X-GitHub-Event", "").strip()
        delivery = request.headers.get("X-GitHub-Delivery", "").strip()
        if not event or not delivery or len(delivery) > 100:
            raise HTTPException(400, "a GitHub delivery needs the X-GitHub-Event and X-GitHub-Delivery headers")
        payload = _payload(body, request.headers.get("content-type", ""))
        try:
            ack = bot.receive(event, delivery, payload)
        except ValidationError as e:
            where = ".".join(str(x) for x in e.errors()[0]["loc"])
            raise HTTPException(422, f"the {event} payload is not in GitHub's shape (at {where or 'the top'})") \
                from None
        headers = {"Retry-After": "60"} if ack.status == "busy" else None
        return JSONResponse(ack.model_dump(exclude_none=True), status_code=STATUS[ack.status], headers=headers)

    return router


__all__ = ["PATH", "github_router"]
