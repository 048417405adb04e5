"""The console mounted on an app: its routers (login, review, users) and static files, under /console.

Every page needs a login (session cookie); every form post needs the session's CSRF token
(403 without it). A lesson outside the reviewer's level and region answers 404. Errors are
rendered by `error_page`, which the app's one error handler calls for paths under /console.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from index.review import User

from . import answers, queue, routes_login, routes_review, routes_users, sessions
from .context import PREFIX, Console, page
from .deps import NOT_LOGGED_IN, STALE_FORM, PageError, PageHeader
from .pages import STATIC

__all__ = ["Console", "PREFIX", "error_page", "install", "viewer"]

# What a reviewer reads when the framework, not a console check, refused the request.
GENERIC = {400: "请求有误。", 404: "找不到这个页面。", 405: "不支持这种请求方式。", 422: "请求的内容不正确。"}


def install(app: FastAPI, console: Console) -> None:
    """Mount the console (pages, form posts, static files) on an app."""
    app.state.console = console
    for module in (routes_login, routes_review, routes_users):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")


def error_page(request: Request, exc: Exception) -> Response:
    """The console's answer to an error: a redirect as asked, else the error page with the reviewer's header."""
    status = exc.status_code if isinstance(exc, HTTPException) else 422
    headers = exc.headers if isinstance(exc, HTTPException) else None
    if 300 <= status < 400:
        return Response(status_code=status, headers=headers)
    message = str(exc.detail) if isinstance(exc, PageError) else GENERIC.get(status, "无法完成这个请求。")
    header = getattr(request.state, "header", None)
    if answers.wants_json(request):   # the page's script: it shows the message and keeps what was typed
        return answers.refused(status, message, **_recovery(message, header))
    answer = page(request, "error.html", status, message=message, user=header.user if header else None,
                  csrf=header.csrf if header else "")
    answer.headers.update(headers or {})
    return answer


def _recovery(message: str, header: PageHeader | None) -> dict[str, str]:
    """How the page's script recovers: a login link when logged out, the session's token when the
    page's one is stale (logged in again in another window; only a same-origin script can read it)."""
    if message == NOT_LOGGED_IN:
        return {"login": f"{PREFIX}/login"}
    if message == STALE_FORM and header is not None:
        return {"csrf": header.csrf}
    return {}


def viewer(s: Session, cookie: str | None, job_id: str) -> User | None:
    """The reviewer behind a console session cookie, if they may see `job_id` (the API's video check)."""
    login = sessions.resolve(s, cookie)
    if login is None or queue.visible(s, login[0], job_id) is None:
        return None
    return login[0]
