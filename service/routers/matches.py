"""GET /api/v1/jobs/{job_id}/matches: the lessons a job matches (originality), in both directions.

The asked job is read like GET /jobs/{id} (the `read` scope; 404 outside a region token's region).
Each match is told from the asked job's side. A match whose other lesson lies outside the token's
region is still listed, with its ranges and the other lesson's title, teacher, school, region and
year (what the asked job's own report already names), and `other_visible: false`: every route of
that other job answers 404 to this token, as the console shows such a lesson's metadata and no player.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from index import prints

from .. import schemas
from ..deps import DbSession, JobRow, Reader

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=schemas.error_responses(401, 403))


class Match(BaseModel):
    """One re-use, told from the asked job: its range [start_s, end_s] matches `other_job_id`'s
    [other_start_s, other_end_s] (a duplicate names the range of the lesson whose report holds it only).

    `found_in` is `this` when the asked job's report holds the finding (it re-uses the other),
    `other` when the other lesson's report names the asked job (the other re-uses it)."""

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
    other_visible: bool = True          # this token may read the other job (its region)


class Matches(BaseModel):
    job_id: str
    matches: list[Match]


@router.get("/{job_id}/matches", response_model=Matches, responses=schemas.error_responses(404),
            summary="The other lessons this job matches, and those that match it (originality)")
def job_matches(job: JobRow, caller: Reader, session: DbSession) -> Matches:
    return Matches(job_id=job.id, matches=[_match(job.id, m, caller.sees(m.other.get("region")) and m.other_indexed)
                                           for m in prints.matches_seen_from(session, job.id)])


def _match(job_id: str, m: prints.Match, visible: bool) -> Match:
    return Match(found_in=m.found_in, code=m.code, job_id=job_id, start_s=m.start_s, end_s=m.end_s,
                 other_job_id=m.other_job_id, other_start_s=m.other_start_s, other_end_s=m.other_end_s,
                 matched=m.matched, similarity=m.similarity, share=m.share, mirrored=m.mirrored,
                 other_visible=visible, **{f"other_{k}": m.other.get(k) for k in prints.META_FIELDS})
