"""The console's query and form models: queue filters (a malformed value is ignored, as a person typed it)
and the form posts (login, finding review, decision, new user)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WrapValidator, field_validator

from . import queue
from .settings import ConsoleSettings


def _or(default: Any) -> WrapValidator:
    """A value that fails validation (or is blank) counts as `default`."""

    def lenient(value: Any, handler: Callable[[Any], Any]) -> Any:
        if value in (None, ""):
            return default
        try:
            return handler(value)
        except ValidationError:
            return default

    return WrapValidator(lenient)


Choice = Annotated[str | None, _or(None)]


class QueueQuery(BaseModel):
    """The queue page's query string; None / '' means any."""

    model_config = ConfigDict(populate_by_name=True)
    verdict: Choice = None
    code: Choice = None
    subject: Choice = None
    grade: Choice = None
    category: Choice = None
    date_from: Annotated[date | None, _or(None)] = Field(default=None, alias="from")
    date_to: Annotated[date | None, _or(None)] = Field(default=None, alias="to")
    decided: Annotated[Literal["yes", "no", "all"], _or("no")] = "no"    # the queue opens on 待审
    q: Choice = None
    sort: Annotated[Literal[queue.SORTS], _or("newest")] = "newest"  # type: ignore[valid-type]
    page: Annotated[int, _or(1)] = 1
    size: Annotated[int | None, _or(None)] = None

    @field_validator("q")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        return value.strip()[:100] or None if value else None

    def to_filter(self, settings: ConsoleSettings) -> queue.QueueFilter:
        size = min(max(1, self.size or settings.page_size), settings.max_page_size)
        return queue.QueueFilter(
            verdict=self.verdict, code=self.code, subject=self.subject, grade=self.grade, category=self.category,
            date_from=self.date_from, date_to=self.date_to, decided={"yes": True, "no": False}.get(self.decided),
            q=self.q, sort=self.sort, page=max(1, self.page), page_size=size)


def filter_args(f: queue.QueueFilter) -> dict[str, str]:
    """The query parameters that reproduce `f` (without the page)."""
    out = {"verdict": f.verdict, "code": f.code, "subject": f.subject, "grade": f.grade, "category": f.category,
           "from": f.date_from.isoformat() if f.date_from else None, "to": f.date_to.isoformat() if f.date_to else None,
           "decided": {True: "yes", False: "no", None: "all"}[f.decided],
           "q": f.q, "sort": f.sort if f.sort != "newest" else None}
    return {k: v for k, v in out.items() if v}


class LoginForm(BaseModel):
    username: str = ""
    password: str = ""
    csrf_token: str = ""
    next: str = ""


class FindingForm(BaseModel):
    status: str = ""
    note: str = ""


class DecisionForm(BaseModel):
    action: str = ""
    reason: str = ""
    version: Annotated[int | None, _or(None)] = None   # the job's review_version the page showed
    confirm_unreviewed: str = ""     # "yes": pass although `fail` findings are unreviewed (asked once)
    confirm_over_quota: str = ""     # "yes": pass although the province's quota (名额) is used up


class BulkForm(BaseModel):
    code: str = ""
    status: str = ""
    note: str = ""


class UndoForm(BaseModel):
    reason: str = ""


class NewUserForm(BaseModel):
    name: str = ""
    level: str = ""
    region: str = ""
    password: str = ""
    is_admin: str = ""


class MediaTicket(BaseModel):
    """?s=&t= on a report file: sessions.media_ticket (the report page's video, loaded without cookies)."""

    s: str = ""
    t: str = ""
