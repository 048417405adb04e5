"""Write two lessons where the second re-uses 30 s of the first: `python -m bench.make_reuse OUT_DIR`.

OUT_DIR/lesson-a.mp4 is 60 s of its own footage and melody; OUT_DIR/lesson-b.mp4 is a title card
(5 s), 15 s of its own, seconds 15–45 of lesson A mirrored and re-encoded (at B's 20–50 s), then
10 s of its own (testmedia/originality.py, the recipe of tests/test_originality.py). The README's
and docs/originality.md's example checks them with `lessonqc check --index`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from testmedia import originality as media
from testmedia.originality import Part


def make_pair(out: Path, size: tuple[int, int]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    parts = out / ".parts"
    parts.mkdir(exist_ok=True)
    a = media.footage(out / "lesson-a.mp4", 11, 60.0, size)
    own = media.footage(parts / "own.mp4", 12, 40.0, size)
    card = media.title_card(parts / "card.mp4", "第二课 分数的意义", 5.0, size, 5)
    b = media.derived(out / "lesson-b.mp4", (Part(card, 0, 5), Part(own, 0, 15), Part(a, 15, 45, "hflip"),
                                             Part(own, 15, 25)), size, "2M")
    return a, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for lesson-a.mp4 and lesson-b.mp4")
    parser.add_argument("--size", default="640x360", help="picture size WxH (default 640x360)")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    for path in make_pair(args.out, (w, h)):
        print(path)


if __name__ == "__main__":
    main()
