"""What every console route shares: the Console (index, settings, hooks), rendering, cookies."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from index.db import Database
from index.review import LoginSession, User

from . import queue
from .pages import render
from .settings import ConsoleSettings

PREFIX = "/console"
DecisionHook = Callable[[str, dict[str, Any]], None]   # (job id, decision record) after a level decides
Login = tuple[User, LoginSession]


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
    _choices: tuple[float, dict[str, list[str]]] | None = field(init=False, default=None)

    def choices(self, s: Session) -> dict[str, list[str]]:
        """The filter drop-downs' values, re-read at most every choices_ttl_s seconds."""
        now = time.monotonic()
        if self._choices is None or now - self._choices[0] > self.settings.choices_ttl_s:
            self._choices = (now, queue.choices(s))
        return self._choices[1]

    @property
    def db(self) -> Database:
        return self.database()


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    return render(request.app.state.console.settings.display_timezone, name, status_code, **context)


def safe_next(target: str | None) -> str:
    """Only a path inside the console (no scheme, no //host) is followed after login."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def set_cookie(response: Response, name: str, value: str, settings: ConsoleSettings, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=settings.secure_cookies)
