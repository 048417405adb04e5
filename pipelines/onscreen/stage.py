"""On-screen stage: advertising, QR codes, traditional characters, watermarks, title card.

While frames stream, the consumer cuts scenes, keeps one picture per distinct scene
(scenes.py) and their edge maps (watermark.py), and reads each distinct picture once
(OCR, codes, traditional characters) in a thread as its scene closes. In `finish` findings are made.
Segments of one video merge into the same findings a whole-video run gives.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from pipelines import stages
from pipelines.frames import Frame, FrameConsumer
from pipelines.ocr import engine as ocr_engine
from pipelines.ocr.lines import OcrLine
from pipelines.onscreen.findings import FindingMaker
from pipelines.onscreen.frame_text import FrameReader, Reading
from pipelines.profile import Profile
from pipelines.domain import Finding, Media, StageOutput
from pipelines.onscreen.scenes import Scene, SceneTracker, reading_of
from pipelines.onscreen import opening
from pipelines.onscreen.titlecard import TitleCard, heading_of, pairs, read_values
from pipelines.onscreen.titlecard import judge as judge_title
from pipelines.onscreen.watermark import EdgePersistence, Mark, consistency, temporal_median


class OnscreenConsumer(FrameConsumer):
    """Scene cutting while frames stream; all reading in `finish`."""

    name = "onscreen"

    def __init__(self, ctx: stages.StageContext):
        self.ctx = ctx
        self.cfg = ctx.profile.onscreen
        self.step_s = 1.0 / ctx.profile.frames.fps
        self.edges = EdgePersistence(self.cfg.watermark, self.cfg.slides.min_scene_s)
        eager = self.cfg.title_card.window_s if ctx.is_first_segment else 0.0
        self.tracker = SceneTracker(self.cfg.slides, ctx.profile.frames.fps, eager, self._scene_closed)
        self.last_s = ctx.start_s - self.step_s
        self.opening_until_s = eager
        self.opening: list[Frame] = []  # full-size frames of the title window, for the card
        self.ahead = ReadAhead(FrameReader(self.cfg))

    def _scene_closed(self, scene: Scene, image: np.ndarray) -> None:
        self.edges.add(image, scene.duration_s, distinct=scene.repeat_of is None)
        if scene.read:  # read now, in a thread (onnxruntime releases the GIL), while the decode goes on
            self.ahead.submit(scene.index, scene.picture)

    def consume(self, frame: Frame) -> None:
        self.tracker.add(frame)
        self.last_s = frame.time_s
        if frame.time_s < self.opening_until_s:
            self.opening.append(frame)

    def finish(self) -> StageOutput:
        self.tracker.close(min(self.ctx.end_s, self.last_s + self.step_s))
        readings = self.ahead.results()
        return Analysis(self.ctx, self.tracker, self.edges, self.opening, self.ahead.reader, readings).run()


class ReadAhead:
    """Reads each distinct scene's picture as soon as its scene closes, one at a time in a thread,
    so OCR overlaps the decode instead of following it; `results()` waits for them all."""

    def __init__(self, reader: FrameReader):
        self.reader = reader
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[int, Future[Reading]] = {}

    def submit(self, index: int, picture: Callable[[], np.ndarray]) -> None:
        self._pool = self._pool or ThreadPoolExecutor(1, thread_name_prefix="onscreen-read")
        self._pending[index] = self._pool.submit(lambda: self.reader.read(picture()))

    def results(self) -> dict[int, Reading]:
        """Every reading, once all are done (a reading that raised raises here: the stage's error)."""
        try:
            return {index: future.result() for index, future in self._pending.items()}
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)


class Analysis:
    """Reads the distinct scenes of one stream and turns them into findings."""

    def __init__(self, ctx: stages.StageContext, tracker: SceneTracker, edges: EdgePersistence,
                 opening_frames: list[Frame] = (), reader: FrameReader | None = None,
                 readings: dict[int, Reading] | None = None):
        self.ctx, self.cfg = ctx, ctx.profile.onscreen
        self.tracker, self.edges = tracker, edges
        self.opening = list(opening_frames)
        self.reader = reader or FrameReader(self.cfg)
        self.maker = FindingMaker(self.cfg, ctx.workdir, self.reader.rules)
        self.readings: dict[int, Reading] = dict(readings or {})  # scene index -> its reading (read ahead)
        self.card: dict[str, Any] | None = None  # the title card's field values and times (metrics `title_card`)

    def run(self) -> StageOutput:
        findings: list[Finding] = []
        for scene in self.tracker.scenes:
            findings += self._scene(scene)
        findings = stages.join_touching(findings)  # a slide cut into several scenes is one finding
        for finding in findings:  # a scene's picture is decoded only while thumbnails fit the budget
            if self.maker.has_room():
                self.maker.thumbnail(finding, self._picture_at(finding.evidence["frame_s"]))
        findings += self._title_card() + self._watermarks()
        return StageOutput(findings=findings, metrics=self._metrics())

    def _scene(self, scene: Scene) -> list[Finding]:
        source = reading_of(self.tracker.scenes, scene)
        if source is None:
            return []
        if source.index not in self.readings:
            self.readings[source.index] = self.reader.read(source.picture())
        return self.maker.for_scene(scene, self.readings[source.index], self.tracker.shape)

    def _picture_at(self, time_s: float) -> np.ndarray:
        scene = next(s for s in self.tracker.scenes if round(s.time_s, 2) == time_s)
        return reading_of(self.tracker.scenes, scene).picture()

    def _title_card(self) -> list[Finding]:
        """intro.title_card from the best frames of the opening window (first segment only). Each run of
        steady frames is judged alone (a card's fields come from the card, not from the next slide); the
        run showing the most fields is the card."""
        if not self.ctx.is_first_segment:
            return []
        cfg = self.cfg.title_card
        scored = opening.score(self.opening, cfg)
        card_runs = opening.runs(scored, cfg.shown_share, cfg.min_score)[:cfg.read_runs]
        judged = [self._judge_card(self._card_lines(opening.picture(run, cfg.mean_frames))) for run in card_runs]
        best = max(range(len(judged)), key=lambda i: (len(judged[i][0].present), -i), default=None)
        card, lines = judged[best] if best is not None else (judge_title([], 0.0, cfg.fields), [])
        if best is not None and lines:
            self.card = self._card_values(lines, card_runs[best])
        shown = opening.shown_s(scored, 1.0 / self.ctx.profile.frames.fps, cfg.shown_share, cfg.min_score) if lines else 0.0
        card = TitleCard(shown, card.present, card.missing)
        frame = max(card_runs[best], key=lambda s: s.score) if best is not None else None
        gray = frame.image if frame else (self.opening[0].image if self.opening else None)
        span = (self.ctx.start_s, min(cfg.window_s, self.ctx.end_s))
        finding = self.maker.title_card(card, "\n".join(line.text for line in lines), gray, span)
        return [finding] if finding else []

    def _judge_card(self, lines: list[OcrLine]) -> tuple[TitleCard, list[OcrLine]]:
        cfg = self.cfg.title_card
        texts, heading = self._card_texts(lines)
        return judge_title(texts, 0.0, cfg.fields, heading, cfg.heading_field), lines

    def _card_texts(self, lines: list[OcrLine]) -> tuple[list[str], str | None]:
        """The card's lines with its labels paired to their values, and its heading."""
        cfg = self.cfg.title_card
        texts = [line.text for line in lines] + pairs(lines, cfg.fields, cfg.pair_reach, cfg.pair_below)
        return texts, heading_of(lines, cfg.heading_ratio, cfg.fields)

    def _card_values(self, lines: list[OcrLine], run: list[opening.Scored]) -> dict[str, Any]:
        """The card's field values (compared with the submission's metadata at assembly) and its times."""
        cfg = self.cfg.title_card
        values = read_values(*self._card_texts(lines), fields_cfg=cfg.fields, heading_field=cfg.heading_field)
        step = 1.0 / self.ctx.profile.frames.fps
        return {"fields": values, "start_s": round(run[0].time_s, 3), "end_s": round(run[-1].time_s + step, 3)}

    def _card_lines(self, gray: np.ndarray) -> list[OcrLine]:
        """The lines read on the card's picture, each distinct text once."""
        seen: dict[str, OcrLine] = {}
        for line in self.reader.read_lines(gray):
            seen.setdefault(re.sub(r"\s+", "", line.text), line)
        return list(seen.values())

    def _reading(self, scene: Scene) -> Reading | None:
        source = reading_of(self.tracker.scenes, scene)
        return None if source is None else self.readings.get(source.index)

    def _watermarks(self) -> list[Finding]:
        marks = self.edges.marks(self.tracker.motion_share())
        if not marks:
            return []
        pictures = self._sample_pictures()
        marks = [m for m in marks if consistency(pictures, m.box) >= self.cfg.watermark.min_consistency
                 and not self._numbering(m, pictures)]
        span = (self.ctx.start_s, self.ctx.end_s)
        read = [(m, self._mark_text(m, pictures)) for m in marks]
        return [self.maker.watermark(m, lines, pictures[-1] if pictures else None, span)
                for m, lines in read if not self._template_part(m, lines)]

    def _template_part(self, mark: Mark, lines: list[OcrLine]) -> bool:
        """Not a watermark: the template's own text (a school footer, a slide title, lines repeated on
        slides of one template). Readable text naming no recorder, platform or advertising is that; so is
        a mark where most scenes' own readings show text. A logo without text stays (shown as info)."""
        if self.maker.known_mark("\n".join(line.text for line in lines)):
            return False
        return bool(lines) or self._slide_text_share(mark.box) >= self.cfg.watermark.slide_text_share

    def _slide_text_share(self, box: tuple[int, int, int, int]) -> float:
        """Share of the read scenes whose own lines overlap `box`."""
        readings = list(self.readings.values())
        hits = sum(1 for r in readings if any(_overlap(list(box), list(line.box)) > 0 for line in r.lines))
        return hits / max(1, len(readings))

    def _sample_pictures(self) -> list[np.ndarray]:
        read = [s for s in self.tracker.scenes if s.read]
        step = max(1, len(read) // self.cfg.watermark.median_frames)
        return [s.picture() for s in read[::step]]

    def _numbering(self, mark: Mark, pictures: list[np.ndarray]) -> bool:
        """A page number: along the mark's row, only digits change from picture to picture ("第 3 页")."""
        h = mark.box[3] - mark.box[1]
        row = (max(0, mark.box[0] - 3 * h), mark.box[1], mark.box[2] + 3 * h, mark.box[3])
        # Evenly spread, first and last included: a fixed stride can alias with a slide cycle.
        picks = sorted({round(i) for i in np.linspace(0, len(pictures) - 1, self.cfg.watermark.numbering_frames)})
        lines = [self.reader.read_row(pictures[i], row) for i in picks]
        texts = {re.sub(r"\s+", "", line.text) for line in lines if line is not None}
        return len(texts) > 1 and len({re.sub(r"\d+", "#", t) for t in texts}) == 1

    def _mark_text(self, mark: Mark, pictures: list[np.ndarray]) -> list[OcrLine]:
        if not pictures:
            return []
        region = temporal_median(pictures, mark.box, self.cfg.watermark.text_margin_px)
        return self.reader.read_region(region)

    def _metrics(self) -> dict[str, Any]:
        scenes = self.tracker.scenes
        return {"sampled_frames": self.tracker.frames, "scenes": len(scenes),
                "ocr_frames": len(self.readings),
                "repeated_scenes": sum(1 for s in scenes if s.repeat_of is not None),
                "unread_scenes": self.tracker.unread,
                "watermark_scenes": self.edges.scenes,
                **{f"{k}_s": round(v, 3) for k, v in self.reader.seconds.items()},
                **({"title_card": self.card} if self.card is not None else {})}


class OnscreenStage(stages.FrameStage):
    """The registered stage: a consumer per stream, and segment merging."""

    name = "onscreen"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return bool(profile.onscreen.enabled)

    def preflight(self, profile: Profile) -> None:
        if profile.onscreen.enabled:
            ocr_engine.preflight(profile.onscreen.ocr)

    def consumer(self, ctx: stages.StageContext) -> FrameConsumer:
        return OnscreenConsumer(ctx)

    def merge(self, parts: list[StageOutput], ctx: stages.StageContext) -> StageOutput:
        """Consecutive segments -> one output: joined findings, whole-video watermark rule, summed metrics."""
        findings = [f for p in parts for f in p.findings]
        marks = merge_watermarks([f for f in findings if f.code == "text.watermark"], ctx)
        others = stages.join_touching([f for f in findings if f.code != "text.watermark"])
        return StageOutput(findings=others + marks, metrics=merge_metrics([p.metrics for p in parts]))


def merge_watermarks(findings: list[Finding], ctx: stages.StageContext) -> list[Finding]:
    """Join watermark findings of one region across segments; keep those covering enough of the video."""
    cfg = ctx.profile.onscreen.watermark
    groups: list[Finding] = []
    for f in sorted(findings, key=lambda f: f.start_s or 0.0):
        same = next((g for g in groups if _overlap(g.evidence["box"], f.evidence["box"]) >= cfg.merge_overlap
                     and (f.start_s or 0.0) - (g.end_s or 0.0) <= 1.0), None)
        if same is None:
            groups.append(Finding(f.code, f.severity, f.message, f.start_s, f.end_s, dict(f.evidence)))
            continue
        same.end_s = max(same.end_s or 0.0, f.end_s or 0.0)
        if not same.evidence.get("text") and f.evidence.get("text"):
            same.evidence["text"], same.message = f.evidence["text"], f.message
    need = cfg.min_video_share * ctx.media.duration_s
    return [g for g in groups if (g.end_s or 0.0) - (g.start_s or 0.0) >= need]


def _overlap(a: list[int], b: list[int]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(1, smaller)


def merge_metrics(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Counters and seconds add up over segments."""
    merged: dict[str, Any] = {}
    for metrics in parts:
        for key, value in metrics.items():
            merged[key] = merged.get(key, 0) + value if isinstance(value, (int, float)) else value
    return merged


