"""Typed domain errors and the one handler that renders them as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://pangolin.example/problems/"

log = structlog.get_logger(__name__)


class PangolinError(Exception):
    """Base of every error a client may see. Subclasses set `status` and `code`."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = headers or {}
        self.extensions = extensions

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code.replace("_", "-"),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class InvalidInput(PangolinError):
    status, code, title = 422, "invalid_input", "Invalid input"


class BadRequest(PangolinError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthenticated(PangolinError):
    status, code, title = 401, "unauthenticated", "Authentication required"


class Forbidden(PangolinError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(PangolinError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(PangolinError):
    status, code, title = 409, "conflict", "Conflict"


class DependencyUnavailable(PangolinError):
    status, code, title = 503, "dependency_unavailable", "A dependency is unavailable"


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "lines", 0, "quantity")` -> `lines[0].quantity` (the location goes apart)."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        errors.append(
            {
                "location": str(loc[0]) if loc else "body",
                "field": field_path(loc),
                "message": err.get("msg", "invalid"),
                "type": err.get("type", "invalid"),
            }
        )
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    """Every error leaves the app as problem+json, a 500 included (logged, details hidden)."""

    async def on_pangolin_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PangolinError)
        return problem_response(exc.status, exc.problem(request.url.path), exc.headers)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        err = InvalidInput("The request does not match the schema.", errors=validation_errors(exc))
        return problem_response(err.status, err.problem(request.url.path))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        phrase = HTTPStatus(exc.status_code).phrase
        body = {
            "type": "about:blank",
            "title": phrase,
            "status": exc.status_code,
            "detail": exc.detail if isinstance(exc.detail, str) else phrase,
            "code": phrase.lower().replace(" ", "_"),
            "instance": request.url.path,
        }
        return problem_response(exc.status_code, body, dict(exc.headers or {}))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path, method=request.method)
        return problem_response(500, PangolinError().problem(request.url.path))

    app.add_exception_handler(PangolinError, on_pangolin_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
