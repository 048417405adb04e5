"""Dependencies: the index session of a request and the caller behind its bearer token (or console login)."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from console import sessions as console_sessions
from console import web as console_web
from index import db, repository, tokens
from index.models import Job
from workers import indexing

from .errors import ApiError

bearer = HTTPBearer(auto_error=False, description="A token made with `lessonqc tokens create NAME`")
CHALLENGE = {"WWW-Authenticate": "Bearer"}
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def database() -> db.Database:
    return indexing.database()


def session() -> Iterator[Session]:
    """One index session per request, committed before the answer is sent (rolled back on an error)."""
    with database().session() as s:
        yield s


DbSession = Annotated[Session, Depends(session, scope="function")]


def require_token(credentials: Credentials, s: DbSession) -> str:
    """The name of the caller's live token; 401 without one, or with an unknown or revoked one."""
    return _token_name(credentials, s)


def require_token_alone(credentials: Credentials) -> str:
    """The same check in a transaction of its own, for a route that streams a body (an upload): no index
    connection is held while the body arrives."""
    with database().session() as s:
        return _token_name(credentials, s)


def _token_name(credentials: HTTPAuthorizationCredentials | None, s: Session) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "auth.required", "a bearer token is required (Authorization: Bearer <token>)", CHALLENGE)
    row = tokens.verify(s, credentials.credentials)
    if row is None:
        raise ApiError(401, "auth.invalid_token", "the token is unknown or revoked", CHALLENGE)
    tokens.touch(row)
    return row.name


def require_viewer(job_id: str, request: Request, credentials: Credentials, s: DbSession) -> str:
    """A bearer token, or the console's session cookie of a reviewer who may see this job (the player).

    A reviewer outside the job's level and region gets 404, as in the console."""
    if credentials is not None:
        return _token_name(credentials, s)
    cookie = request.cookies.get(console_sessions.COOKIE)
    if not cookie:
        raise ApiError(401, "auth.required", "a bearer token or a console login is required", CHALLENGE)
    user = console_web.viewer(s, cookie, job_id)
    if user is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return f"console:{user.name}"


Caller = Annotated[str, Depends(require_token)]
Uploader = Annotated[str, Depends(require_token_alone)]
Viewer = Annotated[str, Depends(require_viewer)]


def existing_job(job_id: str, s: DbSession) -> Job:
    """The indexed job named in the path; 404 when there is none."""
    job = repository.get_job(s, job_id)
    if job is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return job


JobRow = Annotated[Job, Depends(existing_job)]
