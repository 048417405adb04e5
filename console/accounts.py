"""Console users: create, list, unlock, deactivate; log in with a lockout after repeated wrong passwords."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from index.models import utcnow
from index.review import User

from . import passwords
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
                active=True, password_hash=passwords.hash_password(new.password, settings), failed_logins=0)
    session.add(user)
    session.flush()
    return user


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name.strip()))


def all_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.level, User.region, User.name)).all()


def unlock(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def set_password(user: User, password: str, settings: ConsoleSettings) -> None:
    try:
        passwords.check_strength(password, settings)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    user.password_hash = passwords.hash_password(password, settings)
    unlock(user)


class Login(enum.Enum):
    OK = "ok"
    WRONG = "wrong"          # unknown user or wrong password (the page does not tell which)
    LOCKED = "locked"        # too many wrong passwords: try again later
    INACTIVE = "inactive"


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(session: Session, name: str, password: str, settings: ConsoleSettings) -> tuple[Login, User | None]:
    """Check a password; the max_failed-th wrong one in a row locks the account for lockout_minutes."""
    user = find(session, name)
    now = utcnow()
    if user is None:
        passwords.dummy_verify(password, settings)
        return Login.WRONG, None
    if is_locked(user, now):
        return Login.LOCKED, user
    if not passwords.verify(user.password_hash, password, settings):
        _count_failure(user, now, settings)
        return (Login.LOCKED if is_locked(user, now) else Login.WRONG), user
    if not user.active:
        return Login.INACTIVE, user
    unlock(user)
    user.last_login_at = now
    _rehash_if_needed(user, password, settings)
    return Login.OK, user


def _count_failure(user: User, now: datetime, settings: ConsoleSettings) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.max_failed_logins:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_logins = 0


def _rehash_if_needed(user: User, password: str, settings: ConsoleSettings) -> None:
    if passwords.hasher(settings).check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password, settings)
