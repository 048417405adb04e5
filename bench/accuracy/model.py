"""What a benchmark case is: a lesson to render, the findings it must raise, the stages it needs.

A lesson is plain data (shots of picture, parts of sound), so its digest names its cached
render; a family module (cases_*.py, listed in catalog.py) returns its cases from `cases()`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

RENDER_VERSION = 2  # bump when the renderer changes what a spec looks like on screen or sounds like


@dataclass(frozen=True)
class Text:
    """One line drawn on a layer: where (left, top; anchor "la") or centred ("ma"), size, font, colour."""

    text: str
    xy: tuple[int, int]
    size: int = 48
    font: str = "sans"          # sans | sans-bold | serif | serif-bold
    fill: str = "#222222"
    anchor: str = "la"
    vertical: bool = False      # one character under the other


@dataclass(frozen=True)
class Panel:
    """A filled (rounded) rectangle under the text: left, top, right, bottom, colour with alpha."""

    box: tuple[int, int, int, int]
    fill: str = "#ffffffee"
    radius: int = 24


@dataclass(frozen=True)
class Picture:
    """A transparent 1920x1080 layer: panels, then lines, then an optional QR code (payload, x, y, side)."""

    texts: tuple[Text, ...] = ()
    panels: tuple[Panel, ...] = ()
    qr: tuple[str, int, int, int] | None = None


@dataclass(frozen=True)
class Background:
    """solid | stripes (scrolling) | gradient (animated) | photo (slow pan) | camera (live: moving person, noise)."""

    kind: str = "solid"
    color: str = "#fbfaf4"
    color2: str = "#dfe7f2"
    seed: int = 0


@dataclass(frozen=True)
class Shot:
    """A stretch of picture: background, a layer over it, how it enters, an optional camera inset,
    burned-in subtitles ((start, end, text) relative to the shot), or a freeze of the last frame before it."""

    seconds: float
    background: Background = Background()
    picture: Picture | None = None
    enter: str = "cut"          # cut | fade (layer fades in) | push (layer slides in) | black (from black)
    leave: str = "cut"          # cut | fade (whole picture fades to black)
    inset: bool = False
    subtitles: tuple[tuple[float, float, str], ...] = ()
    frozen: bool = False        # the previous shot's last frame, held (nothing moves, inset included)


@dataclass(frozen=True)
class Sound:
    """A part of the soundtrack: speech (espeak-ng Mandarin of `text`), clip (an audio file, `text` its path
    relative to bench/accuracy), music, room (tone), silence."""

    kind: str
    start_s: float
    end_s: float
    text: str = ""
    level_db: float = -20.0     # RMS level, dBFS
    seed: int = 0


@dataclass(frozen=True)
class Lesson:
    """Shots in order and sound parts over a bed of room tone at `floor_db` (None: digital silence)."""

    shots: tuple[Shot, ...]
    sounds: tuple[Sound, ...] = ()
    floor_db: float | None = -66.0

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.shots)

    def digest(self) -> str:
        data = json.dumps([RENDER_VERSION, asdict(self)], sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(data.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Expect:
    """A finding the lesson must raise: code, time range (None: untimed), and its severity when it matters."""

    code: str
    start_s: float | None = None
    end_s: float | None = None
    severity: str | None = None
    what: str = ""              # for the table of misses


@dataclass(frozen=True)
class Case:
    """One benchmark lesson: its family, the findings it must raise, the stages it needs."""

    name: str
    family: str
    lesson: Lesson
    expects: tuple[Expect, ...] = ()
    stages: frozenset[str] = field(default_factory=lambda: frozenset({"onscreen"}))
    part: str | None = None     # "tune" or "held-out" when the family fixes it (else the runner's seeded split)
