"""report.html from the embedded check names its video relative to the report (issue 22): it plays
wherever report and video are copied together and names no folder of the machine that wrote it."""
from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path
from urllib.parse import unquote

from pipelines import profile as profiles
from pipelines.check import check
from testmedia import cached, clips

ONLY_SIGNAL = frozenset({"speech", "onscreen", "lab"})
NAME = "第1课 分数#1?.mp4"  # a space, '#' and '?' would break an unencoded link


def video_src(html: str) -> str:
    (src,) = re.findall(r"<video id='player'[^>]* src='([^']*)'", html)
    return unescape(src)


def test_the_report_links_its_video_relative_to_itself(media_cache: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    video = site / "videos" / NAME
    video.parent.mkdir(parents=True)
    shutil.copyfile(cached(media_cache, "report-link.mp4", clips.clip, 3.0), video)
    check(video, profiles.load("micro-primary"), site / "reports" / "one", skip=ONLY_SIGNAL)

    src = video_src((site / "reports" / "one" / "report.html").read_text(encoding="utf-8"))
    assert src == "../../videos/%E7%AC%AC1%E8%AF%BE%20%E5%88%86%E6%95%B0%231%3F.mp4", src
    moved = tmp_path / "elsewhere"
    shutil.move(site, moved)
    assert (moved / "reports" / "one" / unquote(src)).resolve() == (moved / "videos" / NAME).resolve()
