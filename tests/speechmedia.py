"""Speech test audio, built at test time: natural Mandarin clips, espeak-ng English, silence.

Each source is decoded by ffmpeg to 16 kHz mono (the speech stage's input) and the
pieces are laid end to end in numpy, so every piece's start and end are known exactly.
"""
from __future__ import annotations

import hashlib
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.mediagen import DATA, ffmpeg

RATE = 16000
ENGLISH = ("Good morning everyone. Today we are going to talk about fractions. A fraction describes a part of "
           "a whole. If we cut a pizza into four equal pieces, each piece is one quarter of the pizza.")


@dataclass(frozen=True)
class Piece:
    """A clip in tests/data, espeak English (`english`), or silence (`silence`), for `seconds` at most."""

    source: str
    seconds: float | None = None


def english_wav(out: Path, text: str = ENGLISH) -> Path:
    """English speech from espeak-ng (voice en), 16 kHz mono."""
    if not out.exists():
        raw = out.with_suffix(".espeak.wav")
        subprocess.run(["espeak-ng", "-v", "en", "-s", "160", "-w", str(raw), text], check=True, timeout=60)
        ffmpeg("-i", raw, "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le", out)
    return out


def samples(path: Path) -> np.ndarray:
    """int16 samples of a 16 kHz mono WAV."""
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), np.int16)


def piece_samples(piece: Piece, cache: Path) -> np.ndarray:
    if piece.source == "silence":
        return np.zeros(int(round((piece.seconds or 0) * RATE)), np.int16)
    if piece.source == "english":
        data = samples(english_wav(cache / f"english-{hashlib.sha1(ENGLISH.encode()).hexdigest()[:8]}.wav"))
    else:
        out = cache / f"{Path(piece.source).stem}-16k.wav"
        if not out.exists():
            ffmpeg("-i", DATA / piece.source, "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le", out)
        data = samples(out)
    return data if piece.seconds is None else data[:int(piece.seconds * RATE)]


def write(out: Path, data: np.ndarray) -> Path:
    """int16 samples as a 16 kHz mono WAV."""
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(data.astype(np.int16).tobytes())
    return out


def lesson(out: Path, pieces: list[Piece], cache: Path) -> list[tuple[float, float]]:
    """Write the pieces end to end as a 16 kHz mono WAV; (start_s, end_s) of each piece."""
    arrays = [piece_samples(p, cache) for p in pieces]
    bounds = np.cumsum([0] + [a.size for a in arrays]) / RATE
    write(out, np.concatenate(arrays))
    return [(float(bounds[i]), float(bounds[i + 1])) for i in range(len(arrays))]


def mandarin(repeat: int, gap_s: float = 0.8) -> list[Piece]:
    """The three lesson clips `repeat` times, with short pauses (about 31 s per repeat)."""
    clips = ["zh_lesson_fraction_1.flac", "zh_lesson_fraction_2.flac", "zh_lesson_fraction_3.flac"]
    return [p for _ in range(repeat) for c in clips for p in (Piece(c), Piece("silence", gap_s))]
