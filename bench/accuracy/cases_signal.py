"""Picture and sound faults: frozen pictures in video that moves (teacher camera, animation, an inset),
dead air (room tone or digital silence) inside the lesson; held slides, music beds and short pauses
stay clean."""
from __future__ import annotations

import random

from bench.accuracy.model import Background, Case, Expect, Lesson, Picture, Shot, Sound, Text
from bench.accuracy.narration import spoken as _spoken
from bench.accuracy.templates import ANIMATED, DARK, LIGHT, SERIF, Fields, card_plain, slide

FAMILY = "signal"
STAGES: frozenset[str] = frozenset()
CARD = Fields("人教版", "数学", "四年级上册", "角的度量", "周敏")


def camera(seconds: float, seed: int, caption: str = "") -> Shot:
    pic = Picture((Text(caption, (120, 900), 48, "sans-bold", "#ffffff"),)) if caption else None
    return Shot(seconds, Background("camera", seed=seed), pic)


def frozen(seconds: float) -> Shot:
    return Shot(seconds, frozen=True)


def _case(name: str, shots: list[Shot], sounds: list[Sound], expects: tuple[Expect, ...] = (),
          floor_db: float | None = -62.0) -> Case:
    return Case(name, FAMILY, Lesson(tuple(shots), tuple(sounds), floor_db), expects, STAGES)


def picture_cases(rng: random.Random) -> list[Case]:
    card = card_plain(CARD, 5.0)
    anim = Shot(8.0, ANIMATED.background, Picture((Text("动画演示：角的大小", (200, 300), 72, "sans-bold", "#1a3e72"),)))
    inset = [slide(LIGHT, "量角器的使用", ["中心对顶点", "零刻度线对一边"], 6.0, inset=True),
             slide(SERIF, "练一练", ["量出下面各角的度数"], 6.0, inset=True)]
    shots = {
        "freeze-camera": ([card, camera(8.0, 51), frozen(6.0), camera(8.0, 51)], (13.0, 19.0)),
        "freeze-animation": ([card, anim, frozen(7.0), Shot(6.0, ANIMATED.background, anim.picture)], (13.0, 20.0)),
        "freeze-inset": ([card, *inset, frozen(6.0), slide(DARK, "小结", ["角的度量单位是度"], 6.0, inset=True)],
                         (17.0, 23.0)),
        "freeze-camera-long": ([card, camera(6.0, 52), frozen(12.0), camera(6.0, 53)], (11.0, 23.0)),
    }
    made = [_case(name, s, _spoken(s, rng), (Expect("signal.frozen", *span, "review", name),))
            for name, (s, span) in shots.items()]
    held = [card, *(slide(st, h, b, 8.0) for st, h, b in
                    [(LIGHT, "认识角", ["角有一个顶点和两条边"]), (SERIF, "角的大小", ["与边的长短无关"]),
                     (DARK, "练一练", ["数一数有几个角"]), (LIGHT, "小结", ["今天你学会了什么？"])])]
    clean_camera = [card, camera(10.0, 54, "同学们好"), *inset, camera(8.0, 55)]
    made += [_case("held-slides", held, _spoken(held, rng)), _case("camera-clean", clean_camera, _spoken(clean_camera, rng))]
    return made


def sound_cases(rng: random.Random) -> list[Case]:
    def lesson(n: int) -> list[Shot]:
        return [card_plain(CARD, 5.0)] + [slide(LIGHT if i % 2 else SERIF, f"第{i + 1}部分", ["认识角", "量角"], 6.0, inset=True)
                                          for i in range(n)]

    made = []
    for name, hole, kind, level, code in [
        ("deadair-room-8s", (12.0, 20.5), "room", -46.0, ("signal.silence", "review")),
        ("deadair-room-12s", (15.0, 27.0), "room", -42.0, ("signal.silence", "review")),
        ("deadair-digital-22s", (12.0, 34.0), "silence", 0.0, ("signal.silence", "fail")),
        ("deadair-room-21s", (14.0, 35.0), "room", -48.0, ("signal.silence", "fail")),
        ("music-bed-12s", (13.0, 25.0), "music", -26.0, None),
        ("music-quiet-10s", (12.0, 22.0), "music", -44.0, None),
        ("pauses-6s", (14.0, 20.0), "room", -48.0, None),
    ]:
        shots = lesson(6 if hole[1] > 30 else 5)
        sounds = _spoken(shots, rng, [hole]) + [Sound(kind, *hole, level_db=level, seed=len(made))]
        expects = (Expect(code[0], *hole, code[1], name),) if code else ()
        made.append(_case(name, shots, sounds, expects))
    shots = lesson(5)
    bed = [Sound("music", 0.0, sum(s.seconds for s in shots), level_db=-34.0, seed=9)]
    made.append(_case("music-under-speech", shots, _spoken(shots, rng) + bed))
    return made


def cases() -> list[Case]:
    rng = random.Random(11)
    return picture_cases(rng) + sound_cases(rng)
