"""Login sessions: a random cookie token (kept as sha256 only) with a CSRF token bound to it."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from index.models import utcnow
from index.review import LoginSession, User

from .settings import ConsoleSettings

COOKIE = "lessonqc_session"
LOGIN_CSRF_COOKIE = "lessonqc_login_csrf"   # double-submit token of the login form (before any session)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(session: Session, user: User, settings: ConsoleSettings) -> str:
    """A new login for `user`; returns the cookie value (shown once, stored hashed)."""
    token = new_token()
    session.add(LoginSession(token_sha256=digest(token), user_id=user.id, csrf_token=new_token(),
                             expires_at=utcnow() + timedelta(hours=settings.session_hours)))
    return token


def resolve(session: Session, token: str | None) -> tuple[User, LoginSession] | None:
    """The active user and session behind a cookie value, or None (unknown, expired, user inactive)."""
    if not token:
        return None
    row = session.get(LoginSession, digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return (user, row) if user is not None and user.active else None


def end(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(LoginSession).where(LoginSession.token_sha256 == digest(token)))


def end_all(session: Session, user: User) -> None:
    """Log a user out everywhere (deactivated, password changed)."""
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def purge_expired(session: Session) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    return int(result.rowcount or 0)


def same(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; a missing one never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def sessions_of(session: Session, user: User) -> list[LoginSession]:
    return list(session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)))


def media_ticket(row: LoginSession, job_id: str) -> str:
    """Query string that lets a sandboxed report page (no cookies) load `job_id`'s video while this login lasts:
    the session's id (the token's sha256, never the token) and an HMAC of the job keyed by its CSRF token."""
    mac = hmac.new(row.csrf_token.encode(), job_id.encode(), hashlib.sha256).hexdigest()
    return f"?s={row.token_sha256}&t={mac}"


def ticket_login(session: Session, sid: str, mac: str, job_id: str) -> tuple[User, LoginSession] | None:
    """The login behind a media ticket for `job_id` (None: unknown, expired, or not for this job)."""
    row = session.get(LoginSession, sid) if sid else None
    if row is None or row.expires_at <= utcnow():
        return None
    expected = hmac.new(row.csrf_token.encode(), job_id.encode(), hashlib.sha256).hexdigest()
    user = session.get(User, row.user_id)
    return (user, row) if same(expected, mac) and user is not None and user.active else None
