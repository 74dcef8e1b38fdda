"""Every error leaves as `{"error": {"code", "message", "details"}}` with a fitting status."""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from headshot.domain import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.HeadshotError], int] = {
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.InvalidInputError: 422,
    errors.PayloadTooLargeError: 413,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.RateLimitedError: 429,
    errors.ServerBusyError: 503,
}

_HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthenticated", "Please sign in."),
    403: ("forbidden", "You are not allowed to do that."),
    404: ("not_found", "Nothing here."),
    405: ("method_not_allowed", "That method is not allowed here."),
    413: ("too_large", "The request is too large."),
}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    headers = {}
    if status in (429, 503) and details and "retry_after_s" in details:
        headers["Retry-After"] = str(details["retry_after_s"])
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.HeadshotError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    return error_response(status, exc.code, exc.message, exc.details)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "problem": "invalid"}
    message = f"Please check {first['field'] or 'the request'}: {first['problem']}."
    plain = [e for e in exc.errors() if e.get("type") == "plain"]
    if plain:  # written for people already (see `schemas.PLAIN_ERROR`)
        message = str(plain[0].get("msg", message))
    return error_response(422, "invalid_input", message, {"fields": problems})


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("error", "The request failed."))
    return error_response(exc.status_code, code, message)


OUT_OF_SPACE = (
    "The server has run out of storage space, so this was not saved. Please try again later."
)
_POSTGRES_DISK_FULL = "53100"


def is_out_of_space(exc: BaseException) -> bool:
    """Whether a full disk (or quota) caused `exc`: a file write, SQLite or PostgreSQL."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if getattr(cause, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
        cause = cause.__cause__ or cause.__context__
    return False


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if is_out_of_space(exc):
        # Neither the request's fault nor a bug: the operator has to free space, and the
        # person is told plainly instead of "something went wrong".
        log.error("storage full on %s: %s", request.url.path, type(exc).__name__)
        return error_response(507, "out_of_space", OUT_OF_SPACE)
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(500, "internal", "Something went wrong on our side. Please try again.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.HeadshotError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
