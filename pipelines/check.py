"""The embedded pre-screen: probe, the job plan run in process, the one report assembly.

The plan of the default `Layout()` is one task: the shared decode (signal filters and
the 2 fps frame stream feeding every frame stage) with the audio stages running
alongside it; on a video longer than the server's `safety.embedded_speech_segment_s`, speech
runs after it in segments of that length (its audio is held in memory). The farm runs the
same plan code with its own layout through its queues (workers/jobs.py); both assemble
reports with pipelines/assemble.py.
"""
from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from pipelines import assemble, plan, registry, tools
from pipelines.domain import Media, StageRun
from pipelines.errors import InputUnreadable, MediaPathRefused
from pipelines.media import source as sources
from pipelines.media.limits import server
from pipelines.media.probe import ProbeResult, probe
from pipelines.originality.cross import LessonIndex
from pipelines.profile import Profile
from pipelines.report import document as reports
from pipelines.report.document import Report
from pipelines.report.page import relative_link
from pipelines.selection.metadata import LessonMeta
from pipelines.stages import Stage, StageContext

log = logging.getLogger(__name__)
ProgressFn = plan.ProgressFn
Stages = Mapping[str, Stage] | Iterable[Stage]


def stage_map(stages: Stages | None = None) -> dict[str, Stage]:
    """The stages to run by name: those given (a list or a mapping), else the registry's."""
    if stages is None:
        return registry.all_stages()
    if isinstance(stages, Mapping):
        return dict(stages)
    return {s.name: s for s in stages}


def preflight(profile: Profile, skip: frozenset[str] = frozenset(), stages: Stages | None = None) -> None:
    """Fail fast, before any video, when a tool or a stage's model is missing on this machine."""
    for tool in ("ffmpeg", "ffprobe"):
        tools.which(tool)
    for name, stage in stage_map(stages).items():
        if name not in skip:
            stage.preflight(profile)


def check(path: Path, profile: Profile, out_dir: Path, job_id: str | None = None,
          progress: ProgressFn | None = None, source: str | None = None, skip: frozenset[str] = frozenset(),
          stages: Stages | None = None, roots: tuple[Path, ...] = (), index: LessonIndex | None = None,
          lesson: LessonMeta | None = None) -> Report:
    """Pre-screen one video and write report.json/report.html into `out_dir`.

    `stages`: the stages to run (default: the registry's); `skip` names optional ones
    (speech, onscreen, lab) not to run; they are reported as skipped. The file is opened
    once (confined to `roots` when given) and every tool reads that open file. With `index`, the
    lesson is matched against the other lessons there (pipelines/originality/cross.py). `lesson`: the
    submission's metadata (report.json `lesson`; the selection rules, pipelines/selection).
    """
    report = Report(job_id or reports.new_job_id(), source or str(path), profile.name, lesson=lesson)
    with tempfile.TemporaryDirectory(prefix="lessonqc-") as tmp:
        try:
            with sources.opened(path, roots) as media:
                analyse(media, profile, Path(tmp), report, progress, skip, stage_map(stages), index)
        except (InputUnreadable, MediaPathRefused) as exc:
            assemble.fail(report, "probe", str(exc))
        reports.write(report, out_dir, relative_link(path, out_dir) if path.is_file() else None)
    return report


def analyse(path: Path, profile: Profile, workdir: Path, report: Report, progress: ProgressFn | None,
            skip: frozenset[str], stages: Mapping[str, Stage], index: LessonIndex | None = None) -> None:
    """Fill `report` for `path` (bad input: an `error` report with input.unreadable)."""
    probed = _probe(path, profile, report)
    if probed is None:
        return
    ctx = StageContext(path, probed[0].media, profile, workdir)
    tasks = plan.plan(ctx.media, profile, stages, layout(ctx.media), skip)
    try:
        pieces = [(task, execute(task, ctx, stages, progress)) for task in tasks]
    except InputUnreadable as exc:
        assemble.fail(report, tasks[0].stages[0], str(exc), probed)
        return
    assemble.assemble(report, *probed, pieces, ctx, stages, skip, index)


def layout(media: Media) -> plan.Layout:
    """One task carrying every stage; on a long video speech runs in segments after it (memory stays bounded)."""
    segment_s = server().safety.embedded_speech_segment_s
    if media.duration_s <= segment_s:
        return plan.Layout()
    return plan.Layout(segment_s=segment_s, segmented=("speech",))


def _probe(path: Path, profile: Profile, report: Report) -> tuple[ProbeResult, StageRun] | None:
    started = time.monotonic()
    try:
        result = probe(path, profile)
    except InputUnreadable as exc:
        assemble.fail(report, "probe", str(exc))
        return None
    except Exception as exc:  # noqa: BLE001 - a probe that breaks leaves nothing to check
        log.warning("probe failed", exc_info=True)
        assemble.fail(report, "probe", f"probe failed: {type(exc).__name__}: {exc}")
        return None
    return result, StageRun("ok", time.monotonic() - started)


def execute(task: plan.Task, ctx: StageContext, stages: Mapping[str, Stage],
            progress: ProgressFn | None = None) -> plan.Part:
    """The in-process executor: run one task; one that fails (no retries here) errors its stages."""
    segment = StageContext(ctx.path, ctx.media, ctx.profile, ctx.workdir, task.start_s, task.length_s)
    try:
        return plan.run_task(task, segment, stages, progress)
    except InputUnreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - isolation: the report says which stages could not run
        log.warning("task %s failed", task.key, exc_info=True)
        return plan.failed(task, f"{type(exc).__name__}: {exc}")
