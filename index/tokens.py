"""API bearer tokens: made once, kept as sha256 only, revocable by name."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from .models import ApiToken, utcnow

PREFIX = "lqc_"
SCOPES = ("submit", "read", "admin")  # admin: every scope, every subscriber's webhooks, every job
DEFAULT_SCOPES = ("submit", "read")
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is refreshed at most this often (no write per request)


def digest(token: str) -> str:
    """sha256 of a token (tokens are 256-bit random: a plain hash is enough, no salt or KDF)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, name: str, scopes: Sequence[str] = DEFAULT_SCOPES, region: str | None = None) -> str:
    """A new token for `name` with `scopes`, limited to `region` (and below) when given; the clear text is
    returned once and never stored. ValueError for an unknown scope."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown scope(s): {', '.join(unknown) or '(none given)'} (known: {', '.join(SCOPES)})")
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=digest(token), scopes=" ".join(s for s in SCOPES if s in scopes),
                         region=region.strip("/") if region else None))
    return token


def allows(row: Live, scope: str) -> bool:
    """The token may act in `scope` (admin may do everything)."""
    held = (row.scopes or "").split()
    return scope in held or "admin" in held


@dataclass(frozen=True)
class Live:
    """What a request needs of a live token (read as columns: no ORM object per request)."""

    id: int
    name: str
    scopes: str
    region: str | None
    last_used_at: datetime | None


# Built once: every API request runs it, and building a statement costs more than running this one.
_LIVE = select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.region, ApiToken.last_used_at).where(
    ApiToken.token_sha256 == bindparam("digest"), ApiToken.revoked_at.is_(None))


def verify(session: Session, token: str) -> Live | None:
    """The live (not revoked) token `token`, or None."""
    row = session.connection().execute(_LIVE, {"digest": digest(token)}).first()
    return Live(*row) if row is not None else None


def stale(row: Live) -> bool:
    """Its last-use record is older than TOUCH_EVERY (so that not every request writes)."""
    return row.last_used_at is None or utcnow() - row.last_used_at > TOUCH_EVERY


def touch(session: Session, token_id: int) -> None:
    """Record that the token was used now."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


def revoke(session: Session, name: str) -> int:
    """Revoke every live token of `name`; return how many."""
    result = session.execute(update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return int(result.rowcount or 0)


def all_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()
