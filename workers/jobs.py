"""The farm's work as plain functions (no dramatiq here): probe and plan, run one task, build the report.

A job is: `start` (probe queue) -> its tasks in parallel (the signal pass with the
frame stages that ride on it; speech / on-screen segments) -> `finalize` (report
queue). Every step is safe to run twice: results are recorded once (JobStore),
the report is published once (reportstore). The actors in actors.py are thin
wrappers; what a step hands on goes through an Outbox.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Protocol

from pipelines import registry
from pipelines import check
from pipelines.media import faults
from pipelines import stages
from pipelines import profile as profiles
from pipelines.errors import InputUnreadable, MediaPathRefused, ModelMissing, ProfileError
from pipelines.media.probe import ProbeResult, probe
from pipelines.profile import Profile
from pipelines.report.document import Report
from pipelines.domain import Media, StageOutput, StageRun, to_jsonable

from . import codec, paths, reportstore
from .settings import FarmSettings, defaults, for_profile
from .state import DONE, ERROR, JobStore

log = logging.getLogger(__name__)

BAD_INPUT = (InputUnreadable, MediaPathRefused, ProfileError)  # the job ends at once with an `error` report
STAGE_PERMANENT = (ModelMissing,)                                # the stage errors at once, no retry
SIGNAL = "signal"


@dataclass(frozen=True)
class JobSpec:
    """What every message of a job carries: ids and references only (JSON-safe)."""

    job_id: str
    media: str                       # media reference: a path under a media root
    profile: str                     # built-in profile name or YAML path
    languages: tuple[str, ...] = ()  # extra allowed languages (foreign-language course)
    source: str = ""                 # the path as submitted (the report's `source`)
    skip: tuple[str, ...] = ()       # optional stages not to run (reported as skipped)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "languages": list(self.languages), "skip": list(self.skip)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> JobSpec:
        return cls(doc["job_id"], doc["media"], doc["profile"], tuple(doc.get("languages") or ()),
                   doc.get("source") or doc["media"], tuple(doc.get("skip") or ()))


@dataclass(frozen=True)
class Task:
    """One unit of parallel work: the signal pass (plus riding frame stages) or one stage segment."""

    key: str
    queue: str
    stages: tuple[str, ...]
    start_s: float = 0.0
    length_s: float | None = None    # None: to the end of the file

    @property
    def is_signal(self) -> bool:
        return self.stages[0] == SIGNAL

    def media_seconds(self, duration_s: float) -> float:
        return duration_s - self.start_s if self.length_s is None else self.length_s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stages": list(self.stages)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Task:
        return cls(doc["key"], doc["queue"], tuple(doc["stages"]), float(doc["start_s"]), doc.get("length_s"))


class Outbox(Protocol):
    """Where a step sends the messages that follow it (the actors, or a list in tests)."""

    def send_task(self, spec: JobSpec, task: Task, time_limit_ms: int) -> None: ...

    def send_report(self, spec: JobSpec, time_limit_ms: int) -> None: ...


@dataclass
class Farm:
    """What the steps need from their surroundings."""

    store: JobStore
    outbox: Outbox
    report_root: Path
    on_publish: Callable[[str, Path], None] | None = None  # e.g. index the report, queue its callback


@dataclass
class Part:
    """A task's result: each stage's run, and the outputs of those that ran."""

    runs: dict[str, StageRun] = field(default_factory=dict)
    outputs: dict[str, StageOutput] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"runs": to_jsonable(self.runs), "outputs": to_jsonable(self.outputs)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Part:
        return cls({k: codec.run_from_dict(v) for k, v in doc["runs"].items()},
                   {k: codec.output_from_dict(v) for k, v in doc["outputs"].items()})

    def status(self, queue: str) -> dict[str, Any]:
        errors = [f"{name}: {run.error}" for name, run in self.runs.items() if run.status == "error"]
        return {"state": ERROR if errors else DONE, "queue": queue,
                "seconds": round(sum(r.seconds for r in self.runs.values()), 3), "error": "; ".join(errors) or None}


# ---- step 1: probe and plan (probe queue) ----

def start(spec: JobSpec, farm: Farm) -> None:
    """Probe the media, plan the tasks and send them; on redelivery resend only what is not done."""
    if farm.store.is_finished(spec.job_id):
        return
    farm.store.mark_running(spec.job_id)
    try:
        path, profile = open_job(spec)
        doc = farm.store.probe(spec.job_id) or _probe(path, profile, spec, farm)
    except BAD_INPUT as exc:
        fail_job(spec, farm, exc, "probe")
        return
    _fan_out(spec, farm, codec.media_from_dict(doc["media"]), profile)


def _fan_out(spec: JobSpec, farm: Farm, media: Media, profile: Profile) -> None:
    """Store the plan once, then send every task not yet done (and the report step when all are)."""
    settings = for_profile(profile)
    planned = [t.to_dict() for t in plan(media, profile, settings, spec.skip)]
    tasks = [Task.from_dict(t) for t in farm.store.save_plan(spec.job_id, planned)]
    done = farm.store.parts(spec.job_id)
    for task in tasks:
        if task.key not in done:
            farm.outbox.send_task(spec, task, settings.time_limit_ms(task.media_seconds(media.duration_s)))
    if len(done) >= len(tasks):
        farm.outbox.send_report(spec, settings.time_limit_ms(0))


def _probe(path: Path, profile: Profile, spec: JobSpec, farm: Farm) -> dict[str, Any]:
    started = time.monotonic()
    result = probe(path, profile)
    doc = codec.probe_to_dict(result, StageRun("ok", time.monotonic() - started))
    farm.store.save_probe(spec.job_id, doc)
    return doc


def plan(media: Media, profile: Profile, settings: FarmSettings, skip: tuple[str, ...] = ()) -> list[Task]:
    """The signal pass (frame stages not split ride on it), then each other stage per segment."""
    enabled = [s for s in registry.all_stages().values() if s.name not in skip and s.enabled(profile, media)]
    riders = [s.name for s in enabled if _rides_signal(s, settings)]
    tasks = [Task(SIGNAL, "media", (SIGNAL, *riders))]
    for stage in (s for s in enabled if s.name not in riders):
        tasks += _stage_tasks(stage.name, media.duration_s, settings)
    return tasks


def _rides_signal(stage: stages.Stage, settings: FarmSettings) -> bool:
    return (isinstance(stage, stages.FrameStage) and stage.name not in settings.segmented
            and settings.queue_of(stage.name) == "media")


def _stage_tasks(name: str, duration_s: float, settings: FarmSettings) -> list[Task]:
    if name not in settings.segmented:
        return [Task(f"{name}@0", settings.queue_of(name), (name,))]
    min_tail = min(settings.min_tail_s, settings.segment_s)  # a full-length segment is never a "tail"
    cuts = check.segments(duration_s, settings.segment_s, min_tail) or [(0.0, duration_s)]
    last = len(cuts) - 1
    return [Task(f"{name}@{start:g}", settings.queue_of(name), (name,), start, None if i == last else length)
            for i, (start, length) in enumerate(cuts)]


# ---- step 2: one task (media / ocr / speech queues) ----

def run_task(spec: JobSpec, task: Task, farm: Farm) -> Part | None:
    """Run one task and record its part once; None when the job is already over."""
    if farm.store.is_finished(spec.job_id):
        return None
    farm.store.task_started(spec.job_id, task.key, task.queue)
    try:
        ctx = _context(spec, task, farm)
        part = _signal_task(ctx, task) if task.is_signal else _segment_task(ctx, task)
    except BAD_INPUT as exc:
        fail_job(spec, farm, exc, task.stages[0])
        return None
    except Exception:
        if farm.store.is_finished(spec.job_id):
            log.info("job %s ended while task %s ran; its failure is moot", spec.job_id, task.key)
            return None  # e.g. another task found the input truncated and removed the job's work folder
        raise
    record(spec, task, part, farm)
    return part


def _context(spec: JobSpec, task: Task, farm: Farm) -> stages.StageContext:
    path, profile = open_job(spec)
    doc = farm.store.probe(spec.job_id)
    if doc is None:
        raise RuntimeError(f"job {spec.job_id}: task {task.key} arrived before its probe result")
    workdir = reportstore.work_dir(farm.report_root, spec.job_id, task.key)
    return stages.StageContext(path, codec.media_from_dict(doc["media"]), profile, workdir, task.start_s, task.length_s)


def _signal_task(ctx: stages.StageContext, task: Task) -> Part:
    """The signal pass, with the riding frame stages fed by the same decode (as in `lessonqc check`)."""
    part = Part()
    riders = [registry.all_stages()[name] for name in task.stages[1:]]
    made = {s.name: check.timed(s.name, part.runs, lambda s=s: s.consumer(ctx)) for s in riders}
    consumers = {name: c for name, c in made.items() if c is not None}
    spec = stages.shared_frame_spec(ctx.profile) if consumers else None
    started = time.monotonic()
    sig = faults.run_signal(ctx.path, ctx.media, ctx.profile, ctx.workdir, list(consumers.values()), spec)
    part.runs[SIGNAL] = StageRun("ok", time.monotonic() - started)
    check.check_truncation(sig, ctx.media.duration_s)  # the one truncation rule, shared with the embedded check
    part.outputs[SIGNAL] = sig.output
    for name, consumer in consumers.items():
        output = check.finish_consumer(name, consumer, sig.log, part.runs)
        if output is not None:
            part.outputs[name] = output
    return part


def _segment_task(ctx: stages.StageContext, task: Task) -> Part:
    """One stage on one time segment, with its own decode; transient faults propagate (retried)."""
    name = task.stages[0]
    started = time.monotonic()
    try:
        output = check.run_segment(name, ctx.path, ctx)
    except STAGE_PERMANENT as exc:
        return Part({name: StageRun("error", time.monotonic() - started, f"{type(exc).__name__}: {exc}")})
    return Part({name: StageRun("ok", time.monotonic() - started)}, {name: output})


def record(spec: JobSpec, task: Task, part: Part, farm: Farm) -> None:
    """Record `part` once; when every task is in, send the report step (again, if redelivered)."""
    farm.store.complete(spec.job_id, task.key, part.to_dict(), part.status(task.queue))
    tasks = farm.store.plan(spec.job_id) or []
    if len(farm.store.parts(spec.job_id)) >= len(tasks) and not farm.store.is_finished(spec.job_id):
        farm.outbox.send_report(spec, for_profile(open_job(spec)[1]).time_limit_ms(0))


def task_exhausted(spec: JobSpec, task: Task | None, error: str, farm: Farm) -> None:
    """A message ran out of retries: its stages become `error` (the report says so); a probe ends the job."""
    if farm.store.is_finished(spec.job_id):
        return
    if task is None:
        fail_job(spec, farm, InputUnreadable(f"probe failed: {error}"), "probe")
        return
    runs = {name: StageRun("error", 0.0, f"gave up after retries: {error}") for name in task.stages}
    record(spec, task, Part(runs), farm)


# ---- step 3: the report (report queue) ----

def finalize(spec: JobSpec, farm: Farm) -> str | None:
    """Merge every part into one report, publish it once; return its verdict (None: nothing to do)."""
    store = farm.store
    if store.is_finished(spec.job_id):
        return None
    tasks = [Task.from_dict(t) for t in store.plan(spec.job_id) or []]
    parts = {k: Part.from_dict(v) for k, v in store.parts(spec.job_id).items()}
    if not tasks or any(t.key not in parts for t in tasks):
        log.warning("job %s: report step ran before all tasks were in; ignored", spec.job_id)
        return None
    path, profile = open_job(spec)
    result, run = codec.probe_from_dict(store.probe(spec.job_id))
    workdir = reportstore.work_dir(farm.report_root, spec.job_id, "report")
    ctx = stages.StageContext(path, result.media, profile, workdir)
    report = assemble(spec, ctx, result, run, [(t, parts[t.key]) for t in tasks])
    check.add_thumbnails(report, path, workdir, profile)
    _publish(spec, report, farm, for_profile(profile))
    return report.verdict


def assemble(spec: JobSpec, ctx: stages.StageContext, result: ProbeResult, probe_run: StageRun,
             pieces: list[tuple[Task, Part]]) -> Report:
    """The whole-video report from the probe and every task's part (segments merged per stage in `ctx`)."""
    report = Report(spec.job_id, spec.source, ctx.profile.name, media=result.media)
    report.findings += result.findings
    report.metrics["probe"] = result.metrics
    report.stages["probe"] = probe_run
    by_stage: dict[str, list[tuple[StageRun, StageOutput | None]]] = {}
    for _, part in sorted(pieces, key=lambda p: p[0].start_s):
        for name, stage_run in part.runs.items():
            by_stage.setdefault(name, []).append((stage_run, part.outputs.get(name)))
    for name, runs in by_stage.items():
        _add_stage(report, name, runs, ctx)
    _mark_skipped(report, ctx.profile, result.media, spec.skip)
    return report


def _add_stage(report: Report, name: str, runs: list[tuple[StageRun, StageOutput | None]],
               ctx: stages.StageContext) -> None:
    """One stage's run status (errors win, seconds add up) and its merged output."""
    errors = [r.error for r, _ in runs if r.status == "error"]
    seconds = sum(r.seconds for r, _ in runs)
    report.stages[name] = StageRun("error", seconds, errors[0]) if errors else StageRun("ok", seconds)
    outputs = [o for _, o in runs if o is not None]
    if not outputs:
        return
    merged = outputs[0] if len(runs) == 1 else registry.all_stages()[name].merge(outputs, ctx)
    report.findings += merged.findings
    report.transcript += merged.transcript
    report.artifacts.update(merged.artifacts)
    if merged.metrics:
        report.metrics[name] = merged.metrics


def _mark_skipped(report: Report, profile: Profile, media: Media, skip: tuple[str, ...]) -> None:
    for name, stage in registry.all_stages().items():
        if name not in report.stages and (name in skip or not stage.enabled(profile, media)):
            report.stages[name] = StageRun("skipped", 0.0)


def fail_job(spec: JobSpec, farm: Farm, exc: Exception, stage: str) -> None:
    """Bad input: an `error` report (finding input.unreadable) at once; later parts are ignored."""
    doc = farm.store.probe(spec.job_id)
    report = Report(spec.job_id, spec.source, _profile_name(spec))
    if doc is not None:
        result, run = codec.probe_from_dict(doc)
        report.media, report.findings, report.metrics["probe"] = result.media, list(result.findings), result.metrics
        report.stages["probe"] = run
    report.stages[stage] = StageRun("error", 0.0, "input unreadable")
    report.findings.append(check.unreadable(str(exc)))
    _publish(spec, report, farm, _settings_or_default(spec))


def _publish(spec: JobSpec, report: Report, farm: Farm, settings: FarmSettings) -> None:
    folder, _ = reportstore.publish(report, farm.report_root)
    if farm.on_publish is not None:  # before `finish`: a failure here retries the step, which re-runs the hook
        farm.on_publish(spec.job_id, folder)
    verdict = report.verdict
    farm.store.finish(spec.job_id, ERROR if verdict == "error" else DONE, verdict, str(folder),
                      ttl_s=settings.state_ttl_s)
    reportstore.cleanup(farm.report_root, spec.job_id)


def _profile_name(spec: JobSpec) -> str:
    try:
        return open_job_profile(spec.profile, spec.languages).name
    except ProfileError:
        return spec.profile


def _settings_or_default(spec: JobSpec) -> FarmSettings:
    try:
        return for_profile(open_job_profile(spec.profile, spec.languages))
    except ProfileError:
        return defaults()


def open_job(spec: JobSpec) -> tuple[Path, Profile]:
    """The confined media path and the loaded profile of a job (BAD_INPUT errors when refused)."""
    return paths.resolve(spec.media), open_job_profile(spec.profile, spec.languages)


@lru_cache(maxsize=32)
def open_job_profile(name: str, languages: tuple[str, ...]) -> Profile:
    """Profiles are loaded once per worker process per (profile, languages)."""
    return profiles.load(name, list(languages))
