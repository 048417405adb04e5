"""/api/v1/jobs/{id}/decisions: the review levels' decisions on a lesson (append-only, oldest first)."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from index import decisions as records

from .. import schemas
from ..deps import DbSession, JobRow, require_token

router = APIRouter(prefix="/api/v1/jobs/{job_id}", tags=["review"], dependencies=[Depends(require_token)],
                   responses=schemas.error_responses(401, 404))


@router.get("/decisions", response_model=schemas.Decisions, summary="Decisions of every review level")
def decisions(job: JobRow, session: DbSession) -> schemas.Decisions:
    return schemas.Decisions(job_id=job.id, level=job.level,
                             decisions=[schemas.DecisionOut(**records.as_dict(r)) for r in records.records(session, job.id)])
