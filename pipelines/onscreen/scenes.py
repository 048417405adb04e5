"""Distinct-frame selection: cut the sampled stream into scenes, keep one still frame each.

Each frame is reduced to a small gray copy and compared with the current scene's first
frame. Pixels that keep moving (a live camera inset, a clock) are learnt as "busy" and
ignored, so a slide change is a broad change of quiet pixels. A scene's representative
is its last still frame (builds and fades have settled), or its calmest one in live
video. Scenes that are too short (transitions) are not read, unless nothing was read
for `max_gap_s`; a scene that looks
like one read before (a slide shown again) reuses that reading. A scene is also cut
after `max_scene_s` (live video never cuts by itself) and at the end of the title
window, so the opening seconds get a picture of their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from pipelines.frames import Frame


@dataclass
class Scene:
    """A stretch of near-identical frames and its representative (full size, gray)."""

    index: int
    start_s: float
    end_s: float
    time_s: float                      # when the representative was sampled
    small: np.ndarray                  # reduced copy of the representative
    image: np.ndarray | None = None    # the representative itself while the scene is open
    png: bytes | None = None           # the representative, compressed (PNG or JPEG), when it is to be read
    repeat_of: int | None = None       # index of an earlier read scene showing the same picture

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def read(self) -> bool:
        return self.png is not None

    def picture(self) -> np.ndarray:
        """The representative frame (decoded from its PNG)."""
        return cv2.imdecode(np.frombuffer(self.png or b"", np.uint8), cv2.IMREAD_GRAYSCALE)


SceneHook = Callable[[Scene, np.ndarray], None]  # (closed scene, its full-size representative)


class SceneTracker:
    """Consumes frames (cheaply); `scenes` grows as scenes close. Settings: profile `onscreen.slides`."""

    def __init__(self, cfg: Any, fps: float, eager_until_s: float = 0.0, on_close: SceneHook | None = None):
        self.cfg = cfg
        self.fps = fps
        self.eager_until_s = eager_until_s  # scenes starting before this are read even when short
        self.on_close = on_close
        self.scenes: list[Scene] = []
        self.frames = 0
        self.shape: tuple[int, int] = (0, 0)   # full frame (height, width)
        self.motion: np.ndarray | None = None  # per pixel: how many frame pairs changed
        self._busy: np.ndarray | None = None    # per grid cell: recent share of frame pairs it moved in
        self._quiet: np.ndarray | None = None   # per pixel: not in or next to a busy cell
        self._prev: np.ndarray | None = None
        self._ref: np.ndarray | None = None
        self._open: Scene | None = None
        self._rep_motion = float("inf")  # motion of the open scene's representative ...
        self._rep_still = False          # ... and whether it was a still frame
        self._last_read_s = 0.0
        self._read: list[Scene] = []     # the latest read scenes (repeat candidates), at most cfg.repeat_window
        self.read_count = 0
        self.unread = 0                  # scenes past cfg.max_read_scenes, not kept for reading

    def add(self, frame: Frame) -> None:
        """Take one sampled frame."""
        small = self._reduce(frame.image)
        self.frames += 1
        self.shape = frame.image.shape
        if self._prev is None:
            self._start(frame, small)
        else:
            self._step(frame, small)
        self._prev = small

    def close(self, end_s: float) -> None:
        """Close the last scene at `end_s` (end of the stream)."""
        if self._open is not None:
            self._finish(self._open, end_s)
            self._open = None

    def quiet(self) -> np.ndarray:
        """Pixels that are not live video (True where changes count)."""
        if self._quiet is None:
            return np.ones_like(self._prev, dtype=bool)
        return self._quiet

    def compared(self) -> np.ndarray:
        """Pixels compared for stillness and repeats: the quiet ones, or all when most are live video."""
        quiet = self.quiet()
        return quiet if float(np.mean(quiet)) >= self.cfg.min_quiet_share else np.ones_like(quiet)

    def motion_share(self) -> np.ndarray:
        """Per pixel, the share of frame pairs in which it changed."""
        if self.motion is None:
            return np.zeros((1, 1), np.float32)
        return self.motion / max(1, self.frames - 1)

    def _reduce(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape
        width = min(self.cfg.width, w)
        size = (width, max(1, int(round(h * width / w))))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.int16)

    def _changed(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.abs(a - b) > self.cfg.pixel_delta

    def _step(self, frame: Frame, small: np.ndarray) -> None:
        moved = self._changed(small, self._prev)
        if self._cuts(frame.time_s, small, moved):
            self._finish(self._open, frame.time_s)
            self._start(frame, small)
        else:
            self._consider(frame, small, float(np.mean(moved & self.compared())))
        self._learn(moved)

    def _cuts(self, time_s: float, small: np.ndarray, moved: np.ndarray) -> bool:
        """A new scene: a broad change of quiet pixels, a long drift, a long scene, or the title window's end."""
        quiet = self.quiet()
        opened = self._open.start_s
        return (float(np.mean(moved & quiet)) > self.cfg.change_share
                or float(np.mean(self._changed(small, self._ref) & quiet)) > self.cfg.drift_share
                or time_s - opened >= self.cfg.max_scene_s
                or opened < self.eager_until_s <= time_s)

    def _consider(self, frame: Frame, small: np.ndarray, motion: float) -> None:
        """Make `frame` the representative: the last still frame, else the calmest so far."""
        still = motion <= self.cfg.still_share
        if still or (not self._rep_still and motion < self._rep_motion):
            self._open.image, self._open.small, self._open.time_s = frame.image, small, frame.time_s
            self._rep_motion, self._rep_still = motion, still

    def _learn(self, moved: np.ndarray) -> None:
        """Per grid cell, how often it moved lately; cells that keep moving are live video."""
        h, w = moved.shape
        grid = (max(1, w // self.cfg.cell_px), max(1, h // self.cfg.cell_px))
        cells = cv2.resize(moved.astype(np.float32), grid, interpolation=cv2.INTER_AREA) > 0
        if self._busy is None:
            self._busy = np.zeros(cells.shape, np.float32)
            self.motion = np.zeros(moved.shape, np.float32)
        self.motion += moved
        rate = max(1.0 / (self.frames - 1), 1.0 / max(1.0, self.cfg.busy_window_s * self.fps))
        self._busy += rate * (cells - self._busy)
        busy = cv2.dilate((self._busy >= self.cfg.busy_share).astype(np.uint8), np.ones((3, 3), np.uint8))
        self._quiet = cv2.resize(busy, (w, h), interpolation=cv2.INTER_NEAREST) == 0

    def _start(self, frame: Frame, small: np.ndarray) -> None:
        self._ref = small
        self._rep_motion, self._rep_still = float("inf"), False
        self._open = Scene(len(self.scenes), frame.time_s, frame.time_s, frame.time_s, small, frame.image)

    def _finish(self, scene: Scene, end_s: float) -> None:
        scene.end_s = end_s
        image, scene.image = scene.image, None
        if self._wants_reading(scene):
            scene.repeat_of = self._repeat_of(scene)
            if scene.repeat_of is None:
                self._keep(scene, image)
            self._last_read_s = end_s
        if scene.png is None:
            scene.small = _DROPPED  # only repeat candidates keep their reduced copy
        self.scenes.append(scene)
        if self.on_close is not None:
            self.on_close(scene, image)

    def _wants_reading(self, scene: Scene) -> bool:
        if scene.duration_s >= self.cfg.min_scene_s:
            return True
        if scene.start_s < self.eager_until_s and scene.duration_s >= 1.0 / self.fps:
            return True
        return scene.end_s - self._last_read_s >= self.cfg.max_gap_s

    def _keep(self, scene: Scene, image: np.ndarray) -> None:
        """Keep the picture for reading, within the per-stream budget."""
        if self.read_count >= self.cfg.max_read_scenes:
            self.unread += 1
            return
        scene.png = _compress(image)
        self.read_count += 1
        self._read.append(scene)
        if len(self._read) > self.cfg.repeat_window:
            self._read.pop(0).small = _DROPPED

    def _repeat_of(self, scene: Scene) -> int | None:
        compared = self.compared()
        for earlier in self._read:
            if earlier.small.shape == scene.small.shape:
                if float(np.mean(self._changed(earlier.small, scene.small) & compared)) <= self.cfg.repeat_share:
                    return earlier.index
        return None


_DROPPED = np.zeros((0, 0), np.int16)  # a closed scene's reduced copy once no longer compared


def _compress(image: np.ndarray, limit: int = 512 * 1024) -> bytes:
    """PNG (slides compress well, losslessly); JPEG q92 for camera pictures, whose PNG is large."""
    png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1]
    if png.size <= limit:
        return png.tobytes()
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def reading_of(scenes: list[Scene], scene: Scene) -> Scene | None:
    """The scene whose reading applies to `scene` (itself, the one it repeats, or None)."""
    if scene.read:
        return scene
    if scene.repeat_of is not None:
        return scenes[scene.repeat_of]
    return None
