"""The farm end to end on the real Redis, with real worker processes (`lessonqc worker`).

Each farm gets its own key prefixes on the test DB (LESSONQC_TEST_REDIS_DB, default 13),
its own media root and report store. Locally these tests skip without Redis; in CI
(CI set) they fail instead: .ci/run starts redis-server.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from pipelines import profile as profiles
from pipelines.check import check
from pipelines.errors import MediaPathRefused
from pipelines.report.document import to_dict
from testmedia import cached, clips
from tests.farmkit import FarmEnv, Worker, assert_same_findings, install, new_farm, require_redis, wait_for
from workers import api
from workers import broker as brokers
from workers.jobs import JobSpec

pytestmark = pytest.mark.redis

NO_SPEECH = ("speech",)  # these tests are about the farm; the load test keeps speech (a model test, its own worker)
LESSONS = {  # name -> (testmedia.clips.clip keyword arguments, the finding it plants)
    "black": ({"black_between": (2.0, 5.0), "speech": False}, "signal.black"),
    "noaudio": ({"audio": False}, "tech.no_audio"),
    "letterbox": ({"video_tail": "scale=640:270,pad=640:360:0:45:black"}, "signal.letterbox"),
}


@pytest.fixture(scope="module")
def redis_url() -> str:
    return require_redis()


@pytest.fixture(scope="module")
def lessons(media_cache: Path) -> dict[str, Path]:
    made = {}
    for name, (kwargs, _) in LESSONS.items():
        made[name] = cached(media_cache, f"farm-{name}.mp4", clips.clip, 8.0, **kwargs)
    return made


@pytest.fixture(scope="module")
def farm(redis_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One farm for the module's tests without speech: two worker processes serving every queue."""
    with _farm(redis_url, tmp_path_factory.mktemp("farm")) as env:
        yield env


@pytest.fixture
def speech_farm(redis_url: str, tmp_path: Path):
    """The same for a `model` test, once both worker processes are ready (Whisper loaded by the warm-up)."""
    with _farm(redis_url, tmp_path) as env:
        log = env.reports.parent / "worker.log"
        wait_for(lambda: log.read_text(errors="replace").count("ready for action") >= 2, 120,
                 what="two warm worker processes")
        yield env


@contextmanager
def _farm(redis_url: str, root: Path) -> Iterator[FarmEnv]:
    env = new_farm(redis_url, root)
    worker = Worker(env, env.reports.parent / "worker.log", "--processes", "2", "--threads", "1")
    try:
        yield env
    finally:
        worker.stop()
        env.drop_keys()


def _place(env: FarmEnv, src: Path, name: str) -> Path:
    dest = env.media / name
    if not dest.exists():
        os.link(src, dest)
    return dest


def _no_retries_or_dead_letters(env: FarmEnv) -> None:
    client = redis.Redis.from_url(env.url)
    for queue in ("probe", "media", "ocr", "speech", "report"):
        assert client.llen(f"{env.namespace}:{queue}.DQ") == 0, f"{queue}: retries scheduled"
        assert client.zcard(f"{env.namespace}:{queue}.XQ") == 0, f"{queue}: dead letters"


def test_three_lessons_give_their_planted_findings_same_as_embedded(farm, lessons, monkeypatch, tmp_path):
    install(farm, monkeypatch)
    jobs = {name: api.submit(_place(farm, path, f"{name}.mp4"), skip=NO_SPEECH) for name, path in lessons.items()}
    for name, job_id in jobs.items():
        doc = api.wait(job_id, timeout_s=90, poll_s=0.2)
        assert LESSONS[name][1] in {f["code"] for f in doc["findings"]}, (name, doc["findings"])
        embedded = to_dict(check(lessons[name], profiles.load("micro-primary"), tmp_path / name,
                                 skip=frozenset(NO_SPEECH)))
        assert_same_findings(doc, embedded)
        statuses = {name: stage["status"] for name, stage in doc["stages"].items() if name != "originality"}
        assert statuses == {name: stage["status"] for name, stage in embedded["stages"].items()}  # the farm's index only
        assert doc["stages"]["originality"]["status"] == "ok"
        assert "error" not in statuses.values(), doc["stages"]  # a failing stage must not hide behind a finding
        assert (Path(api.report_dir(job_id)) / "report.html").is_file()
        assert api.status(job_id)["state"] == "done"
    _no_retries_or_dead_letters(farm)


def test_bad_input_gives_error_report_without_retries_and_the_worker_keeps_serving(farm, lessons, monkeypatch,
                                                                                    media_cache):
    install(farm, monkeypatch)
    text = farm.media / "notes.mp4"
    text.write_text("这不是视频，只是文本。\n" * 50, encoding="utf-8")
    faststart = cached(media_cache, "farm-faststart.mp4", clips.clip, 12.0, speech=False, extra=["-movflags", "+faststart"])
    truncated = farm.media / "truncated.mp4"
    truncated.write_bytes(faststart.read_bytes()[: int(faststart.stat().st_size * 0.4)])
    bad = [api.submit(text, skip=NO_SPEECH), api.submit(truncated, skip=NO_SPEECH)]
    for job_id, word in zip(bad, ("not a readable", "truncated")):
        doc = api.wait(job_id, timeout_s=60, poll_s=0.2)
        assert doc["verdict"] == "error" and api.status(job_id)["state"] == "error"
        (finding,) = [f for f in doc["findings"] if f["code"] == "input.unreadable"]
        assert word in finding["message"]
    _no_retries_or_dead_letters(farm)
    good = api.submit(_place(farm, lessons["black"], "after-bad.mp4"), skip=NO_SPEECH)
    assert api.wait(good, timeout_s=60, poll_s=0.2)["verdict"] == "fail"


def test_paths_outside_the_media_roots_are_refused_at_submit_and_at_the_worker(farm, monkeypatch, tmp_path):
    from workers.actors import probe_job

    install(farm, monkeypatch)
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"x")
    with pytest.raises(MediaPathRefused, match="outside the media roots"):
        api.submit(outside)
    (farm.media / "escape.mp4").symlink_to(outside)
    with pytest.raises(MediaPathRefused, match="symlink leading out"):
        api.submit(farm.media / "escape.mp4")
    spec = JobSpec("forged0000000001", str(outside), "micro-primary", source=str(outside))  # bypasses submit
    brokers.store().create(spec.job_id, spec.to_dict())
    probe_job.send(spec.to_dict())
    doc = api.wait(spec.job_id, timeout_s=30, poll_s=0.2)
    assert doc["verdict"] == "error" and "media path refused" in doc["findings"][0]["message"]


@pytest.mark.model
def test_thirty_lessons_at_once_on_two_worker_processes(speech_farm, lessons, monkeypatch):
    """Every stage, speech included (README's farm load figure)."""
    farm = speech_farm
    install(farm, monkeypatch)
    sources = [_place(farm, lessons[name], f"load-{i:02d}-{name}.mp4")
               for i, name in zip(range(30), ["black", "noaudio", "letterbox"] * 10)]
    started = time.monotonic()
    job_ids = [api.submit(path) for path in sources]
    docs = [api.wait(job_id, timeout_s=150, poll_s=0.2) for job_id in job_ids]
    elapsed = time.monotonic() - started
    print(f"\nfarm load: 30 lessons of 8 s on 2 worker processes in {elapsed:.1f} s "
          f"= {30 / elapsed * 60:.1f} lessons/min ({30 * 8 / elapsed:.1f} s of video per s)")
    assert [d["job_id"] for d in docs] == job_ids and len(set(job_ids)) == 30
    assert [d["source"] for d in docs] == [str(s) for s in sources]
    published = {p.name for p in farm.reports.iterdir() if not p.name.startswith(".")}
    assert set(job_ids) <= published
    assert not [p for p in farm.reports.iterdir() if p.name.startswith(".") and p.name != ".work"]
    for doc, source in zip(docs, sources):
        assert LESSONS[source.stem.split("-")[-1]][1] in {f["code"] for f in doc["findings"]}
    _no_retries_or_dead_letters(farm)


def test_a_killed_worker_s_stage_is_finished_by_another_worker(redis_url, lessons, monkeypatch, tmp_path):
    env = new_farm(redis_url, tmp_path)
    env.extra = {"LESSONQC_HEARTBEAT_TIMEOUT_MS": "3000", "LESSONQC_MAINTENANCE_CHANCE": "1000000"}
    args = ("--processes", "1", "--threads", "2", "--import", "tests.farm_plugins")
    install(env, monkeypatch)
    first = Worker(env, tmp_path / "worker-a.log", *args)
    try:
        killed = api.submit(_place(env, lessons["letterbox"], "killed.mp4"), skip=NO_SPEECH)
        other = api.submit(_place(env, lessons["black"], "other.mp4"), skip=NO_SPEECH)
        wait_for(lambda: api.status(killed)["tasks"].get("slowtest@0", {}).get("state") == "running", 60,
                 what="the slow stage to start")
        first.kill()
        assert api.report(killed) is None
        second = Worker(env, tmp_path / "worker-b.log", *args)
        try:
            docs = [api.wait(job, timeout_s=90, poll_s=0.2) for job in (killed, other)]
            survivor_group = os.getpgid(second.proc.pid)
            (slow,) = [f for f in docs[0]["findings"] if f["code"] == "lab.test_slow"]
            pid = int(slow["message"].rsplit(" ", 1)[1])
            assert os.getpgid(pid) == survivor_group  # the second worker ran the stage
        finally:
            second.stop()
        assert docs[0]["stages"]["slowtest"]["status"] == "ok" and "signal.letterbox" in {
            f["code"] for f in docs[0]["findings"]}
        status = api.status(killed)
        assert status["state"] == "done" and all(t["state"] == "done" for t in status["tasks"].values())
        assert sorted(p.name for p in env.reports.iterdir() if p.is_dir()) == sorted([".work", killed, other])  # one report each
        assert json.loads((env.reports / killed / "report.json").read_text(encoding="utf-8"))["job_id"] == killed
        _no_retries_or_dead_letters(env)
    finally:
        first.stop()
        env.drop_keys()
        shutil.rmtree(env.reports, ignore_errors=True)
