"""Login throttling counters, each updated by ONE atomic statement (an upsert with RETURNING), so that
concurrent attempts are all counted, whatever the number of server processes.

A counter counts attempts in a window; once its window has passed (and no lock holds), or its lock
has expired, the next attempt starts a new window at 1. A `failure` counter (per account and
client) can be locked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, literal, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .review import LoginThrottle

FAILURE = "failure"   # failed logins of one account from one client
CLIENT = "client"     # login attempts of one client (any account)
_T = LoginThrottle.__table__


@dataclass(frozen=True)
class Count:
    """A counter after this attempt: attempts in the window (this one included), and a lock if one holds."""

    count: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(_T)


def hit(session: Session, kind: str, account: str, client: str, window: timedelta, now: datetime) -> Count:
    """Count one attempt: `count = count + 1` (or 1 in a new window) in one statement, returning the result."""
    fresh = or_(and_(_T.c.window_start <= now - window, _T.c.locked_until.is_(None)), _T.c.locked_until <= now)
    statement = _insert(session).values(kind=kind, account=account, client=client, count=1, window_start=now)
    statement = statement.on_conflict_do_update(
        index_elements=[_T.c.kind, _T.c.account, _T.c.client],
        set_={"count": case((fresh, 1), else_=_T.c.count + 1),
              "window_start": case((fresh, literal(now, _T.c.window_start.type)), else_=_T.c.window_start),
              "locked_until": case((fresh, None), else_=_T.c.locked_until)},
    ).returning(_T.c.count, _T.c.locked_until)
    count, locked_until = session.execute(statement).one()
    return Count(count, locked_until)


def lock(session: Session, account: str, client: str, until: datetime) -> None:
    """Lock an account for one client (its failure counter) until `until`."""
    session.execute(update(_T).where(_T.c.kind == FAILURE, _T.c.account == account, _T.c.client == client)
                    .values(locked_until=until))


def clear(session: Session, account: str, client: str | None = None) -> None:
    """Forget an account's failures (from one client, or from every client: an admin's unlock)."""
    where = [_T.c.kind == FAILURE, _T.c.account == account]
    if client is not None:
        where.append(_T.c.client == client)
    session.execute(delete(_T).where(*where))


def purge(session: Session, older_than: datetime, now: datetime) -> int:
    """Remove counters whose window started before `older_than` and that no lock holds."""
    result = session.execute(delete(_T).where(_T.c.window_start < older_than,
                                              or_(_T.c.locked_until.is_(None), _T.c.locked_until <= now)))
    return int(result.rowcount or 0)
