"""Speech tracks for the speech tests: natural Mandarin clips, espeak-ng English, silence.

Each source is decoded by ffmpeg to 16 kHz mono (the speech stage's input) and the
pieces are laid end to end in numpy, so every piece's start and end are known exactly.
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from testmedia.base import DATA, LESSON_CLIPS, ffmpeg, run
from testmedia.cache import cached

RATE = 16000
ENGLISH = ("Good morning everyone. Today we are going to talk about fractions. A fraction describes a part of "
           "a whole. If we cut a pizza into four equal pieces, each piece is one quarter of the pizza.")


@dataclass(frozen=True)
class Piece:
    """A clip in tests/data, espeak English (`english`), or silence (`silence`), for `seconds` at most."""

    source: str
    seconds: float | None = None


def track(folder: Path, name: str, pieces: list[Piece]) -> tuple[Path, list[tuple[float, float]]]:
    """The pieces end to end as a (cached) 16 kHz mono WAV, and (start_s, end_s) of each piece."""
    return cached(folder, name, lesson, list(pieces)), bounds(folder, pieces)


def lesson(out: Path, pieces: list[Piece]) -> Path:
    """Write the pieces end to end as a 16 kHz mono WAV (decoded sources cached beside it)."""
    return write(out, end_to_end([piece_samples(p, out.parent) for p in pieces])[0])


def bounds(folder: Path, pieces: list[Piece]) -> list[tuple[float, float]]:
    """(start_s, end_s) of each piece once laid end to end."""
    return end_to_end([piece_samples(p, folder) for p in pieces])[1]


def end_to_end(parts: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """16 kHz samples laid end to end, and (start_s, end_s) of each part: the one speech mixer."""
    edges = np.cumsum([0] + [part.size for part in parts]) / RATE
    return np.concatenate(parts), [(float(edges[i]), float(edges[i + 1])) for i in range(len(parts))]


def silence(seconds: float) -> np.ndarray:
    """`seconds` of 16 kHz digital silence."""
    return np.zeros(int(round(seconds * RATE)), np.int16)


def mandarin(repeat: int, gap_s: float = 0.8) -> list[Piece]:
    """The three lesson clips `repeat` times, with short pauses (about 31 s per repeat)."""
    return [p for _ in range(repeat) for c in LESSON_CLIPS for p in (Piece(c), Piece("silence", gap_s))]


def piece_samples(piece: Piece, folder: Path) -> np.ndarray:
    if piece.source == "silence":
        return silence(piece.seconds or 0)
    if piece.source == "english":
        data = samples(cached(folder, "english.wav", english_wav, ENGLISH))
    else:
        data = samples(cached(folder, f"{Path(piece.source).stem}-16k.wav", mono16k, piece.source))
    return data if piece.seconds is None else data[:int(piece.seconds * RATE)]


def english_wav(out: Path, text: str = ENGLISH) -> Path:
    """English speech from espeak-ng (voice en), 16 kHz mono."""
    raw = out.with_suffix(".espeak.wav")
    try:
        run(["espeak-ng", "-v", "en", "-s", "160", "-w", str(raw), text], timeout=60)
        ffmpeg("-i", raw, "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le", out)
    finally:
        raw.unlink(missing_ok=True)
    return out


def mono16k(out: Path, source: str) -> Path:
    """A clip of tests/data as 16 kHz mono PCM."""
    ffmpeg("-i", DATA / source, "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le", out)
    return out


def samples(path: Path) -> np.ndarray:
    """int16 samples of a 16 kHz mono WAV."""
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), np.int16)


def write(out: Path, data: np.ndarray) -> Path:
    """int16 samples as a 16 kHz mono WAV."""
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(data.astype(np.int16).tobytes())
    return out
