"""The reviewer's pages: the queue, a lesson, its files; finding reviews, decisions and their undo.

The actions are form posts: a plain post (no script) is answered by a redirect back to the lesson,
the page's script (Accept: application/json) gets the changed page parts as JSON (console/answers.py)."""
from __future__ import annotations

from typing import Annotated, Any, Callable, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from index import decisions as records
from index.models import Finding, Job

from . import answers, lesson as lessons, queue, quotas, sessions, workflow
from .context import PREFIX, Console, Login, page
from .deps import ActedLesson, ConsoleDep, CurrentLogin, DbSession, MaybeLogin, PageError, PostedLogin, VisibleLesson
from .forms import BulkForm, DecisionForm, FindingForm, MediaTicket, QueueQuery, UndoForm, filter_args
from .levels import LEVEL_NAMES
from .pages import REPORT_HEADERS

router = APIRouter(prefix=PREFIX, include_in_schema=False)
NO_FILE = "找不到这个文件。"
T = TypeVar("T")


@router.get("/")
def queue_page(request: Request, console: ConsoleDep, s: DbSession, login: CurrentLogin,
               query: Annotated[QueueQuery, Query()]) -> Response:
    user, row = login
    filters = query.to_filter(console.settings)
    result = queue.page(s, user, filters)
    return page(request, "queue.html", user=user, csrf=row.csrf_token, result=result, quota=quotas.standing(s, user),
                choices=console.choices(s), sorts=queue.SORTS,
                args=filter_args(filters), page_url=lambda n: _page_url(filters, n))


def _page_url(f: queue.QueueFilter, page: int) -> str:
    return f"{PREFIX}/?" + urlencode({**filter_args(f), "page": page})


DONE_MESSAGES = {"return": "已退回教师修改。", "reject": "已标记为不通过。", "confirmed": "已确认该问题。",
                 "dismissed": "已排除该问题。", "bulk": "已全部排除。", "withdraw": "已撤回本级决定。"}


def _done_message(done: str, view: lessons.LessonView) -> str | None:
    if done == "pass" and view.decisions:
        forwarded = view.decisions[-1].next_level
        return f"已通过，已报送{LEVEL_NAMES[forwarded]}。" if forwarded else "已通过部级遴选。"
    return DONE_MESSAGES.get(done)


@router.get("/lessons/{job_id}")
def lesson_page(request: Request, s: DbSession, login: CurrentLogin, job: VisibleLesson, done: str = "") -> Response:
    user, row = login
    if workflow.can_act(user, job):   # this level opened it: the previous level can no longer withdraw
        records.note_open(s, job, user.name, next(iter(reversed(records.decisions_of(s, job.id))), None))
    context = answers.lesson_context(request, s, user, row, job)
    return page(request, "lesson.html", next_id=queue.next_pending(s, user, job),
                done=_done_message(done, context["v"]), **context)


def _answer(request: Request, s: Session, login: Login, job: Job, done: str, anchor: str,
            names: tuple[str, ...], finding: Finding | None = None) -> Response:
    """The page's script gets the changed parts; a plain form post goes back to the lesson."""
    if not answers.wants_json(request):
        return RedirectResponse(f"{PREFIX}/lessons/{job.id}?done={done}#{anchor}", status_code=303)
    s.flush()
    context = answers.lesson_context(request, s, login[0], login[1], job, extras=False)
    return answers.done(_done_message(done, context["v"]) or "", answers.parts(request, context, names, finding))


@router.post("/lessons/{job_id}/findings/bulk")
def review_group(request: Request, console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson,
                 form: Annotated[BulkForm, Form()]) -> Response:
    """Confirm or dismiss every 提示 finding of one code (declared before /findings/{seq})."""
    done = _acting(workflow.review_many, s, login[0], job, form.code, form.status, form.note,
                   console.settings.note_max_chars)
    first = next(f for f in job.findings if f.seq == done[0].finding_seq)
    return _answer(request, s, login, job, "bulk", f"finding-{first.seq}", answers.CARD_PARTS, first)


@router.post("/lessons/{job_id}/findings/{seq}")
def review_finding(request: Request, console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson,
                   seq: int, form: Annotated[FindingForm, Form()]) -> Response:
    _acting(workflow.review_finding, s, login[0], job, seq, form.status, form.note, console.settings.note_max_chars)
    finding = next(f for f in job.findings if f.seq == seq)
    return _answer(request, s, login, job, form.status, f"finding-{seq}", answers.CARD_PARTS, finding)


@router.post("/lessons/{job_id}/decision")
def decide(request: Request, console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson,
           form: Annotated[DecisionForm, Form()], after: BackgroundTasks) -> Response:
    outcome = _acting(workflow.decide, s, login[0], job, form.action, form.reason, console.settings.note_max_chars,
                      form.version, form.confirm_unreviewed == "yes", form.confirm_over_quota == "yes")
    after.add_task(_notify, console, job.id, outcome.decision.id)  # runs once the decision is committed
    return _answer(request, s, login, job, form.action, "history", answers.DECISION_PARTS)


@router.post("/lessons/{job_id}/decision/undo")
def undo(request: Request, console: ConsoleDep, s: DbSession, login: PostedLogin, job: ActedLesson,
         form: Annotated[UndoForm, Form()], after: BackgroundTasks) -> Response:
    """Withdraw my level's latest decision while the next level has not opened the lesson."""
    row = _acting(workflow.withdraw, s, login[0], job, console.settings.note_max_chars, form.reason)
    after.add_task(_notify, console, job.id, row.id)
    return _answer(request, s, login, job, "withdraw", "history", answers.DECISION_PARTS)


def _acting(action: Callable[..., T], *args: Any) -> T:
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
def report_file(s: DbSession, login: MaybeLogin, job_id: str, path: str, ticket: Annotated[MediaTicket, Query()]) -> Response:
    """A file of the lesson's report, apart from the pages (its own path), sandboxed and never cached. The
    sandboxed report page sends no cookie: its video (`video` beside it) is let through by a media ticket."""
    headers = REPORT_HEADERS
    if login is None and path == lessons.VIDEO_BESIDE:   # the ticket, not the origin, guards it: the page is opaque
        login = sessions.ticket_login(s, ticket.s, ticket.t, job_id)
        headers = {**REPORT_HEADERS, "Cross-Origin-Resource-Policy": "cross-origin"}
    job = queue.visible(s, login[0], job_id) if login else None
    found = lessons.report_file(job, path) if job else None
    if found is None:
        raise PageError(404, NO_FILE)
    return FileResponse(found, headers=headers)
