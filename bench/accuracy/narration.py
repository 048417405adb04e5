"""Narration for the benchmark lessons: espeak-ng Mandarin sentences one after another."""
from __future__ import annotations

import functools
import random

from bench.accuracy.model import Shot, Sound
from bench.accuracy.sound import speech_seconds

SENTENCES = ["同学们好，今天我们一起来学习新的知识。", "请大家看屏幕上的这道题。", "我们先读一读题目，找出已知条件。",
             "想一想，应该怎样列式计算呢？", "对了，就是这样。", "我们再来看第二个例子。", "请你试着说一说你的方法。",
             "这个方法很好，大家给他鼓鼓掌。", "下面我们来做一个小练习。", "做完的同学可以和同桌交流一下。"]


@functools.lru_cache(maxsize=64)
def _length(text: str) -> float:
    return speech_seconds(text)


def narrate(start: float, end: float, rng: random.Random, pause: tuple[float, float] = (0.4, 1.2)) -> list[Sound]:
    """Speech sentences one after another from `start` until `end`."""
    parts, t = [], start
    while t < end - 1.0:
        text = rng.choice(SENTENCES)
        stop = min(end, t + _length(text))
        parts.append(Sound("speech", round(t, 2), round(stop, 2), text))
        t = stop + rng.uniform(*pause)
    return parts


def spoken(shots: list[Shot], rng: random.Random, holes: list[tuple[float, float]] = ()) -> list[Sound]:
    """Narration over the whole lesson except in `holes` (start, end)."""
    total = sum(s.seconds for s in shots)
    edges = [0.0] + [t for hole in holes for t in hole] + [total]
    return [p for a, b in zip(edges[::2], edges[1::2]) for p in narrate(a + 0.3, b, rng)]
