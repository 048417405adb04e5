"""Soundtracks for the benchmark lessons (48 kHz, numpy): espeak-ng Mandarin speech, synthetic
music beds, room tone (pink noise with mains hum) and digital silence."""
from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from bench.accuracy.model import Lesson, Sound

RATE = 48000
HERE = Path(__file__).resolve().parent
PENTATONIC = (0, 2, 4, 7, 9)


def soundtrack(lesson: Lesson, out: Path) -> Path:
    """Write the lesson's soundtrack as a 16-bit stereo WAV."""
    n = round(lesson.seconds * RATE)
    track = room(n, lesson.floor_db, 0) if lesson.floor_db is not None else np.zeros(n)
    for part in lesson.sounds:
        a, b = int(part.start_s * RATE), min(n, int(part.end_s * RATE))
        if part.kind == "silence":
            track[a:b] = 0.0
        else:
            track[a:b] += _part(part, b - a)
    pcm = (np.clip(track, -1.0, 1.0) * 32767).astype(np.int16)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.repeat(pcm[:, None], 2, axis=1).tobytes())
    return out


def _part(part: Sound, n: int) -> np.ndarray:
    if part.kind == "speech":
        return _fit(speech(part.text), n)
    if part.kind == "clip":
        return _fit(clip(HERE / part.text), n)
    if part.kind == "music":
        return at_level(music(n, part.seed), part.level_db)
    if part.kind == "room":
        return room(n, part.level_db, part.seed)
    raise ValueError(f"unknown sound kind {part.kind}")


def clip(path: Path) -> np.ndarray:
    """An audio file as 48 kHz mono samples (ffmpeg decodes it)."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-ac", "1",
                           "-ar", str(RATE), "-f", "s16le", "-"], capture_output=True, check=True, timeout=120)
    return np.frombuffer(proc.stdout, np.int16).astype(np.float64) / 32768


def _fit(samples: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[:min(n, samples.size)] = samples[:n]
    return out


def at_level(x: np.ndarray, level_db: float) -> np.ndarray:
    """`x` scaled to an RMS of `level_db` dBFS."""
    rms = float(np.sqrt(np.mean(x ** 2))) or 1.0
    return x * (10 ** (level_db / 20) / rms)


def speech(text: str, level_db: float = -20.0) -> np.ndarray:
    """espeak-ng Mandarin (cmn) of `text` at 48 kHz, its voiced parts at `level_db`."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "165", "-w", str(wav), text], check=True, timeout=60,
                       capture_output=True)
        with wave.open(str(wav)) as w:
            rate = w.getframerate()
            raw = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768
    t = np.arange(int(raw.size * RATE / rate)) / RATE
    x = np.interp(t, np.arange(raw.size) / rate, raw)
    voiced = x[np.abs(x) > 0.01]
    rms = float(np.sqrt(np.mean(voiced ** 2))) if voiced.size else 1.0
    return x * (10 ** (level_db / 20) / rms)


def speech_seconds(text: str) -> float:
    return speech(text).size / RATE


def music(n: int, seed: int) -> np.ndarray:
    """A melody (pentatonic notes with harmonics and decay) over a sustained chord."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    t0, base = 0, 220.0 * 2 ** (rng.integers(0, 7) / 12)
    while t0 < n:
        length = int(RATE * rng.choice([0.25, 0.375, 0.5]))
        step = PENTATONIC[rng.integers(0, 5)] + 12 * rng.integers(0, 2)
        out[t0:t0 + length] += _note(base * 2 ** (step / 12), length)[:n - t0]
        t0 += length
    t = np.arange(n) / RATE
    chord = sum(np.sin(2 * np.pi * base / 2 * r * t) for r in (1.0, 1.25, 1.5)) * 0.25
    return out + chord


def _note(freq: float, length: int) -> np.ndarray:
    t = np.arange(length) / RATE
    tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    return tone * np.exp(-3.0 * t) * np.minimum(1.0, t / 0.01)


def room(n: int, level_db: float, seed: int) -> np.ndarray:
    """Room tone: pink noise with a little 50 Hz hum, at `level_db` RMS."""
    rng = np.random.default_rng(1000 + seed)
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n)
    t = np.arange(n) / RATE
    hum = np.sin(2 * np.pi * 50 * t) * float(np.std(pink)) * 0.5
    return at_level(pink + hum, level_db)
