"""Console users: create, list, unlock, deactivate; log in, throttled per client and locked out per
(account, client) after repeated wrong passwords."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from index import throttle
from index.db import Database
from index.models import utcnow
from index.review import User

from . import passwords, sessions
from .levels import check_level, normalize_region
from .settings import ConsoleSettings


class UserError(ValueError):
    """A user cannot be created or changed as asked (message for the operator)."""


@dataclass(frozen=True)
class NewUser:
    name: str
    level: str
    region: str
    password: str
    is_admin: bool = False
    display_name: str | None = None


def add_user(session: Session, new: NewUser, settings: ConsoleSettings) -> User:
    """Create a user; a reviewer below the national level needs a region."""
    name = new.name.strip()
    if not name or len(name) > 100:
        raise UserError("user name must have 1–100 characters")
    try:
        level = check_level(new.level)
        passwords.check_strength(new.password, settings)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    region = normalize_region(new.region)
    if not region and level != "national":
        raise UserError(f"a {level} reviewer needs --region (e.g. 浙江省/杭州市/西湖区)")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, display_name=new.display_name, level=level, region=region, is_admin=new.is_admin,
                active=True, password_hash=passwords.hash_password(new.password, settings))
    session.add(user)
    session.flush()
    return user


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name.strip()))


def all_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.level, User.region, User.name)).all()


def unlock(user: User) -> None:
    """Lift every lockout of `user` (from every client) and forget its failed logins."""
    user.locked_until = None
    session = object_session(user)
    if session is not None:
        throttle.clear(session, user.name)


def set_password(user: User, password: str, settings: ConsoleSettings) -> None:
    try:
        passwords.check_strength(password, settings)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    user.password_hash = passwords.hash_password(password, settings)
    unlock(user)


def is_locked(user: User, now: datetime) -> bool:
    """Whether some client is locked out of this account now (what the user lists show)."""
    return user.locked_until is not None and user.locked_until > now


def within_rate(database: Database, client: str, settings: ConsoleSettings) -> bool:
    """Count a login attempt of `client`; False past login_rate.per_client in the window (all processes)."""
    with database.session() as s:
        hit = throttle.hit(s, throttle.CLIENT, "", client, timedelta(seconds=settings.login_rate_window_s), utcnow())
    return hit.count <= settings.login_rate_per_client


def authenticate(database: Database, name: str, password: str, client: str, settings: ConsoleSettings) -> User | None:
    """The user when the password is right and the account may log in; None for every failure alike.

    The attempt is counted for (account, client) before the password is checked, in one atomic
    statement: of concurrent attempts at most max_failed are checked, and the max_failed-th wrong
    one locks the account for this client only (lockout_minutes). A locked, unknown or disabled
    account spends the same argon2 time as a wrong password.
    """
    now, account = utcnow(), name.strip()[:100]
    window = timedelta(minutes=settings.lockout_minutes)
    with database.session() as s:
        attempt = throttle.hit(s, throttle.FAILURE, account, client, window, now)
    if attempt.locked(now) or attempt.count > settings.max_failed_logins:
        passwords.dummy_verify(password, settings)
        return None
    with database.session() as s:
        user = find(s, account)
        if user is not None and passwords.verify(user.password_hash, password, settings) and user.active:
            throttle.clear(s, account, client)
            user.last_login_at = now
            _rehash_if_needed(user, password, settings)
            return user
        if user is None:
            passwords.dummy_verify(password, settings)
        if attempt.count >= settings.max_failed_logins:
            throttle.lock(s, account, client, now + window)
            if user is not None:
                user.locked_until = now + window
        return None


def purge(database: Database, settings: ConsoleSettings) -> None:
    """Remove expired logins and login counters older than their windows (called on each login attempt, in
    a transaction of its own: the password check never waits on it)."""
    now = utcnow()
    oldest = max(timedelta(minutes=settings.lockout_minutes), timedelta(seconds=settings.login_rate_window_s))
    with database.session() as s:
        sessions.purge_expired(s)
        throttle.purge(s, now - oldest, now)


def _rehash_if_needed(user: User, password: str, settings: ConsoleSettings) -> None:
    if passwords.hasher(settings).check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password, settings)
