"""The embedded pre-screen: probe, then ONE shared decode feeding every stage, then the report.

Also the building blocks the farm composes (per-segment stage runs, merging, final report).
"""
from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pipelines import registry
from pipelines.media import decode
from pipelines.report import document as reports
from pipelines.media import faults
from pipelines import stages
from pipelines.media import thumbs
from pipelines import tools
from pipelines.errors import InputUnreadable, LessonQCError
from pipelines.frames import FrameConsumer
from pipelines.media.probe import ProbeResult, probe
from pipelines.profile import Profile
from pipelines.report.document import Report
from pipelines.domain import Finding, StageOutput, StageRun

log = logging.getLogger(__name__)
T = TypeVar("T")
ProgressFn = Callable[[str, float, float], None]  # (stage, done seconds, total seconds)


def preflight(profile: Profile, skip: frozenset[str] = frozenset()) -> None:
    """Fail fast, before any video, when a tool or a stage's model is missing on this machine."""
    for tool in ("ffmpeg", "ffprobe"):
        tools.which(tool)
    for name, stage in registry.all_stages().items():
        if name not in skip:
            stage.preflight(profile)


def unreadable(message: str) -> Finding:
    """The one finding of a report whose input could not be checked (verdict error)."""
    return Finding("input.unreadable", "fail", message, evidence={})


def timed(name: str, runs: dict[str, StageRun], fn: Callable[[], T]) -> T | None:
    """Run one stage; record ok/error and seconds; a stage error never crashes the check."""
    started = time.monotonic()
    try:
        value = fn()
    except InputUnreadable:
        runs[name] = StageRun("error", time.monotonic() - started, "input unreadable")
        raise
    except Exception as exc:  # noqa: BLE001 - isolation: one failing stage makes the verdict review
        log.warning("stage %s failed", name, exc_info=True)
        runs[name] = StageRun("error", time.monotonic() - started, f"{type(exc).__name__}: {exc}")
        return None
    runs[name] = StageRun("ok", time.monotonic() - started)
    return value


def check(path: Path, profile: Profile, out_dir: Path, job_id: str | None = None,
          progress: ProgressFn | None = None, source: str | None = None, skip: frozenset[str] = frozenset()) -> Report:
    """Pre-screen one video and write report.json/report.html into `out_dir`.

    `skip` names optional stages (speech, onscreen, lab) not to run; they are reported as skipped.
    """
    report = Report(job_id or reports.new_job_id(), source or str(path), profile.name)
    with tempfile.TemporaryDirectory(prefix="lessonqc-") as tmp:
        try:
            analyse(path, profile, Path(tmp), report, progress, skip)
        except InputUnreadable as exc:
            report.findings.append(unreadable(str(exc)))
        reports.write(report, out_dir)
    return report


def analyse(path: Path, profile: Profile, workdir: Path, report: Report, progress: ProgressFn | None,
            skip: frozenset[str] = frozenset()) -> None:
    """Fill `report` for `path`; raises InputUnreadable for bad input."""
    result: ProbeResult = timed("probe", report.stages, lambda: probe(path, profile))
    if result is None:
        raise InputUnreadable("probe failed: " + (report.stages["probe"].error or ""))
    report.media, report.metrics["probe"] = result.media, result.metrics
    report.findings += result.findings
    ctx = stages.StageContext(path, result.media, profile, workdir)
    frame_stages = [s for s in registry.frame_stages() if s.name not in skip and s.enabled(profile, result.media)]
    audio_stages = [s for s in registry.audio_stages() if s.name not in skip and s.enabled(profile, result.media)]
    consumers = _consumers(frame_stages, ctx, report)
    wav = workdir / "speech.wav" if audio_stages else None
    sig = timed("signal", report.stages, lambda: _signal_pass(ctx, consumers, wav, progress))
    if sig is not None:
        check_truncation(sig, result.media.duration_s)
        _add(report, "signal", sig.output)
    for stage in frame_stages:
        _announce(progress, stage.name)
        _finish_frame_stage(stage, consumers.get(stage.name), sig, report)
    for stage in audio_stages:
        _announce(progress, stage.name)
        _run_audio_stage(stage, wav, ctx, report, sig is not None)
    _mark_skipped(report, profile, result, skip)
    add_thumbnails(report, path, workdir, profile)


def _announce(progress: ProgressFn | None, stage: str) -> None:
    """Tell the terminal which stage runs now (total 0: no percentage known)."""
    if progress is not None:
        progress(stage, 0.0, 0.0)


def _consumers(frame_stages: list[stages.FrameStage], ctx: stages.StageContext, report: Report) -> dict[str, FrameConsumer]:
    made = {}
    for stage in frame_stages:
        consumer = timed(stage.name, report.stages, lambda s=stage: s.consumer(ctx))
        if consumer is not None:
            made[stage.name] = consumer
    return made


def _signal_pass(ctx: stages.StageContext, consumers: dict[str, FrameConsumer], wav: Path | None,
                 progress: ProgressFn | None) -> faults.SignalResult:
    spec = stages.shared_frame_spec(ctx.profile) if consumers else None
    report_progress = (lambda t: progress("decode", t, ctx.media.duration_s)) if progress else None
    return faults.run_signal(ctx.path, ctx.media, ctx.profile, ctx.workdir, list(consumers.values()), spec, wav,
                             report_progress)


def check_truncation(sig: faults.SignalResult, duration_s: float) -> None:
    """A file whose header promises (much) more than could be decoded is unreadable, not a decode fault."""
    decoded = sig.log.decoded_s
    if decoded and decoded < duration_s * 0.95 - 1.0:
        raise InputUnreadable(f"文件不完整（截断）/ truncated: only {decoded:.1f} of {duration_s:.1f} s decodable")


def _finish_frame_stage(stage: stages.FrameStage, consumer: FrameConsumer | None,
                        sig: faults.SignalResult | None, report: Report) -> None:
    if sig is None:
        report.stages[stage.name] = StageRun("error", 0.0, "shared decode failed")
        return
    if consumer is None:
        return  # making its consumer failed: that error is already recorded
    output = finish_consumer(stage.name, consumer, sig.log, report.stages)
    if output is not None:
        _add(report, stage.name, output)


def finish_consumer(name: str, consumer: FrameConsumer, log: decode.DecodeLog,
                    runs: dict[str, StageRun]) -> StageOutput | None:
    """A frame stage's output after the decode fed it; its run counts the streaming time too.

    A consumer that raised during the decode was dropped there: its stage is an error.
    """
    streamed = log.consumer_seconds.get(consumer.name, 0.0)
    if consumer.name in log.consumer_errors:
        runs[name] = StageRun("error", streamed, log.consumer_errors[consumer.name])
        return None
    output = timed(name, runs, consumer.finish)
    runs[name].seconds += streamed
    return output


def _run_audio_stage(stage: stages.AudioStage, wav: Path | None, ctx: stages.StageContext,
                     report: Report, decoded: bool) -> None:
    if not decoded or wav is None or not wav.exists():
        report.stages[stage.name] = StageRun("error", 0.0, "no audio decoded")
        return
    output = timed(stage.name, report.stages, lambda: stage.analyse(wav, ctx))
    if output is not None:
        _add(report, stage.name, output)


def _mark_skipped(report: Report, profile: Profile, result: ProbeResult, skip: frozenset[str]) -> None:
    for name, stage in registry.all_stages().items():
        if name not in report.stages and (name in skip or not stage.enabled(profile, result.media)):
            report.stages[name] = StageRun("skipped", 0.0)


def _add(report: Report, name: str, output: StageOutput) -> None:
    report.findings += output.findings
    report.transcript += output.transcript
    report.artifacts.update(output.artifacts)
    if output.metrics:
        report.metrics[name] = output.metrics


def add_thumbnails(report: Report, path: Path, workdir: Path, profile: Profile) -> None:
    """Thumbnails for timed findings that have none (reviewers see each problem)."""
    cfg = profile.report
    thumbs.add_missing(report.findings, path, workdir, cfg.max_thumbnails, cfg.thumbnail_width)


def run_segment(stage_name: str, path: Path, ctx: stages.StageContext) -> StageOutput:
    """Run one segmentable stage on ctx's time segment with its own decode (farm fan-out)."""
    stage = registry.all_stages()[stage_name]
    if isinstance(stage, stages.AudioStage):
        wav = decode.extract_audio(path, ctx.workdir / f"{stage_name}-{ctx.start_s:.0f}.wav", ctx.start_s, ctx.duration_s)
        return stage.analyse(wav, ctx)
    if isinstance(stage, stages.FrameStage):
        consumer = stage.consumer(ctx)
        decode.stream_frames(path, stage.frame_spec(ctx.profile), (ctx.media.video.width, ctx.media.video.height),
                             [consumer], ctx.start_s, ctx.duration_s)
        return consumer.finish()
    raise LessonQCError(f"stage {stage_name} cannot run on a segment")


def segments(duration_s: float, segment_s: float, min_tail_s: float = 30.0) -> list[tuple[float, float]]:
    """Split [0, duration) into (start, length) segments; a short tail joins the previous one."""
    cuts: list[tuple[float, float]] = []
    start = 0.0
    while start < duration_s:
        remaining = duration_s - start
        length = min(segment_s, remaining)
        if cuts and remaining < min(min_tail_s, segment_s):
            prev_start, prev_len = cuts.pop()
            cuts.append((prev_start, prev_len + length))
            break
        cuts.append((start, length))
        start += length
    return cuts
