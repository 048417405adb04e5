"""Speech stage real-time factor on the 15-minute benchmark lesson (CPU int8 unless configured otherwise).

RTF = stage seconds / audio seconds, model already loaded (workers load it at boot);
the 16 kHz decode is not counted (the shared decode writes that WAV). Also prints the
share of audio VAD skipped, the seconds per phase and the process CPU time, because
wall time on a busy 2-core machine says as much about the neighbours as about us.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.bench_check import lesson15
from models import loader
from pipelines.media import decode
from pipelines import profile as profiles
from pipelines.domain import AudioInfo, Media, StageOutput, VideoInfo
from pipelines.speech.stage import SpeechStage
from pipelines.stages import StageContext

TARGET_RTF = 0.12


def audio_media(seconds: float) -> Media:
    """Media for the stage context; the speech stage only reads the duration."""
    video = VideoInfo("h264", 1920, 1080, "16:9", 25.0, False, None, "yuv420p", "progressive")
    return Media("mp4", seconds, 0, None, video, AudioInfo("aac", 48000, 2, None))


def run_once(wav: Path, seconds: float, profile: profiles.Profile, work: Path) -> tuple[float, float, StageOutput]:
    """(wall seconds, CPU seconds, stage output) of one analyse() call."""
    ctx = StageContext(wav, audio_media(seconds), profile, work)
    wall, cpu = time.perf_counter(), time.process_time()
    out = SpeechStage().analyse(wav, ctx)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("media", nargs="?", type=Path, help="video or audio (default: .cache/bench/lesson15.mp4)")
    parser.add_argument("--profile", default="micro-primary")
    parser.add_argument("--repeat", type=int, default=1, help="runs (the fastest is reported)")
    args = parser.parse_args()
    path = args.media or lesson15()
    profile = profiles.load(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        wav = decode.extract_audio(path, Path(tmp) / "speech.wav")
        seconds = os.path.getsize(wav) / 32000.0
        started = time.perf_counter()
        choice = loader.load(profile.speech.model.to_dict()).choice
        load_s = time.perf_counter() - started
        runs = [run_once(wav, seconds, profile, Path(tmp)) for _ in range(args.repeat)]
    wall, cpu, out = min(runs, key=lambda r: r[0])
    report(path, seconds, choice, load_s, wall, cpu, out)


def report(path: Path, seconds: float, choice: loader.ModelChoice, load_s: float, wall: float, cpu: float,
           out: StageOutput) -> None:
    metrics = out.metrics
    print(f"file: {path.name}  audio {seconds:.0f} s  model {choice.name} on {choice.device}/{choice.compute_type}"
          f" ({choice.threads} threads), loaded in {load_s:.1f} s")
    phases = "  ".join(f"{k} {v:.1f} s" for k, v in metrics["phase_s"].items())
    print(f"stage {wall:.1f} s  ({phases})  cpu {cpu:.1f} s  load average {os.getloadavg()[0]:.1f}")
    verdict = "ok" if wall / seconds <= TARGET_RTF else "over target"
    print(f"RTF {wall / seconds:.3f}  (target <= {TARGET_RTF}: {verdict})  cpu-seconds per audio second {cpu / seconds:.3f}")
    print(f"VAD skipped {metrics['vad_skipped_share']:.1%} of the audio; speech ratio {metrics['speech_ratio']:.1%}, "
          f"{metrics['windows']} language windows, languages {metrics['language_shares']}, "
          f"{metrics['chars_per_minute']:.0f} chars per speech minute")
    found = [f"{f.code}/{f.severity} {f.start_s}-{f.end_s}" for f in out.findings]
    print(f"findings: {', '.join(found) or 'none'}; transcript {len(out.transcript)} segments")


if __name__ == "__main__":
    main()
