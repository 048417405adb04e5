"""User management for admins: list, add, unlock, (de)activate (every post with its CSRF token)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from index.models import utcnow
from index.review import User

from . import accounts, sessions
from .context import PREFIX, page
from .deps import Admin, ConsoleDep, DbSession, PageError, PostingAdmin
from .forms import NewUserForm

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ACTIONS = ("unlock", "deactivate", "activate")


@router.get("/users")
def users_page(request: Request, s: DbSession, admin: Admin, done: str = "") -> Response:
    return page(request, "users.html", user=admin[0], csrf=admin[1].csrf_token, users=accounts.all_users(s),
                message=None, done=done == "1", now=utcnow())


@router.post("/users")
def add_user(request: Request, console: ConsoleDep, s: DbSession, admin: PostingAdmin,
             form: Annotated[NewUserForm, Form()]) -> Response:
    new = accounts.NewUser(form.name, form.level, form.region, form.password, form.is_admin == "on")
    try:
        accounts.add_user(s, new, console.settings)
    except accounts.UserError as exc:
        return page(request, "users.html", 400, user=admin[0], csrf=admin[1].csrf_token,
                    users=accounts.all_users(s), message=str(exc), done=False, now=utcnow())
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)


@router.post("/users/{user_id}/{action}")
def change_user(s: DbSession, _admin: PostingAdmin, user_id: int, action: str) -> Response:
    target = s.get(User, user_id)
    if target is None or action not in ACTIONS:
        raise PageError(404, "没有这个用户或操作。")
    if action == "unlock":
        accounts.unlock(target)
    else:
        target.active = action == "activate"
        if not target.active:
            sessions.end_all(s, target)
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)
