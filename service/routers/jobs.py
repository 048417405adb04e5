"""/api/v1/jobs: create (JSON media reference or multipart upload), list with filters, read one."""
from __future__ import annotations

import logging
import shutil
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, Query, Request, Response
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

from .. import schemas, uploads, views
from ..deps import DbSession, JobRow, Uploader, require_token
from ..errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"],
                   responses=schemas.error_responses(401))
JSON_MAX_BYTES = 256 * 1024

CREATE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/UploadForm"}}}}


@router.post("", status_code=201, response_model=schemas.JobCreated, openapi_extra={"requestBody": CREATE_BODY},
             responses=schemas.error_responses(400, 413, 415, 422, 503),
             summary="Create a job: a media reference (JSON) or an upload (multipart)")
async def create_job(request: Request, response: Response, caller: Uploader) -> schemas.JobCreated:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        spec = await _json_body(request)
        created = await run_in_threadpool(_submit, spec, spec.media, caller, new_job_id(), None)
    elif kind == "multipart/form-data":
        created = await _upload(request, caller)
    else:
        raise ApiError(415, "request.unsupported_media_type", "send application/json or multipart/form-data")
    response.headers["Location"] = created.links["self"]
    return created


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


async def _upload(request: Request, caller: str) -> schemas.JobCreated:
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
        return await run_in_threadpool(_submit, spec, str(got.path), caller, job_id, got)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _form_spec(fields: dict[str, str]) -> schemas.JobCreate:
    try:
        return schemas.UploadFields.model_validate(fields).job()
    except ValidationError as exc:
        raise ApiError(422, "request.invalid", _first_errors(exc)) from None
    except ValueError:  # json.JSONDecodeError of an inline profile
        raise ApiError(422, "profile.invalid", "the inline profile is not valid JSON") from None


def _builtin_only(profile: str | dict[str, Any]) -> None:
    """A named profile must be built in: a name is never looked up as a server path (no file is opened)."""
    if isinstance(profile, str) and profile not in profiles.available():
        raise ApiError(422, "profile.invalid", f"unknown profile {profile!r} (built-in: {', '.join(profiles.available())}; "
                                               f"or give the profile inline as a mapping)")


def _media_exists(media: str) -> None:
    """A media reference names something under the media roots (422 naming only the reference otherwise)."""
    try:
        real = paths.resolve(media)
    except MediaPathRefused as exc:
        raise ApiError(422, "media.path_refused", str(exc)) from None
    try:
        found = real.exists()
    except OSError:  # a name too long for the file system
        found = False
    if not found:
        raise ApiError(422, "media.not_found", f"no media at {media!r} under the media roots")


def _submit(spec: schemas.JobCreate, media: str, caller: str, job_id: str,
            upload: uploads.Upload | None) -> schemas.JobCreated:
    details = farm_api.Details(region=spec.region, lesson=spec.lesson.model_dump(), callback_url=spec.callback_url,
                               submitted_by=caller, media_sha256=upload.sha256 if upload else None,
                               media_size=upload.size if upload else None)
    source = upload.filename if upload else media
    _builtin_only(spec.profile)
    if upload is None:
        _media_exists(media)
    try:
        farm_api.submit(media, spec.profile, spec.languages, source=source or media, job_id=job_id,
                        skip=spec.skip, details=details, category=spec.package_category or "")
    except MediaPathRefused as exc:
        raise ApiError(422, "media.path_refused", str(exc)) from None
    except ProfileError as exc:
        raise ApiError(422, "profile.invalid", str(exc)) from None
    except CallbackRefused as exc:
        raise ApiError(422, "callback.refused", str(exc)) from None
    except redis.RedisError as exc:
        log.warning("job %s: the farm's Redis is unavailable: %s", job_id, exc)
        raise ApiError(503, "farm.unavailable", "the farm's queue is unavailable; try again later") from None
    return schemas.JobCreated(id=job_id, status="queued", media_sha256=details.media_sha256,
                              media_size=details.media_size, links=views.links(job_id))


@router.get("", response_model=schemas.JobPage, responses=schemas.error_responses(422),
            dependencies=[Depends(require_token)],
            summary="List jobs, newest first, with filters and paging")
def list_jobs(session: DbSession, query: Annotated[schemas.JobQuery, Query()]) -> schemas.JobPage:
    config = serviceconfig.load()
    limit = min(query.limit or config.paging.default_limit, config.paging.max_limit)
    filters = repository.JobFilter(query.verdict, query.code, query.status, query.profile, query.region, query.level,
                                   query.submitted_after, query.submitted_before)
    page, total = repository.list_jobs(session, filters, limit, query.offset)
    codes = repository.codes_by_job(session, [j.id for j in page])
    items = [views.summary(j, codes[j.id]) for j in page]
    more = query.offset + len(items) < total
    return schemas.JobPage(items=items, total=total, limit=limit, offset=query.offset,
                           next_offset=query.offset + len(items) if more else None)


@router.get("/{job_id}", response_model=schemas.JobDetail, responses=schemas.error_responses(404),
            dependencies=[Depends(require_token)],
            summary="One job: metadata, state per stage, links")
def get_job(job: JobRow, session: DbSession) -> schemas.JobDetail:
    return views.detail(job, repository.codes_by_job(session, [job.id])[job.id])
