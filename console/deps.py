"""What console routes depend on: the Console, an index session, the logged-in reviewer, a checked form post,
a lesson the reviewer may see. A failed check raises PageError (the app's one handler renders the page)."""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Iterator
from urllib.parse import urlencode

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from index.models import Job
from index.review import User

from . import queue, sessions
from .context import PREFIX, Console, Login

NOT_LOGGED_IN = "未登录或登录已过期，请重新登录。"
STALE_FORM = "表单已失效（缺少安全令牌），请刷新页面后重试。"
NOT_VISIBLE = "找不到这节课，或它不在你的审核范围内。"
ADMINS_ONLY = "只有管理员可以管理用户。"


class PageError(HTTPException):
    """A console answer other than the page asked for: its status and the message shown to the reviewer."""


def console_of(request: Request) -> Console:
    return request.app.state.console


ConsoleDep = Annotated[Console, Depends(console_of)]


def index_session(console: ConsoleDep) -> Iterator[Session]:
    """One index session per request, committed before the answer is sent (rolled back on an error)."""
    with console.db.session() as s:
        yield s


DbSession = Annotated[Session, Depends(index_session, scope="function")]


@dataclass(frozen=True)
class PageHeader:
    """Who is logged in, as the error page's header shows it (read after the request's session closed)."""

    user: SimpleNamespace
    csrf: str


def optional_login(request: Request, s: DbSession) -> Login | None:
    """The login behind the session cookie (its header kept on the request for an error page)."""
    login = sessions.resolve(s, request.cookies.get(sessions.COOKIE))
    if login is not None:
        user = SimpleNamespace(**{k: getattr(login[0], k) for k in ("name", "display_name", "level", "region",
                                                                     "is_admin")})
        request.state.header = PageHeader(user, login[1].csrf_token)
    return login


MaybeLogin = Annotated[Login | None, Depends(optional_login)]


def current_login(request: Request, login: MaybeLogin) -> Login:
    """The login; a page asked without one goes to the login form (303), a form post is refused (403)."""
    if login is not None:
        return login
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PageError(303, headers={"Location": f"{PREFIX}/login?{urlencode({'next': target})}"})
    raise PageError(403, NOT_LOGGED_IN)


CurrentLogin = Annotated[Login, Depends(current_login)]


def current_reviewer(login: CurrentLogin) -> User:
    return login[0]


CurrentReviewer = Annotated[User, Depends(current_reviewer)]


async def posted_login(request: Request, login: CurrentLogin) -> Login:
    """The login of a form post that carries its session's CSRF token (403 without it)."""
    form = await request.form()
    if not sessions.same(login[1].csrf_token, str(form.get("csrf_token") or "")):
        raise PageError(403, STALE_FORM)
    return login


PostedLogin = Annotated[Login, Depends(posted_login)]


def admin(login: CurrentLogin) -> Login:
    if not login[0].is_admin:
        raise PageError(403, ADMINS_ONLY)
    return login


def posting_admin(login: PostedLogin) -> Login:
    return admin(login)


Admin = Annotated[Login, Depends(admin)]
PostingAdmin = Annotated[Login, Depends(posting_admin)]


def visible_lesson(job_id: str, reviewer: CurrentReviewer, s: DbSession) -> Job:
    """The lesson in the path if the reviewer may see it (404 otherwise, whatever the reason)."""
    job = queue.visible(s, reviewer, job_id)
    if job is None:
        raise PageError(404, NOT_VISIBLE)
    return job


def acted_lesson(job_id: str, login: PostedLogin, s: DbSession) -> Job:
    """The lesson of a checked form post (login, CSRF token, then visibility)."""
    return visible_lesson(job_id, login[0], s)


VisibleLesson = Annotated[Job, Depends(visible_lesson)]
ActedLesson = Annotated[Job, Depends(acted_lesson)]
