"""The farm without Redis: path confinement, plans, idempotent state, and the actors on a StubBroker + Worker."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from redis.connection import SSLConnection

from pipelines import registry
from pipelines import profile as profiles
from pipelines import stages
from pipelines.check import check
from pipelines.errors import MediaPathRefused, ProfileError
from pipelines.media.probe import probe
from pipelines.report.document import to_dict
from pipelines.domain import Finding, Media, StageOutput, StageRun
from testmedia import cached, clips
from tests.farmkit import ListOutbox, assert_same_findings, wait_for
from workers import api, codec, jobs, paths, settings, warmup
from workers import broker as brokers
from cli.main import main as cli_main
from workers.state import DONE, JobStore, MemoryBackend


class ToneStage(stages.AudioStage):
    """A test stage: one finding over the analysed span; segments' findings touch and merge back."""

    name = "tone"

    def analyse(self, wav: Path, ctx: stages.StageContext) -> StageOutput:
        assert wav.stat().st_size > 0
        return StageOutput([Finding("lab.test_tone", "info", "tone", ctx.start_s, ctx.end_s, {"key": "tone"})],
                           metrics={"segments": 1})


class BrokenStage(stages.AudioStage):
    """A test stage whose every run fails like a crashing tool."""

    name = "broken"

    def analyse(self, wav: Path, ctx: stages.StageContext) -> StageOutput:
        raise RuntimeError("tool crashed")


def with_stage(stage: stages.Stage) -> dict[str, stages.Stage]:
    """The built-in stages plus a test stage, passed to the plan and the check (no global registry change)."""
    return {**registry.all_stages(), stage.name: stage}


@pytest.fixture
def extra_stage(request, monkeypatch: pytest.MonkeyPatch) -> stages.Stage:
    """A test stage; the actors of this process run it too (their farm gets it passed in)."""
    from workers import actors

    stage = request.param()
    farm = actors.farm
    monkeypatch.setattr(actors, "farm", lambda: dataclasses.replace(farm(), stages=with_stage(stage)))
    return stage


@pytest.fixture(scope="session")
def silent_clip(media_cache: Path) -> Path:
    return cached(media_cache, "farm-unit-black.mp4", clips.clip, 8.0, black_between=(2.0, 5.0), speech=False)


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    media, reports = tmp_path / "media", tmp_path / "reports"
    media.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(media))
    monkeypatch.setenv(settings.REPORT_DIR_ENV, str(reports))
    return SimpleNamespace(media=media, reports=reports)


@pytest.fixture
def stub_farm(roots: SimpleNamespace):
    """StubBroker + in-memory job state + a dramatiq Worker in this process."""
    binding = brokers.install(brokers.make_stub())
    worker = dramatiq.Worker(binding.broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield SimpleNamespace(broker=binding.broker, store=binding.store, worker=worker, **vars(roots))
    worker.stop()
    brokers.uninstall()


# ---- media paths ----

def test_path_inside_a_root_is_resolved(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.mp4").write_bytes(b"x")
    roots = [tmp_path / "b", tmp_path / "a"]
    assert paths.resolve(tmp_path / "a" / "x.mp4", roots) == (tmp_path / "a" / "x.mp4").resolve()
    assert paths.resolve("x.mp4", [tmp_path / "a"]) == (tmp_path / "a" / "x.mp4").resolve()


@pytest.mark.parametrize("ref, reason", [("../etc/passwd", "'..'"), ("/etc/passwd", "outside the media roots")])
def test_paths_escaping_the_roots_are_refused(tmp_path: Path, ref: str, reason: str):
    with pytest.raises(MediaPathRefused, match=reason):
        paths.resolve(ref, [tmp_path])


def test_symlink_leading_out_is_refused_inside_one_is_not(tmp_path: Path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"x")
    (root / "real.mp4").write_bytes(b"x")
    (root / "escape.mp4").symlink_to(outside / "secret.mp4")
    (root / "alias.mp4").symlink_to(root / "real.mp4")
    with pytest.raises(MediaPathRefused, match="symlink leading out"):
        paths.resolve(root / "escape.mp4", [root])
    assert paths.resolve(root / "alias.mp4", [root]) == (root / "real.mp4").resolve()


def test_no_roots_configured_refuses_everything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv(paths.ROOTS_ENV, raising=False)
    with pytest.raises(MediaPathRefused, match=paths.ROOTS_ENV):
        paths.resolve(tmp_path / "x.mp4")
    assert paths.media_roots(os.pathsep.join([str(tmp_path), ""])) == [tmp_path.resolve()]


# ---- plain parts: codec, settings, plan, state ----

def test_probe_result_round_trips_through_json(silent_clip: Path):
    result = probe(silent_clip, profiles.load("micro-primary"))
    doc = json.loads(json.dumps(codec.probe_to_dict(result, StageRun("ok", 0.5))))
    back, run = codec.probe_from_dict(doc)
    assert back.media == result.media and run == StageRun("ok", 0.5)
    assert [f.code for f in back.findings] == [f.code for f in result.findings]


def _media(duration_s: float, audio: bool = True) -> Media:
    doc = {"container": "mp4", "duration_s": duration_s, "size_bytes": 1, "bit_rate": None,
           "video": {"codec": "h264", "width": 1920, "height": 1080, "dar": "16:9", "fps": 25.0, "vfr": False,
                     "bit_rate": None, "pix_fmt": "yuv420p", "scan": "progressive"},
           "audio": {"codec": "aac", "sample_rate": 48000, "channels": 2, "bit_rate": 128000} if audio else None}
    return codec.media_from_dict(doc)


@pytest.mark.parametrize("extra_stage", [ToneStage], indirect=True)
def test_plan_splits_segmented_stages_and_keeps_a_short_tail(extra_stage, monkeypatch: pytest.MonkeyPatch):
    profile = profiles.load("micro-primary")
    farm = dataclasses.replace(settings.for_profile(profile), segmented=("tone",), queues={"tone": "speech"})
    tasks = jobs.plan(_media(620.0), profile, farm, stages=with_stage(extra_stage))
    tone = [t for t in tasks if t.stages == ("tone",)]
    assert [(t.key, t.queue, t.start_s, t.length_s) for t in tone] == [
        ("tone@0", "speech", 0.0, 300.0), ("tone@300", "speech", 300.0, None)]  # the 20 s tail joined
    assert tasks[0].key == "signal" and tasks[0].queue == "media"
    assert farm.time_limit_ms(tone[1].media_seconds(620.0)) == int(1000 * (300 + 4.0 * 320))
    assert not [t for t in jobs.plan(_media(620.0), profile, farm, ("tone",), with_stage(extra_stage))
                if t.stages == ("tone",)]


def test_lab_rides_the_signal_pass_and_no_audio_drops_audio_stages():
    profile = profiles.load("lab")
    tasks = jobs.plan(_media(60.0, audio=False), profile, settings.for_profile(profile))
    assert tasks[0].stages[0] == "signal"
    assert ("lab" in tasks[0].stages) == ("lab" in registry.all_stages())
    assert not [t for t in tasks if t.stages[0] == "speech"]


def test_farm_settings_env_override_and_bad_queue(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(settings.SEGMENT_ENV, "42")
    farm = profiles.defaults()["farm"]
    assert settings.from_dict(farm).segment_s == 42.0
    with pytest.raises(ProfileError, match="unknown stage queue"):
        settings.from_dict({**farm, "queues": {"speech": "gpu"}})


def test_task_result_counts_once_and_job_finishes_once():
    store = JobStore(MemoryBackend(), "t")
    store.create("j", {"source": "s", "profile": "p"})
    store.save_plan("j", [{"key": "a", "queue": "media"}, {"key": "b", "queue": "ocr"}])
    assert store.save_plan("j", [{"key": "other", "queue": "media"}])[0]["key"] == "a"  # the first plan stays
    first = store.complete("j", "a", {"v": 1}, {"state": DONE})
    again = store.complete("j", "a", {"v": 2}, {"state": "error"})
    assert (first.new, first.done, again.new, again.done) == (True, 1, False, 1)
    assert store.parts("j")["a"] == {"v": 1} and store.tasks("j")["a"]["state"] == DONE
    assert store.finish("j", DONE, "pass", "/r") and not store.finish("j", "error", "error", None)
    assert store.status("j")["verdict"] == "pass"


def _start_job(farm: jobs.Farm, job_id: str, media: Path) -> jobs.JobSpec:
    """Create and probe a job with only the signal pass and test stages, as a probe worker would."""
    spec = jobs.JobSpec(job_id, str(media), "micro-primary", skip=("speech", "onscreen", "lab", "fingerprint", "soundprint"))
    farm.store.create(spec.job_id, spec.to_dict())
    jobs.start(spec, farm)
    return spec


def _memory_farm(silent_clip: Path, roots: SimpleNamespace, *extra: stages.Stage) -> tuple[jobs.Farm, Path]:
    media = roots.media / "lesson.mp4"
    media.write_bytes(silent_clip.read_bytes())
    stages_run = {**registry.all_stages(), **{s.name: s for s in extra}}
    return jobs.Farm(JobStore(MemoryBackend()), ListOutbox(), roots.reports, stages=stages_run), media


def test_redelivered_steps_do_not_double_count_or_double_publish(silent_clip: Path, roots: SimpleNamespace):
    farm, media = _memory_farm(silent_clip, roots)
    spec = _start_job(farm, "job1", media)
    jobs.start(spec, farm)  # probe redelivered: same plan, tasks resent, nothing doubled
    assert farm.outbox.sent == [("task", "signal"), ("task", "signal")]
    task = jobs.Task.from_dict(farm.store.plan(spec.job_id)[0])
    jobs.run_task(spec, task, farm)
    jobs.run_task(spec, task, farm)  # its worker died before the ack: run again, counted once
    assert farm.outbox.sent[2:] == [("report", "job1"), ("report", "job1")]
    assert jobs.finalize(spec, farm) == "fail" and jobs.finalize(spec, farm) is None
    assert sorted(p.name for p in roots.reports.iterdir()) == [".work", "job1"]  # no staging folder left
    assert not (roots.reports / ".work" / "job1").exists()
    doc = json.loads((roots.reports / "job1" / "report.json").read_text(encoding="utf-8"))
    assert [f["code"] for f in doc["findings"]].count("signal.black") == 1
    assert doc["stages"]["speech"]["status"] == "skipped"


class RedeliveredStage(stages.AudioStage):
    """A test stage whose first run sees the same task run again meanwhile (`again`: a redelivery on another host),
    then checks that its own audio file was left alone."""

    name = "twice"
    again: Any = None

    def analyse(self, wav: Path, ctx: stages.StageContext) -> StageOutput:
        again, RedeliveredStage.again = RedeliveredStage.again, None
        before = wav.stat().st_mtime_ns
        if again is not None:
            again()
            assert wav.stat().st_mtime_ns == before, "the other run rewrote this run's audio"
        return StageOutput([Finding("lab.test_twice", "info", "twice", ctx.start_s, ctx.end_s)])


def test_two_runs_of_one_task_at_once_keep_their_scratch_files_apart(silent_clip: Path, roots: SimpleNamespace):
    """Seen across hosts (a host cut off mid-task, its task redone elsewhere while it still ran): both runs
    wrote the same wav in the shared folder, and the first read it empty: the job ended input.unreadable."""
    farm, media = _memory_farm(silent_clip, roots, RedeliveredStage())
    spec = _start_job(farm, "job5", media)
    task = next(jobs.Task.from_dict(t) for t in farm.store.plan(spec.job_id) if t["key"].startswith("twice"))
    RedeliveredStage.again = lambda: jobs.run_task(spec, task, farm)
    part = jobs.run_task(spec, task, farm)
    assert part is not None and part.runs["twice"].status == "ok", part
    runs = list((roots.reports / ".work" / "job5" / task.key.replace("@", "-")).iterdir())
    assert len(runs) == 2, runs  # one scratch folder per run, both under the job's (removed once published)


@pytest.mark.parametrize("extra_stage", [BrokenStage], indirect=True)
def test_a_task_failing_after_its_job_ended_is_dropped_not_retried(extra_stage, silent_clip: Path,
                                                                   roots: SimpleNamespace, monkeypatch):
    """Another task ended the job (e.g. found the input truncated and removed its work folder) mid-run."""
    farm, media = _memory_farm(silent_clip, roots, extra_stage)
    spec = _start_job(farm, "job3", media)
    task = next(jobs.Task.from_dict(t) for t in farm.store.plan(spec.job_id) if t["key"].startswith("broken"))

    def ends_job_then_fails(wav: Path, ctx: stages.StageContext) -> StageOutput:
        farm.store.finish(spec.job_id, "error", "error", None)
        raise RuntimeError("ffmpeg: work folder gone")

    monkeypatch.setattr(extra_stage, "analyse", ends_job_then_fails)
    assert jobs.run_task(spec, task, farm) is None
    monkeypatch.setattr(extra_stage, "analyse", BrokenStage().analyse)
    fresh = _start_job(farm, "job4", media)
    with pytest.raises(RuntimeError, match="tool crashed"):  # while its job runs, a fault is still retried
        jobs.run_task(fresh, task, farm)


# ---- actors on the StubBroker ----

@pytest.mark.parametrize("extra_stage", [ToneStage], indirect=True)
@pytest.mark.parametrize("profile", ["micro-primary", "lab"])
def test_farm_report_equals_embedded_check_with_segment_fan_out(extra_stage, profile: str, stub_farm, silent_clip: Path,
                                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(settings.SEGMENT_ENV, "3")
    monkeypatch.setitem(profiles.defaults()["farm"], "segmented", ["tone"])  # the stages' own merges: their tests
    jobs.open_job_profile.cache_clear()
    media = stub_farm.media / "lesson.mp4"
    media.write_bytes(silent_clip.read_bytes())
    job_id = api.submit(media, profile, skip=("speech",))  # a silent clip: the test stage's fan-out is the subject
    doc = wait_for(lambda: api.report(job_id), 60, what="the farm report")
    embedded = to_dict(check(media, profiles.load(profile), tmp_path / "embedded", skip=frozenset({"speech"}),
                             stages=with_stage(extra_stage)))
    assert_same_findings(doc, embedded)
    farm_stages = {k: v["status"] for k, v in doc["stages"].items() if k != "originality"}  # the farm's index only
    assert farm_stages == {k: v["status"] for k, v in embedded["stages"].items()}
    assert [t for t in api.status(job_id)["tasks"] if t.startswith("tone@")] == ["tone@0", "tone@3"]
    tone = [f for f in doc["findings"] if f["code"] == "lab.test_tone"]
    assert [(f["start_s"], f["end_s"]) for f in tone] == [(0.0, 8.0)]
    assert doc["stages"]["tone"]["status"] == "ok" and doc["job_id"] == job_id
    assert api.status(job_id)["state"] == "done"
    jobs.open_job_profile.cache_clear()


def test_bad_input_gives_error_report_without_retries(stub_farm):
    bad = stub_farm.media / "notes.mp4"
    bad.write_text("这不是视频\n" * 40, encoding="utf-8")
    job_id = api.submit(bad)
    doc = wait_for(lambda: api.report(job_id), 30, what="the error report")
    assert doc["verdict"] == "error" and [f["code"] for f in doc["findings"]] == ["input.unreadable"]
    assert api.status(job_id)["state"] == "error"
    assert not stub_farm.broker.dead_letters
    assert all(q.qsize() == 0 for name, q in stub_farm.broker.queues.items() if name.endswith(".DQ"))


@pytest.mark.allow_error_logs  # dramatiq logs each failed attempt at ERROR
@pytest.mark.parametrize("extra_stage", [BrokenStage], indirect=True)
def test_transient_fault_is_retried_then_reported_as_stage_error(extra_stage, stub_farm, silent_clip: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    from workers import actors

    monkeypatch.setattr(actors, "_FARM", dataclasses.replace(actors._FARM, retries=1))
    monkeypatch.setitem(actors.media_task.options, "min_backoff", 10)
    monkeypatch.setitem(actors.media_task.options, "max_backoff", 20)
    media = stub_farm.media / "lesson.mp4"
    media.write_bytes(silent_clip.read_bytes())
    job_id = api.submit(media, skip=("speech",))
    doc = wait_for(lambda: api.report(job_id), 30, what="the report after retries")
    assert doc["stages"]["broken"]["status"] == "error"
    assert "gave up after retries" in doc["stages"]["broken"]["error"] and "tool crashed" in doc["stages"]["broken"]["error"]
    assert doc["verdict"] in ("review", "fail") and api.status(job_id)["tasks"]["broken@0"]["state"] == "error"


# ---- CLI, broker choice, warm-up ----

def test_cli_submit_refuses_a_path_outside_the_roots(roots: SimpleNamespace, tmp_path: Path, capsys):
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"x")
    assert cli_main(["submit", str(outside)]) == 4
    assert "outside the media roots" in capsys.readouterr().err


def test_cli_submit_wait_status_and_report_on_the_stub_farm(stub_farm, capsys):
    bad = stub_farm.media / "notes.mp4"
    bad.write_text("not a video\n" * 40, encoding="utf-8")
    assert cli_main(["submit", str(bad), "--wait", "--timeout", "30"]) == 3
    job_id = capsys.readouterr().out.split("\t", 1)[0]
    assert cli_main(["status", job_id]) == 0
    status = capsys.readouterr().out
    assert f"{job_id}  error  error" in status and "probe" in status and "report.html" in status
    assert cli_main(["report", job_id, "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["findings"][0]["code"] == "input.unreadable"
    assert cli_main(["report", "no-such-job"]) == 4
    assert "unknown job" in capsys.readouterr().err


def test_worker_command_line_runs_dramatiq_with_low_prefetch():
    from cli.main import build_parser
    from cli.farm import worker_argv, worker_env

    args = build_parser().parse_args(["worker", "--queues", "speech", "--processes", "2", "--threads", "1"])
    argv = worker_argv(args)
    assert argv[1:4] == ["-m", "dramatiq", "workers.actors"]
    assert argv[argv.index("--queues") + 1:] == ["speech"] and argv[argv.index("--processes") + 1] == "2"
    assert worker_env(args, {})["dramatiq_queue_prefetch"] == "1"


def test_install_moves_the_actors_and_uninstall_chooses_again(monkeypatch: pytest.MonkeyPatch):
    from workers import actors

    monkeypatch.setenv(brokers.BROKER_ENV, "stub")
    first = brokers.install(brokers.make_stub())
    assert actors.probe_job.broker is first.broker and "probe" in first.broker.get_declared_queues()
    brokers.uninstall()
    again = brokers.setup()
    assert again.broker is not first.broker and actors.speech_task.broker is again.broker
    assert isinstance(again.store.backend, MemoryBackend)
    brokers.uninstall()


def test_redis_broker_takes_password_and_tls_from_the_url(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LESSONQC_WARM_MODELS", "0")
    broker = brokers.make_redis("rediss://:s3cret@redis.example:6380/2", "ns")
    kwargs = broker.client.connection_pool.connection_kwargs
    assert isinstance(broker, RedisBroker) and broker.namespace == "ns"
    assert (kwargs["password"], kwargs["port"], kwargs["db"]) == ("s3cret", 6380, 2)
    assert broker.client.connection_pool.connection_class is SSLConnection


@pytest.mark.parametrize("queues, warmed", [(None, True), ({"speech", "media"}, True), ({"ocr", "media"}, False)])
def test_model_warmup_only_for_speech_workers(queues, warmed, monkeypatch: pytest.MonkeyPatch):
    calls: list[bool] = []
    monkeypatch.setattr(warmup, "warm_speech_model", lambda: calls.append(True) or True)
    warmup.ModelWarmup().before_worker_boot(None, SimpleNamespace(consumer_whitelist=queues))
    assert bool(calls) == warmed


def test_the_profile_validated_at_submit_travels_with_the_job(stub_farm, silent_clip: Path, tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nduration: {min_s: 1, max_s: 60}\n", encoding="utf-8")
    media = stub_farm.media / "snap.mp4"
    media.write_bytes(silent_clip.read_bytes())
    job_id = api.submit(media, str(mine), skip=("speech", "onscreen", "lab"))
    mine.unlink()  # the workers never read the submitter's file
    doc = wait_for(lambda: api.report(job_id), 60, what="the farm report")
    assert doc["profile"] == "mine" and "tech.duration" not in {f["code"] for f in doc["findings"]}


def test_job_ids_are_plain_names_and_never_reused(stub_farm, silent_clip: Path):
    from workers.reportstore import BadJobId
    from workers.state import JobExists

    media = stub_farm.media / "ids.mp4"
    media.write_bytes(silent_clip.read_bytes())
    for bad in ("../x", "a/b", ".hidden", "x" * 65):
        with pytest.raises(BadJobId):
            api.submit(media, job_id=bad)
    with pytest.raises(BadJobId):
        api.report("../x")
    job_id = api.submit(media, job_id="lesson-0001", skip=("speech", "onscreen", "lab"))
    wait_for(lambda: api.report(job_id), 60, what="the farm report")
    with pytest.raises(JobExists):
        api.submit(media, job_id="lesson-0001")
    assert api.status("lesson-0001")["state"] == "done"
    assert cli_main(["report", "../x"]) == 4
