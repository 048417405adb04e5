"""Submission-package documents: seconds per page, text-only and scanned (one run each).

Generates (once, in .cache/bench/package/) a text-only PDF, a text-only .docx and .pptx, and a
scanned PDF (page images only, A4 at 150 dpi), then times `check_document` (read, tell the part,
judge with the on-screen norms) on each and prints seconds per page. The scanned pages go through
OCR in frame-shaped bands; text-only pages are matched on their text and searched for codes.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.timing import CACHE
from pipelines import profile as profiles
from pipelines.package.archive import PackageFile
from pipelines.package.check import check_document
from testmedia import package as gen

PAGE_LINES = [f"第{i}题：小明购买{i}支铅笔，每支1.5元，一共多少元？请写出算式并计算。" for i in range(1, 16)]


def documents(folder: Path, text_pages: int, scanned_pages: int) -> dict[str, tuple[Path, int]]:
    """name -> (file, pages), generated once."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {"text-only pdf": (folder / f"作业练习-{text_pages}.pdf", text_pages),
            "text-only docx": (folder / f"教学设计-p{text_pages}.docx", text_pages),
            "text-only pptx": (folder / f"课件-{text_pages}.pptx", text_pages),
            "scanned pdf": (folder / f"扫描作业-{scanned_pages}.pdf", scanned_pages)}
    if not made["text-only pdf"][0].exists():
        gen.text_pdf(made["text-only pdf"][0], ["作业练习"] + PAGE_LINES * (text_pages * 2 // 3))
    if not made["text-only docx"][0].exists():
        paged_docx(made["text-only docx"][0], text_pages)
    if not made["text-only pptx"][0].exists():
        gen.slides(made["text-only pptx"][0], [f"第{i}课时" for i in range(1, text_pages + 1)])
    if not made["scanned pdf"][0].exists():
        gen.scanned_pdf(made["scanned pdf"][0], [PAGE_LINES[:12]] * scanned_pages)
    return made


def paged_docx(path: Path, pages: int) -> Path:
    """A .docx of `pages` pages (explicit page breaks), each a heading, paragraphs and a small table."""
    import docx
    document = docx.Document()
    for page in range(pages):
        document.add_heading(gen.DESIGN_HEADINGS[page % len(gen.DESIGN_HEADINGS)], level=2)
        for line in PAGE_LINES[:10]:
            document.add_paragraph(line)
        table = document.add_table(rows=3, cols=2)
        for r in range(3):
            table.cell(r, 0).text, table.cell(r, 1).text = f"环节{r + 1}", "学生独立思考，小组交流，全班汇报。"
        if page < pages - 1:
            document.add_page_break()
    document.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--text-pages", type=int, default=20)
    parser.add_argument("--scanned-pages", type=int, default=4)
    args = parser.parse_args()
    profile = profiles.load("micro-primary")
    made = documents(CACHE / "package", args.text_pages, args.scanned_pages)
    print(f"{'document':<16} {'pages':>5} {'wall s':>8} {'s/page':>7} {'cpu s/page':>10}  findings")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (path, _)) in enumerate(made.items()):
            started, cpu = time.perf_counter(), time.process_time()
            output = check_document(PackageFile(path, path.name), "学科课程", profile, Path(tmp) / f"doc-{i}")
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            pages = output.metrics["part"]["pages"] or 1
            codes = sorted({f.code for f in output.findings}) or ["-"]
            print(f"{name:<16} {pages:>5} {seconds:>8.2f} {seconds / pages:>7.3f} {cpu / pages:>10.3f}  {', '.join(codes)}")


if __name__ == "__main__":
    main()
