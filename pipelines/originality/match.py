"""Aligned runs between a new lesson's prints and another's: picture and sound alike.

Both look for stretches where the two lessons agree at one consistent time offset: picture
frames whose hashes differ in at most `hamming` bits, sound windows whose Chromaprint values
differ in fewer than `max_bit_error` of their bits. A run may have gaps up to `max_gap_s`, holds
at least `min_density` matching steps, and lasts at least the `min_s` asked for. Offsets within
`offset_slack_s` are one alignment (two lessons sampled at different instants jitter by a frame).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from pipelines.originality.config import Matching, Picture, Sound
from pipelines.originality.phash import distance
from pipelines.originality.prints import Prints

Kind = Literal["picture", "sound"]
MAX_DIAGONALS = 40  # offsets tried per pair of lessons, most agreeing first


@dataclass(frozen=True)
class Run:
    """One aligned stretch: where in this lesson, where in the other, how alike."""

    kind: Kind
    start_s: float
    end_s: float
    other_start_s: float
    other_end_s: float
    similarity: float      # 1 - mean bit difference of the matching steps (picture /64, sound /32)
    matched: int           # matching steps
    mirrored: bool = False

    @property
    def offset_s(self) -> float:
        return self.other_start_s - self.start_s


@dataclass(frozen=True)
class Around:
    """Verify only near these offsets (seconds, theirs minus mine; the index's votes), `slack_s` either side."""

    offsets_s: tuple[float, ...]
    slack_s: float

    def steps(self, step_s: float) -> list[int]:
        """The offsets in steps of `step_s` this covers."""
        return sorted({k for off in self.offsets_s
                       for k in range(int(np.floor((off - self.slack_s) / step_s)),
                                      int(np.ceil((off + self.slack_s) / step_s)) + 1)})


def runs(mine: Prints, other: Prints, picture: Picture, sound: Sound, rules: Matching, min_s: float,
         around: Around | None = None) -> list[Run]:
    """Every picture and sound run of at least `min_s` between two lessons (only near `around`'s offsets
    when given: O(length) an offset; else every offset: O(length²), for short common material)."""
    return picture_runs(mine, other, picture, rules, min_s, around) + sound_runs(mine, other, sound, rules, min_s,
                                                                                  around)


# ---- picture ----

def picture_runs(mine: Prints, other: Prints, cfg: Picture, rules: Matching, min_s: float,
                 around: Around | None = None) -> list[Run]:
    """Runs of matching frames (the mirror image too); overlapping ones keep the best."""
    theirs = resample(other.picture, other.picture_step_s, mine.picture_step_s)
    found = [*_frame_runs(mine.picture, theirs, mine.picture_step_s, cfg, rules, min_s, False, around),
             *_frame_runs(mine.mirrored, theirs, mine.picture_step_s, cfg, rules, min_s, True, around)]
    return best_disjoint(found)


def resample(hashes: np.ndarray, step_s: float, to_step_s: float) -> np.ndarray:
    """Hashes taken every `step_s` as if taken every `to_step_s` (nearest frame)."""
    if abs(step_s - to_step_s) < 1e-9 or len(hashes) == 0:
        return hashes
    count = int(len(hashes) * step_s / to_step_s)
    picks = np.minimum(np.round(np.arange(count) * to_step_s / step_s).astype(int), len(hashes) - 1)
    return hashes[picks]


def _frame_runs(mine: np.ndarray, theirs: np.ndarray, step: float, cfg: Picture, rules: Matching, min_s: float,
                mirrored: bool, around: Around | None) -> list[Run]:
    if not np.any(mine) or not np.any(theirs):
        return []
    steps = _Steps(step, rules, min_s)
    lines = _Diagonals(mine, theirs, cfg.hamming)
    if around is None:
        dist = distance(mine[:, None], theirs[None, :])
        hits = (dist <= cfg.hamming) & (mine != 0)[:, None] & (theirs != 0)[None, :]
        chosen = _diagonals(hits, steps.slack, steps.min_count)
    else:
        chosen = lines.best(around.steps(step), steps.slack, steps.min_count)
    found: list[Run] = []
    for d in chosen:
        ok, bits = lines.along(d, steps.slack)
        for a, b, n in steps.spans(ok):
            mean_bits = float(bits[a:b][ok[a:b]].mean())
            if _static(mine[a:b], cfg) and mean_bits > cfg.static_hamming:
                continue
            if _one_scene(mine[a:b][ok[a:b]], cfg) and mean_bits > cfg.one_scene_hamming:
                continue
            similarity = 1.0 - mean_bits / 64.0
            found.append(Run("picture", a * step, b * step, (a + d) * step, (b + d) * step, round(similarity, 3),
                             n, mirrored))
    return found


def _static(hashes: np.ndarray, cfg: Picture) -> bool:
    """Too few frames move (slides): alike only if nearly the same (one template, other text, is not re-use)."""
    if len(hashes) < 2:
        return True
    moved = distance(hashes[1:], hashes[:-1]) > cfg.motion_bits
    return float(moved.mean()) < cfg.min_motion_share


def _one_scene(hashes: np.ndarray, cfg: Picture) -> bool:
    """The matching frames never leave one scene (none moves `scene_hamming` from the first): one shot that
    looks like another (a teacher before a board), which must match closely to be re-use."""
    hashes = hashes[hashes != 0]
    return len(hashes) == 0 or int(distance(hashes, hashes[0]).max()) <= cfg.scene_hamming


def _diagonals(hits: np.ndarray, slack: int, min_count: int) -> list[int]:
    """Offsets (their index minus mine) with enough matches near them, most first, `slack` apart."""
    rows, cols = np.nonzero(hits)
    if len(rows) == 0:
        return []
    n = hits.shape[0]
    votes = np.bincount(cols - rows + n - 1, minlength=n + hits.shape[1] - 1)
    smooth = _smooth(votes, slack)
    chosen: list[int] = []
    for k in np.argsort(-smooth, kind="stable"):
        if smooth[k] < min_count or len(chosen) >= MAX_DIAGONALS:
            break
        if votes[k] and all(abs(int(k) - c) > slack for c in chosen):
            chosen.append(int(k))
    return [k - (n - 1) for k in chosen]


class _Diagonals:
    """Matching frames along one offset at a time (their index minus mine): O(length) each, kept once made."""

    def __init__(self, mine: np.ndarray, theirs: np.ndarray, hamming: int):
        self.mine, self.theirs, self.hamming = mine, theirs, hamming
        self.made: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def line(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per frame of mine: a match at offset k, and its distance there (64 where none)."""
        if k not in self.made:
            n, m = len(self.mine), len(self.theirs)
            hit, bits = np.zeros(n, bool), np.full(n, 64, np.int64)
            i = np.arange(max(0, -k), min(n, m - k))
            if len(i):
                a, b = self.mine[i], self.theirs[i + k]
                dist = distance(a, b)
                ok = (dist <= self.hamming) & (a != 0) & (b != 0)
                hit[i], bits[i] = ok, np.where(ok, dist, 64)
            self.made[k] = hit, bits
        return self.made[k]

    def along(self, d: int, slack: int) -> tuple[np.ndarray, np.ndarray]:
        """Per frame of mine: a match at offset d (± slack), and its smallest distance there."""
        ok = np.zeros(len(self.mine), bool)
        bits = np.full(len(self.mine), 64, np.int64)
        for k in range(d - slack, d + slack + 1):
            hit, dist = self.line(k)
            ok |= hit
            bits = np.minimum(bits, dist)
        return ok, bits

    def best(self, offsets: list[int], slack: int, min_count: int) -> list[int]:
        """Of `offsets`, those with enough matches near them, most first, `slack` apart."""
        votes = {k: int(self.line(k)[0].sum()) for k in offsets}
        smooth = {k: sum(votes.get(j, 0) for j in range(k - slack, k + slack + 1)) for k in offsets}
        chosen: list[int] = []
        for k in sorted(offsets, key=lambda k: (-smooth[k], k)):
            if smooth[k] < min_count or len(chosen) >= MAX_DIAGONALS:
                break
            if votes[k] and all(abs(k - c) > slack for c in chosen):
                chosen.append(k)
        return chosen


# ---- sound ----

def sound_runs(mine: Prints, other: Prints, cfg: Sound, rules: Matching, min_s: float,
               around: Around | None = None) -> list[Run]:
    """Runs of sound windows whose bit-error rate is low at one offset (`around`'s, else found by exact
    value votes)."""
    a, b = mine.sound, other.sound
    if len(a) < 2 or len(b) < 2:
        return []
    step = mine.sound_step_s
    window = max(1, int(round(cfg.window_s / step)))
    steps = _Steps(step * window, rules, min_s)
    lively = _lively(a, window, cfg.min_change_bits)
    found: list[Run] = []
    offsets = (around.steps(step) if around is not None
               else _sound_offsets(a, b, cfg.min_votes, int(round(rules.offset_slack_s / step))))
    for d in offsets:
        errors = _window_errors(a, b, d, window)
        ok = (errors <= cfg.max_bit_error) & lively[:len(errors)]
        for s, e, n in steps.spans(ok):
            similarity = 1.0 - float(errors[s:e][ok[s:e]].mean())
            found.append(Run("sound", s * window * step, e * window * step, (s * window + d) * step,
                             (e * window + d) * step, round(similarity, 3), n))
    return best_disjoint(found)


def _sound_offsets(a: np.ndarray, b: np.ndarray, min_votes: int, slack: int) -> list[int]:
    """Offsets at which equal values (not static ones) coincide at least `min_votes` times, best first."""
    ia, ib = _moving(a), _moving(b)
    order = np.argsort(b[ib], kind="stable")
    sorted_b, pos_b = b[ib][order], ib[order]
    lo, hi = np.searchsorted(sorted_b, a[ia], "left"), np.searchsorted(sorted_b, a[ia], "right")
    few = (hi - lo) <= 8  # a value seen everywhere says nothing about the offset
    pairs = [pos_b[l:h] - i for i, l, h in zip(ia[few], lo[few], hi[few]) if h > l]
    if not pairs:
        return []
    offsets = np.concatenate(pairs)
    base = offsets.min()
    votes = np.bincount(offsets - base)
    smooth = _smooth(votes, slack)
    chosen: list[int] = []
    for k in np.argsort(-smooth, kind="stable"):
        if smooth[k] < min_votes or len(chosen) >= MAX_DIAGONALS:
            break
        if votes[k] and all(abs(int(k) - c) > slack for c in chosen):
            chosen.append(int(k))
    return [k + int(base) for k in chosen]


def _moving(values: np.ndarray) -> np.ndarray:
    """Positions whose value differs from the one before (silence and hum repeat one value)."""
    keep = np.ones(len(values), bool)
    keep[1:] = values[1:] != values[:-1]
    return np.flatnonzero(keep & (values != 0))


def _window_errors(a: np.ndarray, b: np.ndarray, d: int, window: int) -> np.ndarray:
    """Bit-error rate of each window of `a` against `b` shifted by `d` (1.0 where `b` has no value)."""
    count = len(a) // window
    errors = np.ones(count)
    lo, hi = max(0, -d), min(len(a), len(b) - d)
    if hi <= lo:
        return errors
    bits = np.full(count * window, 32, np.int64)
    span = np.arange(lo, min(hi, count * window))
    bits[span] = np.bitwise_count(a[span] ^ b[span + d])
    return bits.reshape(count, window).sum(axis=1) / (32.0 * window)


def _lively(values: np.ndarray, window: int, min_change_bits: float) -> np.ndarray:
    """Windows whose values change enough from step to step to say something (not silence or hum)."""
    change = np.zeros(len(values), float)
    change[1:] = np.bitwise_count(values[1:] ^ values[:-1])
    count = len(values) // window
    return change[:count * window].reshape(count, window).mean(axis=1) >= min_change_bits


# ---- shared ----

def _smooth(votes: np.ndarray, slack: int) -> np.ndarray:
    """Each count plus its neighbours within `slack` (same length as `votes`)."""
    return np.convolve(votes, np.ones(2 * slack + 1, int))[slack:slack + len(votes)]


class _Steps:
    """Run rules in steps of one frame (picture) or one window (sound)."""

    def __init__(self, step_s: float, rules: Matching, min_s: float):
        self.gap = int(rules.max_gap_s / step_s)
        self.slack = int(round(rules.offset_slack_s / step_s))
        self.min_len = max(1, int(np.ceil(min_s / step_s - 1e-9)))
        self.density = rules.min_density
        self.min_count = int(np.ceil(self.min_len * self.density))

    def spans(self, ok: np.ndarray) -> list[tuple[int, int, int]]:
        """(start, end, matching steps) of the runs in `ok`: gaps of at most `gap` steps bridged."""
        found: list[tuple[int, int, int]] = []
        where = np.flatnonzero(ok)
        if len(where) == 0:
            return found
        breaks = np.flatnonzero(np.diff(where) > self.gap + 1)
        for s, e in zip(np.r_[0, breaks + 1], np.r_[breaks, len(where) - 1]):
            start, end, count = int(where[s]), int(where[e]) + 1, int(e - s + 1)
            if end - start >= self.min_len and count >= self.density * (end - start):
                found.append((start, end, count))
        return found


def best_disjoint(found: list[Run]) -> list[Run]:
    """The runs with most matching steps first, leaving out any that overlaps one kept (in this lesson)."""
    kept: list[Run] = []
    for run in sorted(found, key=lambda r: (-r.matched, r.start_s)):
        if all(run.end_s <= k.start_s or run.start_s >= k.end_s for k in kept):
            kept.append(run)
    return sorted(kept, key=lambda r: r.start_s)
