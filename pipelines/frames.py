"""Frame consumers: pluggable detectors over one shared low-rate frame stream.

Like PySceneDetect's detectors, each consumer sees every sampled frame once
(`consume`) and turns what it kept into a StageOutput at the end (`finish`).
Consumers must stay cheap per frame (they run while ffmpeg decodes); put heavy
work (OCR, model calls) in `finish`, on the few frames they kept.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from pipelines.domain import StageOutput


@dataclass(frozen=True)
class FrameSpec:
    """How frames are sampled for consumers: rate, and a cap on height (gray, uint8)."""

    fps: float = 2.0
    max_height: int = 1080

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """Output (w, h) for a source of (width, height): even, at least 2x2, aspect kept, capped height."""
        if height <= self.max_height:
            return max(2, width - width % 2), max(2, height - height % 2)
        w = int(round(width * self.max_height / height / 2)) * 2
        return max(2, w), self.max_height


@dataclass(frozen=True)
class Frame:
    """One sampled frame: absolute time in the source and a gray (luma) image."""

    index: int
    time_s: float
    image: np.ndarray  # shape (h, w), uint8


class FrameConsumer(ABC):
    """Base of every frame-stream detector (OCR sampler, lab camera checks, ...)."""

    name: str = "consumer"

    @abstractmethod
    def consume(self, frame: Frame) -> None:
        """Look at one frame; keep only what `finish` needs."""

    @abstractmethod
    def finish(self) -> StageOutput:
        """Return findings/metrics for everything consumed."""


class StubConsumer(FrameConsumer):
    """Counts frames; used by tests and benchmarks to measure the stream itself."""

    name = "stub"

    def __init__(self) -> None:
        self.count = 0
        self.last_time = -1.0

    def consume(self, frame: Frame) -> None:
        self.count += 1
        self.last_time = frame.time_s

    def finish(self) -> StageOutput:
        return StageOutput(metrics={"frames": self.count})
