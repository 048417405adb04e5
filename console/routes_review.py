"""The reviewer's pages: the queue, a lesson, its files; finding reviews and decisions (form posts)."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from index import decisions as records

from . import lesson as lessons, queue, workflow
from .context import PREFIX, Console, page
from .deps import ActedLesson, ConsoleDep, CurrentLogin, DbSession, MaybeLogin, PageError, PostedLogin, VisibleLesson
from .forms import DecisionForm, FindingForm, QueueQuery, filter_args
from .levels import LEVEL_NAMES
from .pages import REPORT_HEADERS

router = APIRouter(prefix=PREFIX, include_in_schema=False)
NO_FILE = "找不到这个文件。"


@router.get("/")
def queue_page(request: Request, console: ConsoleDep, s: DbSession, login: CurrentLogin,
               query: Annotated[QueueQuery, Query()]) -> Response:
    user, row = login
    filters = query.to_filter(console.settings)
    result = queue.page(s, user, filters)
    return page(request, "queue.html", user=user, csrf=row.csrf_token, result=result,
                choices=console.choices(s), sorts=queue.SORTS,
                args=filter_args(filters), page_url=lambda n: _page_url(filters, n))


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
def lesson_page(request: Request, console: ConsoleDep, s: DbSession, login: CurrentLogin, job: VisibleLesson,
                done: str = "") -> Response:
    user, row = login
    view = lessons.load(s, job)
    return page(request, "lesson.html", user=user, csrf=row.csrf_token, v=view,
                can_act=workflow.can_act(user, job), next_id=queue.next_pending(s, user, job),
                done=_done_message(done, view), video_url=console.video_url(job.id),
                thumbnail=lessons.thumbnail, file_url=lambda p: f"{PREFIX}/files/{job.id}/{p}",
                duration=float(view.media.get("duration_s") or 0.0))


@router.post("/lessons/{job_id}/findings/{seq}")
def review_finding(console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson, seq: int,
                   form: Annotated[FindingForm, Form()]) -> Response:
    _acting(workflow.review_finding, s, login[0], job, seq, form.status, form.note, console.settings.note_max_chars)
    return RedirectResponse(f"{PREFIX}/lessons/{job.id}?done={form.status}#finding-{seq}", status_code=303)


@router.post("/lessons/{job_id}/decision")
def decide(console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson,
           form: Annotated[DecisionForm, Form()], after: BackgroundTasks) -> Response:
    outcome = _acting(workflow.decide, s, login[0], job, form.action, form.reason, console.settings.note_max_chars,
                      form.version)
    after.add_task(_notify, console, job.id, outcome.decision.id)  # runs once the decision is committed
    return RedirectResponse(f"{PREFIX}/lessons/{job.id}?done={form.action}#history", status_code=303)


def _acting(action, *args):  # type: ignore[no-untyped-def]
    """Run a workflow step; its refusals become the error page (409: another level holds it, 400: bad input)."""
    try:
        return action(*args)
    except workflow.NotAllowed as exc:
        raise PageError(409, str(exc)) from None
    except workflow.BadInput as exc:
        raise PageError(400, str(exc)) from None


def _notify(console: Console, job_id: str, decision_id: int) -> None:
    """Hand the committed decision to the platform hook (the signed callback)."""
    if console.on_decision is None:
        return
    with console.db.session() as s:
        record = next(r for r in records.records(s, job_id) if r.id == decision_id)
    console.on_decision(job_id, records.as_dict(record))


@router.get("/files/{job_id}/{path:path}")
def report_file(s: DbSession, login: MaybeLogin, job_id: str, path: str) -> Response:
    """A file of the lesson's report, apart from the pages (its own path), sandboxed and never cached."""
    job = queue.visible(s, login[0], job_id) if login else None
    found = lessons.report_file(job, path) if job else None
    if found is None:
        raise PageError(404, NO_FILE)
    return FileResponse(found, headers=REPORT_HEADERS)
