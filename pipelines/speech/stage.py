"""The speech stage: spoken language by time range, transcript, low speech, spoken promotion.

analyse(): VAD -> sentence-sized language windows -> one detection each ->
windows of one language transcribed (silences cut) -> a tally of additive
measurements. merge(): tallies and transcripts of consecutive segments added up.
Both end in `_finish`, which decides every finding from the whole, so a farm's
segments give the report of one run.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models import errors as model_errors
from models import loader
from pipelines.errors import ModelMissing

from pipelines.speech import asr as speech_asr
from pipelines.speech import language as speech_lang
from pipelines.speech import measures
from pipelines.speech import windows as speech_windows
from pipelines.speech import ads as spoken_ads
from pipelines.speech import subtitles
from pipelines.profile import Profile
from pipelines.domain import Media, StageOutput, TranscriptSegment
from pipelines.speech.measures import TALLY_KEY, SpeechTally
from pipelines.stages import AudioStage, StageContext


def _load(config: dict) -> "loader.LoadedModel":
    """The model, loaded once per process; a missing one raises LessonQC's ModelMissing."""
    try:
        return loader.load(config)
    except model_errors.ModelError as err:
        raise ModelMissing.wrap(err) from err


def preload(profile: Profile) -> None:
    """Load the profile's model now (a worker's boot hook), so the first job does not pay for it."""
    _load(profile.speech.model.to_dict())


class SpeechStage(AudioStage):
    """faster-whisper on the 16 kHz mono decode."""

    name = "speech"

    def enabled(self, profile: Profile, media: Media) -> bool:
        return super().enabled(profile, media) and bool(profile.speech.enabled)

    def preflight(self, profile: Profile) -> None:
        if profile.speech.enabled:
            try:
                loader.choose(profile.speech.model.to_dict())
            except model_errors.ModelError as err:  # says how to install it
                raise ModelMissing.wrap(err) from err

    def analyse(self, wav: Path, ctx: StageContext) -> StageOutput:
        started = time.perf_counter()
        loaded = _load(ctx.profile.speech.model.to_dict())
        samples = speech_windows.read_wav(wav)
        phases: dict[str, float] = {}
        windows, transcript = _listen(loaded, samples, ctx.profile, phases)
        tally = _tally(ctx, samples, windows, loaded)
        tally.phase_s = phases
        tally.stage_s = time.perf_counter() - started
        part = StageOutput(metrics={TALLY_KEY: tally.to_dict()}, transcript=[s.shifted(ctx.start_s) for s in transcript])
        whole = ctx.start_s <= 0 and ctx.duration_s is None
        return _finish([part], ctx, write_subtitles=whole)

    def merge(self, parts: list[StageOutput], ctx: StageContext) -> StageOutput:
        return _finish(parts, ctx, write_subtitles=True)


def _listen(loaded: Any, samples: Any, profile: Profile,
            phases: dict[str, float]) -> tuple[list[speech_windows.Window], list[TranscriptSegment]]:
    """Language windows (detected) and the transcript, in WAV seconds; seconds per phase into `phases`."""
    cfg, lang_cfg = profile.speech, profile.speech.language
    with _timed(phases, "vad"):
        chunks = speech_windows.speech_chunks(samples, cfg.vad)
        windows = speech_windows.language_windows(chunks, lang_cfg.window_min_s, lang_cfg.window_max_s,
                                                  lang_cfg.join_gap_s)
    with _timed(phases, "language"):
        speech_lang.detect(loaded.model, samples, windows, lang_cfg.encoder_min_s, lang_cfg.batch)
    allowed = list(profile.languages.speech)
    for window in windows:
        window.text_lang = speech_lang.text_language(window, allowed, lang_cfg.fail_probability)
    with _timed(phases, "transcribe"):
        to_read = speech_windows.transcription_windows(windows, cfg.transcribe.window_s)
        transcript = speech_asr.transcribe(loaded, samples, to_read, cfg.transcribe)
    return windows, transcript


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started


def _tally(ctx: StageContext, samples: Any, windows: list[speech_windows.Window], loaded: Any) -> SpeechTally:
    chunks = [c for w in windows for c in w.chunks]
    lead, trail, inner = speech_windows.gaps(chunks, samples.size)
    tally = SpeechTally(ctx.start_s, ctx.start_s + samples.size / speech_windows.SAMPLE_RATE,
                        speech_s=sum(c.seconds for c in chunks), lead_gap_s=lead, trail_gap_s=trail,
                        inner_gap_s=inner, windows=len(windows), model=loaded.choice.name,
                        device=f"{loaded.choice.device}/{loaded.choice.compute_type}")
    for window in windows:
        tally.language_s[window.lang] = tally.language_s.get(window.lang, 0.0) + window.speech_s
    allowed = list(ctx.profile.languages.speech)
    tally.flagged = [f.to_dict() for f in speech_lang.flagged(windows, allowed, ctx.start_s)]
    return tally


def _finish(parts: list[StageOutput], ctx: StageContext, write_subtitles: bool) -> StageOutput:
    """Findings, metrics and subtitles of the whole, from the parts' tallies and transcripts."""
    cfg = ctx.profile.speech
    tally = measures.combine([SpeechTally.from_dict(p.metrics[TALLY_KEY]) for p in parts])
    transcript = sorted((s for p in parts for s in p.transcript), key=lambda s: s.start_s)
    out = StageOutput(metrics=measures.metrics(tally, transcript), transcript=transcript)
    out.metrics[TALLY_KEY] = tally.to_dict()
    flagged = [speech_lang.Flagged(**f) for f in tally.flagged]
    out.findings += speech_lang.findings(flagged, cfg.language)
    low = measures.low_speech(out.metrics["speech_ratio"], cfg.low_speech)
    out.findings += [low] if low else []
    cues = spoken_ads.matcher(cfg.ads.rules_file)
    out.findings += spoken_ads.ad_findings(transcript, cues, cfg.ads.cooccur_s, cfg.ads.merge_gap_s)
    if write_subtitles and cfg.subtitles:
        out.artifacts.update(subtitles.write(transcript, ctx.workdir))
    return out


