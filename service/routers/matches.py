"""GET /api/v1/jobs/{job_id}/matches: the lessons a job matches (originality), in both directions."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from index import prints, repository

from .. import schemas
from ..deps import DbSession, require_token
from ..errors import ApiError

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[Depends(require_token)],
                   responses=schemas.error_responses(401))


class Match(BaseModel):
    """One re-use: `job_id`'s range [start_s, end_s] matches `other_job_id`'s [other_start_s, other_end_s].

    `found_in` is `this` when the asked job's report holds the finding (it re-uses the other),
    `other` when another lesson's report names the asked job."""

    found_in: Literal["this", "other"]
    code: str
    job_id: str
    start_s: float | None
    end_s: float | None
    other_job_id: str
    other_start_s: float | None = None
    other_end_s: float | None = None
    matched: str | None = None          # picture | sound | both
    similarity: float | None = None
    share: float | None = None          # originality.duplicate: the share of the lesson
    mirrored: bool | None = None
    other_title: str | None = None
    other_teacher: str | None = None
    other_school: str | None = None
    other_region: str | None = None
    other_year: int | None = None


class Matches(BaseModel):
    job_id: str
    matches: list[Match]


@router.get("/{job_id}/matches", response_model=Matches, responses=schemas.error_responses(404),
            summary="The other lessons this job matches, and those that match it (originality)")
def job_matches(job_id: str, session: DbSession) -> Matches:
    if repository.get_job(session, job_id) is None:
        raise ApiError(404, "job.not_found", f"no job {job_id}")
    return Matches(job_id=job_id, matches=[_match(where, f) for where, f in prints.matches_of(session, job_id)])


def _match(found_in: str, f: Any) -> Match:
    ev = f.evidence or {}
    fields = {k: ev.get(k) for k in Match.model_fields if k in ev and k not in ("start_s", "end_s")}
    return Match(found_in=found_in, code=f.code, job_id=f.job_id, start_s=f.start_s, end_s=f.end_s, **fields)
