"""The `lab` frame stage (实验教学 recordings): shots, camera work and a contact sheet.

The consumer rides the shared low-rate gray stream: each frame is shrunk at once to
`lab.analysis_width` and measured (camera.py); it keeps a track of numbers plus a few
tiles. `finish` (and the farm's `merge`, on joined segment tracks) run the same rules
on the whole track, so both give the same report.
"""
from __future__ import annotations

import heapq
import math
from pathlib import Path

import numpy as np

from pipelines.lab import camera
from pipelines.lab import contact_sheet
from pipelines.lab import rules
from pipelines.lab import track as tracks
from pipelines.errors import LessonQCError
from pipelines.frames import Frame, FrameConsumer
from pipelines.lab.track import Track
from pipelines.profile import Profile
from pipelines.settings.profile import Lab
from pipelines.domain import Finding, Media, StageOutput
from pipelines.lab.shots import Shot, ShotRules, find_shots, is_candidate, partition_bests
from pipelines.media import source as sources
from pipelines.stages import FrameStage, StageContext


def shot_rules(cfg: Lab) -> ShotRules:
    rules = cfg.shots
    return ShotRules(rules.min_score, rules.adaptive_ratio, rules.window, rules.min_shot_s)


class TileKeeper:
    """Keeps, while streaming, the first picture of each sheet period and the sharpest picture of each
    run between candidate cuts, for the `limit` longest runs (the earlier on ties): every tile the final
    sheet can need, and at most `limit` of them on a video that cuts every second."""

    def __init__(self, every_s: float, width: int, limit: int):
        self.every_s, self.width, self.limit = every_s, width, limit
        self.tiles: dict[int, np.ndarray] = {}
        self.periods: set[int] = set()             # first sample of each period: always kept
        self.runs: list[tuple[int, int, int]] = []  # heap of finished runs: (length, -start, best sample)
        self.best = (-1, -math.inf)
        self.start = 0
        self.period: int | None = None

    def offer(self, index: int, time_s: float, sharpness: float, new_partition: bool, image: np.ndarray) -> None:
        score = -math.inf if math.isnan(sharpness) else sharpness
        period = math.floor(time_s / self.every_s)  # as `period_firsts` computes it
        if period != self.period:
            self.period = period
            self.periods.add(index)
            self._keep(index, image)
        if new_partition:
            self._close(index)
        elif score <= self.best[1]:
            return
        else:
            self._drop(self.best[0])
        self.best = (index, score)
        self._keep(index, image)

    def _close(self, index: int) -> None:
        """The run before `index` ends: its best joins the finished runs; the shortest beyond `limit` goes."""
        if self.best[0] >= 0:
            heapq.heappush(self.runs, (index - self.start, -self.start, self.best[0]))
            if len(self.runs) > self.limit:
                self._drop(heapq.heappop(self.runs)[2])
        self.start = index

    def _drop(self, index: int) -> None:
        if index not in self.periods:
            self.tiles.pop(index, None)

    def _keep(self, index: int, image: np.ndarray) -> None:
        if index not in self.tiles:
            self.tiles[index] = camera.shrink(image, self.width)


class LabConsumer(FrameConsumer):
    """Measures every sampled frame at analysis width; cheap enough to ride the shared decode."""

    name = "lab"

    def __init__(self, ctx: StageContext, step_s: float):
        self.ctx, self.cfg = ctx, ctx.profile.lab
        self.width, self.flat_std = self.cfg.analysis_width, self.cfg.flat_std
        self.levels = camera.Levels(self.cfg.exposure.dark_level, self.cfg.exposure.bright_level)
        self.rules = shot_rules(self.cfg)
        self.track = Track(step_s)
        self.keeper = TileKeeper(self.cfg.sheet.every_s, self.cfg.sheet.tile_width, self.cfg.sheet.max_kept_tiles)
        self.prev: camera.Prepared | None = None

    def consume(self, frame: Frame) -> None:
        small = camera.shrink(frame.image, self.width)
        prepared = camera.prepare(small)
        mot = tracks.NO_MOTION if self.prev is None else camera.motion(self.prev, prepared, self.flat_std)
        pic = camera.picture(small, self.levels)
        self.keeper.offer(len(self.track), frame.time_s, pic.sharpness, is_candidate(mot.cut, self.rules), frame.image)
        self.track.append(frame.time_s, pic, mot)
        if self.track.first is None:
            self.track.first = small
        self.track.last, self.prev = small, prepared

    def finish(self) -> StageOutput:
        self.track.tiles = self.keeper.tiles
        whole = self.ctx.start_s <= 0 and self.ctx.duration_s is None
        return analyse(self.track, self.ctx, "" if whole else f"-{round(self.ctx.start_s * 1000):09d}ms")


def analyse(track: Track, ctx: StageContext, suffix: str) -> StageOutput:
    """All lab findings, metrics, the contact sheet and the saved track, from a whole track."""
    cfg = ctx.profile.lab
    width = track.first.shape[1] if track.first is not None else cfg.analysis_width
    s = rules.series(track, cfg, width)
    shots = find_shots(s.col["cut"], s.col["sharpness"], s.times, s.step_s, shot_rules(cfg))
    moving_s = rules.moving_seconds(s, shots, cfg) if len(track) else 0.0
    findings = rules.shaky(s, shots, cfg) + rules.blurry(s, cfg) + rules.exposure(s, cfg)
    findings += rules.static(s, shots, moving_s, cfg)
    needed = needed_tiles(s, cfg)
    track.tiles = {i: tile for i, tile in track.tiles.items() if i in needed}
    ctx.workdir.mkdir(parents=True, exist_ok=True)
    artifacts = {"lab_track": str(tracks.save(track, ctx.workdir / f"lab_track{suffix}.npz"))}
    if len(track):
        artifacts["contact_sheet"] = str(write_sheet(track, shots, ctx, ctx.workdir / f"lab_contact_sheet{suffix}.jpg"))
    measured = metrics(s, shots, moving_s, findings) | {"tiles_kept": len(track.tiles)}
    return StageOutput(findings, measured, artifacts=artifacts)


def period_firsts(times: np.ndarray, every_s: float) -> list[int]:
    """The first sample of each sheet period."""
    periods = np.floor(times / every_s)
    return [int(i) for i in np.flatnonzero(np.diff(periods, prepend=-1) != 0)]


def needed_tiles(s: rules.Series, cfg: Lab) -> set[int]:
    """Tiles a later join may still need: partition bests and period firsts."""
    bests = partition_bests(s.col["cut"], s.col["sharpness"], shot_rules(cfg), cfg.sheet.max_kept_tiles)
    return set(bests) | set(period_firsts(s.times, cfg.sheet.every_s))


def sheet_tiles(track: Track, shots: list[Shot], cfg: Lab) -> list[contact_sheet.Tile]:
    """One tile per shot (its sharpest sample) and one per period, at most `max_tiles` (longest shots first)."""
    periodic = period_firsts(np.asarray(track.times), cfg.sheet.every_s)
    room = max(0, cfg.sheet.max_tiles - len(periodic))
    kept = sorted(enumerate(shots, 1), key=lambda ns: ns[1].end_s - ns[1].start_s, reverse=True)[:room]
    labels = {i: contact_sheet.clock(track.times[i]) for i in periodic}
    for n, shot in kept:
        if (rep := kept_rep(track, shot)) is not None:
            labels[rep] = f"镜头 {n} · {contact_sheet.clock(shot.start_s)}–{contact_sheet.clock(shot.end_s)}"
    return [contact_sheet.Tile(track.times[i], track.tiles[i], labels[i]) for i in sorted(labels) if i in track.tiles]


def kept_rep(track: Track, shot: Shot) -> int | None:
    """The shot's representative, or (its tile not kept: a shot of many short runs past `max_kept_tiles`)
    its first kept tile."""
    if shot.rep in track.tiles:
        return shot.rep
    return next((i for i in sorted(track.tiles) if shot.first <= i < shot.end), None)


def write_sheet(track: Track, shots: list[Shot], ctx: StageContext, path: Path) -> Path:
    sheet = ctx.profile.lab.sheet
    title = (f"{sources.name_of(ctx.path)} · {len(shots)} 个镜头 / shots · "
             f"{contact_sheet.clock(track.start_s)}–{contact_sheet.clock(track.end_s)}")
    return contact_sheet.write(sheet_tiles(track, shots, ctx.profile.lab), path, title, sheet.columns,
                               sheet.tile_width, sheet.jpeg_quality)


def _median(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return round(float(np.median(values)), 3) if values.size else None


def metrics(s: rules.Series, shots: list[Shot], moving_s: float, findings: list[Finding]) -> dict:
    """What the report shows about the recording as a whole."""
    return {
        "samples": int(len(s.times)),
        "shot_count": len(shots),
        "shots": [{"start_s": sh.start_s, "end_s": sh.end_s, "rep_s": round(sh.rep_s, 3)} for sh in shots],
        "moving_s": round(moving_s, 1),
        "sharpness_median": _median(np.where(s.detailed, s.col["sharpness"], np.nan)),
        "mean_luma_median": _median(s.col["mean"]),
        "static": any(f.code == "lab.static" for f in findings),
    }


class LabStage(FrameStage):
    """Camera-work checks for lab recordings, on when the profile sets `lab.enabled`."""

    name = "lab"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return bool(profile.lab.enabled)

    def consumer(self, ctx: StageContext) -> LabConsumer:
        return LabConsumer(ctx, 1.0 / self.frame_spec(ctx.profile).fps)

    def merge(self, parts: list[StageOutput], ctx: StageContext) -> StageOutput:
        """Join the segments' tracks and run the rules once over the whole recording."""
        paths = [Path(p.artifacts["lab_track"]) for p in parts if "lab_track" in p.artifacts]
        if not paths:
            raise LessonQCError("lab merge: no segment track to join")
        track = tracks.join([tracks.load(p) for p in paths], ctx.profile.lab.flat_std)
        return analyse(track, ctx, "")


