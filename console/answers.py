"""The lesson page's context, and the answers to fetch actions: JSON with the page parts that changed.

A reviewer's confirm, dismiss, bulk dismiss, decision or undo sent by the page's script (Accept:
application/json) is answered with {message, parts: {element id: html}}; the script swaps those
elements in, so the player keeps playing. The same parts render the full page (templates/_lesson_parts.html).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from jinja2 import Template
from sqlalchemy.orm import Session

from index.models import Finding, Job
from index.review import LoginSession, User

from . import lesson as lessons, quotas, sessions, workflow
from .context import PREFIX
from .deps import console_of
from .pages import SECURITY_HEADERS, environment

CARD_PARTS = ("progress", "decision-panel", "history-block")
DECISION_PARTS = ("findings", "progress", "decision-panel", "history-block", "earlier-decisions")
MACROS = {"progress": "progress()", "decision-panel": "decision_panel()", "history-block": "history()",
          "earlier-decisions": "earlier_decisions()", "findings": "findings()"}


def wants_json(request: Request) -> bool:
    """The page's script asks for JSON; a plain form post (no script) gets pages and redirects."""
    return "application/json" in request.headers.get("accept", "")


def lesson_context(request: Request, s: Session, user: User, row: LoginSession, job: Job,
                   extras: bool = True) -> dict[str, Any]:
    """What lesson.html and its parts need (`extras=False`: what the parts an action changes need)."""
    console = console_of(request)
    view = lessons.load(s, job, extras, viewer=user)
    acting = workflow.can_act(user, job)
    return dict(user=user, csrf=row.csrf_token, v=view, can_act=acting,
                over_quota=quotas.over_quota(s, job) if acting else None,
                undo=workflow.undoable(s, user, job), video_url=console.video_url(job.id), video_of=console.video_url,
                thumbnail=lessons.thumbnail, file_url=lambda p: f"{PREFIX}/files/{job.id}/{p}",
                report_url=f"{PREFIX}/files/{job.id}/report.html{sessions.media_ticket(row, job.id)}",
                duration=float(job.duration_s or view.media.get("duration_s") or 0.0))


def parts(request: Request, context: dict[str, Any], names: tuple[str, ...],
          finding: Finding | None = None) -> dict[str, str]:
    """The named page parts, and the card (or 提示 group) of `finding`, rendered as on the page."""
    calls = {name: MACROS[name] for name in names}
    if finding is not None:
        groups = context["v"].info_groups
        n = next((i for i, g in enumerate(groups, 1) if g.code == finding.code and finding.severity == "info"), None)
        calls[f"info-group-{n}" if n else f"finding-{finding.seq}"] = \
            f"info_group(v.info_groups[{n - 1}], {n})" if n else f"card(v.findings[{_index(context, finding)}])"
    timezone = console_of(request).settings.display_timezone
    return {name: _part(timezone, call).render(context).strip() for name, call in calls.items()}


@lru_cache(maxsize=64)
def _part(timezone: str, call: str) -> Template:
    """One macro call of _lesson_parts.html as a template, compiled once."""
    return environment(timezone).from_string(f'{{% import "_lesson_parts.html" as parts with context %}}{{{{ parts.{call} }}}}')


def _index(context: dict[str, Any], finding: Finding) -> int:
    return next(i for i, f in enumerate(context["v"].findings) if f.seq == finding.seq)


def done(message: str, page_parts: dict[str, str]) -> JSONResponse:
    return JSONResponse({"message": message, "parts": page_parts}, headers=SECURITY_HEADERS)


def refused(status_code: int, message: str, **extra: Any) -> JSONResponse:
    """An action that did not happen: the page shows `message` and keeps what the reviewer typed."""
    return JSONResponse({"error": message, **extra}, status_code=status_code, headers=SECURITY_HEADERS)


def expired(request: Request) -> JSONResponse:
    """Logged out meanwhile: a link to log in again in another window (the typed text stays here)."""
    return refused(401, "登录已过期。请在新窗口重新登录，然后回到本页再次提交（已填写的内容仍在）。",
                   login=f"{PREFIX}/login")
