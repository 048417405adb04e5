"""Test stages for the farm's fault tests (imported by workers via `--import`).

`slowtest` sleeps (LESSONQC_TEST_SLOW_S, default 4 s) so a test can SIGKILL the worker while it
runs, then reports an `info` finding (lab.test_slow), so the report shows which worker finished it.
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
        time.sleep(float(os.environ.get("LESSONQC_TEST_SLOW_S", "4")))
        return StageOutput([Finding("lab.test_slow", "info", f"slow stage done in pid {os.getpid()}", ctx.start_s, ctx.end_s)])


class AbortStage(AudioStage):
    name = "aborttest"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return os.environ.get("LESSONQC_TEST_ABORT") == "1"

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        os.abort()


register(SlowStage())
register(AbortStage())
