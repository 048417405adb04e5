"""The console's pages and form posts under /console (FastAPI router, server-rendered).

Every page needs a login (session cookie); every form post needs the session's CSRF token
(403 without it). A lesson outside the reviewer's level and region answers 404.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from index import decisions as records
from index.db import Database
from index.models import Job
from index.review import LoginSession, User

from . import accounts, lesson as lessons, queue, sessions, workflow
from .levels import LEVEL_NAMES
from .pages import STATIC, SECURITY_HEADERS, render
from .settings import ConsoleSettings
from .throttle import SlidingWindow

PREFIX = "/console"
DecisionHook = Callable[[str, dict[str, Any]], None]   # (job id, decision record) after a level decides


@dataclass
class Console:
    """What the routes need, set on app.state.console by install().

    `database` opens the index on first use; `video_url` names the player's source (the API's
    range-request video endpoint, which accepts the console's session cookie); `on_decision`
    hands each committed decision to the platform (the signed decision callback).
    """

    database: Callable[[], Database]
    settings: ConsoleSettings
    on_decision: DecisionHook | None = None
    video_url: Callable[[str], str] = lambda job_id: f"/api/v1/jobs/{job_id}/video"
    throttle: SlidingWindow = field(init=False)
    _choices: tuple[float, dict[str, list[str]]] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.throttle = SlidingWindow(self.settings.login_rate_per_client, self.settings.login_rate_window_s)

    def choices(self, s: Session) -> dict[str, list[str]]:
        """The filter drop-downs' values, re-read at most every choices_ttl_s seconds."""
        now = time.monotonic()
        if self._choices is None or now - self._choices[0] > self.settings.choices_ttl_s:
            self._choices = (now, queue.choices(s))
        return self._choices[1]

    @property
    def db(self) -> Database:
        return self.database()


router = APIRouter(prefix=PREFIX, include_in_schema=False)


def install(app: FastAPI, console: Console) -> None:
    """Mount the console (pages, static files) on an app."""
    app.state.console = console
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")


def _console(request: Request) -> Console:
    return request.app.state.console


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    return render(_console(request).settings.display_timezone, name, status_code, **context)


def _error(request: Request, status_code: int, message: str, login: tuple[User, LoginSession] | None = None) -> Response:
    user, row = login or (None, None)
    return _page(request, "error.html", status_code, message=message, user=user,
                 csrf=row.csrf_token if row else "")


def _login(request: Request, s: Session) -> tuple[User, LoginSession] | None:
    return sessions.resolve(s, request.cookies.get(sessions.COOKIE))


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': target})}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console (no scheme, no //host) is followed after login."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def _cookie(response: Response, name: str, value: str, settings: ConsoleSettings, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=settings.secure_cookies)


# ---- login / logout ------------------------------------------------------------------------------

@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = _page(request, "login.html", csrf=token, next=_safe_next(next), message=None, user=None,
                     max_failed=_console(request).settings.max_failed_logins)
    _cookie(response, sessions.LOGIN_CSRF_COOKIE, token, _console(request).settings, None)
    return response


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    console = _console(request)
    if not sessions.same(request.cookies.get(sessions.LOGIN_CSRF_COOKIE), csrf_token):
        return _error(request, 403, "表单已失效（缺少安全令牌），请刷新登录页后重试。")
    client = request.client.host if request.client else "?"
    if not console.throttle.allow(client):
        return _login_again(request, 429, "登录尝试过于频繁，请稍后再试。", csrf_token, next)
    with console.db.session() as s:
        result, user = accounts.authenticate(s, username, password, console.settings)
        token = sessions.start(s, user, console.settings) if result is accounts.Login.OK and user else None
    if token is None:
        return _refused(request, result, csrf_token, next)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _cookie(response, sessions.COOKIE, token, console.settings, int(console.settings.session_hours * 3600))
    response.delete_cookie(sessions.LOGIN_CSRF_COOKIE, path="/")
    return response


def _refused(request: Request, result: accounts.Login, csrf: str, next: str) -> Response:
    minutes = int(_console(request).settings.lockout_minutes)
    if result is accounts.Login.LOCKED:
        return _login_again(request, 423, f"密码错误次数过多，账户已锁定，请 {minutes} 分钟后再试。", csrf, next)
    if result is accounts.Login.INACTIVE:
        return _login_again(request, 403, "账户已停用，请联系管理员。", csrf, next)
    return _login_again(request, 401, "用户名或密码错误。", csrf, next)


def _login_again(request: Request, status_code: int, message: str, csrf: str, next: str) -> Response:
    return _page(request, "login.html", status_code, csrf=csrf, next=_safe_next(next), message=message, user=None,
                 max_failed=_console(request).settings.max_failed_logins)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    with _console(request).db.session() as s:
        login = _login(request, s)
        if login is None or not sessions.same(login[1].csrf_token, csrf_token):
            return _error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。")
        sessions.end(s, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# ---- queue ---------------------------------------------------------------------------------------

@router.get("/")
def queue_page(request: Request) -> Response:
    console = _console(request)
    with console.db.session() as s:
        login = _login(request, s)
        if login is None:
            return _to_login(request)
        user, row = login
        filters = parse_filter(dict(request.query_params), console.settings)
        result = queue.page(s, user, filters)
        return _page(request, "queue.html", user=user, csrf=row.csrf_token, result=result,
                     choices=console.choices(s), sorts=queue.SORTS,
                     args=filter_args(filters), page_url=lambda n: _page_url(filters, n))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def parse_filter(args: dict[str, str], settings: ConsoleSettings) -> queue.QueueFilter:
    """Queue filters from query parameters; unknown or malformed values are ignored."""
    decided = {"yes": True, "no": False}.get(args.get("decided", ""))
    size = min(max(1, _int(args.get("size"), settings.page_size)), settings.max_page_size)
    return queue.QueueFilter(
        verdict=args.get("verdict") or None, code=args.get("code") or None, subject=args.get("subject") or None,
        grade=args.get("grade") or None, category=args.get("category") or None,
        date_from=_date(args.get("from")), date_to=_date(args.get("to")), decided=decided,
        q=(args.get("q") or "").strip()[:100] or None,
        sort=args.get("sort") if args.get("sort") in queue.SORTS else "newest",
        page=max(1, _int(args.get("page"), 1)), page_size=size)


def filter_args(f: queue.QueueFilter) -> dict[str, str]:
    """The query parameters that reproduce `f` (without the page)."""
    out = {"verdict": f.verdict, "code": f.code, "subject": f.subject, "grade": f.grade, "category": f.category,
           "from": f.date_from.isoformat() if f.date_from else None, "to": f.date_to.isoformat() if f.date_to else None,
           "decided": {True: "yes", False: "no"}.get(f.decided) if f.decided is not None else None,
           "q": f.q, "sort": f.sort if f.sort != "newest" else None}
    return {k: v for k, v in out.items() if v}


def _page_url(f: queue.QueueFilter, page: int) -> str:
    return f"{PREFIX}/?" + urlencode({**filter_args(f), "page": page})


# ---- lesson --------------------------------------------------------------------------------------

DONE_MESSAGES = {"return": "已退回教师修改。", "reject": "已标记为不通过。",
                 "confirmed": "已确认该问题。", "dismissed": "已排除该问题。"}


def _done_message(done: str, view: lessons.LessonView) -> str | None:
    if done == "pass" and view.decisions:
        forwarded = view.decisions[-1].next_level
        return f"已通过，已报送{LEVEL_NAMES[forwarded]}。" if forwarded else "已通过部级遴选。"
    return DONE_MESSAGES.get(done)


@router.get("/lessons/{job_id}")
def lesson_page(request: Request, job_id: str, done: str = "") -> Response:
    console = _console(request)
    with console.db.session() as s:
        login = _login(request, s)
        if login is None:
            return _to_login(request)
        user, row = login
        job = queue.visible(s, user, job_id)
        if job is None:
            return _error(request, 404, "找不到这节课，或它不在你的审核范围内。", login)
        view = lessons.load(s, job)
        return _page(request, "lesson.html", user=user, csrf=row.csrf_token, v=view,
                     can_act=workflow.can_act(user, job), next_id=queue.next_pending(s, user, job),
                     done=_done_message(done, view), video_url=console.video_url(job.id),
                     thumbnail=lessons.thumbnail, file_url=lambda p: f"{PREFIX}/lessons/{job.id}/files/{p}",
                     duration=float(view.media.get("duration_s") or 0.0))


def _acting(request: Request, s: Session, job_id: str, csrf_token: str) -> tuple[User, Job] | Response:
    """The user and lesson of a form post, or the error response (403 without the CSRF token, 404)."""
    login = _login(request, s)
    if login is None:
        return _error(request, 403, "未登录或登录已过期，请重新登录。")
    if not sessions.same(login[1].csrf_token, csrf_token):
        return _error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。", login)
    job = queue.visible(s, login[0], job_id)
    if job is None:
        return _error(request, 404, "找不到这节课，或它不在你的审核范围内。", login)
    return login[0], job


@router.post("/lessons/{job_id}/findings/{seq}")
def review_finding(request: Request, job_id: str, seq: int, status: Annotated[str, Form()] = "",
                   note: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    console = _console(request)
    with console.db.session() as s:
        acting = _acting(request, s, job_id, csrf_token)
        if isinstance(acting, Response):
            return acting
        try:
            workflow.review_finding(s, *acting, seq, status, note, console.settings.note_max_chars)
        except workflow.NotAllowed as exc:
            return _error(request, 409, str(exc))
        except workflow.BadInput as exc:
            return _error(request, 400, str(exc))
    return RedirectResponse(f"{PREFIX}/lessons/{job_id}?done={status}#finding-{seq}", status_code=303)


@router.post("/lessons/{job_id}/decision")
def decide(request: Request, job_id: str, action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    console = _console(request)
    with console.db.session() as s:
        acting = _acting(request, s, job_id, csrf_token)
        if isinstance(acting, Response):
            return acting
        try:
            workflow.decide(s, *acting, action, reason, console.settings.note_max_chars)
        except workflow.NotAllowed as exc:
            return _error(request, 409, str(exc))
        except workflow.BadInput as exc:
            return _error(request, 400, str(exc))
    _notify(console, job_id)
    return RedirectResponse(f"{PREFIX}/lessons/{job_id}?done={action}#history", status_code=303)


def _notify(console: Console, job_id: str) -> None:
    """Hand the newest decision to the platform hook (the signed callback), after it is committed."""
    if console.on_decision is None:
        return
    with console.db.session() as s:
        latest = records.records(s, job_id)[-1]
    console.on_decision(job_id, records.as_dict(latest))


@router.get("/lessons/{job_id}/files/{path:path}")
def report_file(request: Request, job_id: str, path: str) -> Response:
    with _console(request).db.session() as s:
        login = _login(request, s)
        job = queue.visible(s, login[0], job_id) if login else None
        found = lessons.report_file(job, path) if job else None
    if found is None:
        return Response(status_code=404)
    return FileResponse(found, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


def viewer(s: Session, cookie: str | None, job_id: str) -> User | None:
    """The reviewer behind a console session cookie, if they may see `job_id` (the API's video check)."""
    login = sessions.resolve(s, cookie)
    if login is None or queue.visible(s, login[0], job_id) is None:
        return None
    return login[0]


# ---- users (admin) -------------------------------------------------------------------------------

@router.get("/users")
def users_page(request: Request, done: str = "") -> Response:
    with _console(request).db.session() as s:
        login = _login(request, s)
        if login is None:
            return _to_login(request)
        if not login[0].is_admin:
            return _error(request, 403, "只有管理员可以管理用户。", login)
        return _page(request, "users.html", user=login[0], csrf=login[1].csrf_token, users=accounts.all_users(s),
                     message=None, done=done == "1", now=accounts.utcnow())


@router.post("/users")
def add_user(request: Request, name: Annotated[str, Form()] = "", level: Annotated[str, Form()] = "",
             region: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
             is_admin: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    console = _console(request)
    with console.db.session() as s:
        admin = _admin(request, s, csrf_token)
        if isinstance(admin, Response):
            return admin
        try:
            accounts.add_user(s, accounts.NewUser(name, level, region, password, is_admin == "on"), console.settings)
        except accounts.UserError as exc:
            return _page(request, "users.html", 400, user=admin[0], csrf=admin[1].csrf_token,
                         users=accounts.all_users(s), message=str(exc), done=False, now=accounts.utcnow())
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)


@router.post("/users/{user_id}/{action}")
def change_user(request: Request, user_id: int, action: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    with _console(request).db.session() as s:
        admin = _admin(request, s, csrf_token)
        if isinstance(admin, Response):
            return admin
        target = s.get(User, user_id)
        if target is None or action not in ("unlock", "deactivate", "activate"):
            return _error(request, 404, "没有这个用户或操作。", admin)
        if action == "unlock":
            accounts.unlock(target)
        else:
            target.active = action == "activate"
            if not target.active:
                sessions.end_all(s, target)
    return RedirectResponse(f"{PREFIX}/users?done=1", status_code=303)


def _admin(request: Request, s: Session, csrf_token: str) -> tuple[User, LoginSession] | Response:
    login = _login(request, s)
    if login is None or not sessions.same(login[1].csrf_token, csrf_token):
        return _error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。", login)
    if not login[0].is_admin:
        return _error(request, 403, "只有管理员可以管理用户。", login)
    return login


__all__ = ["Console", "install", "router", "SECURITY_HEADERS"]
