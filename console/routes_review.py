"""The reviewer's pages: the queue, a lesson, its files; finding reviews and decisions (form posts)."""
from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from index import decisions as records
from index.models import Job
from index.review import User

from . import lesson as lessons, queue, sessions, workflow
from .context import PREFIX, Console, console_of, current_login, error, page, to_login
from .levels import LEVEL_NAMES
from .settings import ConsoleSettings

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/")
def queue_page(request: Request) -> Response:
    console = console_of(request)
    with console.db.session() as s:
        login = current_login(request, s)
        if login is None:
            return to_login(request)
        user, row = login
        filters = parse_filter(dict(request.query_params), console.settings)
        result = queue.page(s, user, filters)
        return page(request, "queue.html", user=user, csrf=row.csrf_token, result=result,
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


DONE_MESSAGES = {"return": "已退回教师修改。", "reject": "已标记为不通过。",
                 "confirmed": "已确认该问题。", "dismissed": "已排除该问题。"}


def _done_message(done: str, view: lessons.LessonView) -> str | None:
    if done == "pass" and view.decisions:
        forwarded = view.decisions[-1].next_level
        return f"已通过，已报送{LEVEL_NAMES[forwarded]}。" if forwarded else "已通过部级遴选。"
    return DONE_MESSAGES.get(done)


@router.get("/lessons/{job_id}")
def lesson_page(request: Request, job_id: str, done: str = "") -> Response:
    console = console_of(request)
    with console.db.session() as s:
        login = current_login(request, s)
        if login is None:
            return to_login(request)
        user, row = login
        job = queue.visible(s, user, job_id)
        if job is None:
            return error(request, 404, "找不到这节课，或它不在你的审核范围内。", login)
        view = lessons.load(s, job)
        return page(request, "lesson.html", user=user, csrf=row.csrf_token, v=view,
                    can_act=workflow.can_act(user, job), next_id=queue.next_pending(s, user, job),
                    done=_done_message(done, view), video_url=console.video_url(job.id),
                    thumbnail=lessons.thumbnail, file_url=lambda p: f"{PREFIX}/lessons/{job.id}/files/{p}",
                    duration=float(view.media.get("duration_s") or 0.0))


def _acting(request: Request, s: Session, job_id: str, csrf_token: str) -> tuple[User, Job] | Response:
    """The user and lesson of a form post, or the error response (403 without the CSRF token, 404)."""
    login = current_login(request, s)
    if login is None:
        return error(request, 403, "未登录或登录已过期，请重新登录。")
    if not sessions.same(login[1].csrf_token, csrf_token):
        return error(request, 403, "表单已失效（缺少安全令牌），请刷新页面后重试。", login)
    job = queue.visible(s, login[0], job_id)
    if job is None:
        return error(request, 404, "找不到这节课，或它不在你的审核范围内。", login)
    return login[0], job


@router.post("/lessons/{job_id}/findings/{seq}")
def review_finding(request: Request, job_id: str, seq: int, status: Annotated[str, Form()] = "",
                   note: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    console = console_of(request)
    with console.db.session() as s:
        acting = _acting(request, s, job_id, csrf_token)
        if isinstance(acting, Response):
            return acting
        try:
            workflow.review_finding(s, *acting, seq, status, note, console.settings.note_max_chars)
        except workflow.NotAllowed as exc:
            return error(request, 409, str(exc))
        except workflow.BadInput as exc:
            return error(request, 400, str(exc))
    return RedirectResponse(f"{PREFIX}/lessons/{job_id}?done={status}#finding-{seq}", status_code=303)


@router.post("/lessons/{job_id}/decision")
def decide(request: Request, job_id: str, action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "") -> Response:
    console = console_of(request)
    with console.db.session() as s:
        acting = _acting(request, s, job_id, csrf_token)
        if isinstance(acting, Response):
            return acting
        try:
            workflow.decide(s, *acting, action, reason, console.settings.note_max_chars)
        except workflow.NotAllowed as exc:
            return error(request, 409, str(exc))
        except workflow.BadInput as exc:
            return error(request, 400, str(exc))
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
    with console_of(request).db.session() as s:
        login = current_login(request, s)
        job = queue.visible(s, login[0], job_id) if login else None
        found = lessons.report_file(job, path) if job else None
    if found is None:
        return Response(status_code=404)
    return FileResponse(found, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})
