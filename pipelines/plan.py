"""The job plan, queue-agnostic: which tasks a video's stages become, and how one task runs.

A task is either the signal task (ONE decode: the signal filters, with the frame
stages riding its 2 fps frame stream and the audio stages riding alongside it) or
one stage on one time segment with its own decode. `lessonqc check` runs the plan
of a `Layout()` (one signal task carrying every stage) in process; the farm
(workers/jobs.py) runs the plan of its `farm` settings through its queues. Both
merge the parts with pipelines/assemble.py.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pipelines import stages as base
from pipelines.domain import Media, StageOutput, StageRun
from pipelines.errors import InputUnreadable, LessonQCError, ModelMissing
from pipelines.frames import FrameConsumer
from pipelines.media import decode, faults
from pipelines.profile import Profile

log = logging.getLogger(__name__)
T = TypeVar("T")
ProgressFn = Callable[[str, float, float], None]  # (stage, done seconds, total seconds)

SIGNAL = "signal"
LOCAL = "local"
STAGE_PERMANENT = (ModelMissing,)  # a segment stage errors at once (no retry would help)


@dataclass(frozen=True)
class Layout:
    """How a job's stages become tasks. The default is the embedded check's: one signal task carries all.

    A stage rides the signal task unless it is `segmented` or its lane differs from the
    signal's; a lane is only a name (the farm's queue). `audio_rides` off: audio stages
    always get tasks of their own (the farm retries them on their own).
    """

    segment_s: float = 300.0
    min_tail_s: float = 30.0
    segmented: tuple[str, ...] = ()
    lanes: Mapping[str, str] = field(default_factory=dict)
    default_lane: str = LOCAL
    signal_lane: str = LOCAL
    audio_rides: bool = True

    def lane_of(self, name: str) -> str:
        return self.lanes.get(name, self.default_lane)

    def rides(self, stage: base.Stage) -> bool:
        if stage.name in self.segmented or self.lane_of(stage.name) != self.signal_lane:
            return False
        return isinstance(stage, base.FrameStage) or (self.audio_rides and isinstance(stage, base.AudioStage))


@dataclass(frozen=True)
class Task:
    """One unit of work: the signal pass (plus riding stages) or one stage on one segment."""

    key: str
    queue: str                       # its lane: the farm's queue name, "local" in process
    stages: tuple[str, ...]
    start_s: float = 0.0
    length_s: float | None = None    # None: to the end of the file

    @property
    def is_signal(self) -> bool:
        return self.stages[0] == SIGNAL

    def media_seconds(self, duration_s: float) -> float:
        return duration_s - self.start_s if self.length_s is None else self.length_s

    def to_dict(self) -> dict:
        return {"key": self.key, "queue": self.queue, "stages": list(self.stages), "start_s": self.start_s,
                "length_s": self.length_s}

    @classmethod
    def from_dict(cls, doc: dict) -> Task:
        return cls(doc["key"], doc["queue"], tuple(doc["stages"]), float(doc["start_s"]), doc.get("length_s"))


@dataclass
class Part:
    """A task's result: each stage's run, and the outputs of those that ran."""

    runs: dict[str, StageRun] = field(default_factory=dict)
    outputs: dict[str, StageOutput] = field(default_factory=dict)


def failed(task: Task, error: str) -> Part:
    """The part of a task that could not run at all: each of its stages is an error."""
    return Part({name: StageRun("error", 0.0, error) for name in task.stages})


# ---- the plan ----

def plan(media: Media, profile: Profile, stages: Mapping[str, base.Stage], layout: Layout,
         skip: Iterable[str] = ()) -> list[Task]:
    """The signal task (with the stages riding it), then every other stage, per segment when segmented."""
    skipped = set(skip)
    enabled = [s for s in stages.values() if s.name not in skipped and s.enabled(profile, media)]
    riders = [s.name for s in enabled if layout.rides(s)]
    tasks = [Task(SIGNAL, layout.signal_lane, (SIGNAL, *riders))]
    for stage in (s for s in enabled if s.name not in riders):
        tasks += _stage_tasks(stage.name, media.duration_s, layout)
    return tasks


def _stage_tasks(name: str, duration_s: float, layout: Layout) -> list[Task]:
    lane = layout.lane_of(name)
    if name not in layout.segmented:
        return [Task(f"{name}@0", lane, (name,))]
    min_tail = min(layout.min_tail_s, layout.segment_s)  # a full-length segment is never a "tail"
    cuts = segments(duration_s, layout.segment_s, min_tail) or [(0.0, duration_s)]
    last = len(cuts) - 1
    return [Task(f"{name}@{start:g}", lane, (name,), start, None if i == last else length)
            for i, (start, length) in enumerate(cuts)]


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


# ---- running one task ----

def run_task(task: Task, ctx: base.StageContext, stages: Mapping[str, base.Stage],
             progress: ProgressFn | None = None) -> Part:
    """Run one task in `ctx` (the task's segment). Bad input raises InputUnreadable; a failing
    decode or segment raises too (the farm retries, the in-process executor records errors)."""
    if task.is_signal:
        return _signal_task(task, ctx, stages, progress)
    return _segment_task(task.stages[0], ctx, stages)


def timed(name: str, runs: dict[str, StageRun], fn: Callable[[], T]) -> T | None:
    """Run one stage step; record ok/error and seconds; a stage error never crashes the task."""
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


def _signal_task(task: Task, ctx: base.StageContext, stages: Mapping[str, base.Stage],
                 progress: ProgressFn | None) -> Part:
    """The shared decode with its frame riders; the audio riders run alongside it in a thread."""
    riders = [stages[name] for name in task.stages[1:]]
    part = Part()
    consumers = _consumers([s for s in riders if isinstance(s, base.FrameStage)], ctx, part.runs)
    audio = AudioSide([s for s in riders if isinstance(s, base.AudioStage)], ctx, progress)
    audio.start()
    try:
        started = time.monotonic()
        sig = _decode(ctx, consumers, progress)
        part.runs[SIGNAL] = StageRun("ok", time.monotonic() - started)
        audio.decode_ended()
        check_truncation(sig, ctx.media)
        part.outputs[SIGNAL] = sig.output
        for name, consumer in consumers.items():
            _announce(progress, name)
            output = finish_consumer(name, consumer, sig.log, part.runs)
            if output is not None:
                part.outputs[name] = output
    except Exception:
        audio.join(part, reraise=False)  # the decode's failure is the task's (Ctrl-C does not wait)
        raise
    audio.join(part)
    return part


def _consumers(frame_stages: list[base.FrameStage], ctx: base.StageContext,
               runs: dict[str, StageRun]) -> dict[str, FrameConsumer]:
    made = {s.name: timed(s.name, runs, lambda s=s: s.consumer(ctx)) for s in frame_stages}
    return {name: consumer for name, consumer in made.items() if consumer is not None}


def _decode(ctx: base.StageContext, consumers: dict[str, FrameConsumer],
            progress: ProgressFn | None) -> faults.SignalResult:
    spec = base.shared_frame_spec(ctx.profile) if consumers else None
    report_progress = (lambda t: progress("decode", t, ctx.media.duration_s)) if progress else None
    return faults.run_signal(ctx.path, ctx.media, ctx.profile, ctx.workdir, list(consumers.values()), spec,
                             progress=report_progress)


def _announce(progress: ProgressFn | None, stage: str) -> None:
    """Tell the terminal which stage runs now (total 0: no percentage known)."""
    if progress is not None:
        progress(stage, 0.0, 0.0)


def check_truncation(sig: faults.SignalResult, media: Media) -> None:
    """A file whose header promises (much) more than could be decoded is unreadable, not a decode fault.

    The promise is the video stream's own end when known: a picture that stops before the sound
    is signal.video_short, not a truncated file.
    """
    duration_s = media.video.end_s or media.duration_s
    decoded = sig.log.decoded_s
    if decoded and decoded < duration_s * 0.95 - 1.0:
        raise InputUnreadable(f"文件不完整（截断）/ truncated: only {decoded:.1f} of {duration_s:.1f} s decodable")


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


class AudioSide:
    """Audio stages riding a signal task: a fast audio-only decode to 16 kHz, then each stage, in a
    thread that runs while the picture is decoded (CTranslate2 and ONNX release the GIL).

    The audio-only decode takes a second or two, so speech starts at once instead of after the
    whole decode; the stages see the same WAV the shared decode would have written.
    """

    def __init__(self, audio_stages: list[base.AudioStage], ctx: base.StageContext,
                 progress: ProgressFn | None = None):
        self.stages, self.ctx, self.progress = audio_stages, ctx, progress
        self.part = Part()
        self.error: BaseException | None = None
        self.spans: dict[str, tuple[float, float]] = {}
        self.decode_span = (0.0, 0.0)
        self._thread = threading.Thread(target=self._run, name="audio-stages", daemon=True)

    def start(self) -> None:
        self.decode_span = (time.monotonic(), 0.0)
        if self.stages:
            self._thread.start()

    def decode_ended(self) -> None:
        self.decode_span = (self.decode_span[0], time.monotonic())

    def _run(self) -> None:
        try:
            wav = self._extract()
            for stage in self.stages if wav is not None else ():
                started = time.monotonic()
                output = timed(stage.name, self.part.runs, lambda s=stage: s.analyse(wav, self.ctx))
                self.spans[stage.name] = (started, time.monotonic())
                if output is not None:
                    self.part.outputs[stage.name] = output
        except BaseException as exc:  # noqa: BLE001 - handed to the task's thread in join()
            self.error = exc

    def _extract(self) -> Path | None:
        wav = self.ctx.workdir / "audio-16k.wav"
        try:
            return decode.extract_audio(self.ctx.path, wav, self.ctx.start_s, self.ctx.duration_s)
        except LessonQCError as exc:
            for stage in self.stages:
                self.part.runs[stage.name] = StageRun("error", 0.0, f"no audio decoded: {exc}")
            return None

    def join(self, into: Part, reraise: bool = True) -> None:
        """Wait for the audio stages; their runs and outputs go `into` the task's part."""
        if not self.stages:
            return
        if self._thread.is_alive():
            _announce(self.progress, "/".join(s.name for s in self.stages))
        self._thread.join()
        into.runs.update(self.part.runs)
        into.outputs.update(self.part.outputs)
        self._log_overlap()
        if self.error is not None and reraise:
            raise self.error

    def _log_overlap(self) -> None:
        start, end = self.decode_span
        for name, (a, b) in self.spans.items():
            inside = max(0.0, min(b, end) - max(a, start)) if end else 0.0
            log.info("%s ran %.1f s, %.1f s of it alongside the %.1f s decode", name, b - a, inside,
                     max(0.0, end - start), extra={"overlap": {"stage": name, "stage_s": b - a, "overlap_s": inside,
                                                              "decode_s": max(0.0, end - start)}})


def _segment_task(name: str, ctx: base.StageContext, stages: Mapping[str, base.Stage]) -> Part:
    """One stage on one time segment, with its own decode; transient faults propagate."""
    started = time.monotonic()
    try:
        output = run_segment(stages[name], ctx)
    except STAGE_PERMANENT as exc:
        return Part({name: StageRun("error", time.monotonic() - started, f"{type(exc).__name__}: {exc}")})
    return Part({name: StageRun("ok", time.monotonic() - started)}, {name: output})


def run_segment(stage: base.Stage, ctx: base.StageContext) -> StageOutput:
    """Run one segmentable stage on ctx's time segment with its own decode (farm fan-out)."""
    if isinstance(stage, base.AudioStage):
        wav = decode.extract_audio(ctx.path, ctx.workdir / f"{stage.name}-{ctx.start_s:.0f}.wav", ctx.start_s,
                                   ctx.duration_s)
        return stage.analyse(wav, ctx)
    if isinstance(stage, base.FrameStage):
        consumer = stage.consumer(ctx)
        decode.stream_frames(ctx.path, stage.frame_spec(ctx.profile), (ctx.media.video.width, ctx.media.video.height),
                             [consumer], ctx.start_s, ctx.duration_s, video_stream=ctx.media.video.stream)
        return consumer.finish()
    raise LessonQCError(f"stage {stage.name} cannot run on a segment")
