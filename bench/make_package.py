"""Generate a sample 学科课程 submission package (.zip, GBK names as from Chinese Windows) for `make demo-package`.

A 60-second lesson video (bench/make_lesson.py), a 教学设计 with traditional characters in a table,
a 学习任务单 with a URL in its footer, a 课件 with a QR code on slide 2, and a 作业练习 whose second
page is a scan with a phone number: each document breaks one norm, so the report shows every kind
of document finding with its file, page or slide, and picture.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from testmedia.lesson import LessonSpec, make_lesson
from testmedia import package as gen


def make_package(out: Path, seconds: float) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "王丽-分数的初步认识"
        folder.mkdir()
        make_lesson(folder / "微课视频.mp4", LessonSpec(seconds=seconds))
        gen.word_doc(folder / "教学设计.docx", "《分数的初步认识》教学设计", gen.DESIGN_HEADINGS, page_break=True,
                     table=[["教学环节", "教学内容"], ["導入", "複習舊知識，認識分數"]])
        gen.word_doc(folder / "学习任务单.docx", "《分数的初步认识》学习任务单", gen.TASK_HEADINGS,
                     footer="更多资料请访问 www.youke-shop.com")
        gen.slides(folder / "课件.pptx", ["分数的初步认识", "扫码看拓展视频", "课堂小结"],
                   pictures={2: gen.qr_picture("https://weixin.qq.com/r/abc123")}, notes={1: "导入：分月饼的故事。"})
        gen.scanned_pdf(folder / "作业练习.pdf", [gen.HOMEWORK_LINES, ["课后辅导请联系王老师", "电话 13812345678"]])
        out.parent.mkdir(parents=True, exist_ok=True)
        return gen.zip_folder(folder.parent, out, encoding="gbk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(make_package(args.out, args.seconds))


if __name__ == "__main__":
    main()
