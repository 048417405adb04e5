"""Analysis stages as pluggable classes (the registry is `pipelines.registry`).

Two families, both plain Python (no queues):
- FrameStage: attaches a FrameConsumer to a frame stream (the shared decode in
  `lessonqc check`, or a per-segment decode in the farm).
- AudioStage: analyses a 16 kHz mono WAV (the shared decode's WAV, or a segment's).
Each stage can `merge` the outputs of consecutive time segments into one, so the
farm's fan-out gives the same report as the embedded check.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from pipelines.frames import FrameConsumer, FrameSpec
from pipelines.profile import Profile
from pipelines.domain import Finding, Media, StageOutput


@dataclass
class StageContext:
    """Everything a stage needs to know about the job it runs in."""

    path: Path
    media: Media
    profile: Profile
    workdir: Path
    start_s: float = 0.0
    duration_s: float | None = None  # None: to the end of the file

    @property
    def end_s(self) -> float:
        return self.media.duration_s if self.duration_s is None else min(self.media.duration_s, self.start_s + self.duration_s)

    @property
    def is_first_segment(self) -> bool:
        return self.start_s <= 0.0


class Stage(ABC):
    """Common part: a name, whether a profile runs it, and how segment outputs merge."""

    name: str = "stage"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return True

    def preflight(self, profile: Profile) -> None:
        """Raise (ModelMissing, ToolMissing) when this machine cannot run the stage at all."""

    def merge(self, parts: list[StageOutput], ctx: StageContext) -> StageOutput:
        """Default: concatenate, then join same-code findings that touch across a boundary."""
        out = StageOutput()
        for part in parts:
            out.findings += part.findings
            out.transcript += part.transcript
            out.artifacts.update(part.artifacts)
            for key, value in part.metrics.items():
                out.metrics.setdefault(key, value)
        out.findings = join_touching(out.findings)
        return out


class FrameStage(Stage):
    """A stage fed by the frame stream."""

    def frame_spec(self, profile: Profile) -> FrameSpec:
        return shared_frame_spec(profile)

    @abstractmethod
    def consumer(self, ctx: StageContext) -> FrameConsumer:
        """A fresh consumer for one stream (one video or one segment)."""


def shared_frame_spec(profile: Profile) -> FrameSpec:
    """The frame stream every frame stage shares in the embedded check (profile `frames`)."""
    return FrameSpec(fps=profile.frames.fps, max_height=profile.frames.max_height)


class AudioStage(Stage):
    """A stage fed by 16 kHz mono audio."""

    def enabled(self, profile: Profile, media: Media) -> bool:
        return media.audio is not None

    @abstractmethod
    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        """Analyse `wav`, whose time 0 is `ctx.start_s` in the source; return absolute times."""


def join_touching(findings: list[Finding], gap_s: float = 1.0) -> list[Finding]:
    """Join findings of the same code and key evidence whose time ranges touch (segment seams)."""
    joined: list[Finding] = []
    timed = sorted((f for f in findings if f.start_s is not None), key=lambda f: (f.code, f.start_s))
    for f in timed:
        prev = joined[-1] if joined else None
        if prev and prev.code == f.code and prev.evidence.get("key") == f.evidence.get("key") \
                and prev.end_s is not None and f.start_s - prev.end_s <= gap_s:
            prev.end_s = max(prev.end_s, f.end_s if f.end_s is not None else f.start_s)
            continue
        joined.append(Finding(f.code, f.severity, f.message, f.start_s, f.end_s, dict(f.evidence)))
    return [f for f in findings if f.start_s is None] + sorted(joined, key=lambda f: f.start_s)
