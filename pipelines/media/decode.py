"""One ffmpeg decode, many consumers.

A single ffmpeg process reads the file once and feeds: the signal filters
(picture/sound faults, parsed from its log), a low-rate gray frame stream to
Python frame consumers (stdout), and a 16 kHz mono WAV for speech. Which taps
run is chosen by the caller; a segment of the file can be decoded alone.

Every tap counts time from the segment's start on the file's own timeline (zero at its
first frame or sample, as ffprobe's start): the frame stream is constant-rate from there
(a picture that starts late repeats its first frame until then), and the WAV is padded
with silence up to where the sound starts.
"""
from __future__ import annotations

import logging
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines import tools
from pipelines.errors import ToolError, ToolTimeout
from pipelines.frames import Frame, FrameConsumer, FrameSpec
from pipelines.media.limits import server

log = logging.getLogger(__name__)

# MPEG-TS/PS: at input offset 0, ffmpeg moves its time zero to the first packet of the streams a
# command reads, so a picture-only decode of a capture whose sound starts 1.5 s earlier would count
# from the picture. Any other input offset turns that off: every decode counts from the file's first
# frame or sample (ffprobe's start), at the cost of one microsecond.
SAME_ZERO = ("-itsoffset", "0.000001")

ProgressFn = Callable[[float], None]  # receives seconds of media decoded so far
LineFn = Callable[[str], None]        # receives each log line as ffmpeg writes it


@dataclass
class DecodePlan:
    """What one decode of `path` should produce."""

    path: Path
    start_s: float = 0.0
    duration_s: float | None = None
    video_chain: str | None = None      # filters ending in a sink, on the first video stream
    audio_chain: str | None = None      # filters ending in a sink, on the first audio stream
    frames: FrameSpec | None = None
    consumers: Sequence[FrameConsumer] = ()
    source_size: tuple[int, int] = (0, 0)
    wav_out: Path | None = None         # 16 kHz mono PCM for speech
    timeout_s: float = 3600.0
    progress: ProgressFn | None = None
    input_options: Sequence[str] = ()  # decoder options before -i (e.g. -skip_frame noref)
    video_stream: int | None = None     # container index of the analysed video (None: the first)
    on_line: LineFn | None = None       # incremental log parser (memory stays bounded on long videos)


@dataclass
class DecodeLog:
    """What came back: the tail of ffmpeg's log, frame count, and time spent per consumer."""

    lines: deque[str] = field(default_factory=lambda: log_tail())  # the rest go to `on_line` only
    frames: int = 0
    decoded_s: float = 0.0              # media seconds ffmpeg got through (progress out_time)
    seconds: float = 0.0
    consumer_seconds: dict[str, float] = field(default_factory=dict)
    consumer_errors: dict[str, str] = field(default_factory=dict)  # a consumer that raised is dropped
    returncode: int = 0


def log_tail() -> deque[str]:
    """An empty tail of log lines, as long as the server's `safety.log_tail_lines`."""
    return deque(maxlen=server().safety.log_tail_lines)


def build_args(plan: DecodePlan) -> list[str]:
    """ffmpeg arguments for `plan` (pure: unit-testable without ffmpeg)."""
    args = ["-hide_banner", "-nostdin", "-y", "-nostats", "-progress", "pipe:2", "-stats_period", "0.5"]
    if plan.start_s > 0:
        args += ["-ss", f"{plan.start_s:.3f}"]
    if plan.duration_s is not None:
        args += ["-t", f"{plan.duration_s:.3f}"]
    args += [*plan.input_options, *SAME_ZERO, "-i", str(plan.path)]
    graph, maps = _graph(plan)
    if graph:
        args += ["-filter_complex", ";".join(graph)]
    return args + (maps or [*_unused(plan), "-f", "null", "-"])


def _unused(plan: DecodePlan) -> list[str]:
    """Keep the null output from decoding a kind of stream no tap of `plan` reads (it would map both)."""
    no_video = plan.video_chain is None and plan.frames is None
    no_audio = plan.audio_chain is None and plan.wav_out is None
    return (["-vn"] if no_video else []) + (["-an"] if no_audio else [])


def _graph(plan: DecodePlan) -> tuple[list[str], list[str]]:
    video = "0:v:0" if plan.video_stream is None else f"0:{plan.video_stream}"
    graph = _fan_out(video, "split", [plan.video_chain, _frames_chain(plan)])
    graph += _fan_out("0:a:0", "asplit", [plan.audio_chain, _wav_chain(plan)])
    maps: list[str] = []
    if plan.frames is not None:
        maps += ["-map", "[frames]", "-fps_mode", "cfr", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    if plan.wav_out is not None:
        maps += ["-map", "[wav]", "-c:a", "pcm_s16le", str(plan.wav_out)]
    return graph, maps


def _fan_out(stream: str, split: str, chains: list[str | None]) -> list[str]:
    """Feed one input stream to each chain, through a split filter when there are several."""
    taps = [c for c in chains if c]
    if len(taps) <= 1:
        return [f"[{stream}]{c}" for c in taps]
    labels = [f"[{split}{i}]" for i in range(len(taps))]
    return [f"[{stream}]{split}={len(taps)}{''.join(labels)}"] + [label + chain for label, chain in zip(labels, taps)]


def _frames_chain(plan: DecodePlan) -> str | None:
    if plan.frames is None:
        return None
    w, h = plan.frames.size_for(*plan.source_size)
    return f"fps={plan.frames.fps},scale={w}:{h}:flags=area,format=gray[frames]"


# the 16 kHz mono speech audio, from the segment's start (silence before a late first sample)
WAV_FILTERS = "aresample=16000:first_pts=0,aformat=sample_fmts=s16:channel_layouts=mono"


def _wav_chain(plan: DecodePlan) -> str | None:
    if plan.wav_out is None:
        return None
    return f"{WAV_FILTERS}[wav]"


def run(plan: DecodePlan) -> DecodeLog:
    """Run the decode; feed frames to consumers; return the log. Raises ToolError on failure."""
    args = build_args(plan)
    started = time.monotonic()
    proc = tools.popen("ffmpeg", args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    result = DecodeLog()
    reader = threading.Thread(target=_read_stderr, args=(proc, result, plan), daemon=True)
    reader.start()
    watchdog = threading.Timer(plan.timeout_s, proc.kill)
    watchdog.start()
    try:
        _pump_frames(proc, plan, result)
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
    result.seconds = time.monotonic() - started
    result.returncode = proc.returncode
    _raise_on_failure(proc.returncode, result, args, plan, watchdog_fired=result.seconds >= plan.timeout_s)
    return result


def run_beside(main: DecodePlan, side: DecodePlan | None) -> DecodeLog:
    """Run `main` here and `side` (another decode of the same file) in a thread at the same time;
    return `main`'s log. Either one's failure raises, once both have ended."""
    if side is None:
        return run(main)
    failed: list[BaseException] = []

    def run_side() -> None:
        try:
            run(side)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread below
            failed.append(exc)

    thread = threading.Thread(target=run_side, name="side-decode", daemon=True)
    thread.start()
    try:
        result = run(main)
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return result


def _raise_on_failure(code: int, result: DecodeLog, args: list[str], plan: DecodePlan, watchdog_fired: bool) -> None:
    stderr = "\n".join(list(result.lines)[-40:])
    if watchdog_fired:
        raise ToolTimeout(f"ffmpeg decode timed out after {plan.timeout_s:.0f}s", args, stderr)
    if code != 0:
        raise ToolError(f"ffmpeg decode exited with {code}", args, stderr, code)


def _pump_frames(proc: subprocess.Popen, plan: DecodePlan, result: DecodeLog) -> None:
    if plan.frames is None:
        proc.stdout.read()
        return
    w, h = plan.frames.size_for(*plan.source_size)
    size = w * h
    if size <= 0:  # read(0) returns b"" forever: never pump an empty frame size
        raise ToolError(f"frame stream of {w}x{h} pixels cannot be read")
    spent = {c.name: 0.0 for c in plan.consumers}
    for buf in _read_ahead(proc, size, server().safety.frames_ahead):
        frame = Frame(result.frames, plan.start_s + result.frames / plan.frames.fps,
                      np.frombuffer(buf, np.uint8).reshape(h, w))
        result.frames += 1
        for consumer in [c for c in plan.consumers if c.name not in result.consumer_errors]:
            t0 = time.perf_counter()
            _feed(consumer, frame, result)
            spent[consumer.name] += time.perf_counter() - t0
    result.consumer_seconds = spent


def _read_ahead(proc: subprocess.Popen, size: int, ahead: int) -> Iterator[bytes]:
    """The frames of `proc`'s stdout, read by a thread up to `ahead` frames before the consumers:
    while a consumer reads a slide (OCR releases the GIL) ffmpeg keeps decoding instead of
    blocking on a full pipe. Memory: at most `ahead` + 2 frames."""
    frames: queue.Queue[bytes | None] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set() and len(buf := proc.stdout.read(size)) == size and _offer(frames, buf, stop):
                pass
        finally:
            _offer(frames, None, stop)  # the end: never blocks once the consumers have stopped

    reader = threading.Thread(target=read, name="frame-reader", daemon=True)
    reader.start()
    try:
        while (buf := frames.get()) is not None:
            yield buf
    finally:
        stop.set()
        reader.join(timeout=5)


def _offer(frames: queue.Queue[bytes | None], item: bytes | None, stop: threading.Event) -> bool:
    """Put `item` once there is room; False when the consumers stopped first."""
    while not stop.is_set():
        try:
            frames.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _feed(consumer: FrameConsumer, frame: Frame, result: DecodeLog) -> None:
    """One frame to one consumer; a consumer that raises is dropped, the decode and the others go on."""
    try:
        consumer.consume(frame)
    except Exception as exc:  # noqa: BLE001 - stage isolation: one broken detector must not stop the pass
        log.warning("frame consumer %s failed at %.1fs", consumer.name, frame.time_s, exc_info=True)
        result.consumer_errors[consumer.name] = f"{type(exc).__name__}: {exc} (at {frame.time_s:.1f}s)"


def _read_stderr(proc: subprocess.Popen, result: DecodeLog, plan: DecodePlan) -> None:
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        if line.startswith("out_time_us="):
            _report_progress(line, plan, result)
        elif "=" in line and " " not in line and not line.startswith("["):
            continue  # other -progress keys
        else:
            result.lines.append(line)
            if plan.on_line is not None:
                plan.on_line(line)


def _report_progress(line: str, plan: DecodePlan, result: DecodeLog) -> None:
    try:
        result.decoded_s = max(result.decoded_s, int(line.split("=", 1)[1]) / 1e6)
    except ValueError:
        return
    if plan.progress is not None:
        plan.progress(plan.start_s + result.decoded_s)


def extract_audio(path: Path, wav_out: Path, start_s: float = 0.0, duration_s: float | None = None,
                  timeout_s: float = 1800.0) -> Path:
    """Decode only the audio of `path` (or a segment) to 16 kHz mono WAV for speech.

    The same filters as the shared decode's WAV tap, so both give the same samples; with no
    picture to decode this takes seconds for a lesson (speech need not wait for the decode).
    """
    args = ["-hide_banner", "-nostdin", "-loglevel", "error"]
    if start_s > 0:
        args += ["-ss", f"{start_s:.3f}"]
    if duration_s is not None:
        args += ["-t", f"{duration_s:.3f}"]
    args += [*SAME_ZERO, "-i", str(path), "-vn", "-map", "0:a:0", "-af", WAV_FILTERS, "-c:a", "pcm_s16le", "-y", str(wav_out)]
    tools.run("ffmpeg", args, timeout=timeout_s)
    return wav_out


def stream_frames(path: Path, spec: FrameSpec, source_size: tuple[int, int], consumers: Sequence[FrameConsumer],
                  start_s: float = 0.0, duration_s: float | None = None, timeout_s: float = 3600.0,
                  progress: ProgressFn | None = None, video_stream: int | None = None) -> DecodeLog:
    """Decode only the frame stream (for one consumer stage, e.g. a farm segment)."""
    plan = DecodePlan(path=path, start_s=start_s, duration_s=duration_s, frames=spec, consumers=consumers,
                      source_size=source_size, timeout_s=timeout_s, progress=progress, video_stream=video_stream)
    return run(plan)
