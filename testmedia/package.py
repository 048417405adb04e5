"""Submission packages generated at test time: .docx (python-docx), .pptx (python-pptx), .pdf (fpdf2
for text, Pillow for scans), pictures with QR codes or traditional glyphs (Pillow + Noto CJK)."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import docx
import qrcode
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pptx import Presentation
from pptx.util import Inches

from testmedia import cached, clips
from testmedia.base import SANS

FONT = SANS
SC_INDEX = 2   # Noto Sans CJK SC in the collection

DESIGN_HEADINGS = ["一、教学目标", "二、教学重难点", "三、学情分析", "四、教学过程", "五、板书设计"]
TASK_HEADINGS = ["学习目标", "学习任务", "学习方法建议", "困惑与建议"]
GUIDE_HEADINGS = ["学习目标", "预习导学", "合作探究", "课堂检测"]
HOMEWORK_LINES = ["基础练习", "一、填空题：3/4 + 1/8 = ____", "二、选择题：小明购买3支铅笔，每支1.5元，一共多少元？",
                  "三、拓展练习：画图表示 2/5。"]
PRACTICE_LINES = ["实践作业", "任务要求：用图形化编程做一个会说“你好”的小程序。", "评价标准：能运行，能说明思路。", "拓展练习：加入一个按钮。"]


def font(size: int, index: int = SC_INDEX) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size, index=index)


def picture(lines: list[str], size: tuple[int, int] = (960, 540), text_px: int = 44) -> Image.Image:
    """A light picture with dark lines of text (simplified forms rendered with the SC face)."""
    img = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(text_px * 1.8)), line, font=font(text_px), fill=(20, 20, 20))
    return img


def qr_picture(payload: str, size: int = 360) -> Image.Image:
    img = qrcode.make(payload, border=4).convert("RGB")
    return img.resize((size, size), Image.NEAREST)


def png(img: Image.Image) -> io.BytesIO:
    data = io.BytesIO()
    img.save(data, format="PNG")
    data.seek(0)
    return data


# documents ---------------------------------------------------------------------------------
def word_doc(path: Path, title: str, headings: list[str], *, footer: str = "", header: str = "",
             table: list[list[str]] | None = None, image: Image.Image | None = None, page_break: bool = False) -> Path:
    """A .docx: title, headings each with a paragraph, an optional table, header/footer and picture."""
    document = docx.Document()
    document.add_heading(title, level=1)
    for heading in headings:
        document.add_heading(heading, level=2)
        document.add_paragraph(f"{heading.split('、')[-1]}：理解分数的意义，能用分数表示部分与整体的关系。")
    if page_break:
        document.add_page_break()
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    if image is not None:
        document.add_picture(png(image), width=Inches(4))
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    document.save(path)
    return path


def slides(path: Path, titles: list[str], *, pictures: dict[int, Image.Image] | None = None,
           notes: dict[int, str] | None = None) -> Path:
    """A .pptx: one title-and-content slide per title; pictures and notes by slide number (1-based)."""
    deck = Presentation()
    for number, title in enumerate(titles, 1):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = title
        box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(1))
        box.text_frame.text = "把一个整体平均分成若干份，表示其中一份或几份的数叫分数。"
        if pictures and number in pictures:
            slide.shapes.add_picture(png(pictures[number]), Inches(5.5), Inches(3.2), height=Inches(3.5))
        if notes and number in notes:
            slide.notes_slide.notes_text_frame.text = notes[number]
    deck.save(path)
    return path


def text_pdf(path: Path, lines: list[str], password: str | None = None) -> Path:
    """A PDF with a text layer (fpdf2, Noto Sans CJK)."""
    pdf = FPDF()
    pdf.add_font("noto", "", FONT, collection_font_number=SC_INDEX)
    pdf.set_font("noto", size=14)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    for line in lines:
        pdf.multi_cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF of page images only (a scan): A4 at 150 dpi, text rendered into the pixels."""
    images = [picture(lines, size=(1240, 1754), text_px=34).convert("L") for lines in pages]
    images[0].save(path, "PDF", resolution=150.0, save_all=True, append_images=images[1:])
    return path


# packages ----------------------------------------------------------------------------------
def video(cache: Path) -> Path:
    """A 3-second lesson-like clip (no speech), generated once per cache."""
    return cached(cache, "package-video-3s.mp4", clips.clip, seconds=3.0, size="320x180", speech=False)


def write_part(folder: Path, role: str, video_path: Path) -> Path:
    """One clean part of a package, named after its role."""
    makers = {
        "微课视频": lambda: _copy(video_path, folder / "微课视频.mp4"),
        "实验教学视频": lambda: _copy(video_path, folder / "实验教学视频.mp4"),
        "教学设计": lambda: word_doc(folder / "教学设计.docx", "《分数的初步认识》教学设计", DESIGN_HEADINGS),
        "实验教学设计": lambda: word_doc(folder / "实验教学设计.docx", "《探究浮力》实验教学设计",
                                    ["实验目的", "实验器材", "教学目标", "教学过程"]),
        "学习任务单": lambda: word_doc(folder / "学习任务单.docx", "《分数的初步认识》学习任务单", TASK_HEADINGS),
        "导学案": lambda: word_doc(folder / "导学案.docx", "《探究浮力》导学案", GUIDE_HEADINGS),
        "课件": lambda: slides(folder / "课件.pptx", ["分数的初步认识", "平均分", "课堂小结"]),
        "作业练习": lambda: text_pdf(folder / "作业练习.pdf", HOMEWORK_LINES),
        "实践作业": lambda: word_doc(folder / "实践作业.docx", "实践作业", PRACTICE_LINES[1:]),
    }
    return makers[role]()


PARTS = {
    "学科课程": ["微课视频", "教学设计", "学习任务单", "课件", "作业练习"],
    "人工智能教育": ["微课视频", "教学设计", "学习任务单", "课件", "实践作业"],
    "特殊教育": ["微课视频", "教学设计", "学习任务单", "课件", "作业练习"],
    "阅读课": ["微课视频", "教学设计", "学习任务单", "课件", "作业练习"],
    "实验教学": ["实验教学视频", "实验教学设计", "导学案", "课件"],
}
REQUIRED = {**PARTS, "特殊教育": PARTS["特殊教育"][:4], "阅读课": PARTS["阅读课"][:4]}


def parts_cache(cache: Path, video_path: Path) -> Path:
    """Every clean part, generated once per cache (documents are slow to make: fonts, templates)."""
    folder = cache / "package-parts-v1"
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for role in dict.fromkeys(r for roles in PARTS.values() for r in roles):
            write_part(folder, role, video_path)
        (folder / ".complete").touch()
    return folder


def package(folder: Path, category: str, video_path: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """A clean package folder of `category` without the parts in `leave_out` (copied from the parts cache)."""
    folder.mkdir(parents=True, exist_ok=True)
    cached = parts_cache(video_path.parent, video_path)
    for role in PARTS[category]:
        if role not in leave_out:
            source = next(p for p in cached.iterdir() if p.stem == role)
            _copy(source, folder / source.name)
    return folder


def zip_folder(folder: Path, out: Path, encoding: str | None = None) -> Path:
    """Zip `folder`; `encoding="gbk"` writes the names in GBK without the UTF-8 flag (Chinese Windows)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                info = zipfile.ZipInfo(name) if encoding is None else _RawName(name.encode(encoding).decode("cp437"))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return out


class _RawName(zipfile.ZipInfo):
    """A member name written as the bytes given (cp437 round trip), without the UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("cp437"), self.flag_bits


def _copy(src: Path, dest: Path) -> Path:
    shutil.copyfile(src, dest)
    return dest
