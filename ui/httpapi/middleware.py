"""The request body limit: bodies over ``max_bytes`` are refused with 413 before any route reads them."""

from __future__ import annotations

from fastapi.exceptions import HTTPException
from pydantic import BaseModel

from .schemas import ErrorResponse


def too_large_detail(path: str, limit: int, sparql_path: str = "/sparql") -> str:
    """The 413 message for a request to ``path``: about the query on the SPARQL endpoint, about the report elsewhere."""
    if path == sparql_path or path.startswith(sparql_path + "/"):
        return f"the request body is larger than {limit:,} bytes; shorten the SPARQL query"
    return (f"the request body is larger than {limit:,} bytes; send a shorter report "
            f"(the head and the tail of a long log are what matter)")


class BodyTooLarge(HTTPException):
    """A body found too large while it was read (413)."""

    def __init__(self, limit: int, path: str = ""):
        super().__init__(413, too_large_detail(path, limit))


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` (``per_path``: other limits for some paths) with 413: by
    Content-Length up front, else while reading."""

    def __init__(self, app, max_bytes: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.per_path.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    return await _send_json(send, 400, ErrorResponse(detail="invalid Content-Length header"))
                if too_big:
                    detail = BodyTooLarge(limit, scope.get("path", "")).detail
                    return await _send_json(send, 413, ErrorResponse(detail=detail))
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, scope.get("path", ""))
            return msg

        await self.app(scope, limited_receive, send)


async def _send_json(send, status: int, body: BaseModel) -> None:
    data = body.model_dump_json().encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


__all__ = ["BodyLimitMiddleware", "BodyTooLarge", "too_large_detail"]
