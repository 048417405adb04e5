"""Logging in and out: the login form (double-submit CSRF cookie), one answer for every failed login, the
per-client rate limit."""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from . import accounts, sessions
from .context import PREFIX, page, safe_next, set_cookie
from .deps import ConsoleDep, DbSession, PageError, PostedLogin
from .forms import LoginForm

router = APIRouter(prefix=PREFIX, include_in_schema=False)
# The one answer to every failed login: wrong password, unknown user, disabled or locked account.
REFUSED = "用户名或密码错误，或账户暂不可用。"


@router.get("/login")
def login_form(request: Request, console: ConsoleDep, next: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, next=safe_next(next), message=None, user=None,
                    max_failed=console.settings.max_failed_logins)
    set_cookie(response, sessions.LOGIN_CSRF_COOKIE, token, console.settings, None)
    return response


@router.post("/login")
def login(request: Request, console: ConsoleDep, s: DbSession, form: Annotated[LoginForm, Form()]) -> Response:
    if not sessions.same(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), form.csrf_token):
        raise PageError(403, "表单已失效（缺少安全令牌），请刷新登录页后重试。")
    client = request.client.host if request.client else "?"
    accounts.purge(console.db, console.settings)
    if not accounts.within_rate(console.db, client, console.settings):
        return _login_again(request, console, 429, "登录尝试过于频繁，请稍后再试。", form)
    user = accounts.authenticate(console.db, form.username, form.password, client, console.settings)
    if user is None:
        return _login_again(request, console, 401, REFUSED, form)
    response = RedirectResponse(safe_next(form.next), status_code=303)
    token = sessions.start(s, user, console.settings)
    set_cookie(response, sessions.COOKIE, token, console.settings, int(console.settings.session_hours * 3600))
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/")
    return response


def _login_again(request: Request, console: ConsoleDep, status_code: int, message: str, form: LoginForm) -> Response:
    return page(request, "login.html", status_code, csrf=form.csrf_token, next=safe_next(form.next), message=message,
                user=None, max_failed=console.settings.max_failed_logins, username=form.username[:100])


@router.post("/logout")
def logout(request: Request, s: DbSession, _login: PostedLogin) -> Response:
    sessions.end(s, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
