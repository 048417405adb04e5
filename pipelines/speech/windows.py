"""Where the speech is: the 16 kHz WAV as samples, Silero VAD chunks, and the windows built from them.

Language windows are sentence-sized groups of VAD chunks (one detection each);
transcription windows are runs of language windows of one language, up to ~30 s
of speech, with the silences cut out. Times here are seconds from the WAV start.
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Chunk:
    """A stretch of speech, in samples of the WAV."""

    start: int
    end: int

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


@dataclass
class Window:
    """Consecutive speech chunks analysed together, with the language found for them."""

    chunks: list[Chunk]
    lang: str = ""
    prob: float = 0.0
    text_lang: str = ""  # language the window is transcribed in

    @property
    def start_s(self) -> float:
        return self.chunks[0].start / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.chunks[-1].end / SAMPLE_RATE

    @property
    def speech_s(self) -> float:
        return sum(c.seconds for c in self.chunks)

    def audio(self, samples: np.ndarray) -> np.ndarray:
        """The window's speech with the pauses between its chunks cut out."""
        return np.concatenate([samples[c.start:c.end] for c in self.chunks])

    def timestamp_chunks(self) -> list[dict[str, int]]:
        """Chunks in faster-whisper's form, to map times in `audio()` back to the WAV."""
        return [{"start": c.start, "end": c.end} for c in self.chunks]


def read_wav(path: Path) -> np.ndarray:
    """The WAV as float32 samples in [-1, 1] at 16 kHz mono (resampled by PyAV when it is not)."""
    with wave.open(str(path), "rb") as wav:
        plain = wav.getframerate() == SAMPLE_RATE and wav.getnchannels() == 1 and wav.getsampwidth() == 2
        data = wav.readframes(wav.getnframes()) if plain else b""
    if not plain:
        from faster_whisper.audio import decode_audio

        return decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    return np.frombuffer(data, np.int16).astype(np.float32) / 32768.0


def speech_chunks(samples: np.ndarray, vad: Any) -> list[Chunk]:
    """Silero VAD speech chunks (`vad`: the profile's speech.vad section)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if samples.size < SAMPLE_RATE // 10:
        return []
    options = VadOptions(threshold=vad.threshold, min_speech_duration_ms=vad.min_speech_duration_ms,
                         min_silence_duration_ms=vad.min_silence_duration_ms, speech_pad_ms=vad.speech_pad_ms,
                         max_speech_duration_s=vad.max_speech_s)
    return [Chunk(int(c["start"]), int(c["end"])) for c in get_speech_timestamps(samples, options)]


def language_windows(chunks: list[Chunk], min_s: float, max_s: float, join_gap_s: float) -> list[Window]:
    """Join short neighbouring chunks until a window holds `min_s` of speech (never over `max_s`)."""
    windows: list[Window] = []
    for chunk in chunks:
        last = windows[-1] if windows else None
        if last and last.speech_s < min_s and last.speech_s + chunk.seconds <= max_s \
                and (chunk.start - last.chunks[-1].end) / SAMPLE_RATE <= join_gap_s:
            last.chunks.append(chunk)
        else:
            windows.append(Window([chunk]))
    return windows


def transcription_windows(windows: list[Window], max_s: float) -> list[Window]:
    """Runs of language windows with one transcription language, up to `max_s` of speech each."""
    out: list[Window] = []
    for window in windows:
        last = out[-1] if out else None
        if last and last.text_lang == window.text_lang and last.speech_s + window.speech_s <= max_s:
            last.chunks.extend(window.chunks)
        else:
            out.append(Window(list(window.chunks), window.lang, window.prob, text_lang=window.text_lang))
    return out


def gaps(chunks: list[Chunk], total: int) -> tuple[float, float, float]:
    """(silence before the first chunk, after the last, longest between two chunks) in seconds."""
    if not chunks:
        return total / SAMPLE_RATE, total / SAMPLE_RATE, 0.0
    inner = max((b.start - a.end for a, b in zip(chunks, chunks[1:])), default=0)
    return chunks[0].start / SAMPLE_RATE, max(0, total - chunks[-1].end) / SAMPLE_RATE, max(0, inner) / SAMPLE_RATE
