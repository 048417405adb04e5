"""Write the sample lesson (testmedia/lesson.py) to a path: `python -m bench.make_lesson OUT.mp4`.

`make demo` uses it: 600 s with an advertising slide at 480 s and the spoken promotion at 500 s.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from testmedia.lesson import LessonSpec, make_lesson


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--ad-at", type=float, default=None, help="plant an advertising slide at this second")
    parser.add_argument("--promo-at", type=float, default=None, help="plant the spoken promotion clip at this second")
    args = parser.parse_args()
    make_lesson(args.out, LessonSpec(seconds=args.seconds, ad_slide_at=args.ad_at, promo_speech_at=args.promo_at))
    print(args.out)


if __name__ == "__main__":
    main()
