"""The durable index on SQLite and PostgreSQL: migrations, idempotent report upserts, filters, tokens."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select

from index import db, repository, tokens
from index.models import Finding, Job

REPORT = {
    "schema_version": "1", "job_id": "job-a", "source": "lesson.mp4", "profile": "micro-primary",
    "verdict": "fail", "media": {"size_bytes": 1234}, "metrics": {}, "transcript": [],
    "stages": {"probe": {"status": "ok", "seconds": 0.1, "error": None}},
    "created_at": "2026-11-30T01:00:00+00:00",
    "findings": [
        {"code": "tech.resolution", "severity": "fail", "message": "1280x720", "start_s": None, "end_s": None,
         "evidence": {"width": 1280}},
        {"code": "signal.black", "severity": "review", "message": "black", "start_s": 2.0, "end_s": 5.0,
         "evidence": {}},
    ],
}


def _count(database: db.Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_migrations_create_the_schema_at_head(index_url):
    database = db.open_database(index_url)
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config(database.engine)).get_current_head()
    assert db.current_revision(database.engine) == head
    tables = set(inspect(database.engine).get_table_names())
    assert {"jobs", "lessons", "findings", "api_tokens", "alembic_version"} <= tables
    assert {"users", "login_sessions", "finding_reviews", "decisions"} <= tables


def test_upsert_report_is_idempotent_and_keeps_submission_metadata(index_url):
    database = db.open_database(index_url)
    with database.session() as session:
        repository.add_job(session, repository.NewJob("job-a", "lesson.mp4", "micro-primary",
                                                      region="浙江省/杭州市/西湖区", lesson={"teacher": "张老师",
                                                                                      "title": "分数的意义"}))
    for _ in range(3):
        repository.upsert_report(database, copy.deepcopy(REPORT), "/reports/job-a")
    assert _count(database, Job) == 1 and _count(database, Finding) == 2
    with database.session() as session:
        job = repository.get_job(session, "job-a")
        assert (job.status, job.verdict, job.region, job.level) == ("done", "fail", "浙江省/杭州市/西湖区", "school")
        assert job.lesson.teacher == "张老师" and job.lesson.title == "分数的意义"
        assert [f.code for f in job.findings] == ["tech.resolution", "signal.black"]
        assert job.finished_at == datetime(2026, 11, 30, 1, tzinfo=timezone.utc)


def test_a_job_runs_once_its_probe_starts_and_a_finished_job_stays_finished(index_url):
    database = db.open_database(index_url)
    with database.session() as session:
        repository.add_job(session, repository.NewJob("job-a", "lesson.mp4", "micro-primary"))
    with database.session() as session:
        repository.mark_running(session, "job-a")
        repository.mark_running(session, "unknown")
    with database.session() as session:
        assert repository.count_jobs(session, repository.JobFilter(status="running")) == 1
    repository.upsert_report(database, copy.deepcopy(REPORT), None)
    with database.session() as session:
        repository.mark_running(session, "job-a")  # a late redelivered probe
    with database.session() as session:
        assert repository.get_job(session, "job-a").status == "done"


def test_upsert_of_a_job_never_submitted_through_the_index_creates_it(index_url):
    database = db.open_database(index_url)
    doc = {**copy.deepcopy(REPORT), "job_id": "job-b", "verdict": "error", "findings": []}
    repository.upsert_report(database, doc, None)
    with database.session() as session:
        job = repository.get_job(session, "job-b")
        assert (job.status, job.verdict, job.lesson) == ("error", "error", None)


def _seed(database: db.Database) -> None:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    regions = ["浙江省/杭州市/西湖区", "浙江省/杭州市/上城区", "浙江省/宁波市", "江苏省/南京市"]
    with database.session() as session:
        for i in range(8):
            job = repository.add_job(session, repository.NewJob(f"j{i}", f"{i}.mp4", "lab" if i % 2 else "micro-primary",
                                                                region=regions[i % 4]))
            job.submitted_at = start + timedelta(days=i)
    for i in range(8):
        verdict = ("pass", "review", "fail", "error")[i % 4]
        findings = [] if verdict == "pass" else [{**REPORT["findings"][i % 2]}]
        repository.upsert_report(database, {**REPORT, "job_id": f"j{i}", "verdict": verdict, "findings": findings}, None)


def _ids(database: db.Database, **filters: object) -> tuple[list[str], int]:
    with database.session() as session:
        page, after = repository.list_page(session, repository.JobFilter(**filters), 50)
        assert after is None
        return [j["id"] for j in page], repository.count_jobs(session, repository.JobFilter(**filters))


def _walk(database: db.Database, limit: int, **filters: object) -> list[list[str]]:
    """Every page of a keyset walk, following the cursors (each decoded from its text form)."""
    pages, after = [], None
    with database.session() as session:
        while True:
            page, cursor = repository.list_page(session, repository.JobFilter(**filters), limit, after)
            pages.append([j["id"] for j in page])
            if cursor is None:
                return pages
            after = repository.Cursor.decode(cursor.encode())


def test_filters_and_paging(index_url):
    database = db.open_database(index_url)
    _seed(database)
    assert _ids(database) == (["j7", "j6", "j5", "j4", "j3", "j2", "j1", "j0"], 8)
    assert _walk(database, 3) == [["j7", "j6", "j5"], ["j4", "j3", "j2"], ["j1", "j0"]]
    assert _walk(database, 1, region="浙江省/杭州市") == [["j5"], ["j4"], ["j1"], ["j0"]]
    assert _ids(database, verdict="fail") == (["j6", "j2"], 2)
    assert _ids(database, code="signal.black") == (["j7", "j5", "j3", "j1"], 4)
    assert _ids(database, status="error") == (["j7", "j3"], 2)
    assert _ids(database, profile="lab")[1] == 4
    assert _ids(database, region="浙江省/杭州市") == (["j5", "j4", "j1", "j0"], 4)
    assert _ids(database, region="浙江省/杭州") == ([], 0)   # a region matches whole path parts only
    assert _ids(database, region="浙江省")[1] == 6
    assert _ids(database, level="school")[1] == 8 and _ids(database, level="city")[1] == 0
    after = datetime(2026, 11, 3, tzinfo=timezone.utc)
    assert _ids(database, submitted_after=after, submitted_before=after + timedelta(days=2)) == (["j3", "j2"], 2)


def test_tokens_are_stored_hashed_and_revocable(index_url):
    database = db.open_database(index_url)
    with database.session() as session:
        token = tokens.create(session, "platform")
    with database.session() as session:
        row = tokens.verify(session, token)
        assert row is not None and row.name == "platform"
        assert [t.token_sha256 for t in tokens.all_tokens(session)] == [tokens.digest(token)]
        assert token not in str([(t.name, t.token_sha256) for t in tokens.all_tokens(session)])
        assert tokens.verify(session, token + "x") is None
        assert tokens.revoke(session, "platform") == 1
    with database.session() as session:
        assert tokens.verify(session, token) is None


def test_a_listed_job_carries_its_lesson_and_distinct_codes_in_report_order(index_url):
    database = db.open_database(index_url)
    with database.session() as session:
        repository.add_job(session, repository.NewJob("job-a", "lesson.mp4", "micro-primary",
                                                      lesson={"teacher": "张老师", "title": "分数的意义"}))
    findings = [REPORT["findings"][1], REPORT["findings"][0], REPORT["findings"][1]]
    repository.upsert_report(database, {**copy.deepcopy(REPORT), "findings": copy.deepcopy(findings)}, None)
    repository.upsert_report(database, {**copy.deepcopy(REPORT), "job_id": "job-b", "findings": []}, None)
    with database.session() as session:
        page, after = repository.list_page(session, repository.JobFilter(), 10)
    by_id = {j["id"]: j for j in page}
    assert by_id["job-a"]["codes"] == ["signal.black", "tech.resolution"] and by_id["job-b"]["codes"] == []
    assert by_id["job-a"]["lesson"] == {"teacher": "张老师", "school": None, "subject": None, "grade": None,
                                     "title": "分数的意义", "category": None, "node": None}
    assert by_id["job-b"]["lesson"]["teacher"] is None and after is None


@pytest.mark.parametrize("token", ["", "!!", "bm90IGEgY3Vyc29y", "MjAyNi0xMy0wMXxqMQ"])
def test_a_cursor_this_server_did_not_make_is_refused(token):
    with pytest.raises(ValueError):
        repository.Cursor.decode(token)


def test_tokens_carry_scopes_and_a_region(index_url):
    database = db.open_database(index_url)
    with database.session() as session:
        reader = tokens.create(session, "reader", ["read"], region="浙江省/杭州市/")
        default = tokens.create(session, "platform")
        admin = tokens.create(session, "ops", ["admin"])
        with pytest.raises(ValueError, match="unknown scope"):
            tokens.create(session, "x", ["write"])
    with database.session() as session:
        row = tokens.verify(session, reader)
        assert (row.scopes, row.region) == ("read", "浙江省/杭州市")
        assert tokens.allows(row, "read") and not tokens.allows(row, "submit")
        row = tokens.verify(session, default)
        assert (row.scopes, row.region) == ("submit read", None) and not tokens.allows(row, "admin")
        assert all(tokens.allows(tokens.verify(session, admin), s) for s in tokens.SCOPES)


def test_an_idempotency_key_is_claimed_once_under_concurrent_requests(index_url):
    from concurrent.futures import ThreadPoolExecutor

    from index import idempotency

    database = db.open_database(index_url)
    ttl = timedelta(hours=1)

    def attempt(i: int) -> idempotency.Claim:
        return idempotency.claim(database, "platform", "key-1", "same-request", f"job-{i}", ttl)

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(attempt, range(8)))
    assert sum(c.fresh for c in claims) == 1 and len({c.job_id for c in claims}) == 1
    with pytest.raises(idempotency.KeyReused):
        idempotency.claim(database, "platform", "key-1", "other-request", "job-x", ttl)
    assert idempotency.claim(database, "other-caller", "key-1", "other-request", "job-y", ttl).fresh
    idempotency.complete(database, "platform", "key-1")
    assert idempotency.wait_done(database, "platform", "key-1", 1.0)
    idempotency.claim(database, "platform", "key-2", "r", "job-2", ttl)
    idempotency.release(database, "platform", "key-2")  # the submission failed: a retry may submit again
    assert idempotency.claim(database, "platform", "key-2", "r", "job-3", ttl) == idempotency.Claim("job-3", True)
    assert idempotency.claim(database, "platform", "key-1", "other-request", "job-z", timedelta(0)).fresh  # expired


def test_the_models_match_the_migrations(index_url):
    """The ORM models and `alembic upgrade head` describe the same schema (no change without a migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from index.models import Base

    database = db.open_database(index_url)
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
