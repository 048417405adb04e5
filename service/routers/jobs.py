"""/api/v1/jobs: create (JSON media reference or multipart upload), list with filters, read one."""
from __future__ import annotations

import shutil
from datetime import datetime
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from python_multipart.exceptions import MultipartParseError

from index import repository
from pipelines.errors import MediaPathRefused, ProfileError
from pipelines.report.document import new_job_id
from workers import api as farm_api
from workers import paths, serviceconfig
from workers.callbacks import CallbackRefused

from .. import schemas, uploads, views
from ..deps import Caller, DbSession, require_token
from ..errors import ApiError

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[Depends(require_token)],
                   responses=schemas.error_responses(401))
JSON_MAX_BYTES = 256 * 1024

CREATE_BODY = {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/JobCreate"}},
    "multipart/form-data": {"schema": {"$ref": "#/components/schemas/UploadForm"}}}}


@router.post("", status_code=201, response_model=schemas.JobCreated, openapi_extra={"requestBody": CREATE_BODY},
             responses=schemas.error_responses(400, 413, 415, 422, 503),
             summary="Create a job: a media reference (JSON) or an upload (multipart)")
async def create_job(request: Request, caller: Caller) -> schemas.JobCreated:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        spec = await _json_body(request)
        return await run_in_threadpool(_submit, spec, spec.media, caller, new_job_id(), None)
    if kind == "multipart/form-data":
        return await _upload(request, caller)
    raise ApiError(415, "request.unsupported_media_type", "send application/json or multipart/form-data")


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


async def _upload(request: Request, caller: Caller) -> schemas.JobCreated:
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
    lesson = {k: fields[k] for k in views.LESSON_KEYS if fields.get(k)}
    doc: dict[str, Any] = {"media": "upload", "lesson": lesson}
    for key in ("profile", "region", "callback_url", "package_category"):
        if fields.get(key):
            doc[key] = fields[key]
    for key in ("languages", "skip"):
        if fields.get(key):
            doc[key] = [v.strip() for v in fields[key].split(",") if v.strip()]
    unknown = set(fields) - set(doc) - set(lesson) - {"languages", "skip"}
    if unknown:
        raise ApiError(422, "request.invalid", f"unknown form field(s): {', '.join(sorted(unknown))}")
    try:
        return schemas.JobCreate.model_validate(doc)
    except ValidationError as exc:
        raise ApiError(422, "request.invalid", _first_errors(exc)) from None


def _submit(spec: schemas.JobCreate, media: str, caller: str, job_id: str,
            upload: uploads.Upload | None) -> schemas.JobCreated:
    details = farm_api.Details(region=spec.region, lesson=spec.lesson.model_dump(), callback_url=spec.callback_url,
                               submitted_by=caller, media_sha256=upload.sha256 if upload else None,
                               media_size=upload.size if upload else None)
    source = upload.filename if upload else media
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
        raise ApiError(503, "farm.unavailable", f"the farm's Redis is unavailable: {exc}") from None
    return schemas.JobCreated(id=job_id, status="queued", media_sha256=details.media_sha256,
                              media_size=details.media_size, links=views.links(job_id))


@router.get("", response_model=schemas.JobPage, responses=schemas.error_responses(422),
            summary="List jobs, newest first, with filters and paging")
def list_jobs(session: DbSession,
              verdict: schemas.Verdict | None = None, code: Annotated[str | None, Query(max_length=64)] = None,
              status: schemas.Status | None = None, profile: Annotated[str | None, Query(max_length=200)] = None,
              region: Annotated[str | None, Query(max_length=200, description="matches itself and sub-regions")] = None,
              level: schemas.Level | None = None, submitted_after: datetime | None = None,
              submitted_before: datetime | None = None, limit: Annotated[int | None, Query(ge=1)] = None,
              offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> schemas.JobPage:
    config = serviceconfig.load()
    limit = min(limit or config.paging.default_limit, config.paging.max_limit)
    filters = repository.JobFilter(verdict, code, status, profile, region, level, submitted_after, submitted_before)
    page, total = repository.list_jobs(session, filters, limit, offset)
    codes = repository.codes_by_job(session, [j.id for j in page])
    items = [views.summary(j, codes[j.id]) for j in page]
    more = offset + len(items) < total
    return schemas.JobPage(items=items, total=total, limit=limit, offset=offset,
                           next_offset=offset + len(items) if more else None)


@router.get("/{job_id}", response_model=schemas.JobDetail, responses=schemas.error_responses(404),
            summary="One job: metadata, state per stage, links")
def get_job(job_id: str, session: DbSession) -> schemas.JobDetail:
    job = repository.get_job(session, job_id)
    if job is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return views.detail(job, repository.codes_by_job(session, [job_id])[job_id])
