"""Spoken promotions and their look-alikes (speech.ad): precision and recall on a tune and a held-out part.

The corpus (speech_clips/corpus.tsv, FastSpeech2 clips committed next to it) holds spoken promotions
in varied phrasing and legitimate lines that look like them. Each line is heard in context: a
neutral lesson sentence, a short pause (one VAD chunk with the line, so the finding must find the
line inside a transcript segment), the line, a pause, another lesson sentence. The speech stage
transcribes each case once (cached under .cache/accuracy/speech, keyed by audio, model and
transcription settings); the speech.ad rules then run on the cached transcripts, so changing
config/speech_ads.yaml re-scores in a second. The split is fixed by SEED, per label.

    python -m bench.accuracy.cases_speech [--part tune|held-out|both] [--show] [--refresh]

`cases()` gives the same lines, laid out the same way, as lessons for the whole benchmark
(`python -m bench.accuracy`), each with its part fixed by this split (the one the rules were tuned on).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipelines import profile as profiles
from pipelines.domain import AudioInfo, Finding, Media, TranscriptSegment, VideoInfo
from pipelines.speech import ads as spoken_ads
from testmedia.speech import RATE, end_to_end, silence, write

if TYPE_CHECKING:
    from bench.accuracy.model import Case

CLIPS = Path(__file__).resolve().parent / "speech_clips"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "accuracy" / "speech"
SEED = 20261130
HELD_OUT_SHARE = 0.5
LEAD_GAP_S = 0.35      # under the VAD's min silence: the context sentence and the line share a chunk
TRAIL_GAP_S = 1.2
TIME_TOLERANCE_S = 0.5
CODE = "speech.ad"


@dataclass(frozen=True)
class SpeechCase:
    """One corpus line: its clip, whether it promotes (`ad`) or only looks like it (`clean`), its part."""

    name: str
    label: str
    text: str
    part: str

    @property
    def clip(self) -> Path:
        return CLIPS / f"{self.name}.flac"


@dataclass(frozen=True)
class Heard:
    """A case as the stage heard it: the transcript and where the line lies in the audio."""

    case: SpeechCase
    transcript: list[TranscriptSegment]
    start_s: float
    end_s: float


def corpus() -> list[SpeechCase]:
    """The corpus lines with their part: per label, a fixed shuffle puts HELD_OUT_SHARE in `held-out`."""
    rows = [line.split("\t") for line in (CLIPS / "corpus.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    cases: list[SpeechCase] = []
    for label in ("ad", "clean"):
        names = sorted(r[0] for r in rows if r[1] == label)
        random.Random(f"{SEED}-{label}").shuffle(names)
        held = set(names[:round(len(names) * HELD_OUT_SHARE)])
        cases += [SpeechCase(r[0], r[1], r[2], "held-out" if r[0] in held else "tune") for r in rows if r[1] == label]
    return cases


def cases() -> list[Case]:
    """The corpus as benchmark lessons: a plain slide, the line in context, speech stage only; a promotion
    must raise speech.ad over the line (sound kind `clip`: the committed FLAC files)."""
    from bench.accuracy.model import Background, Case, Expect, Lesson, Shot, Sound

    before, after = _seconds(CLIPS / "context_before.flac"), _seconds(CLIPS / "context_after.flac")
    out = []
    for case in corpus():
        start = before + LEAD_GAP_S
        end = start + _seconds(case.clip)
        total = end + TRAIL_GAP_S + after
        sounds = (Sound("clip", 0.0, before, text="speech_clips/context_before.flac"),
                  Sound("clip", start, end, text=f"speech_clips/{case.name}.flac"),
                  Sound("clip", end + TRAIL_GAP_S, total, text="speech_clips/context_after.flac"))
        expects = (Expect(CODE, round(start, 2), round(end, 2), what=case.text),) if case.label == "ad" else ()
        lesson = Lesson((Shot(round(total + 0.5, 2), Background("solid")),), sounds)
        out.append(Case(f"speech-{case.name}", "speech", lesson, expects, frozenset({"speech"}), part=case.part))
    return out


def _seconds(path: Path) -> float:
    return samples(path).size / RATE


def samples(path: Path) -> np.ndarray:
    """int16 16 kHz mono samples of an audio file."""
    from faster_whisper.audio import decode_audio

    return (np.clip(decode_audio(str(path), sampling_rate=RATE), -1.0, 1.0) * 32767).astype(np.int16)


def assemble(case: SpeechCase) -> tuple[np.ndarray, float, float]:
    """context sentence, short pause, the line, pause, context sentence; (samples, line start, line end)."""
    audio, spans = end_to_end([samples(CLIPS / "context_before.flac"), silence(LEAD_GAP_S), samples(case.clip),
                               silence(TRAIL_GAP_S), samples(CLIPS / "context_after.flac")])
    return audio, *spans[2]


def heard(case: SpeechCase, profile: profiles.Profile, refresh: bool = False) -> Heard:
    """The case transcribed by the speech stage, from the cache when the same audio and settings were heard."""
    audio, start, end = assemble(case)
    settings = json.dumps([profile.speech.model.to_dict(), profile.speech.transcribe.to_dict(),
                           profile.speech.vad.to_dict()], sort_keys=True, default=str)
    key = hashlib.sha1(audio.tobytes() + settings.encode()).hexdigest()[:16]
    cached = CACHE / f"{case.name}-{key}.json"
    if refresh or not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        segments = _transcribe(audio, profile)
        cached.write_text(json.dumps([s.__dict__ for s in segments], ensure_ascii=False), encoding="utf-8")
    segments = [TranscriptSegment(**s) for s in json.loads(cached.read_text(encoding="utf-8"))]
    return Heard(case, segments, start, end)


def _transcribe(audio: np.ndarray, profile: profiles.Profile) -> list[TranscriptSegment]:
    from pipelines.speech.stage import SpeechStage
    from pipelines.stages import StageContext

    with tempfile.TemporaryDirectory() as tmp:
        wav = write(Path(tmp) / "speech.wav", audio)
        ctx = StageContext(wav, _media(audio.size / RATE), profile, Path(tmp))
        return SpeechStage().analyse(wav, ctx).transcript


def _media(seconds: float) -> Media:
    video = VideoInfo("h264", 1920, 1080, "16:9", 25.0, False, None, "yuv420p", "progressive")
    return Media("mp4", seconds, 0, None, video, AudioInfo("aac", 48000, 2, None))


def findings(item: Heard, profile: profiles.Profile) -> list[Finding]:
    """speech.ad findings of the case with the current rules (what the stage's _finish computes)."""
    cfg = profile.speech.ads
    return spoken_ads.ad_findings(item.transcript, spoken_ads.matcher(cfg.rules_file), cfg.cooccur_s, cfg.merge_gap_s)


@dataclass
class Score:
    """Counts over one part."""

    ads: int = 0
    found: int = 0
    found_fail: int = 0
    timed: int = 0
    clean: int = 0
    false_review: int = 0
    false_fail: int = 0

    def row(self, part: str) -> str:
        alarms = self.found + self.false_review + self.false_fail
        precision = self.found / alarms if alarms else 1.0
        recall = self.found / self.ads if self.ads else 1.0
        return (f"| {CODE} | {part} | {self.ads} | {self.clean} | {precision:.3f} | {recall:.3f} | "
                f"{self.found_fail}/{self.ads} | {self.timed}/{self.found} | {self.false_review} | {self.false_fail} |")


HEADER = ("| code | part | ads | clean | precision | recall | found at fail | time ±0.5 s | "
          "false review | false fail |\n|---|---|---|---|---|---|---|---|---|---|")


def score(results: list[tuple[Heard, list[Finding]]]) -> Score:
    """Hits overlap the line; a clean case's finding anywhere is a false alarm."""
    s = Score()
    for item, found in results:
        if item.case.label == "ad":
            s.ads += 1
            hits = [f for f in found if f.start_s < item.end_s and f.end_s > item.start_s]
            s.found += bool(hits)
            s.found_fail += any(f.severity == "fail" for f in hits)
            s.timed += any(abs(f.start_s - item.start_s) <= TIME_TOLERANCE_S
                           and abs(f.end_s - item.end_s) <= TIME_TOLERANCE_S for f in hits)
        else:
            s.clean += 1
            s.false_fail += any(f.severity == "fail" for f in found)
            s.false_review += bool(found) and not any(f.severity == "fail" for f in found)
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["tune", "held-out", "both"], default="both")
    parser.add_argument("--profile", default="micro-primary")
    parser.add_argument("--show", action="store_true", help="print each case's transcript and findings")
    parser.add_argument("--refresh", action="store_true", help="transcribe again (ignore the cache)")
    args = parser.parse_args()
    profile = profiles.load(args.profile)
    parts = ["tune", "held-out"] if args.part == "both" else [args.part]
    print(HEADER)
    for part in parts:
        results = []
        for case in (c for c in corpus() if c.part == part):
            item = heard(case, profile, args.refresh)
            results.append((item, findings(item, profile)))
        print(score(results).row(part))
        if args.show:
            _show(results)


def _show(results: list[tuple[Heard, list[Finding]]]) -> None:
    for item, found in results:
        verdict = ",".join(f"{f.severity}@{f.start_s:.1f}-{f.end_s:.1f}" for f in found) or "-"
        text = " / ".join(s.text for s in item.transcript)
        print(f"  {item.case.label:5} {item.case.name:22} line {item.start_s:.1f}-{item.end_s:.1f} {verdict:24} {text}")


if __name__ == "__main__":
    main()
