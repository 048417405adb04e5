"""The one report assembly: the probe plus every task's part, merged per stage into a Report.

Used by the embedded check (pipelines/check.py, parts made in process) and the farm's
report step (workers/jobs.py, parts read back from the job state) alike.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipelines import selection
from pipelines import stages as base
from pipelines.domain import Finding, StageOutput, StageRun
from pipelines.media import thumbs
from pipelines.media.probe import ProbeResult
from pipelines.originality import cross, prints
from pipelines.plan import SIGNAL, Part, Task, timed
from pipelines.report.document import Report


def assemble(report: Report, result: ProbeResult, probe_run: StageRun, pieces: list[tuple[Task, Part]],
             ctx: base.StageContext, stages: Mapping[str, base.Stage], skip: Iterable[str] = (),
             index: cross.LessonIndex | None = None) -> Report:
    """Fill `report` from the probe and every task's part: segments merged per stage, in `ctx`
    (the whole video); skipped stages marked; matched against other lessons in `index` when
    given; thumbnails for timed findings."""
    add_probe(report, result, probe_run)
    by_stage: dict[str, list[tuple[StageRun, StageOutput | None]]] = {}
    for _, part in sorted(pieces, key=lambda p: p[0].start_s):
        for name, stage_run in part.runs.items():
            by_stage.setdefault(name, []).append((stage_run, part.outputs.get(name)))
    for name in sorted(by_stage, key=lambda n: n != SIGNAL):
        _add_stage(report, name, by_stage[name], ctx, stages)
    mark_skipped(report, ctx, stages, skip)
    if index is not None:
        originality(report, index, ctx.media.duration_s)
    if report.lesson is not None and not report.lesson.is_empty():
        report.findings += timed("selection", report.stages, lambda: selection.check(report.lesson, report.metrics)) or []
    cfg = ctx.profile.report
    thumbs.add_missing(report.findings, ctx.path, ctx.workdir, cfg.max_thumbnails, cfg.thumbnail_width,
                       ctx.media.video.stream)
    return report


def originality(report: Report, index: cross.LessonIndex, duration_s: float) -> None:
    """originality.* findings against the other lessons of `index` (stage `originality` in the report)."""
    def run() -> list[Finding]:
        return cross.check(report.job_id, cross.without_common(prints.from_artifacts(report.artifacts)), index,
                           duration_s)

    report.findings += timed("originality", report.stages, run) or []


def add_probe(report: Report, result: ProbeResult, probe_run: StageRun) -> None:
    report.media = result.media
    report.findings += result.findings
    report.metrics["probe"] = result.metrics
    report.stages["probe"] = probe_run


def _add_stage(report: Report, name: str, runs: list[tuple[StageRun, StageOutput | None]],
               ctx: base.StageContext, stages: Mapping[str, base.Stage]) -> None:
    """One stage's run status (errors win, seconds add up) and its merged output."""
    errors = [r.error for r, _ in runs if r.status == "error"]
    seconds = sum(r.seconds for r, _ in runs)
    report.stages[name] = StageRun("error", seconds, errors[0]) if errors else StageRun("ok", seconds)
    outputs = [o for _, o in runs if o is not None]
    if outputs:
        add_output(report, name, outputs[0] if len(runs) == 1 else stages[name].merge(outputs, ctx))


def add_output(report: Report, name: str, output: StageOutput) -> None:
    report.findings += output.findings
    report.transcript += output.transcript
    report.artifacts.update(output.artifacts)
    if output.metrics:
        report.metrics[name] = output.metrics


def mark_skipped(report: Report, ctx: base.StageContext, stages: Mapping[str, base.Stage],
                 skip: Iterable[str] = ()) -> None:
    skipped = set(skip)
    for name, stage in stages.items():
        if name not in report.stages and (name in skipped or not stage.enabled(ctx.profile, ctx.media)):
            report.stages[name] = StageRun("skipped", 0.0)


def unreadable(message: str) -> Finding:
    """The one finding of a report whose input could not be checked (verdict error)."""
    return Finding("input.unreadable", "fail", message, evidence={})


def fail(report: Report, stage: str, message: str, probe: tuple[ProbeResult, StageRun] | None = None) -> Report:
    """The report of bad input: what the probe found (if it ran), `stage` in error, input.unreadable."""
    if probe is not None:
        add_probe(report, *probe)
    report.stages[stage] = StageRun("error", 0.0, "input unreadable")
    report.findings.append(unreadable(message))
    return report
