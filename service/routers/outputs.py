"""A job's outputs: report.json, report.html, the published artifacts, and the video (HTTP ranges)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from console.pages import REPORT_HEADERS
from index import repository
from pipelines.errors import MediaPathRefused
from workers import paths, reportstore, settings

from .. import schemas
from ..deps import DbSession, JobRow, require_token, require_viewer
from ..errors import ApiError

router = APIRouter(prefix="/api/v1/jobs/{job_id}", tags=["outputs"], dependencies=[Depends(require_token)],
                   responses=schemas.error_responses(401, 404, 409))
# The video also answers the console's player (session cookie, reviewer scope): its own dependency.
media_router = APIRouter(prefix="/api/v1/jobs/{job_id}", tags=["outputs"], dependencies=[Depends(require_viewer)],
                         responses=schemas.error_responses(401, 404))
PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
               ".mkv": "video/x-matroska"}


def published(job_id: str, session: DbSession) -> Path:
    """The job's published report folder; 404 for an unknown job, 409 while it has no report yet."""
    job = repository.get_job(session, job_id)
    try:
        folder = reportstore.job_dir(settings.report_root(), job_id) if job is None or not job.report_dir \
            else Path(job.report_dir)
    except reportstore.BadJobId:  # not a job id at all (e.g. ':'): no such job
        raise ApiError(404, "job.not_found", f"no job {job_id}") from None
    if (folder / "report.json").is_file():
        return folder
    if job is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    raise ApiError(409, "report.not_ready", f"job {job_id} has no report yet ({job.status})")


ReportDir = Annotated[Path, Depends(published)]


@router.get("/report", response_model=dict[str, Any], summary="report.json (SPEC schema_version 1)")
def report_json(folder: ReportDir) -> FileResponse:
    return FileResponse(folder / "report.json", media_type="application/json", headers=REPORT_HEADERS)


@router.get("/report.html", response_class=FileResponse, summary="The self-contained report page",
            responses={200: {"content": {"text/html": {}}}})
def report_html(folder: ReportDir) -> FileResponse:
    return FileResponse(folder / "report.html", media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)


@router.get("/artifacts", response_model=schemas.Artifacts, summary="Published files besides report.json")
def list_artifacts(folder: ReportDir) -> schemas.Artifacts:
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "report.json")
    return schemas.Artifacts(files=files)


@router.get("/artifacts/{path:path}", response_class=FileResponse, summary="One published file (thumbnail, subtitles)",
            responses={200: {"content": {"application/octet-stream": {}}}})
def artifact(job_id: str, path: str, published_dir: ReportDir) -> FileResponse:
    folder = published_dir.resolve()
    target = (folder / path).resolve()
    if ".." in Path(path).parts or not target.is_relative_to(folder) or not target.is_file():
        raise ApiError(404, "artifact.not_found", f"job {job_id} has no artifact {path}")
    return FileResponse(target, headers=REPORT_HEADERS)


VIDEO_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"video/mp4": {}}}, 206: {"description": "partial content", "content": {"video/mp4": {}}},
    **schemas.error_responses(400, 416)}


@media_router.head("/video", response_class=FileResponse, responses=VIDEO_ANSWERS,
                   summary="The submitted video's headers (size, type, Accept-Ranges)")
@media_router.get("/video", response_class=FileResponse, responses=VIDEO_ANSWERS,
                  summary="The submitted video (honours Range requests; a bearer token or a console login)")
def video(job: JobRow, request: Request) -> FileResponse:
    job_id = job.id
    try:
        real = paths.resolve(job.media_path or "")
    except MediaPathRefused:
        real = None
    if real is None or not real.is_file():
        raise ApiError(404, "video.not_found", f"job {job_id}: its video is no longer under the media roots")
    answer = FileResponse(real, media_type=VIDEO_TYPES.get(real.suffix.lower(), "application/octet-stream"),
                          stat_result=os.stat(real), headers=PRIVATE)
    _check_range(request, answer, job_id)
    return answer


def _check_range(request: Request, answer: FileResponse, job_id: str) -> None:
    """The Range the file answer would honour, checked first: 400 or 416 as problem details, not plain text."""
    wanted, if_range = request.headers.get("range"), request.headers.get("if-range")
    if wanted is None or (if_range is not None and not answer._should_use_range(if_range)):
        return
    size = answer.stat_result.st_size
    try:
        FileResponse._parse_range_header(wanted, size)
    except MalformedRangeHeader as exc:
        raise ApiError(400, "range.malformed", f"job {job_id}: malformed Range header: {exc.content}") from None
    except RangeNotSatisfiable:
        raise ApiError(416, "range.not_satisfiable", f"job {job_id}: the video has {size} bytes",
                       {"Content-Range": f"bytes */{size}"}) from None
