"""User management for admins: list, add, unlock, (de)activate (every post with its CSRF token)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from index.models import utcnow
from index.review import User

from . import accounts, sessions
from .context import PREFIX, Login, current_login, error, page, to_login, console_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/users")
def users_page(request: Request, done: str = "") -> Response:
    with console_of(request).db.session() as s:
        login = current_login(request, s)
        if login is None:
            return to_login(request)
        if not login[0].is_admin:
            return error(request, 403, "只有管理员可以管理用户。", login)
        return page(request, "users.html", user=login[0], csrf=login[1].csrf_token, users=accounts.all_users(s),
                    message=None, done=done == "1", now=utcnow())


@router.post("/users")
def add_user(request: Request, name: Annotated[str, Form()] = "", level: Annotated[str, Form()] = "",
             region: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
             is_admin: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    console = console_of(request)
    with console.db.session() as s:
        admin = _admin(request, s, csrf_token)
        if isinstance(admin, Response):
            return admin
        try:
            accounts.add_user(s, accounts.NewUser(name, level, region, password, is_admin == "on"), console.settings)
        except accounts.UserError as exc:
            return page(request, "users.html", 400, user=admin[0], csrf=admin[1].csrf_token,
                        users=accounts.all_users(s), message=str(exc), done=False, now=utcnow())
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)


@router.post("/users/{user_id}/{action}")
def change_user(request: Request, user_id: int, action: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    with console_of(request).db.session() as s:
        admin = _admin(request, s, csrf_token)
        if isinstance(admin, Response):
            return admin
        target = s.get(User, user_id)
        if target is None or action not in ("unlock", "deactivate", "activate"):
            return error(request, 404, "没有这个用户或操作。", admin)
        if action == "unlock":
            accounts.unlock(target)
        else:
            target.active = action == "activate"
            if not target.active:
                sessions.end_all(s, target)
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)


def _admin(request: Request, s: Session, csrf_token: str) -> Login | Response:
    login = current_login(request, s)
    if login is None or not sessions.same(login[1].csrf_token, csrf_token):
        return error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。", login)
    if not login[0].is_admin:
        return error(request, 403, "只有管理员可以管理用户。", login)
    return login
