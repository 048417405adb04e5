"""The ASGI app: FastAPI with routers per resource, JSON errors, /healthz and /openapi.json."""
from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path
from sqlalchemy import text

from console import settings as console_settings
from console import web as console_web
from workers import api as farm_api
from workers import serviceconfig
from workers.connection import redis_client

from . import errors, openapi, schemas
from .deps import database
from .routers import decisions, jobs, matches, outputs, webhooks

log = logging.getLogger(__name__)
DOCS = "/docs"

DESCRIPTION = """LessonQC's platform API (SPEC.md "Platform HTTP API (v1)"). Every /api route needs
`Authorization: Bearer <token>` (tokens: `lessonqc tokens create NAME`). Errors are RFC 9457 problem details
(`application/problem+json`) with a stable `code` member."""


def create_app() -> FastAPI:
    """The app; the index is opened (and migrated) on the first request that needs it."""
    app = FastAPI(title="LessonQC", version="1", description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None, generate_unique_id_function=openapi.operation_id)
    errors.install(app, {console_web.PREFIX: console_web.error_page})
    app.include_router(jobs.router)
    app.include_router(matches.router)
    app.include_router(outputs.router)
    app.include_router(outputs.media_router)
    app.include_router(decisions.router)
    app.include_router(webhooks.router)
    openapi.add_webhooks(app)
    console_web.install(app, console_web.Console(database, console_settings.load(), on_decision=_decided))
    app.add_api_route("/", home, methods=["GET"], include_in_schema=False)
    app.add_api_route(DOCS, docs, methods=["GET"], include_in_schema=False)
    app.mount(f"{DOCS}/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=schemas.Health, tags=["health"],
                      responses=schemas.error_responses(503))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def server_options() -> dict[str, Any]:
    """How uvicorn must serve the app: X-Forwarded-* believed only from the configured trusted proxies
    (none by default: uvicorn's own default trusts 127.0.0.1, so a local client could name any address)."""
    trusted = serviceconfig.load().trusted_proxies
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": ",".join(trusted)}


def _decided(job_id: str, record: dict[str, Any]) -> None:
    """A console decision is committed: queue its signed callback (a broker outage never undoes it)."""
    try:
        farm_api.notify_decision(job_id, int(record["id"]))
    except Exception as exc:  # noqa: BLE001 - the decision stands; GET /decisions still has it
        log.warning("job %s: decision callback not queued: %s", job_id, exc)


def home() -> RedirectResponse:
    """A person opening the server lands on the reviewer console."""
    return RedirectResponse(f"{console_web.PREFIX}/", status_code=303)


def docs() -> HTMLResponse:
    """Swagger UI from the assets shipped in the swagger-ui-bundle package (nothing from a CDN)."""
    return get_swagger_ui_html(openapi_url="/openapi.json", title="LessonQC API",
                               swagger_js_url=f"{DOCS}/static/swagger-ui-bundle.js",
                               swagger_css_url=f"{DOCS}/static/swagger-ui.css",
                               swagger_favicon_url=f"{DOCS}/static/favicon-32x32.png")


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
    """FastAPI's document plus the two request bodies of POST /jobs (parsed by hand to stream uploads);
    error answers documented as application/problem+json; the webhooks, the typed report, examples."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                      webhooks=app.webhooks.routes)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (schemas.JobCreate, schemas.UploadForm):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            _problem_content(operation.get("responses", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = openapi.extend(doc)
    return doc


def _problem_content(responses: dict[str, Any]) -> None:
    """Every error answer (FastAPI's own 422 included) is a Problem, as application/problem+json."""
    for status, answer in responses.items():
        if status[:1] in "45":
            answer["content"] = {errors.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
