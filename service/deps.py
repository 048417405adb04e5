"""Dependencies: the index session and the bearer-token check every /api route needs."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from index import db, tokens
from workers import indexing

from .errors import ApiError

bearer = HTTPBearer(auto_error=False, description="A token made with `lessonqc tokens create NAME`")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def database() -> db.Database:
    return indexing.database()


def session() -> Iterator[Session]:
    with database().session() as s:
        yield s


def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The name of the caller's live token; 401 without one, or with an unknown or revoked one."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "auth.required", "a bearer token is required (Authorization: Bearer <token>)", CHALLENGE)
    with database().session() as s:
        row = tokens.verify(s, credentials.credentials)
        if row is None:
            raise ApiError(401, "auth.invalid_token", "the token is unknown or revoked", CHALLENGE)
        return row.name


Caller = Annotated[str, Depends(require_token)]
DbSession = Annotated[Session, Depends(session)]
