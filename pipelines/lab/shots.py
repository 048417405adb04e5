"""Shot boundaries from the per-step cut score, PySceneDetect-style adaptive threshold.

A step is a cut when its score is high in absolute terms (`min_score`) and stands out
from the neighbouring steps (`adaptive_ratio` x their mean), so continuous motion (people,
pans, zooms, which raise every neighbour) does not cut. Every cut is a "candidate" step
(score >= min_score): shots are unions of the candidate partitions the consumer keeps
tiles for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ShotRules:
    min_score: float
    adaptive_ratio: float
    window: int
    min_shot_s: float


@dataclass(frozen=True)
class Shot:
    """Samples [first, end) of one shot, with the sharpest sample as its representative."""

    first: int
    end: int
    rep: int
    start_s: float
    end_s: float
    rep_s: float


def is_candidate(score: float, rules: ShotRules) -> bool:
    """Whether a step may be a cut (NaN: the first sample of a stream always starts a partition)."""
    return math.isnan(score) or score >= rules.min_score


def cut_indices(cut: np.ndarray, times: np.ndarray, rules: ShotRules) -> list[int]:
    """Samples that start a new shot (after the first)."""
    starts: list[int] = []
    last_start = times[0] if len(times) else 0.0
    for i in np.flatnonzero(np.nan_to_num(cut, nan=0.0) >= rules.min_score):
        if i == 0 or times[i] - last_start < rules.min_shot_s:
            continue
        if cut[i] >= rules.adaptive_ratio * _neighbour_mean(cut, int(i), rules.window):
            starts.append(int(i))
            last_start = times[i]
    return starts


def _neighbour_mean(cut: np.ndarray, i: int, window: int) -> float:
    around = np.concatenate([cut[max(1, i - window):i], cut[i + 1:i + 1 + window]])
    around = around[~np.isnan(around)]
    return float(around.mean()) if around.size else 0.0


def best_sample(sharpness: np.ndarray, first: int, end: int) -> int:
    """The earliest sharpest sample in [first, end) (flat pictures, NaN, never win)."""
    values = np.nan_to_num(sharpness[first:end], nan=-np.inf)
    return first + int(np.argmax(values))


def find_shots(cut: np.ndarray, sharpness: np.ndarray, times: np.ndarray, step_s: float,
               rules: ShotRules) -> list[Shot]:
    """Shots of a track; a cut is placed halfway between the samples either side of it."""
    if not len(times):
        return []
    bounds = [0] + cut_indices(cut, times, rules) + [len(times)]
    shots = []
    for first, end in zip(bounds[:-1], bounds[1:]):
        rep = best_sample(sharpness, first, end)
        start_s = times[0] if first == 0 else (times[first - 1] + times[first]) / 2
        end_s = times[-1] + step_s if end == len(times) else (times[end - 1] + times[end]) / 2
        shots.append(Shot(first, end, rep, round(float(start_s), 3), round(float(end_s), 3), float(times[rep])))
    return shots


def partitions(cut: np.ndarray, rules: ShotRules) -> list[tuple[int, int]]:
    """Samples [start, end) of each run between candidate steps."""
    starts = [i for i in range(len(cut)) if i == 0 or is_candidate(cut[i], rules)]
    return list(zip(starts, starts[1:] + [len(cut)]))


def partition_bests(cut: np.ndarray, sharpness: np.ndarray, rules: ShotRules, limit: int | None = None) -> list[int]:
    """The sharpest sample of each run between candidate steps: a superset of every shot's representative.
    With `limit`, only of the `limit` longest runs (the earlier on ties), as the streaming TileKeeper keeps."""
    runs = partitions(cut, rules)
    if limit is not None:
        runs = sorted(sorted(runs, key=lambda run: (run[0] - run[1], run[0]))[:limit])
    return [best_sample(sharpness, a, b) for a, b in runs]
