"""Dependencies: the index session of a request and the caller behind its bearer token (or console login)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, AsyncIterator, Awaitable, Callable

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
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


READS = frozenset({"GET", "HEAD"})


async def session(request: Request) -> AsyncIterator[Session]:
    """One index session per request, committed before the answer is sent (rolled back on an error); a GET
    reads with each statement on its own (no BEGIN/COMMIT round trips). Making it does no I/O, so it is made
    on the event loop; its end runs in a worker thread unless the route already ended its transaction."""
    s = (database().readers if request.method in READS else database().sessions)()
    try:
        yield s
    except BaseException:
        await run_in_threadpool(_end, s, False)
        raise
    if s.in_transaction():
        await run_in_threadpool(_end, s, True)
    else:
        s.close()


def _end(s: Session, commit: bool) -> None:
    try:
        if commit:
            s.commit()
        else:
            s.rollback()
    finally:
        s.close()


DbSession = Annotated[Session, Depends(session, scope="function")]


@dataclass(frozen=True)
class Principal:
    """Who calls: the token's name (the subscriber of its jobs' webhooks), its scopes, its region (None: all)."""

    name: str
    scopes: frozenset[str]
    region: str | None = None

    def may(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def sees(self, region: str | None) -> bool:
        """A job of `region` lies in the token's region (itself or below)."""
        return self.region is None or (region is not None and (region == self.region or
                                                               region.startswith(self.region + "/")))


def require_token(credentials: Credentials, s: DbSession) -> Principal:
    """The caller behind a live token; 401 without one, or with an unknown or revoked one."""
    return _principal(credentials, s)


def require_token_alone(credentials: Credentials) -> Principal:
    """The same check in a transaction of its own, for a route that streams a body (an upload): no index
    connection is held while the body arrives."""
    with database().session() as s:
        return _principal(credentials, s)


def _principal(credentials: HTTPAuthorizationCredentials | None, s: Session) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "auth.required", "a bearer token is required (Authorization: Bearer <token>)", CHALLENGE)
    row = tokens.verify(s, credentials.credentials)
    if row is None:
        raise ApiError(401, "auth.invalid_token", "the token is unknown or revoked", CHALLENGE)
    if tokens.stale(row):  # in its own short transaction: the request's session stays read-only
        with database().session() as own:
            tokens.touch(own, row.id)
    return Principal(row.name, frozenset((row.scopes or "").split()), row.region)


Caller = Annotated[Principal, Depends(require_token)]


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, when its token holds `scope` (or admin); 403 `auth.scope` otherwise."""
    async def check(caller: Caller) -> Principal:  # no I/O: on the event loop, no thread hand-off
        return scoped(caller, scope)
    return check


def scoped(caller: Principal, scope: str) -> Principal:
    if not caller.may(scope):
        raise ApiError(403, "auth.scope", f"this token lacks the '{scope}' scope")
    return caller


Reader = Annotated[Principal, Depends(require_scope("read"))]
Submitter = Annotated[Principal, Depends(require_scope("submit"))]


async def _uploader(caller: Annotated[Principal, Depends(require_token_alone)]) -> Principal:
    return scoped(caller, "submit")


Uploader = Annotated[Principal, Depends(_uploader)]  # POST /jobs: submit scope, no connection held meanwhile


def require_viewer(job_id: str, request: Request, credentials: Credentials, s: DbSession) -> str:
    """A bearer token, or the console's session cookie of a reviewer who may see this job (the player).

    A reviewer outside the job's level and region gets 404, as in the console."""
    if credentials is not None:
        caller = scoped(require_token(credentials, s), "read")
        if not caller.sees(indexed_job(job_id, s).region):
            raise ApiError(404, "job.not_found", f"no job {job_id}")
        return caller.name
    cookie = request.cookies.get(console_sessions.COOKIE)
    if not cookie:
        raise ApiError(401, "auth.required", "a bearer token or a console login is required", CHALLENGE)
    user = console_web.viewer(s, cookie, job_id)
    if user is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return f"console:{user.name}"


Viewer = Annotated[str, Depends(require_viewer)]


def indexed_job(job_id: str, s: DbSession) -> Job:
    """The indexed job named in the path; 404 when there is none."""
    job = repository.get_job(s, job_id)
    if job is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return job


async def existing_job(job: Annotated[Job, Depends(indexed_job)], caller: Caller) -> Job:
    """The job named in the path, as the caller may see it: 404 outside the token's region too."""
    if not caller.sees(job.region):
        raise ApiError(404, "job.not_found", f"no job {job.id}")
    return job


JobRow = Annotated[Job, Depends(existing_job)]
ViewedJob = Annotated[Job, Depends(indexed_job)]  # /video: require_viewer has checked who may see it
