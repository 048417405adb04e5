"""API bearer tokens: made once, kept as sha256 only, revocable by name."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import ApiToken, utcnow

PREFIX = "lqc_"
TOUCH_EVERY = timedelta(minutes=5)  # last_used_at is refreshed at most this often (no write per request)


def digest(token: str) -> str:
    """sha256 of a token (tokens are 256-bit random: a plain hash is enough, no salt or KDF)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, name: str) -> str:
    """A new token for `name`; the clear text is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=digest(token)))
    return token


def verify(session: Session, token: str) -> ApiToken | None:
    """The live (not revoked) token row for `token`, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def touch(row: ApiToken) -> None:
    """Record that `row` was used (when its last record is older than TOUCH_EVERY)."""
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now


def revoke(session: Session, name: str) -> int:
    """Revoke every live token of `name`; return how many."""
    result = session.execute(update(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return int(result.rowcount or 0)


def all_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()
