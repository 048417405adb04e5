"""A lesson's fingerprint: its picture hashes and Chromaprint values, their files, and its index keys.

Index keys carry their time: (key, at). A key is a `band_bits`-wide band of a picture hash tagged
with its band (tags 1-3; one hash per scene is indexed, a new lesson looks up its scenes cut finer,
mirrored too), or the top `key_bits` of a Chromaprint value (tag 4; one moving value in
`index_modulus`, chosen by its content so that both lessons pick the same ones). Equal keys of two
lessons vote for the time offset between them (pipelines/originality/cross.py).
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


@dataclass(frozen=True)
class Keys:
    """Index keys and their times (in ticks of `lookup.tick_s` from the lesson's start), one pair a row."""

    key: np.ndarray  # int64: tag << 32 | value (tags 1-3: picture bands, 4: sound)
    at: np.ndarray   # int64 ticks

    def __len__(self) -> int:
        return len(self.key)

    def packed(self) -> list[int]:
        """key << AT_BITS | at, one integer a pair (how a lookup sends them to either database)."""
        return [int(v) for v in np.unique((self.key << np.int64(AT_BITS)) | self.at)]


AT_BITS = 20  # a key's time in ticks fits in 20 bits (29 hours at 0.1 s)
SOUND_TAG = 4


def picture_keys(hashes: np.ndarray, frames: np.ndarray, step_s: float, cfg: Picture, tick_s: float) -> Keys:
    """The 3 band keys (`band_bits` wide, tags 1-3) of each hash, at its frame's time."""
    width, mask = cfg.band_bits, np.uint64((1 << cfg.band_bits) - 1)
    at = _ticks(frames * step_s, tick_s)
    keys = [(np.int64(band + 1) << np.int64(32)) | ((hashes >> np.uint64(width * band)) & mask).astype(np.int64)
            for band in range(3)]
    return Keys(np.concatenate(keys), np.tile(at, 3))


def scenes(hashes: np.ndarray, cfg: Picture) -> np.ndarray:
    """Frame indexes of one hash per scene: a scene starts where the hash moves more than `scene_hamming`
    from its first frame (frames with no hash are skipped)."""
    chosen: list[int] = []
    first = 0
    for i, h in enumerate(int(h) for h in hashes):
        if h and (not first or int(first ^ h).bit_count() > cfg.scene_hamming):
            first = h
            chosen.append(i)
    return np.array(chosen, np.int64)


def index_keys(prints: Prints, picture: Picture, sound: Sound, tick_s: float) -> Keys:
    """The keys a lesson is indexed under: its scenes' bands and its sound keys."""
    heads = scenes(prints.picture, picture)
    return _joined(picture_keys(prints.picture[heads], heads, prints.picture_step_s, picture, tick_s),
                   sound_keys(prints.sound, prints.sound_step_s, sound, tick_s))


def query_keys(prints: Prints, picture: Picture, sound: Sound, tick_s: float) -> Keys:
    """The keys a new lesson looks up: its scenes cut finer (`query_scene_hamming`), mirrored too, and its
    sound keys with `query_flips` bits flipped."""
    finer = picture.model_copy(update={"scene_hamming": picture.query_scene_hamming})
    parts = [sound_keys(prints.sound, prints.sound_step_s, sound, tick_s, sound.query_flips)]
    for hashes in (prints.picture, prints.mirrored):
        heads = scenes(hashes, finer)
        parts.append(picture_keys(hashes[heads], heads, prints.picture_step_s, picture, tick_s))
    return _joined(*parts)


def sound_keys(values: np.ndarray, step_s: float, cfg: Sound, tick_s: float, flips: int = 0) -> Keys:
    """The top `key_bits` of moving values (changed from the one before, not masked) whose mixed bits fall
    on 0 modulo `index_modulus`: a choice by content, so a copy picks the same values. With `flips` (the
    query's), each value's variants with one bit flipped are tried too: a copy cut at another instant
    samples the sound at another phase, and most of its values then differ from the original in a bit or
    two (docs/originality.md)."""
    if len(values) < 2:
        return Keys(np.zeros(0, np.int64), np.zeros(0, np.int64))
    where = np.flatnonzero(np.r_[False, values[1:] != values[:-1]] & (values != 0))
    top = (values[where] >> np.uint32(32 - cfg.key_bits)).astype(np.uint64)
    if flips:
        masks = np.r_[np.uint64(0), np.uint64(1) << np.arange(cfg.key_bits, dtype=np.uint64)]
        top = (top[:, None] ^ masks[None, :]).reshape(-1)
        where = np.repeat(where, len(masks))
    chosen = (top * np.uint64(2654435761) >> np.uint64(7)) % np.uint64(cfg.index_modulus) == 0
    key = (np.int64(SOUND_TAG) << np.int64(32)) | top[chosen].astype(np.int64)
    return Keys(key, _ticks(where[chosen] * step_s, tick_s))


def _ticks(seconds: np.ndarray, tick_s: float) -> np.ndarray:
    return np.minimum(np.round(np.asarray(seconds, float) / tick_s).astype(np.int64), (1 << AT_BITS) - 1)


def _joined(*parts: Keys) -> Keys:
    return Keys(np.concatenate([p.key for p in parts]), np.concatenate([p.at for p in parts]))
