"""The lab track: per-sample camera measurements of one stream, the tiles kept for the contact
sheet, and the edge frames that let consecutive segments be joined exactly.

Lab findings are a pure function of a track, so the farm's segments give the report of a
whole-video run: `join` glues segment tracks (recomputing the one step across each seam)
and the rules run once on the result. Tracks travel between workers as .npz files.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines.lab import camera

PICTURE_FIELDS = ("sharpness", "dark", "bright", "mean", "std", "midtone")
MOTION_FIELDS = ("dx", "dy", "zoom", "response", "misfit", "cut")
NO_MOTION = camera.Motion(*(math.nan,) * len(MOTION_FIELDS))


@dataclass
class Track:
    """Measures of consecutive samples `step_s` apart; motion of sample i is from sample i-1."""

    step_s: float
    times: list[float] = field(default_factory=list)
    columns: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in PICTURE_FIELDS + MOTION_FIELDS})
    tiles: dict[int, np.ndarray] = field(default_factory=dict)  # sample index -> small gray picture
    first: np.ndarray | None = None  # analysed frame of the first and last samples (uint8)
    last: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.times)

    def append(self, time_s: float, pic: camera.Picture, mot: camera.Motion) -> None:
        self.times.append(time_s)
        for name in PICTURE_FIELDS:
            self.columns[name].append(getattr(pic, name))
        for name in MOTION_FIELDS:
            self.columns[name].append(getattr(mot, name))

    def array(self, name: str) -> np.ndarray:
        return np.asarray(self.columns[name], dtype=np.float64)

    @property
    def start_s(self) -> float:
        return self.times[0] if self.times else 0.0

    @property
    def end_s(self) -> float:
        return self.times[-1] + self.step_s if self.times else 0.0


def join(tracks: list[Track], flat_std: float) -> Track:
    """Consecutive tracks as one: the motion across each seam is measured from the edge frames."""
    tracks = sorted((t for t in tracks if len(t)), key=lambda t: t.start_s)
    out = Track(tracks[0].step_s if tracks else 1.0)
    for track in tracks:
        seam = _seam(out, track, flat_std)
        offset = len(out)
        out.times += track.times
        for name, values in track.columns.items():
            out.columns[name] += values
        for name in MOTION_FIELDS:
            out.columns[name][offset] = getattr(seam, name)
        out.tiles.update({offset + i: tile for i, tile in track.tiles.items()})
        out.first = out.first if out.first is not None else track.first
        out.last = track.last
    return out


def _seam(before: Track, after: Track, flat_std: float) -> camera.Motion:
    if before.last is None or after.first is None:
        return NO_MOTION
    return camera.motion(camera.prepare(before.last), camera.prepare(after.first), flat_std)


def save(track: Track, path: Path) -> Path:
    """Write `track` as a compressed .npz (plain arrays, no pickles)."""
    arrays = {f"c_{k}": track.array(k) for k in track.columns}
    arrays.update({f"tile_{i}": tile for i, tile in track.tiles.items()})
    for name in ("first", "last"):
        if getattr(track, name) is not None:
            arrays[name] = getattr(track, name)
    np.savez_compressed(path, step_s=np.float64(track.step_s), times=np.asarray(track.times), **arrays)
    return path


def load(path: Path) -> Track:
    """Read a track written by `save`."""
    with np.load(path, allow_pickle=False) as data:
        track = Track(float(data["step_s"]), [float(t) for t in data["times"]])
        for key in data.files:
            if key.startswith("c_"):
                track.columns[key[2:]] = [float(v) for v in data[key]]
            elif key.startswith("tile_"):
                track.tiles[int(key[5:])] = data[key]
        track.first = data["first"] if "first" in data.files else None
        track.last = data["last"] if "last" in data.files else None
    return track
