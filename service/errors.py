"""Errors: ONE handler turns every error into RFC 9457 problem details (application/problem+json, with a
stable `code` member) for the API, and into the console's HTML error page under the console's prefix."""
from __future__ import annotations

from http import HTTPStatus
from typing import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
HTTP_CODES = {400: "request.bad", 401: "auth.required", 403: "auth.forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "upload.too_large",
              415: "request.unsupported_media_type", 416: "range.not_satisfiable", 422: "request.invalid",
              429: "rate_limited"}
PageRenderer = Callable[[Request, Exception], Response]


class ApiError(HTTPException):
    """An answer other than success, with its HTTP status, stable code and detail."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(status, detail, headers)
        self.code = code


def code_of(exc: HTTPException) -> str:
    return getattr(exc, "code", None) or HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem details answer: type, title, status, detail and the stable code."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail, "code": code}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


def as_problem(exc: Exception) -> JSONResponse:
    if isinstance(exc, RequestValidationError):
        return problem(422, "request.invalid", _validation_detail(exc))
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, code_of(exc), str(exc.detail), exc.headers)


def install(app: FastAPI, pages: dict[str, PageRenderer]) -> None:
    """The one handler: a path under a prefix of `pages` gets that renderer's page, any other a problem."""

    async def handle(request: Request, exc: Exception) -> Response:
        for prefix, render in pages.items():
            if request.url.path == prefix or request.url.path.startswith(prefix + "/"):
                return render(request, exc)
        return as_problem(exc)

    handler: Callable[[Request, Exception], Awaitable[Response]] = handle
    app.add_exception_handler(HTTPException, handler)
    app.add_exception_handler(RequestValidationError, handler)
