"""A lesson's fingerprint: its picture hashes and Chromaprint values, their files, and its index keys.

Index keys are 16-bit bands of hashes tagged with their band (`band << 16 | value`): bands 0-3
for the picture (one hash per scene is indexed; a new lesson looks up one frame per
`query_step_s`, mirrored too), bands 4-5 for the sound (the two halves of a Chromaprint value,
indexed where a content-defined landmark falls, so both lessons pick the same places).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipelines.originality import phash
from pipelines.originality.config import Picture, Sound
from pipelines.originality.sound import STEP_S

PICTURE_FILE = "fingerprint-picture.print.npz"
SOUND_FILE = "fingerprint-sound.print.npz"
PICTURE_ARTIFACT = "fingerprint.picture"
SOUND_ARTIFACT = "fingerprint.sound"
SOUND_BANDS = (4, 5)
_EMPTY64 = np.zeros(0, np.uint64)


@dataclass(frozen=True)
class Prints:
    """Picture hashes (0: no hash) every `picture_step_s`; Chromaprint values every `sound_step_s`."""

    picture: np.ndarray = field(default_factory=lambda: _EMPTY64)
    mirrored: np.ndarray = field(default_factory=lambda: _EMPTY64)
    picture_step_s: float = 0.5
    sound: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    sound_step_s: float = STEP_S

    @property
    def empty(self) -> bool:
        return not np.any(self.picture) and len(self.sound) == 0

    def masked(self, picture: np.ndarray, sound: np.ndarray) -> Prints:
        """These prints with the frames/values where the masks are true taken out (no hash, static)."""
        return replace(self, picture=np.where(picture, np.uint64(0), self.picture),
                       mirrored=np.where(picture, np.uint64(0), self.mirrored),
                       sound=np.where(sound, np.uint32(0), self.sound))


# ---- files (the stages' artifacts) ----

def write_picture(folder: Path, hashes: list[int], mirrored: list[int], step_s: float) -> Path:
    path = folder / PICTURE_FILE
    np.savez(path, hashes=np.array(hashes, np.uint64), mirrored=np.array(mirrored, np.uint64),
             step_s=np.float64(step_s))
    return path


def write_sound(folder: Path, values: np.ndarray) -> Path:
    path = folder / SOUND_FILE
    np.savez(path, values=values.astype(np.uint32), step_s=np.float64(STEP_S))
    return path


def read_picture(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    with np.load(path, allow_pickle=False) as data:
        return data["hashes"].astype(np.uint64), data["mirrored"].astype(np.uint64), float(data["step_s"])


def read_sound(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        return data["values"].astype(np.uint32)


def from_artifacts(artifacts: dict[str, str], base: Path | None = None) -> Prints:
    """The prints a report's artifacts hold (paths relative to `base` when given); empty parts if absent."""
    def path(name: str) -> Path | None:
        if name not in artifacts:
            return None
        found = Path(artifacts[name]) if base is None else base / artifacts[name]
        return found if found.is_file() else None

    out = Prints()
    if (picture := path(PICTURE_ARTIFACT)) is not None:
        hashes, mirrored, step = read_picture(picture)
        out = replace(out, picture=hashes, mirrored=mirrored, picture_step_s=step)
    if (sound := path(SOUND_ARTIFACT)) is not None:
        out = replace(out, sound=read_sound(sound))
    return out


# ---- the index's form: bytes and keys ----

def picture_bytes(prints: Prints) -> bytes:
    return prints.picture.astype("<u8").tobytes()


def sound_bytes(prints: Prints) -> bytes:
    return prints.sound.astype("<u4").tobytes()


def from_bytes(picture: bytes, picture_step_s: float, sound: bytes) -> Prints:
    """Prints as the index stores them (the mirrored hashes are only needed for the new lesson)."""
    hashes = np.frombuffer(picture, "<u8").astype(np.uint64)
    return Prints(hashes, np.zeros_like(hashes), picture_step_s, np.frombuffer(sound, "<u4").astype(np.uint32))


def band_keys(hashes: np.ndarray) -> set[int]:
    """The 4 band keys of each (non-zero) hash."""
    hashes = hashes[hashes != 0]
    return {(band << 16) | int(v) for band in range(4) for v in np.unique((hashes >> np.uint64(16 * band)) & np.uint64(0xFFFF))}


def scenes(hashes: np.ndarray, cfg: Picture) -> np.ndarray:
    """One hash per scene: a scene starts where the hash moves more than `scene_hamming` from its first frame."""
    chosen: list[int] = []
    first = 0
    for h in (int(h) for h in hashes if h):
        if not first or int(first ^ h).bit_count() > cfg.scene_hamming:
            first = h
            chosen.append(h)
    return np.array(chosen, np.uint64)


def index_keys(prints: Prints, picture: Picture, sound: Sound) -> set[int]:
    """The keys a lesson is indexed under: its scenes' bands and its sound landmarks."""
    return band_keys(scenes(prints.picture, picture)) | sound_keys(prints.sound, sound)


def query_keys(prints: Prints, picture: Picture, sound: Sound) -> set[int]:
    """The keys a new lesson looks up: its scenes with a finer cut (`query_scene_hamming`), mirrored too,
    and its sound landmarks."""
    finer = picture.model_copy(update={"scene_hamming": picture.query_scene_hamming})
    frames = np.concatenate([scenes(prints.picture, finer), scenes(prints.mirrored, finer)])
    return band_keys(frames) | sound_keys(prints.sound, sound)


def sound_keys(values: np.ndarray, cfg: Sound) -> set[int]:
    """Landmarks: 16-bit halves of values that changed from the previous one and whose hash falls on 0."""
    if len(values) < 2:
        return set()
    moving = values[1:][values[1:] != values[:-1]]
    moving = moving[moving != 0]  # masked (common material)
    keys: set[int] = set()
    for band, shift in zip(SOUND_BANDS, (16, 0)):
        halves = ((moving >> np.uint32(shift)) & np.uint32(0xFFFF)).astype(np.uint64)
        chosen = halves[(halves * np.uint64(40503) & np.uint64(0xFFFF)) % np.uint64(cfg.landmark_modulus) == 0]
        keys |= {(band << 16) | int(v) for v in np.unique(chosen)}
    return keys
