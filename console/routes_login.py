"""Logging in and out: the login form (double-submit CSRF cookie), lockout and rate limit answers."""
from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from . import accounts, sessions
from .context import PREFIX, console_of, current_login, error, page, safe_next, set_cookie

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", csrf=token, next=safe_next(next), message=None, user=None,
                    max_failed=console_of(request).settings.max_failed_logins)
    set_cookie(response, sessions.LOGIN_CSRF_COOKIE, token, console_of(request).settings, None)
    return response


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    console = console_of(request)
    if not sessions.same(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), csrf_token):
        return error(request, 403, "表单已失效（缺少安全令牌），请刷新登录页后重试。")
    client = request.client.host if request.client else "?"
    if not console.throttle.allow(client):
        return _login_again(request, 429, "登录尝试过于频繁，请稍后再试。", csrf_token, next)
    with console.db.session() as s:
        result, user = accounts.authenticate(s, username, password, console.settings)
        token = sessions.start(s, user, console.settings) if result is accounts.Login.OK and user else None
    if token is None:
        return _refused(request, result, csrf_token, next)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, sessions.COOKIE, token, console.settings, int(console.settings.session_hours * 3600))
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/")
    return response


def _refused(request: Request, result: accounts.Login, csrf: str, next: str) -> Response:
    minutes = int(console_of(request).settings.lockout_minutes)
    if result is accounts.Login.LOCKED:
        return _login_again(request, 423, f"密码错误次数过多，账户已锁定，请 {minutes} 分钟后再试。", csrf, next)
    if result is accounts.Login.INACTIVE:
        return _login_again(request, 403, "账户已停用，请联系管理员。", csrf, next)
    return _login_again(request, 401, "用户名或密码错误。", csrf, next)


def _login_again(request: Request, status_code: int, message: str, csrf: str, next: str) -> Response:
    return page(request, "login.html", status_code, csrf=csrf, next=safe_next(next), message=message, user=None,
                max_failed=console_of(request).settings.max_failed_logins)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with console_of(request).db.session() as s:
        login = current_login(request, s)
        if login is None or not sessions.same(login[1].csrf_token, csrf_token):
            return error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。")
        sessions.end(s, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
