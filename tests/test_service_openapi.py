"""Schemathesis against /openapi.json: generated requests to every operation get no 5xx, and every
answer matches the documented status codes, content types and schemas (bounded: few examples each)."""
from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from service.app import create_app
from tests.apikit import make_token, service_env
from workers import broker as brokers
from workers import serviceconfig

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())  # the document needs no database


@pytest.fixture
def token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An isolated service (SQLite index, stub farm) and a token for it."""
    service_env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'index.sqlite3'}", uploads={"max_bytes": 100_000})
    (tmp_path / "media" / "lesson.mp4").write_bytes(b"x" * 1000)
    monkeypatch.setenv(brokers.BROKER_ENV, "stub")
    brokers.install(brokers.make_stub())
    yield make_token("schemathesis")
    brokers.uninstall()
    serviceconfig.load.cache_clear()


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_its_document(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def test_the_document_lists_webhooks_the_typed_report_examples_and_stable_operation_ids():
    doc = create_app().openapi()
    assert set(doc["webhooks"]) == {"report.published", "review.decided"}
    published = doc["webhooks"]["report.published"]["post"]
    assert {p["name"] for p in published["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    report = doc["paths"]["/api/v1/jobs/{job_id}/report"]["get"]["responses"]["200"]["content"]["application/json"]
    assert report["schema"] == {"$ref": "#/components/schemas/Report"}
    assert "findings" in doc["components"]["schemas"]["Report"]["properties"]
    assert doc["components"]["schemas"]["Report_finding"]["type"] == "object"
    ids = {(path, method): op["operationId"] for path, ops in doc["paths"].items() for method, op in ops.items()}
    assert ids[("/api/v1/jobs", "post")] == "createJob" and ids[("/api/v1/jobs", "get")] == "listJobs"
    assert ids[("/api/v1/jobs/{job_id}", "delete")] == "deleteJob"
    assert ids[("/api/v1/webhooks/deliveries/{delivery_id}/redeliver", "post")] == "redeliverWebhook"
    assert len(set(ids.values())) == len(ids)
    body = doc["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"]["media"] and body["example"]["lesson"]["title"]
