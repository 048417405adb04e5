"""Jobs Redis lost (flushed) are re-created from the index, and farm steps read the media by one held descriptor.

No Redis here: in-memory job state, a list outbox and a SQLite index. The real-Redis
FLUSHALL test is tests/test_farm_flush.py.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from index import db, repository
from pipelines import profile as profiles
from pipelines import registry, tools
from pipelines.media.limits import server
from testmedia import cached, clips
from tests.farmkit import ListOutbox
from workers import api, indexing, jobs, paths, settings, sweeper
from workers import broker as brokers
from workers.state import JobNotFound, JobStore, MemoryBackend

SKIP = ("speech", "onscreen", "lab")


@pytest.fixture(scope="module")
def black_clip(media_cache: Path) -> Path:
    return cached(media_cache, "farm-unit-black.mp4", clips.clip, 8.0, black_between=(2.0, 5.0), speech=False)


@pytest.fixture(scope="module")
def short_clip(media_cache: Path) -> Path:
    return cached(media_cache, "farm-faults.mp4", clips.clip, 6.0, speech=False)


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    media, reports = tmp_path / "media", tmp_path / "reports"
    media.mkdir()
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    monkeypatch.setenv(paths.ROOTS_ENV, str(media))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(reports))
    monkeypatch.setenv("LESSONQC_DATABASE_URL", url)
    monkeypatch.delenv("LESSONQC_SERVER_CONFIG", raising=False)
    return SimpleNamespace(media=media, reports=reports, url=url)


def _farm(where: SimpleNamespace) -> jobs.Farm:
    return jobs.Farm(JobStore(MemoryBackend()), ListOutbox(), where.reports, stages=registry.all_stages(),
                     on_publish=indexing.after_publish(lambda job_id: None), ledger=indexing.IndexLedger())


def _record(job_id: str, media: Path, with_spec: bool = True) -> jobs.JobSpec:
    """A submission as api.submit records it in the index (an old row: without its spec)."""
    spec = jobs.JobSpec(job_id, str(media), "micro-primary", source=f"uploads/{media.name}", skip=SKIP)
    snapshot = profiles.load("micro-primary")
    indexing.record_submission(repository.NewJob(
        job_id, spec.source, "micro-primary", str(media), spec=spec.to_dict() if with_spec else None,
        snapshot={"name": snapshot.name, "data": snapshot.data} if with_spec else None))
    return spec


def _row(url: str, job_id: str):
    with db.open_database(url).session() as session:
        job = repository.get_job(session, job_id)
        return SimpleNamespace(status=job.status, verdict=job.verdict, recoveries=job.recoveries,
                               codes=[f.code for f in job.findings], report_dir=job.report_dir)


def _report(where: SimpleNamespace, job_id: str) -> dict:
    return json.loads((where.reports / job_id / "report.json").read_text(encoding="utf-8"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _later() -> datetime:
    """Past the grace period of a job submitted now (and long before the active-set sweep finds it stale)."""
    return _now() + timedelta(seconds=server().farm.recover_after_s + 1)


# ---- recovery after Redis lost the job ----

@pytest.mark.allow_error_logs  # the sweeper logs the job it gives up at ERROR
def test_a_lost_job_is_queued_again_from_the_index_then_failed_when_it_keeps_vanishing(where, black_clip: Path):
    farm = _farm(where)
    spec = _record("lost-1", black_clip)
    assert sweeper.sweep(farm, _now())["recovered"] == 0, "within the grace period submit may still be writing Redis"
    for attempt in range(1, server().farm.redrives + 1):
        farm.store, farm.outbox = JobStore(MemoryBackend()), ListOutbox()  # Redis flushed
        done = sweeper.sweep(farm, _later())
        assert (done["recovered"], done["lost"]) == (1, 0)
        assert farm.outbox.sent == [("probe", "lost-1")]
        assert json.loads(farm.store.job("lost-1")["spec"]) == spec.to_dict()
        assert jobs.job_profile(spec, farm.store).name == "micro-primary"  # the snapshot, as submitted
        assert farm.store.active() == {"lost-1"} and _row(where.url, "lost-1").recoveries == attempt
        assert sweeper.sweep(farm, _later())["recovered"] == 0  # Redis has it again: left alone
    farm.store, farm.outbox = JobStore(MemoryBackend()), ListOutbox()
    done = sweeper.sweep(farm, _later())
    assert (done["recovered"], done["lost"]) == (0, 1) and farm.outbox.sent == []
    doc = _report(where, "lost-1")
    assert doc["verdict"] == "error" and doc["source"] == f"uploads/{black_clip.name}"
    assert "lost from the queue 3 times" in doc["findings"][0]["message"]
    row = _row(where.url, "lost-1")
    assert (row.status, row.verdict, row.codes) == ("error", "error", ["input.unreadable"]) and row.report_dir
    assert farm.store.active() == set() and farm.store.state("lost-1") == "error"
    assert sweeper.sweep(farm, _later()) == {"redriven": 0, "failed": 0, "republished": 0, "recovered": 0,
                                                   "lost": 0, "reindexed": 0, "webhooks": 0, "rekeyed": 0}


@pytest.mark.allow_error_logs
def test_an_old_row_without_its_spec_ends_with_an_error_report_saying_to_resubmit(where, black_clip: Path):
    farm = _farm(where)
    _record("old-1", black_clip, with_spec=False)
    done = sweeper.sweep(farm, _later())
    assert (done["recovered"], done["lost"]) == (0, 1) and farm.outbox.sent == []
    doc = _report(where, "old-1")
    assert doc["verdict"] == "error" and [f["code"] for f in doc["findings"]] == ["input.unreadable"]
    assert "lost from the queue" in doc["findings"][0]["message"] and "submit the video again" in \
        doc["findings"][0]["message"]
    assert doc["source"] == f"uploads/{black_clip.name}" and doc["profile"] == "micro-primary"
    row = _row(where.url, "old-1")
    assert (row.status, row.verdict, row.codes) == ("error", "error", ["input.unreadable"])


def test_a_report_published_but_not_indexed_is_indexed_not_run_again(where, black_clip: Path):
    farm = _farm(where)
    spec = _record("pub-1", black_clip)
    farm.store.create(spec.job_id, spec.to_dict())
    jobs.fail_job(spec, jobs.Farm(farm.store, farm.outbox, where.reports), RuntimeError("bad"), "probe")  # no hook
    assert _row(where.url, "pub-1").status == "queued"
    farm.store = JobStore(MemoryBackend())
    assert sweeper.sweep(farm, _later())["reindexed"] == 1 and farm.outbox.sent == []
    assert _row(where.url, "pub-1").status == "error"


def test_one_failing_job_does_not_stop_the_pass(where, black_clip: Path, monkeypatch: pytest.MonkeyPatch):
    farm = _farm(where)
    for job_id in ("bad-1", "good-1"):
        _record(job_id, black_clip)
    create = farm.store.create

    def broken(job_id: str, *args) -> None:
        if job_id == "bad-1":
            raise ConnectionError("Redis went away")
        create(job_id, *args)

    monkeypatch.setattr(farm.store, "create", broken)
    assert sweeper.sweep(farm, _later())["recovered"] == 1
    assert farm.outbox.sent == [("probe", "good-1")]


def test_status_of_a_job_only_the_index_knows_is_its_indexed_state(where, black_clip: Path):
    brokers.install(brokers.make_stub())
    try:
        _record("idx-1", black_clip)
        status = api.status("idx-1")
        assert (status["state"], status["source"], status["report"]) == ("queued", f"uploads/{black_clip.name}", None)
        with pytest.raises(JobNotFound):
            api.status("never-submitted")
    finally:
        brokers.uninstall()


def test_a_submission_redis_refuses_leaves_no_index_row_to_recover(where, black_clip: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    import redis

    media = where.media / "lesson.mp4"
    media.write_bytes(black_clip.read_bytes())
    brokers.install(brokers.make_stub())
    try:
        def down(*args, **kwargs):
            raise redis.ConnectionError("Redis is away")

        monkeypatch.setattr(brokers.store(), "create", down)
        with pytest.raises(redis.ConnectionError):
            api.submit(str(media), job_id="refused-1", skip=SKIP)
        with db.open_database(where.url).session() as session:
            assert repository.get_job(session, "refused-1") is None  # the caller was told: nothing runs later
        monkeypatch.undo()
    finally:
        brokers.uninstall()


def test_models_equal_the_migrations_and_rows_before_0003_upgrade(tmp_path: Path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import text

    from index.models import Base

    database = db.open_database(f"sqlite:///{tmp_path / 'old.sqlite3'}", migrate=False)
    db.upgrade(database.engine, "0002")
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO jobs (id, source, profile, status, level, submitted_at, callback_attempts) "
                          "VALUES ('old', 'a.mp4', 'micro-primary', 'queued', 'school', '2026-11-01', 0)"))
    db.upgrade(database.engine)
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    with database.session() as session:
        old = repository.get_job(session, "old")
        assert (old.spec, old.profile_snapshot, old.recoveries) == (None, None, 0)


# ---- every tool of a farm step reads the held descriptor ----

def _argv_log(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    command = tools.command

    def logged(tool: str, args) -> list[str]:
        argv = command(tool, args)
        seen.append(argv)
        return argv

    monkeypatch.setattr(tools, "command", logged)
    return seen


def test_every_tool_of_every_farm_step_reads_the_held_descriptor(where, black_clip: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    media = where.media / "lesson.mp4"
    media.write_bytes(black_clip.read_bytes())
    farm = _farm(where)
    spec = jobs.JobSpec("fd-1", str(media), "micro-primary", source="2026/lesson.mp4", skip=SKIP)
    farm.store.create(spec.job_id, spec.to_dict())
    indexing.record_submission(repository.NewJob(spec.job_id, spec.source, "micro-primary", str(media)))
    seen = _argv_log(monkeypatch)
    jobs.start(spec, farm)
    probe_calls = len(seen)
    for task in farm.store.plan(spec.job_id):
        jobs.run_task(spec, jobs.Task.from_dict(task), farm)
    task_calls = len(seen)
    assert jobs.finalize(spec, farm) == "fail"
    assert 0 < probe_calls < task_calls < len(seen), "probe, the signal pass and the thumbnails all ran tools"
    for argv in seen:
        assert any(a.startswith("/proc/self/fd/") for a in argv), argv
        assert not any(str(media) in a or media.name in a for a in argv), argv
    text = (where.reports / "fd-1" / "report.json").read_text(encoding="utf-8")
    assert "/proc/self" not in text and json.loads(text)["source"] == "2026/lesson.mp4"
    assert any(f.get("evidence", {}).get("thumbnail") for f in json.loads(text)["findings"])
    with db.open_database(where.url).session() as session:
        job = repository.get_job(session, "fd-1")
        assert job.status == "done" and "/proc/self" not in json.dumps(
            [job.source, job.media_path, job.stages, [(f.message, f.evidence) for f in job.findings]])


def test_a_path_swapped_while_the_probe_step_holds_the_file_does_not_change_what_it_reads(
        where, black_clip: Path, short_clip: Path, monkeypatch: pytest.MonkeyPatch):
    media, other = where.media / "lesson.mp4", where.media / "other.mp4"
    media.write_bytes(black_clip.read_bytes())
    other.write_bytes(short_clip.read_bytes())
    farm = _farm(where)
    spec = jobs.JobSpec("swap-1", str(media), "micro-primary", skip=SKIP)
    farm.store.create(spec.job_id, spec.to_dict())
    command = tools.command

    def swap_first(tool: str, args) -> list[str]:
        if os.path.exists(other):
            os.replace(other, media)  # after the step resolved and opened the path, before any tool ran
        return command(tool, args)

    monkeypatch.setattr(tools, "command", swap_first)
    jobs.start(spec, farm)
    assert not other.exists() and media.stat().st_size == short_clip.stat().st_size  # the path now names the other
    assert farm.store.probe(spec.job_id)["media"]["duration_s"] == pytest.approx(8.0, abs=0.1)


def test_a_tool_error_quoted_in_a_report_names_the_input_not_its_descriptor():
    from pipelines.errors import ToolError

    exc = ToolError("ffmpeg exited with 1", ["ffmpeg", "-i", "/proc/self/fd/7"], "/proc/self/fd/7: Invalid data found", 1)
    assert str(exc) == "ffmpeg exited with 1\ninput: Invalid data found"
    assert exc.cmd[-1] == "/proc/self/fd/7" and exc.stderr.startswith("/proc/self/fd/7")  # the operator's log keeps it


def test_a_held_file_is_shown_by_its_own_name_not_its_descriptor_number(tmp_path: Path):
    from pipelines.media import source as sources

    video = tmp_path / "分数的意义.mp4"
    video.write_bytes(b"not empty")
    with sources.opened(video, [tmp_path]) as held:
        assert str(held).startswith("/proc/self/fd/") and sources.name_of(held) == "分数的意义.mp4"
    assert sources.name_of(video) == "分数的意义.mp4"
