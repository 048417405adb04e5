"""Test stages for the farm's fault tests (imported by workers via `--import`).

`slowtest` sleeps (LESSONQC_TEST_SLOW_S, default 4 s) so a test can SIGKILL the worker while it
runs, then reports an `info` finding (lab.test_slow), so the report shows which worker finished it. With LESSONQC_TEST_MARKS set (a folder), it also
appends `start|end <job id> <pid> <time>` to `<folder>/<LESSONQC_TEST_HOST>.log`: which host ran it when.
`aborttest` (only with LESSONQC_TEST_ABORT=1) calls os.abort(): a native crash in a stage.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from pipelines.domain import Finding, Media, StageOutput
from pipelines.profile import Profile
from pipelines.registry import register
from pipelines.stages import AudioStage, StageContext


class SlowStage(AudioStage):
    name = "slowtest"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return True

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        _mark("start", ctx)
        time.sleep(float(os.environ.get("LESSONQC_TEST_SLOW_S", "4")))
        _mark("end", ctx)
        return StageOutput([Finding("lab.test_slow", "info", f"slow stage done in pid {os.getpid()}", ctx.start_s, ctx.end_s)])


def _mark(event: str, ctx: StageContext) -> None:
    folder = os.environ.get("LESSONQC_TEST_MARKS")
    if not folder:
        return
    parts = ctx.workdir.parts
    job = parts[parts.index(".work") + 1] if ".work" in parts else "?"
    with open(Path(folder) / f"{os.environ.get('LESSONQC_TEST_HOST', 'local')}.log", "a", encoding="utf-8") as out:
        out.write(f"{event} {job} {os.getpid()} {time.time():.3f}\n")


class AbortStage(AudioStage):
    name = "aborttest"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return os.environ.get("LESSONQC_TEST_ABORT") == "1"

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        os.abort()


register(SlowStage())
register(AbortStage())
