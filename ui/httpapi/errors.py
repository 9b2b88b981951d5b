"""The exception handlers: every error is answered ``{"detail": "…"}`` (validation errors add ``errors``)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...assistant.report import ReportError
from .knowledge import KnowledgeUnavailable
from .schemas import ErrorResponse, FieldError, ValidationErrorResponse

log = logging.getLogger("failgraph.api")


def _loc(loc) -> list[str | int]:
    return [x if isinstance(x, int) else str(x) for x in loc]


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """HTTP errors as ``{"detail"}``; a JSON body that is not UTF-8 is a 422 naming the bad byte."""
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's 400 for a JSON body that is not UTF-8
        bad = exc.__cause__
        detail = (f"the request body is not valid UTF-8 (byte 0x{bad.object[bad.start]:02X} at offset "
                  f"{bad.start}); send JSON encoded as UTF-8")
        return JSONResponse(ValidationErrorResponse(detail=detail, errors=[
            FieldError(loc=["body"], msg=detail)]).model_dump(), status_code=422)
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return JSONResponse(ErrorResponse(detail=detail).model_dump(), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with one line naming up to five bad fields, and every field error in ``errors``."""
    errs = [FieldError(loc=_loc(e.get("loc", ())), msg=str(e.get("msg", "invalid")).removeprefix("Value error, "))
            for e in exc.errors()]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        detail = "the request body is not valid JSON"
    else:
        detail = "invalid request: " + "; ".join(
            f"{'.'.join(str(x) for x in f.loc if x != 'body') or 'body'}: {f.msg}" for f in errs[:5])
    return JSONResponse(ValidationErrorResponse(detail=detail, errors=errs).model_dump(), status_code=422)


async def report_error(request: Request, exc: ReportError) -> JSONResponse:
    """A report that cannot be read: 422 on ``body.text``."""
    return JSONResponse(ValidationErrorResponse(detail=str(exc), errors=[
        FieldError(loc=["body", "text"], msg=str(exc))]).model_dump(), status_code=422)


async def knowledge_unavailable(request: Request, exc: KnowledgeUnavailable) -> JSONResponse:
    return JSONResponse(ErrorResponse(detail=str(exc)).model_dump(), status_code=503, headers={"Retry-After": "30"})


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: logged with its traceback, answered 500 with one line."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(ErrorResponse(detail="internal error: the request could not be completed").model_dump(),
                        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers above on ``app``."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ReportError, report_error)
    app.add_exception_handler(KnowledgeUnavailable, knowledge_unavailable)
    app.add_exception_handler(Exception, internal_error)


__all__ = ["install_error_handlers"]
