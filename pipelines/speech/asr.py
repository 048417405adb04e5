"""Transcription of speech windows with faster-whisper; every lazy segment generator is consumed here.

Each window is transcribed in its own language with the silences cut out, and its
times mapped back to the WAV. Window by window, or, on a node configured with a batch
size, one BatchedInferencePipeline call per language; batched decoding has no temperature
fallback, so a window it decodes into a repetition loop is decoded again on its own, with
the fallbacks. Text goes through OpenCC t2s.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from pipelines.domain import TranscriptSegment
from pipelines.speech.windows import SAMPLE_RATE, Window

BREAKS = set("，。！？；：、,.!?;:")


@lru_cache(maxsize=1)
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC t2s); other scripts pass unchanged."""
    return _t2s().convert(text)


def transcribe(loaded: Any, samples: np.ndarray, windows: list[Window], cfg: Any) -> list[TranscriptSegment]:
    """Transcript of `windows` in WAV seconds (`loaded`: models.loader.LoadedModel; `cfg`: speech.transcribe)."""
    if loaded.batched is not None:
        segments = _batched(loaded, samples, windows, cfg)
    else:
        segments = [s for w in windows for s in _one_window(loaded.model, samples, w, cfg)]
    return sorted((s for s in segments if s.text), key=lambda s: s.start_s)


def _options(lang: str, cfg: Any) -> dict[str, Any]:
    prompts = dict(cfg.prompts)
    return {"language": lang, "beam_size": cfg.beam_size, "initial_prompt": prompts.get(lang) or None,
            "compression_ratio_threshold": cfg.compression_ratio_threshold,
            "log_prob_threshold": cfg.log_prob_threshold, "no_speech_threshold": cfg.no_speech_threshold,
            "vad_filter": False, "without_timestamps": not cfg.timestamps}


def _one_window(model: Any, samples: np.ndarray, window: Window, cfg: Any) -> list[TranscriptSegment]:
    from faster_whisper.vad import SpeechTimestampsMap

    segments, _ = model.transcribe(window.audio(samples), temperature=list(cfg.temperatures),
                                   condition_on_previous_text=False, **_options(window.text_lang, cfg))
    where = SpeechTimestampsMap(window.timestamp_chunks(), SAMPLE_RATE)
    spans = _chunk_spans(window)
    return [piece for s in segments for piece in split_by_chunks(
        _segment(s.text, where.get_original_time(s.start), where.get_original_time(s.end, is_end=True),
                 window.text_lang), spans)]


def _batched(loaded: Any, samples: np.ndarray, windows: list[Window], cfg: Any) -> list[TranscriptSegment]:
    out: list[TranscriptSegment] = []
    for lang in sorted({w.text_lang for w in windows}):
        out += _batched_language(loaded, samples, [w for w in windows if w.text_lang == lang], lang, cfg)
    return out


def _batched_language(loaded: Any, samples: np.ndarray, windows: list[Window], lang: str,
                      cfg: Any) -> list[TranscriptSegment]:
    """All windows of one language in one batched call: their cut audio laid end to end, one clip each."""
    from faster_whisper.vad import SpeechTimestampsMap

    audios = [w.audio(samples) for w in windows]
    offsets = np.cumsum([0] + [a.size for a in audios]) / SAMPLE_RATE
    clips = [{"start": float(offsets[i]), "end": float(offsets[i + 1])} for i in range(len(windows))]
    segments, _ = loaded.batched.transcribe(np.concatenate(audios), clip_timestamps=clips,
                                            batch_size=loaded.choice.batch_size,
                                            temperature=cfg.temperatures[0], **_options(lang, cfg))
    by_window: dict[int, list[Any]] = {}
    for s in segments:
        k = min(max(0, int(np.searchsorted(offsets, s.start, side="right")) - 1), len(windows) - 1)
        by_window.setdefault(k, []).append(s)
    out = []
    for k, found in sorted(by_window.items()):
        if any(s.compression_ratio > cfg.compression_ratio_threshold for s in found):
            out += _one_window(loaded.model, samples, windows[k], cfg)  # a loop ("读习《读》读习《读》..."): again
            continue
        where = SpeechTimestampsMap(windows[k].timestamp_chunks(), SAMPLE_RATE)
        for s in found:
            whole = _segment(s.text, where.get_original_time(s.start - offsets[k]),
                             where.get_original_time(s.end - offsets[k], is_end=True), lang)
            out += split_by_chunks(whole, _chunk_spans(windows[k]))
    return out


def _chunk_spans(window: Window) -> list[tuple[float, float]]:
    return [(c.start / SAMPLE_RATE, c.end / SAMPLE_RATE) for c in window.chunks]


def split_by_chunks(segment: TranscriptSegment, spans: list[tuple[float, float]]) -> list[TranscriptSegment]:
    """Split a segment that spans several VAD chunks (sentences) into one segment per chunk.

    Whisper sometimes emits one segment for a whole 30 s window. Its text is shared out
    in proportion to each chunk's speech time, each cut moved to the nearest punctuation
    (or space, for spaced scripts) within reach.
    """
    inside = [(max(a, segment.start_s), min(b, segment.end_s)) for a, b in spans
              if b > segment.start_s and a < segment.end_s]
    inside = [(a, b) for a, b in inside if b - a > 0.05]
    text = segment.text
    if len(inside) < 2 or len(text) < 2 * len(inside):
        return [segment]
    cuts = _cuts(text, [b - a for a, b in inside])
    pieces = [text[i:j].strip() for i, j in zip([0] + cuts, cuts + [len(text)])]
    return [TranscriptSegment(round(a, 3), round(b, 3), piece, segment.lang)
            for (a, b), piece in zip(inside, pieces) if piece]


def _cuts(text: str, durations: list[float]) -> list[int]:
    total = sum(durations)
    reach = max(3, int(0.3 * len(text) / len(durations)))
    breaks = [i + 1 for i, ch in enumerate(text) if ch in BREAKS]
    if not breaks and " " in text:
        breaks = [i + 1 for i, ch in enumerate(text) if ch == " "]
    cuts: list[int] = []
    elapsed = 0.0
    for seconds in durations[:-1]:
        elapsed += seconds
        ideal = round(len(text) * elapsed / total)
        near = [b for b in breaks if abs(b - ideal) <= reach and b > (cuts[-1] if cuts else 0)]
        cut = min(near, key=lambda b: abs(b - ideal)) if near else ideal
        cuts.append(max(cut, cuts[-1] if cuts else 0))
    return cuts


def _segment(text: str, start_s: float, end_s: float, lang: str) -> TranscriptSegment:
    return TranscriptSegment(round(float(start_s), 3), round(float(end_s), 3), simplified(text.strip()), lang)
