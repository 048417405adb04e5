"""The ASGI app: FastAPI with routers per resource, JSON errors, /healthz and /openapi.json."""
from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI
from sqlalchemy import text

from console import settings as console_settings
from console import web as console_web
from workers import api as farm_api
from workers.connection import redis_client

from . import errors, schemas
from .deps import database
from .routers import decisions, jobs, matches, outputs

log = logging.getLogger(__name__)

DESCRIPTION = """LessonQC's platform API (SPEC.md "Platform HTTP API (v1)"). Every /api route needs
`Authorization: Bearer <token>` (tokens: `lessonqc tokens create NAME`). Errors are JSON {code, message}."""


def create_app() -> FastAPI:
    """The app; the index is opened (and migrated) on the first request that needs it."""
    app = FastAPI(title="LessonQC", version="1", description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url="/docs", redoc_url=None)
    errors.install(app)
    app.include_router(jobs.router)
    app.include_router(matches.router)
    app.include_router(outputs.router)
    app.include_router(outputs.media_router)
    app.include_router(decisions.router)
    console_web.install(app, console_web.Console(database, console_settings.load(), on_decision=_decided))
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=schemas.Health, tags=["health"],
                      responses=schemas.error_responses(503))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _decided(job_id: str, record: dict[str, Any]) -> None:
    """A console decision is committed: queue its signed callback (a broker outage never undoes it)."""
    try:
        farm_api.notify_decision(job_id, int(record["id"]))
    except Exception as exc:  # noqa: BLE001 - the decision stands; GET /decisions still has it
        log.warning("job %s: decision callback not queued: %s", job_id, exc)


def healthz() -> schemas.Health:
    """The index answers (else 503); Redis is reported but not required to read reports."""
    try:
        with database().session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
        raise errors.ApiError(503, "index.unavailable", f"index database unavailable: {type(exc).__name__}") from None
    try:
        redis_client().ping()
        farm = "ok"
    except redis.RedisError:
        farm = "unavailable"
    return schemas.Health(status="ok", database=database().dialect, redis=farm)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the two request bodies of POST /jobs (parsed by hand to stream uploads)."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (schemas.JobCreate, schemas.UploadForm):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    app.openapi_schema = doc
    return doc
