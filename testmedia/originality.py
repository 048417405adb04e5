"""Lessons for the originality tests: distinct footage, copies of it under transformations, look-alikes.

`footage` is a lesson of its own (panned 1/f-texture shots and a melody, both from `seed`);
`derived` cuts pieces out of lessons, transforms them (scale, crop, letterbox, brightness,
mirror, sound level) and joins them, encoded at a given bit rate; `template_slides` are slides
that share one template; `voiced` puts the recorded Mandarin clips of tests/data under footage.
"""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from testmedia.base import DATA, SANS, ffmpeg
from testmedia.lab import pink_noise

RATE = 22050
SHOT_S = 5.0
FAST = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50")


def melody(out: Path, seed: int, seconds: float) -> Path:
    """A mono WAV of random notes with harmonics (what Chromaprint fingerprints well)."""
    rng = np.random.default_rng(seed)
    samples: list[np.ndarray] = []
    total = 0.0
    while total < seconds:
        dur = float(rng.choice([0.25, 0.375, 0.5]))
        freq = 220.0 * 2 ** (int(rng.integers(0, 24)) / 12)
        t = np.arange(int(dur * RATE)) / RATE
        tone = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3)) * np.minimum(1, (dur - t) * 40)
        samples.append(tone)
        total += dur
    audio = np.concatenate(samples)[:int(seconds * RATE)]
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((audio / np.abs(audio).max() * 0.5 * 32767).astype("<i2").tobytes())
    return out


def _shot(folder: Path, seed: int, size: tuple[int, int]) -> Path:
    w, h = size
    rng = np.random.default_rng(seed)
    img = pink_noise(w + 160, h + 90, seed)[..., None] * rng.uniform(90, 200, 3) + rng.uniform(10, 50, 3)
    path = folder / f"shot-{seed}.png"
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(path)
    return path


def footage(out: Path, seed: int, seconds: float, size: tuple[int, int] = (640, 360)) -> Path:
    """A lesson of shots (a 1/f texture panned across, a new one every 5 s) over a melody."""
    folder = out.parent / f".{out.stem}-parts"
    folder.mkdir(exist_ok=True)
    shots = [_shot(folder, seed * 1000 + i, size) for i in range(int(np.ceil(seconds / SHOT_S)))]
    wav = melody(folder / "melody.wav", seed, seconds)
    inputs = [a for s in shots for a in ("-loop", "1", "-framerate", "25", "-t", f"{SHOT_S}", "-i", str(s))]
    w, h = size
    pans = ";".join(f"[{i}:v]crop={w}:{h}:x='t*{24 + 6 * (i % 3)}':y='t*{10 + 4 * (i % 2)}',setsar=1[v{i}]"
                    for i in range(len(shots)))
    graph = f"{pans};{''.join(f'[v{i}]' for i in range(len(shots)))}concat=n={len(shots)}:v=1:a=0[v]"
    ffmpeg(*inputs, "-i", wav, "-filter_complex", graph, "-map", "[v]", "-map", f"{len(shots)}:a", "-t", f"{seconds}",
           *FAST, "-crf", "20", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", out)
    return out


@dataclass(frozen=True)
class Part:
    """A piece of a source lesson (seconds), its picture filters and its sound gain."""

    src: Path
    start_s: float
    end_s: float
    video: str = ""        # extra filters on the piece, e.g. "hflip"
    volume: float = 1.0
    sound_from: Path | None = None  # the sound from this lesson instead (same times)


def derived(out: Path, parts: tuple[Part, ...], size: tuple[int, int] = (640, 360), bitrate: str = "2M") -> Path:
    """The pieces joined at `size`, encoded at `bitrate` (re-encoding every one of them)."""
    w, h = size
    inputs: list[str] = []
    chains: list[str] = []
    for i, p in enumerate(parts):
        inputs += ["-ss", f"{p.start_s}", "-t", f"{p.end_s - p.start_s}", "-i", str(p.src)]
        extra = f"{p.video}," if p.video else ""
        chains.append(f"[{len(inputs) // 6 - 1}:v]{extra}scale={w}:{h},setsar=1,fps=25,format=yuv420p[v{i}]")
        if p.sound_from is not None:
            inputs += ["-ss", f"{p.start_s}", "-t", f"{p.end_s - p.start_s}", "-i", str(p.sound_from)]
        chains.append(f"[{len(inputs) // 6 - 1}:a]aresample=48000,aformat=channel_layouts=stereo,"
                      f"volume={p.volume}[a{i}]")
    joined = "".join(f"[v{i}][a{i}]" for i in range(len(parts)))
    graph = ";".join(chains) + f";{joined}concat=n={len(parts)}:v=1:a=1[v][a]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *FAST, "-b:v", bitrate,
           "-maxrate", bitrate, "-bufsize", bitrate, "-c:a", "aac", "-b:a", "128k", out)
    return out


def title_card(out: Path, text: str, seconds: float, size: tuple[int, int] = (640, 360), seed: int = 1) -> Path:
    """A still title card (its text on a plain background) over a melody of `seed`."""
    img = Image.new("RGB", size, (30, 60, 120))
    draw = ImageDraw.Draw(img)
    draw.text((size[0] // 10, size[1] // 3), text, font=ImageFont.truetype(SANS, size[1] // 9), fill=(255, 255, 255))
    return _still_video(out, [img], seconds, melody(out.with_suffix(".wav"), seed, seconds))


def template_slides(out: Path, texts: tuple[str, ...], seconds_each: float, seed: int,
                    size: tuple[int, int] = (640, 360)) -> Path:
    """Slides sharing one template (gradient, banner, logo, frame) with `texts` on them, over a melody."""
    slides = [_template(size, text) for text in texts]
    seconds = seconds_each * len(texts)
    return _still_video(out, slides, seconds_each, melody(out.with_suffix(".wav"), seed, seconds))


def _template(size: tuple[int, int], text: str) -> Image.Image:
    w, h = size
    ramp = np.linspace(235, 190, h)[:, None, None] * np.array([1.0, 0.97, 0.9])[None, None, :]
    img = Image.fromarray(np.repeat(ramp, w, axis=1).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, w, h // 7], fill=(150, 30, 40))
    draw.ellipse([w - h // 6 - 8, 4, w - 8, h // 6 + 4], fill=(240, 200, 40))
    draw.rectangle([w // 24, h // 5, w - w // 24, h - h // 12], outline=(150, 30, 40), width=3)
    font = ImageFont.truetype(SANS, h // 14)
    for row, line in enumerate(text.split("\n")):
        draw.text((w // 12, h // 4 + row * h // 9), line, font=font, fill=(30, 30, 30))
    return img


def _still_video(out: Path, images: list[Image.Image], seconds_each: float, wav: Path) -> Path:
    folder = out.parent / f".{out.stem}-parts"
    folder.mkdir(exist_ok=True)
    inputs: list[str] = []
    for i, img in enumerate(images):
        img.save(folder / f"{i}.png")
        inputs += ["-loop", "1", "-framerate", "25", "-t", f"{seconds_each}", "-i", str(folder / f"{i}.png")]
    graph = "".join(f"[{i}:v]" for i in range(len(images))) + f"concat=n={len(images)}:v=1:a=0,format=yuv420p[v]"
    ffmpeg(*inputs, "-i", wav, "-filter_complex", graph, "-map", "[v]", "-map", f"{len(images)}:a", "-shortest",
           *FAST, "-crf", "20", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", out)
    return out


def voiced(out: Path, seed: int, clips: tuple[str, ...], size: tuple[int, int] = (640, 360)) -> Path:
    """Footage of `seed` under the recorded Mandarin clips of tests/data (the same teacher's voice)."""
    inputs = [a for c in clips for a in ("-i", str(DATA / c))]
    graph = "".join(f"[{i}:a]" for i in range(len(clips))) + f"concat=n={len(clips)}:v=0:a=1[a]"
    speech = out.with_suffix(".speech.wav")
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[a]", "-ar", "22050", "-ac", "1", speech)
    seconds = float(len(clips)) * 9.0
    pictures = footage(out.with_suffix(".pictures.mp4"), seed, seconds, size)
    ffmpeg("-i", pictures, "-i", speech, "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k",
           "-shortest", out)
    return out
