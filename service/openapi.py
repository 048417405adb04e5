"""What the OpenAPI document adds to FastAPI's: stable operation ids, the webhooks a platform receives,
the typed report (SPEC schema_version 1, from pipelines/report/schema.json) and examples."""
from __future__ import annotations

import copy
import json
from typing import Annotated, Any

from fastapi import FastAPI, Header
from fastapi.routing import APIRoute

from pipelines.report.document import SCHEMA_PATH

from . import schemas

REPORT_PATH = "/api/v1/jobs/{job_id}/report"
JOB_EXAMPLE = {"media": "2026/西湖小学/分数的初步认识.mp4", "profile": "micro-primary", "region": "浙江省/杭州市/西湖区",
               "callback_url": "https://platform.example.cn/lessonqc/hook",
               "lesson": {"teacher": "王老师", "school": "西湖小学", "subject": "数学", "grade": "三年级",
                          "title": "分数的初步认识", "category": "学科课程",
                          "node": {"stage": "小学", "subject": "数学", "edition": "人教版", "volume": "三年级上册",
                                   "unit": "第八单元 分数的初步认识", "lesson": "分数的初步认识"}}}


def operation_id(route: APIRoute) -> str:
    """camelCase of the route function's name (createJob, listJobs, ...; `head` first for a HEAD-only route):
    stable while the function's name is."""
    words = (["head"] if route.methods == {"HEAD"} else []) + route.name.split("_")
    return words[0] + "".join(word.capitalize() for word in words[1:])


WebhookId = Annotated[str, Header(alias="webhook-id", description="the event's id: the same on every retry")]
WebhookTimestamp = Annotated[str, Header(alias="webhook-timestamp", description="Unix seconds of this attempt")]
WebhookSignature = Annotated[str, Header(alias="webhook-signature",
                                         description='"v1,<base64 HMAC-SHA256 of id.timestamp.body>" per live '
                                                     "secret, space-separated")]


def add_webhooks(app: FastAPI) -> None:
    """The events LessonQC POSTs to a job's callback_url (OpenAPI `webhooks`); answer 2xx to take one."""

    @app.webhooks.post("report.published", tags=["webhooks"], status_code=204)
    def report_published(body: schemas.ReportPublished, webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp,
                         webhook_signature: WebhookSignature) -> None:
        """A job's report is published. Verify the signature (docs/webhooks.md) before trusting the body."""

    @app.webhooks.post("review.decided", tags=["webhooks"], status_code=204)
    def review_decided(body: schemas.ReviewDecided, webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp,
                       webhook_signature: WebhookSignature) -> None:
        """A review level decided on a job's lesson (pass, return or reject)."""


def extend(doc: dict[str, Any]) -> dict[str, Any]:
    """The typed report and request examples, added to FastAPI's document in place."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(report_schemas())
    answer = doc.get("paths", {}).get(REPORT_PATH, {}).get("get", {}).get("responses", {}).get("200")
    if answer is not None:
        answer["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}
    create = doc.get("paths", {}).get("/api/v1/jobs", {}).get("post", {}).get("requestBody", {})
    json_body = create.get("content", {}).get("application/json")
    if json_body is not None:
        json_body["example"] = JOB_EXAMPLE
    return doc


def report_schemas() -> dict[str, Any]:
    """report.schema.json as OpenAPI components: `Report` and its definitions as `Report_<name>`."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    out = {"Report": schema, **{f"Report_{name}": part for name, part in defs.items()}}
    return {name: _rerefed(part) for name, part in out.items()}


def _rerefed(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("#/components/schemas/Report_" + v.rsplit("/", 1)[1]
                    if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/") else _rerefed(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rerefed(v) for v in node]
    return copy.copy(node)
