"""The farm's queue state over the job plan (pipelines/plan.py): probe and plan, run one task, publish.

A job is: `start` (probe queue) -> its tasks in parallel (the signal pass with the
frame stages that ride on it; speech / on-screen segments) -> `finalize` (report
queue), which merges the parts with the same assembly as `lessonqc check`
(pipelines/assemble.py). Every step is safe to run twice: results are recorded once
(JobStore), the report is published once (reportstore). The actors in actors.py are
thin wrappers; what a step hands on goes through an Outbox.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from pipelines import assemble, registry
from pipelines import plan as plans
from pipelines import profile as profiles
from pipelines import stages as base
from pipelines.domain import Media, StageRun
from pipelines.errors import InputUnreadable, MediaPathRefused, ProfileError
from pipelines.media import source as sources
from pipelines.media.probe import probe
from pipelines.originality.cross import LessonIndex
from pipelines.package.archive import PackageRefused
from pipelines.plan import SIGNAL, Part, Task
from pipelines.profile import Profile
from pipelines.report.document import Report
from pipelines.selection.metadata import LessonMeta

from . import codec, package_jobs, paths, reportstore
from .settings import FarmSettings, defaults, for_profile
from .state import DONE, ERROR, JobStore

log = logging.getLogger(__name__)

BAD_INPUT = (InputUnreadable, MediaPathRefused, ProfileError)  # the job ends at once with an `error` report
__all__ = ["SIGNAL", "Farm", "JobSpec", "Outbox", "Part", "Task"]


@dataclass(frozen=True)
class JobSpec:
    """What every message of a job carries: ids and references only (JSON-safe)."""

    job_id: str
    media: str                       # media reference: a path under a media root
    profile: str                     # built-in profile name or YAML path
    languages: tuple[str, ...] = ()  # extra allowed languages (foreign-language course)
    source: str = ""                 # the path as submitted (the report's `source`)
    skip: tuple[str, ...] = ()       # optional stages not to run (reported as skipped)
    category: str = ""               # set: `media` is a submission package (folder or .zip) of this category
    lesson: Mapping[str, Any] = field(default_factory=dict)  # the submission's metadata (LessonMeta.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "languages": list(self.languages), "skip": list(self.skip), "lesson": dict(self.lesson)}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> JobSpec:
        return cls(reportstore.checked_id(doc["job_id"]), doc["media"], doc["profile"], tuple(doc.get("languages") or ()),
                   doc.get("source") or doc["media"], tuple(doc.get("skip") or ()), doc.get("category") or "",
                   dict(doc.get("lesson") or {}))

    def metadata(self) -> LessonMeta | None:
        """The submission's metadata (None when it gave none)."""
        return LessonMeta.from_dict(self.lesson) if self.lesson else None


class Outbox(Protocol):
    """Where a step sends the messages that follow it (the actors, or a list in tests)."""

    def send_task(self, spec: JobSpec, task: Task, time_limit_ms: int) -> None: ...

    def send_report(self, spec: JobSpec, time_limit_ms: int) -> None: ...

    def send_probe(self, spec: JobSpec, time_limit_ms: int) -> None: ...


@dataclass(frozen=True)
class Submitted:
    """An unfinished job as the durable record of submissions has it (spec None: recorded before specs were)."""

    job_id: str
    source: str
    profile: str
    media: str
    spec: dict[str, Any] | None
    snapshot: dict[str, Any] | None
    recoveries: int


class Ledger(Protocol):
    """The durable record of submissions (the index): what a job Redis lost is queued again from."""

    def unfinished(self, before: datetime) -> list[Submitted]: ...

    def count_recovery(self, job_id: str) -> int: ...

    def redrive_webhooks(self, now: datetime) -> int: ...

    def rekey_prints(self) -> int: ...


@dataclass
class Farm:
    """What the steps need from their surroundings: job state, outbox, report store, the stages to run."""

    store: JobStore
    outbox: Outbox
    report_root: Path
    on_publish: Callable[[str, Path], None] | None = None  # e.g. index the report, queue its callback
    on_start: Callable[[str], None] | None = None          # e.g. mark the job running in the index
    stages: Mapping[str, base.Stage] = field(default_factory=registry.all_stages)
    ledger: Ledger | None = None                           # the sweeper re-creates jobs Redis lost from it
    index: LessonIndex | None = None                       # the lessons a report is matched against (originality)


def part_status(part: Part, queue: str) -> dict[str, Any]:
    """A task's entry in the job state: done or error, its queue, seconds, errors."""
    errors = [f"{name}: {run.error}" for name, run in part.runs.items() if run.status == "error"]
    return {"state": ERROR if errors else DONE, "queue": queue,
            "seconds": round(sum(r.seconds for r in part.runs.values()), 3), "error": "; ".join(errors) or None}


# ---- step 1: probe and plan (probe queue) ----

def start(spec: JobSpec, farm: Farm) -> None:
    """Probe the media, plan the tasks and send them; on redelivery resend only what is not done."""
    if farm.store.is_finished(spec.job_id):
        return
    farm.store.mark_running(spec.job_id)
    if farm.on_start is not None:
        farm.on_start(spec.job_id)
    try:
        path, profile = open_job(spec, farm.store)
        doc = farm.store.probe(spec.job_id) or _probe(path, profile, spec, farm)
    except PackageRefused as exc:
        _publish(spec, package_jobs.refused_report(_report(spec, farm.store), exc, spec.category), farm,
                 _settings_or_default(spec, farm.store), f"fail:probe:{exc}")
        return
    except BAD_INPUT as exc:
        fail_job(spec, farm, exc, "probe")
        return
    _fan_out(spec, farm, doc, profile)


def _fan_out(spec: JobSpec, farm: Farm, doc: dict[str, Any], profile: Profile) -> None:
    """Store the plan once, then send every task not yet done (and the report step when all are).
    A package job adds one task per document; its video (if it probed) is planned as any video."""
    settings = for_profile(profile)
    media = codec.media_from_dict(doc["media"]) if "media" in doc else None
    planned = [t.to_dict() for t in plan(media, profile, settings, spec.skip, farm.stages)] if media else []
    if spec.category:
        planned += [t.to_dict() for t in package_jobs.document_tasks(doc, settings.queue_of(package_jobs.STAGE))]
    tasks = [Task.from_dict(t) for t in farm.store.save_plan(spec.job_id, planned)]
    done = farm.store.parts(spec.job_id)
    for task in tasks:
        if task.key not in done:
            seconds = settings.time_limit_base_s if package_jobs.is_document(task) else task.media_seconds(media.duration_s)
            farm.outbox.send_task(spec, task, settings.time_limit_ms(seconds))
    if len(done) >= len(tasks):
        farm.outbox.send_report(spec, settings.time_limit_ms(0))


def _probe(path: Path, profile: Profile, spec: JobSpec, farm: Farm) -> dict[str, Any]:
    if spec.category:
        workdir = reportstore.run_dir(farm.report_root, spec.job_id, package_jobs.STAGE)
        doc = package_jobs.prepare(path, spec.category, profile, workdir, _roots(spec, farm))
        return farm.store.keep_probe(spec.job_id, doc)
    started = time.monotonic()
    with sources.opened(path, _roots(spec, farm)) as media:
        result = probe(media, profile)
    doc = codec.probe_to_dict(result, StageRun("ok", time.monotonic() - started))
    return farm.store.keep_probe(spec.job_id, doc)


def plan(media: Media, profile: Profile, settings: FarmSettings, skip: tuple[str, ...] = (),
         stages: Mapping[str, base.Stage] | None = None) -> list[Task]:
    """The job plan with the farm's layout: frame stages not split ride the signal pass on `media`;
    speech / on-screen per segment on their queues."""
    return plans.plan(media, profile, registry.all_stages() if stages is None else stages, layout(settings), skip)


def layout(settings: FarmSettings) -> plans.Layout:
    """The farm settings as a plan layout (queues are lanes; audio stages never ride the signal task)."""
    return plans.Layout(settings.segment_s, settings.min_tail_s, settings.segmented, settings.queues,
                        settings.default_queue, signal_lane="media", audio_rides=False)


# ---- step 2: one task (media / ocr / speech queues) ----

def run_task(spec: JobSpec, task: Task, farm: Farm) -> Part | None:
    """Run one task and record its part once; None when the job is already over."""
    if farm.store.is_finished(spec.job_id):
        return None
    farm.store.task_started(spec.job_id, task.key, task.queue)
    try:
        part = _document(spec, task, farm) if package_jobs.is_document(task) else _run(spec, task, farm)
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


def _run(spec: JobSpec, task: Task, farm: Farm) -> Part:
    """One task of the plan on the job's video, opened once for the whole task."""
    path, profile = open_job(spec, farm.store)
    doc = _probe_doc(spec, task, farm)
    workdir = reportstore.run_dir(farm.report_root, spec.job_id, task.key)
    with held_video(spec, path, doc, farm) as video:
        ctx = base.StageContext(video, codec.media_from_dict(doc["media"]), profile, workdir, task.start_s,
                                task.length_s)
        return plans.run_task(task, ctx, farm.stages)


def _probe_doc(spec: JobSpec, task: Task, farm: Farm) -> dict[str, Any]:
    doc = farm.store.probe(spec.job_id)
    if doc is None:
        raise RuntimeError(f"job {spec.job_id}: task {task.key} arrived before its probe result")
    return doc


@contextmanager
def held_video(spec: JobSpec, path: Path, doc: dict[str, Any], farm: Farm) -> Iterator[Path]:
    """The job's video (the media itself, or a package's video part) opened once and confined to the
    roots, as `/proc/self/fd/N`: every tool of the step reads that open file, never the path again."""
    video = package_jobs.video_path(doc) if spec.category else path
    with sources.opened(video, _roots(spec, farm)) as held:
        yield held


def _report_video(stack: ExitStack, spec: JobSpec, path: Path, doc: dict[str, Any], farm: Farm) -> Path:
    """The video held for the report step; one gone since its tasks ran costs its thumbnails, not the report."""
    try:
        return stack.enter_context(held_video(spec, path, doc, farm))
    except (InputUnreadable, MediaPathRefused) as exc:
        log.warning("job %s: the video cannot be read for thumbnails: %s", spec.job_id, exc)
        return Path(os.devnull)


def _roots(spec: JobSpec, farm: Farm) -> list[Path]:
    """Where a job's video may be: the media roots, and for a package the folder its zip unpacks into."""
    roots = paths.media_roots()
    if spec.category:
        roots.append(reportstore.work_dir(farm.report_root, spec.job_id, package_jobs.STAGE).resolve())
    return roots


def _document(spec: JobSpec, task: Task, farm: Farm) -> Part:
    """One document of a package job (ocr queue)."""
    _, profile = open_job(spec, farm.store)
    workdir = reportstore.run_dir(farm.report_root, spec.job_id, task.key)
    return package_jobs.run_document(task, _probe_doc(spec, task, farm), spec.category, profile, workdir)


def record(spec: JobSpec, task: Task, part: Part, farm: Farm) -> None:
    """Record `part` once; when every task is in, send the report step (again, if redelivered)."""
    farm.store.complete(spec.job_id, task.key, codec.part_to_dict(part), part_status(part, task.queue))
    tasks = farm.store.plan(spec.job_id) or []
    if len(farm.store.parts(spec.job_id)) >= len(tasks) and not farm.store.is_finished(spec.job_id):
        farm.outbox.send_report(spec, for_profile(open_job(spec, farm.store)[1]).time_limit_ms(0))


def task_exhausted(spec: JobSpec, task: Task | None, error: str, farm: Farm) -> None:
    """A message ran out of retries: its stages become `error` (the report says so); a probe ends the job."""
    if farm.store.is_finished(spec.job_id):
        return
    if task is None:
        fail_job(spec, farm, InputUnreadable(f"probe failed: {error}"), "probe")
        return
    record(spec, task, plans.failed(task, f"gave up after retries: {error}"), farm)


# ---- step 3: the report (report queue) ----

def finalize(spec: JobSpec, farm: Farm) -> str | None:
    """Merge every part into one report, publish it once; return its verdict (None: nothing to do)."""
    if farm.store.is_finished(spec.job_id):
        return None
    built = build_report(spec, farm)
    if built is None:
        log.warning("job %s: report step ran before all tasks were in; ignored", spec.job_id)
        return None
    report, profile = built
    _publish(spec, report, farm, for_profile(profile), "report")
    return report.verdict


def build_report(spec: JobSpec, farm: Farm) -> tuple[Report, Profile] | None:
    """The whole report from the probe and every task's part (None while a part is missing)."""
    store = farm.store
    tasks = [Task.from_dict(t) for t in store.plan(spec.job_id) or []]
    parts = {k: codec.part_from_dict(v) for k, v in store.parts(spec.job_id).items()}
    if (not tasks and not spec.category) or any(t.key not in parts for t in tasks):
        return None
    path, profile = open_job(spec, farm.store)
    doc = store.probe(spec.job_id)
    report = Report(spec.job_id, spec.source, profile.name, lesson=spec.metadata())
    video = [t for t in tasks if not package_jobs.is_document(t)]
    if "media" in doc:
        result, run = codec.probe_from_dict(doc)
        workdir = reportstore.run_dir(farm.report_root, spec.job_id, "report")
        with ExitStack() as stack:  # the thumbnails read the video
            ctx = base.StageContext(_report_video(stack, spec, path, doc, farm), result.media, profile, workdir)
            assemble.assemble(report, result, run, [(t, parts[t.key]) for t in video], ctx, farm.stages, spec.skip,
                              farm.index)
    if spec.category:
        package_jobs.finish(report, doc, [parts[t.key] for t in tasks if package_jobs.is_document(t)], profile)
    return report, profile


def fail_job(spec: JobSpec, farm: Farm, exc: Exception, stage: str) -> None:
    """Bad input: an `error` report (finding input.unreadable) at once; later parts are ignored."""
    report = _failure_report(spec, farm, stage, str(exc))
    _publish(spec, report, farm, _settings_or_default(spec, farm.store), f"fail:{stage}:{exc}")


def _failure_report(spec: JobSpec, farm: Farm, stage: str, message: str) -> Report:
    doc = farm.store.probe(spec.job_id)
    report = _report(spec, farm.store)
    assemble.fail(report, stage, message, codec.probe_from_dict(doc) if doc is not None and "media" in doc else None)
    return report


def _publish(spec: JobSpec, report: Report, farm: Farm, settings: FarmSettings, redo: str) -> None:
    """Publish, then mark the job finished. An unwritable report folder (or a full disk) does not
    leave the job running, nor fail again in give_up: the job ends as `error` with the reason in
    its state, and the sweeper publishes the report once the folder is writable (`republish`)."""
    try:
        folder, _ = reportstore.publish(report, farm.report_root)
    except OSError as exc:
        log.error("job %s: report not published (%s); the sweeper will publish it later", spec.job_id, exc)
        farm.store.finish(spec.job_id, ERROR, None, None, error=f"report not published yet: {exc}")
        farm.store.mark_republish(spec.job_id, redo)
        return
    if farm.on_publish is not None:  # before `finish`: a failure here retries the step, which re-runs the hook
        farm.on_publish(spec.job_id, folder)
    verdict = report.verdict
    farm.store.finish(spec.job_id, ERROR if verdict == "error" else DONE, verdict, str(folder),
                      ttl_s=settings.state_ttl_s)
    reportstore.cleanup(farm.report_root, spec.job_id)


def republish(spec: JobSpec, farm: Farm) -> bool:
    """Publish the report of a job that ended while its report folder was unwritable; True once done."""
    redo = farm.store.field(spec.job_id, "republish") or ""
    if redo == "report":
        built = build_report(spec, farm)
        report = built[0] if built else _failure_report(spec, farm, "report", "parts lost before publishing")
    else:
        _, stage, message = (redo.split(":", 2) + ["", ""])[:3]
        report = _failure_report(spec, farm, stage or "probe", message or "job failed")
    folder, _ = reportstore.publish(report, farm.report_root)  # OSError: still unwritable, try again later
    if farm.on_publish is not None:
        farm.on_publish(spec.job_id, folder)
    verdict = report.verdict
    farm.store.note(spec.job_id, state=ERROR if verdict == "error" else DONE, verdict=verdict, report=str(folder),
                    error="")
    farm.store.unmark_republish(spec.job_id)
    reportstore.cleanup(farm.report_root, spec.job_id)
    return True


def _report(spec: JobSpec, store: JobStore) -> Report:
    return Report(spec.job_id, spec.source, _profile_name(spec, store), lesson=spec.metadata())


def _profile_name(spec: JobSpec, store: JobStore) -> str:
    try:
        return job_profile(spec, store).name
    except ProfileError:
        return spec.profile


def _settings_or_default(spec: JobSpec, store: JobStore) -> FarmSettings:
    try:
        return for_profile(job_profile(spec, store))
    except ProfileError:
        return defaults()


def open_job(spec: JobSpec, store: JobStore) -> tuple[Path, Profile]:
    """The confined media path and the profile of a job (BAD_INPUT errors when refused)."""
    return paths.resolve(spec.media), job_profile(spec, store)


def job_profile(spec: JobSpec, store: JobStore) -> Profile:
    """The profile snapshot taken at submit; a job without one (older or forged) gets a built-in profile."""
    snapshot = store.profile(spec.job_id)
    if snapshot is not None:
        return _from_snapshot(snapshot)
    if Path(spec.profile).suffix in (".yaml", ".yml") or os.sep in spec.profile:
        raise ProfileError(f"profile {spec.profile!r}: a profile file is read at submit only")
    return open_job_profile(spec.profile, spec.languages)


@lru_cache(maxsize=32)
def _from_snapshot(text: str) -> Profile:
    doc = json.loads(text)
    return profiles.from_snapshot(doc["data"], doc["name"])


@lru_cache(maxsize=32)
def open_job_profile(name: str, languages: tuple[str, ...]) -> Profile:
    """Built-in profiles are loaded once per worker process per (profile, languages)."""
    return profiles.load(name, list(languages))
