"""/api/v1/jobs: create (JSON media reference or multipart upload; Idempotency-Key), list with filters (cursor
paging), read one (ETag), delete one."""
from __future__ import annotations

import logging
import shutil
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError

from index import repository
from pipelines import profile as profiles
from pipelines.errors import MediaPathRefused, ProfileError
from pipelines.report.document import new_job_id
from workers import api as farm_api
from workers import paths, serviceconfig
from workers.callbacks import CallbackRefused
from workers.validation import SubmissionInvalid

from .. import conditional, idempotent, schemas, uploads, views
from ..deps import DbSession, JobRow, Principal, Reader, Submitter, Uploader, database, require_scope
from ..errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=schemas.error_responses(401))
JSON_MAX_BYTES = 256 * 1024

CREATE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/UploadForm"}}}}


CREATE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": schemas.JobCreated, "description": "a retry with the same Idempotency-Key and request: the job "
                                                        "the first request made"},
    **schemas.error_responses(400, 403, 409, 413, 415, 422, 503)}
IdempotencyKey = Annotated[str | None, Header(alias=idempotent.HEADER, max_length=200,
                                              description="a retry with the same key and request gets the same job")]


@router.post("", status_code=201, response_model=schemas.JobCreated, openapi_extra={"requestBody": CREATE_BODY},
             responses=CREATE_ANSWERS, summary="Create a job: a media reference (JSON) or an upload (multipart)")
async def create_job(request: Request, caller: Uploader, idempotency_key: IdempotencyKey = None) -> Response:
    key = idempotent.checked_key(idempotency_key)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        spec = await _json_body(request)
        created, fresh = await run_in_threadpool(_create, spec, spec.media, caller, new_job_id(), None, key)
    elif kind == "multipart/form-data":
        created, fresh = await _upload(request, caller, key)
    else:
        raise ApiError(415, "request.unsupported_media_type", "send application/json or multipart/form-data")
    return Response(created.model_dump_json(), status_code=201 if fresh else 200, media_type="application/json",
                    headers={"Location": created.links["self"]})


async def _json_body(request: Request) -> schemas.JobCreate:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > JSON_MAX_BYTES:
            raise ApiError(413, "request.too_large", f"a JSON body is at most {JSON_MAX_BYTES} bytes")
    try:
        return schemas.JobCreate.model_validate_json(body)
    except ValidationError as exc:
        raise ApiError(422, "request.invalid", _first_errors(exc)) from None


def _first_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"] else e["msg"]
                     for e in exc.errors()[:5])


async def _upload(request: Request, caller: Principal, key: str | None) -> tuple[schemas.JobCreated, bool]:
    config = serviceconfig.load()
    roots = paths.media_roots()
    if not roots:
        raise ApiError(503, "media.no_roots", "no media roots configured (LESSONQC_MEDIA_ROOTS)")
    declared = int(request.headers.get("content-length") or 0)
    if declared > config.uploads.max_bytes + uploads.FIELD_MAX_BYTES * 4:
        raise ApiError(413, "upload.too_large", f"an upload is at most {config.uploads.max_bytes} bytes")
    job_id = new_job_id()
    folder = roots[0] / config.uploads.folder / job_id
    try:
        got = await uploads.receive(request.stream(), request.headers["content-type"], folder, config.uploads.max_bytes)
    except uploads.UploadTooLarge as exc:
        raise ApiError(413, "upload.too_large", str(exc)) from None
    except (uploads.UploadError, MultipartParseError) as exc:
        raise ApiError(400, "upload.malformed", str(exc) or "malformed multipart body") from None
    try:
        spec = _form_spec(got.fields)
        created, fresh = await run_in_threadpool(_create, spec, str(got.path), caller, job_id, got, key)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if not fresh:  # a retry of an upload already submitted: its copy is not kept
        shutil.rmtree(folder, ignore_errors=True)
    return created, fresh


def _form_spec(fields: dict[str, str]) -> schemas.JobCreate:
    try:
        return schemas.UploadFields.model_validate(fields).job()
    except ValidationError as exc:
        raise ApiError(422, "request.invalid", _first_errors(exc)) from None
    except schemas.FormInvalid as exc:
        raise ApiError(422, "request.invalid", str(exc)) from None
    except ValueError:  # json.JSONDecodeError of an inline profile
        raise ApiError(422, "profile.invalid", "the inline profile is not valid JSON") from None


def _builtin_only(profile: str | dict[str, Any]) -> None:
    """A named profile must be built in: a name is never looked up as a server path (no file is opened)."""
    if isinstance(profile, str) and profile not in profiles.available():
        raise ApiError(422, "profile.invalid", f"unknown profile {profile!r} (built-in: {', '.join(profiles.available())}; "
                                               f"or give the profile inline as a mapping)")


def _create(spec: schemas.JobCreate, media: str, caller: Principal, job_id: str, upload: uploads.Upload | None,
            key: str | None) -> tuple[schemas.JobCreated, bool]:
    """Submit (True), or with an Idempotency-Key already used for this request, the job it made (False)."""
    spec = _in_region(spec, caller)
    if key is None:
        return _submit(spec, media, caller.name, job_id, upload), True
    asked = {"job": spec.model_dump(mode="json"), "file": upload.filename if upload else None}
    digest = idempotent.fingerprint(asked, upload.sha256 if upload else None)
    return idempotent.once(caller.name, key, digest, job_id, lambda: _submit(spec, media, caller.name, job_id, upload),
                           _replay)


def _in_region(spec: schemas.JobCreate, caller: Principal) -> schemas.JobCreate:
    """A region token's job lies in its region (a job without one gets the token's); 403 outside it."""
    if caller.region is None:
        return spec
    if spec.region is None:
        return spec.model_copy(update={"region": caller.region})
    if not caller.sees(spec.region):
        raise ApiError(403, "auth.region", f"this token may submit only in {caller.region}")
    return spec


def _replay(job_id: str) -> schemas.JobCreated:
    with database().session() as session:
        job = repository.get_job(session, job_id)
        if job is None:
            raise ApiError(404, "job.not_found", f"job {job_id} of this Idempotency-Key was deleted")
        return schemas.JobCreated(id=job.id, status=job.status, media_sha256=job.media_sha256,
                                  media_size=job.media_size, links=views.links(job.id))


def _submit(spec: schemas.JobCreate, media: str, caller: str, job_id: str,
            upload: uploads.Upload | None) -> schemas.JobCreated:
    details = farm_api.Details(region=spec.region, lesson=spec.lesson.model_dump(), callback_url=spec.callback_url,
                               submitted_by=caller, media_sha256=upload.sha256 if upload else None,
                               media_size=upload.size if upload else None)
    source = upload.filename if upload else media
    _builtin_only(spec.profile)
    try:
        farm_api.submit(media, spec.profile, spec.languages, source=source or media, job_id=job_id,
                        skip=spec.skip, details=details, category=spec.package_category or "")
    except MediaPathRefused as exc:
        raise ApiError(422, "media.path_refused", str(exc)) from None
    except SubmissionInvalid as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    except ProfileError as exc:
        raise ApiError(422, "profile.invalid", str(exc)) from None
    except CallbackRefused as exc:
        raise ApiError(422, "callback.refused", str(exc)) from None
    except redis.RedisError as exc:
        log.warning("job %s: the farm's Redis is unavailable: %s", job_id, exc)
        raise ApiError(503, "farm.unavailable", "the farm's queue is unavailable; try again later") from None
    return schemas.JobCreated(id=job_id, status="queued", media_sha256=details.media_sha256,
                              media_size=details.media_size, links=views.links(job_id))


@router.get("", response_model=schemas.JobPage, responses=schemas.error_responses(403, 422),
            summary="List jobs, newest first, with filters; cursor paging (Link rel=next), total on request")
def list_jobs(request: Request, caller: Reader, session: DbSession,
              query: Annotated[schemas.JobQuery, Query()]) -> Response:
    config = serviceconfig.load()
    limit = min(query.limit or config.paging.default_limit, config.paging.max_limit)
    filters = repository.JobFilter(query.verdict, query.code, query.status, query.profile, query.region, query.level,
                                   query.submitted_after, query.submitted_before, within=caller.region)
    rows, after = repository.list_page(session, filters, limit, _cursor(query.cursor))
    total = repository.count_jobs(session, filters) if query.total else None
    session.commit()  # read all it needs: the connection goes back to the pool before the answer is built
    token = after.encode() if after is not None else None
    page = schemas.JobPage.model_validate({"items": rows, "limit": limit, "next_cursor": token, "total": total})
    headers = {"Link": f'<{request.url.path}?{request.url.include_query_params(cursor=token).query}>; rel="next"'} \
        if token else {}
    return Response(page.model_dump_json(), media_type="application/json", headers=headers)


def _cursor(token: str | None) -> repository.Cursor | None:
    try:
        return repository.Cursor.decode(token) if token else None
    except ValueError:
        raise ApiError(422, "request.invalid", "cursor: not a cursor of this list (use next_cursor as given)") from None


@router.get("/{job_id}", response_model=schemas.JobDetail, dependencies=[Depends(require_scope("read"))],
            responses={304: {"description": "unchanged (If-None-Match)"}, **schemas.error_responses(403, 404)},
            summary="One job: metadata, state per stage, links; ETag, 304 while unchanged")
def get_job(job: JobRow, session: DbSession, request: Request) -> Response:
    return conditional.model_answer(request, views.detail(job, repository.codes_by_job(session, [job.id])[job.id]))


@router.delete("/{job_id}", status_code=204, responses=schemas.error_responses(403, 404, 503),
               summary="Cancel a job still running, delete it, and remove its upload and report (service.retention)")
async def delete_job(job: JobRow, caller: Submitter) -> Response:
    if not (caller.may("admin") or job.submitted_by == caller.name):
        raise ApiError(403, "auth.forbidden", "only the token that submitted a job, or an admin token, may delete it")
    try:
        await run_in_threadpool(farm_api.delete, job.id)
    except redis.RedisError as exc:
        log.warning("job %s: the farm's Redis is unavailable: %s", job.id, exc)
        raise ApiError(503, "farm.unavailable", "the farm's queue is unavailable; try again later") from None
    return Response(status_code=204)
