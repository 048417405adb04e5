"""The console mounted on an app: its routers (login, review, users) and static files, under /console.

Every page needs a login (session cookie); every form post needs the session's CSRF token
(403 without it). A lesson outside the reviewer's level and region answers 404.
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from index.review import User

from . import queue, routes_login, routes_review, routes_users, sessions
from .context import PREFIX, Console
from .pages import STATIC

__all__ = ["Console", "install", "viewer"]


def install(app: FastAPI, console: Console) -> None:
    """Mount the console (pages, form posts, static files) on an app."""
    app.state.console = console
    for module in (routes_login, routes_review, routes_users):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")


def viewer(s: Session, cookie: str | None, job_id: str) -> User | None:
    """The reviewer behind a console session cookie, if they may see `job_id` (the API's video check)."""
    login = sessions.resolve(s, cookie)
    if login is None or queue.visible(s, login[0], job_id) is None:
        return None
    return login[0]
