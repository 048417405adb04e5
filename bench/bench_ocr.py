"""OCR benchmark: rendered 1080p frames with ground truth, PP-OCR (the engine of pipelines/ocr/) and
tesseract side by side (goal: PP-OCR CER <= 2 % on horizontal text, <= 5 % on vertical).

Frames carry lines in the CJK fonts Debian ships (Noto Sans/Serif CJK, AR PL UKai/UMing,
WenQuanYi Zen Hei), 18-96 px high, on plain, gradient, photo-like, striped and dark backgrounds,
laid out as plain lines, tables, two columns, lower thirds, outlined subtitles, vertical columns
and semi-transparent overlays; some lines are in traditional characters. Every frame is read as
rendered and after H.264 at 8 and 2 Mbps. Per engine and condition: character error rate (edit
distance / ground-truth characters, whitespace and full/half width ignored), line recall (lines
read with CER <= 10 %) and ms per frame. Tesseract (the engine before PP-OCR) runs through its
CLI with chi_sim+chi_tra, page segmentation 3, one thread, when it is installed.

    python -m bench.bench_ocr                 # all lines (about 330)
    python -m bench.bench_ocr --lines 60      # a subset: the first frames up to 60 lines
    python -m bench.bench_ocr --engines ppocr --conditions raw
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.timing import CACHE

W, H = 1920, 1080
FONTS = {
    "noto-sans": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "noto-serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "ukai": "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "uming": "/usr/share/fonts/truetype/arphic/uming.ttc",
    "wqy-zenhei": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
}
SIZES = (18, 24, 32, 40, 48, 64, 80, 96)
BACKGROUNDS = ("plain", "gradient", "photo", "stripes", "dark")
LAYOUTS = ("lines", "table", "two_columns", "lower_third", "subtitles", "vertical", "overlay")
CONDITIONS = ("raw", "h264-8M", "h264-2M")
SIMPLIFIED = [
    "把一个蛋糕平均分成四份每份是它的四分之一", "观察下面的图片你发现了什么", "同桌之间互相说一说自己的想法",
    "长方体有六个面十二条棱八个顶点", "声音是由物体的振动产生的", "今天我们学习了分数的初步认识",
    "完成练习册第十五页第一至三题", "请用自己的话概括课文的主要内容", "光在同种均匀介质中沿直线传播",
    "宪法是国家的根本法具有最高的法律效力", "地球绕地轴自西向东不停地旋转", "读一读下面的句子体会加点词语的意思",
    "电磁铁的磁性强弱与线圈匝数有关", "小数点向右移动一位原数扩大到十倍", "植物的根能够吸收水分和无机盐",
    "鸦片战争是中国近代史的开端", "三角形的内角和等于一百八十度", "描写春天景色的古诗有哪些",
    "用小棒摆一摆说一说你摆的图形", "水在零摄氏度时开始结冰", "实验步骤一准备好烧杯和温度计",
    "面积等于十二乘八等于九十六平方厘米", "认识人民币元角分之间的关系", "我们的校园四季都很美丽",
]
TRADITIONAL = [
    "學習目標認識體積和容積的計量單位", "實驗用小正方體拼成長方體觀察並記錄數據", "討論長方體的體積與長寬高有什麼關係",
    "這是一個繁體字的測試句子電腦螢幕顯示", "認識幾分之一會讀寫分數", "電磁鐵的磁性強弱與線圈匝數有關",
    "聲音是由物體的振動產生的", "請同學們觀察圖片說說你的發現",
]
MIXED = [
    "更多资料请访问 www.xueba-edu.com", "咨询电话 400-820-1234", "2024年9月1日 星期日", "例 3/4 + 1/4 = 1",
    "Unit 3 My School Day", "第 12 页", "扫码关注公众号 学霸课堂", "3.14 × 20 = 62.8",
]
LABELS = [("教材版本", "人教版"), ("学科", "数学"), ("年级", "三年级上册"), ("课名", "分数的初步认识"),
          ("主讲教师", "王丽"), ("学校", "杭州市春晖小学"), ("版本", "北師大版"), ("科目", "語文")]


@dataclass
class Line:
    text: str
    box: tuple[int, int, int, int]
    vertical: bool = False
    traditional: bool = False


@dataclass
class Frame:
    name: str
    background: str
    layout: str
    font: str
    size: int
    lines: list[Line] = field(default_factory=list)
    image: np.ndarray | None = None


# ---- rendering ----

def _background(kind: str, rng: random.Random) -> Image.Image:
    nprng = np.random.default_rng(rng.randrange(1 << 30))
    if kind == "plain":
        return Image.new("RGB", (W, H), (250, 249, 244))
    if kind == "dark":
        return Image.new("RGB", (W, H), (20, 32, 46))
    if kind == "gradient":
        t = np.linspace(0, 1, W)[None, :, None] * 0.6 + np.linspace(0, 1, H)[:, None, None] * 0.4
        a, b = np.array([227, 242, 253]), np.array([255, 224, 178])
        return Image.fromarray((a * (1 - t) + b * t).astype(np.uint8))
    if kind == "stripes":
        band = ((np.arange(W)[None, :] + np.arange(H)[:, None]) % 96) < 48
        return Image.fromarray(np.where(band[..., None], [144, 202, 249], [187, 222, 251]).astype(np.uint8))
    small = nprng.integers(40, 220, (9, 16, 3)).astype(np.uint8)  # photo-like: smooth colour fields + texture
    img = cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    img += nprng.normal(0, 12, (H, W, 1)).astype(np.int16)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _ink(background: str) -> tuple[int, int, int]:
    return (245, 245, 245) if background in ("dark", "photo") else (30, 30, 30)


def _sentence(rng: random.Random, font: ImageFont.FreeTypeFont, width: int) -> tuple[str, bool]:
    pool = rng.choices([SIMPLIFIED, TRADITIONAL, MIXED], weights=[6, 3, 2])[0]
    text = rng.choice(pool)
    while len(text) > 2 and font.getlength(text) > width:
        text = text[:-1].rstrip()
    return text, pool is TRADITIONAL


def _draw_line(pen: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, font: ImageFont.FreeTypeFont,
               fill: tuple[int, ...], stroke: int = 0) -> tuple[int, int, int, int]:
    pen.text(xy, text, font=font, fill=fill, stroke_width=stroke, stroke_fill=(0, 0, 0))
    return pen.textbbox(xy, text, font=font, stroke_width=stroke)


def _layout_lines(frame: Frame, img: Image.Image, rng: random.Random, top: int = 60, bottom: int = H - 40) -> None:
    font = ImageFont.truetype(FONTS[frame.font], frame.size)
    pen = ImageDraw.Draw(img)
    y = top
    while y + frame.size * 1.6 < bottom and len(frame.lines) < 8:
        text, trad = _sentence(rng, font, W - 300)
        frame.lines.append(Line(text, _draw_line(pen, (150, y), text, font, _ink(frame.background)), traditional=trad))
        y += int(frame.size * 1.9)


def _layout_two_columns(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    font = ImageFont.truetype(FONTS[frame.font], frame.size)
    pen = ImageDraw.Draw(img)
    for col in range(2):
        y = 120
        for _ in range(4):
            text, trad = _sentence(rng, font, 760)
            frame.lines.append(Line(text, _draw_line(pen, (120 + 900 * col, y), text, font, _ink(frame.background)),
                                    traditional=trad))
            y += int(frame.size * 2.2)


def _layout_table(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    font = ImageFont.truetype(FONTS[frame.font], frame.size)
    pen = ImageDraw.Draw(img)
    ink = _ink(frame.background)
    rows, cell_h, widths = 4, int(frame.size * 2.2), (420, 560, 420, 420)
    x0, y0 = 120, 160
    pairs = rng.sample(LABELS, rows * 2)
    for r in range(rows + 1):
        pen.line([(x0, y0 + r * cell_h), (x0 + sum(widths), y0 + r * cell_h)], fill=ink, width=3)
    for c in range(len(widths) + 1):
        x = x0 + sum(widths[:c])
        pen.line([(x, y0), (x, y0 + rows * cell_h)], fill=ink, width=3)
    for r in range(rows):
        for c, text in enumerate((*pairs[2 * r], *pairs[2 * r + 1])):
            x = x0 + sum(widths[:c]) + 24
            box = _draw_line(pen, (x, y0 + r * cell_h + int(frame.size * 0.5)), text, font, ink)
            frame.lines.append(Line(text, box, traditional=text in ("北師大版", "語文")))


def _layout_lower_third(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    font = ImageFont.truetype(FONTS[frame.font], frame.size)
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    top = H - 120 - int(frame.size * 4.2)
    pen.rounded_rectangle((60, top, W - 60, H - 80), 18, fill=(10, 20, 40, 176))
    y = top + int(frame.size * 0.7)
    for _ in range(2):
        text, trad = _sentence(rng, font, W - 300)
        frame.lines.append(Line(text, _draw_line(pen, (140, y), text, font, (255, 255, 255, 255)), traditional=trad))
        y += int(frame.size * 1.8)
    img.paste(Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB"))


def _layout_subtitles(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    size = max(32, min(frame.size, 64))
    frame.size = size
    font = ImageFont.truetype(FONTS[frame.font], size)
    pen = ImageDraw.Draw(img)
    text, trad = _sentence(rng, font, W - 400)
    x = (W - int(font.getlength(text))) // 2
    frame.lines.append(Line(text, _draw_line(pen, (x, H - 80 - size), text, font, (255, 255, 255), max(2, size // 16)),
                            traditional=trad))


def _layout_vertical(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    size = max(32, frame.size)
    frame.size = size
    font = ImageFont.truetype(FONTS[frame.font], size)
    pen = ImageDraw.Draw(img)
    pitch = int(size * 1.15)
    x = W - 200
    while x > 200 and len(frame.lines) < 5:
        text, trad = rng.choice([(t, False) for t in SIMPLIFIED] + [(t, True) for t in TRADITIONAL])
        text = text[:max(2, (H - 160) // pitch)]
        boxes = [_draw_line(pen, (x, 80 + i * pitch), ch, font, _ink(frame.background)) for i, ch in enumerate(text)]
        frame.lines.append(Line(text, (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                                       max(b[3] for b in boxes)), vertical=True, traditional=trad))
        x -= int(size * 2.4)


def _layout_overlay(frame: Frame, img: Image.Image, rng: random.Random) -> None:
    content = Frame(frame.name, frame.background, "lines", frame.font, 40)
    _layout_lines(content, img, rng, 220, H - 220)  # the slide beside the overlay: not scored
    font = ImageFont.truetype(FONTS[frame.font], frame.size)
    layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    text = rng.choice(["录屏大师 试用版", "EV录屏 未注册", "爱奇艺", "抖音号 12345678", "學霸課堂 版權所有"])
    alpha = rng.choice([110, 150, 190])
    x, y = rng.choice([(W - 80 - int(font.getlength(text)), 40), (60, 40), (W - 80 - int(font.getlength(text)), H - 80 - frame.size)])
    box = _draw_line(pen, (x, y), text, font, (255, 255, 255, alpha) if frame.background in ("dark", "photo") else (0, 0, 0, alpha))
    img.paste(Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB"))
    # the content lines under the overlay are not scored: only the overlay is
    frame.lines = [Line(text, box, traditional="學" in text)]


LAYOUT_FN = {"lines": _layout_lines, "table": _layout_table, "two_columns": _layout_two_columns,
             "lower_third": _layout_lower_third, "subtitles": _layout_subtitles, "vertical": _layout_vertical,
             "overlay": _layout_overlay}
LAYOUT_BACKGROUNDS = {"lower_third": ("photo",), "subtitles": ("photo", "stripes", "gradient")}


def frames(seed: int = 2026) -> list[Frame]:
    """The benchmark frames, in a fixed order that mixes every axis (a prefix is a fair subset)."""
    rng = random.Random(seed)
    fonts = [f for f, path in FONTS.items() if Path(path).is_file()]
    out = []
    for i in range(64):
        layout = LAYOUTS[i % len(LAYOUTS)]
        background = rng.choice(LAYOUT_BACKGROUNDS.get(layout, BACKGROUNDS))
        size = SIZES[(i * 3 + i // len(LAYOUTS)) % len(SIZES)]
        if layout in ("table", "two_columns"):
            size = min(size, 48)
        frame = Frame(f"f{i:02d}-{layout}-{background}", background, layout, fonts[i % len(fonts)], size)
        img = _background(background, rng)
        LAYOUT_FN[layout](frame, img, rng)
        frame.image = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2GRAY)
        out.append(frame)
    return out


def encoded(frames_: list[Frame], bitrate: str, folder: Path) -> list[np.ndarray]:
    """Each frame after H.264 at `bitrate` (each held one second at 25 fps; the middle frame read back)."""
    src = folder / "in-%03d.png"
    for i, f in enumerate(frames_):
        cv2.imwrite(str(src) % i, f.image)
    video = folder / f"bench-{bitrate}.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-framerate", "1", "-i", str(src),
                    "-vf", "fps=25,format=yuv420p", "-c:v", "libx264", "-preset", "medium", "-b:v", bitrate,
                    "-maxrate", bitrate, "-bufsize", bitrate, "-threads", "2", str(video)], check=True)
    out = []
    capture = cv2.VideoCapture(str(video))
    index = 0
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % 25 == 12:
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        index += 1
    capture.release()
    if len(out) != len(frames_):
        raise RuntimeError(f"{video.name}: {len(out)} frames read back, {len(frames_)} encoded")
    return out


# ---- engines ----

Read = list[tuple[str, tuple[int, int, int, int]]]


def ppocr_reader():
    from pipelines import profile as profiles
    from pipelines.ocr.lines import Reader

    reader = Reader(profiles.load("micro-primary").onscreen.ocr)
    return lambda gray: [(line.text, line.box) for line in reader.read(gray)]


def tesseract_reader():
    if shutil.which("tesseract") is None:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def read(gray: np.ndarray) -> Read:
        ok, png = cv2.imencode(".png", gray)
        tsv = subprocess.run(["tesseract", "stdin", "stdout", "-l", "chi_sim+chi_tra", "--psm", "3", "tsv"],
                             input=png.tobytes(), capture_output=True, env=env, check=True).stdout.decode("utf-8", "replace")
        return _tsv_lines(tsv)
    return read


def _tsv_lines(tsv: str) -> Read:
    lines: dict[tuple[str, str, str], list[tuple[str, tuple[int, int, int, int]]]] = defaultdict(list)
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) == 12 and cols[0] == "5" and cols[11].strip():
            left, top, w, h = (int(v) for v in cols[6:10])
            lines[(cols[2], cols[3], cols[4])].append((cols[11].strip(), (left, top, left + w, top + h)))
    out = []
    for words in lines.values():
        boxes = [b for _, b in words]
        out.append(("".join(t for t, _ in words), (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                                   max(b[2] for b in boxes), max(b[3] for b in boxes))))
    return out


# ---- scoring ----

def normal(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h) / max(1, (b[2] - b[0]) * (b[3] - b[1]))


def score_frame(truth: list[Line], found: Read) -> list[tuple[Line, int]]:
    """(line, edits) per ground-truth line: each read line goes to the truth line it overlaps most."""
    assigned: dict[int, list[tuple[str, tuple[int, int, int, int]]]] = defaultdict(list)
    for text, box in found:
        overlaps = [_overlap(t.box, box) for t in truth]
        best = int(np.argmax(overlaps)) if overlaps else -1
        if best >= 0 and overlaps[best] >= 0.3:
            assigned[best].append((text, box))
    out = []
    for i, line in enumerate(truth):
        parts = sorted(assigned[i], key=lambda p: p[1][1] if line.vertical else p[1][0])
        hyp = normal("".join(t for t, _ in parts))
        out.append((line, min(len(normal(line.text)), edit_distance(normal(line.text), hyp))))
    return out


@dataclass
class Tally:
    chars: int = 0
    edits: int = 0
    lines: int = 0
    good: int = 0

    def add(self, line: Line, edits: int) -> None:
        n = len(normal(line.text))
        self.chars += n
        self.edits += edits
        self.lines += 1
        self.good += int(edits <= 0.1 * n)

    def cer(self) -> str:
        return f"{100 * self.edits / max(1, self.chars):5.1f} %"

    def recall(self) -> str:
        return f"{self.good / max(1, self.lines):5.2f}"


def subset(all_frames: list[Frame], lines: int | None) -> list[Frame]:
    if not lines:
        return all_frames
    out, count = [], 0
    for f in all_frames:
        if count >= lines:
            break
        out.append(f)
        count += len(f.lines)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=0, help="only the first frames, up to this many lines")
    parser.add_argument("--engines", default="ppocr,tesseract")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("-v", "--verbose", action="store_true", help="every line read with errors")
    args = parser.parse_args()
    chosen = subset(frames(), args.lines)
    engines = {"ppocr": ppocr_reader, "tesseract": tesseract_reader}
    readers = {name: engines[name]() for name in args.engines.split(",")}
    conditions = args.conditions.split(",")
    total = sum(len(f.lines) for f in chosen)
    print(f"{len(chosen)} frames, {total} lines ({sum(len(f.lines) for f in chosen if f.lines[0].vertical)} vertical), "
          f"fonts {sorted({f.font for f in chosen})}, conditions {conditions}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        pictures = {c: [f.image for f in chosen] if c == "raw" else encoded(chosen, c.split("-")[1], Path(tmp))
                    for c in conditions}
    rows = []
    for name, read in readers.items():
        if read is None:
            print(f"{name}: not installed, skipped")
            continue
        read(chosen[0].image)  # load models outside the timing
        for condition in conditions:
            tallies: dict[str, Tally] = defaultdict(Tally)
            started, cpu = time.perf_counter(), _cpu()
            for frame, gray in zip(chosen, pictures[condition]):
                for line, edits in score_frame(frame.lines, read(gray)):
                    for key in ("horizontal" if not line.vertical else "vertical", f"layout {frame.layout}",
                                f"background {frame.background}", f"font {frame.font}", "traditional" if line.traditional else ""):
                        if key:
                            tallies[key].add(line, edits)
                    if args.verbose and edits:
                        print(f"  {name} {condition} {frame.name}: {line.text!r} edits {edits}")
            ms = 1000 * (time.perf_counter() - started) / len(chosen)
            rows.append((name, condition, tallies, ms, 1000 * (_cpu() - cpu) / len(chosen)))
    _print(rows)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the tesseract CLI runs as one)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _print(rows: list[tuple[str, str, dict[str, Tally], float, float]]) -> None:
    print("\n| engine | condition | CER horizontal | CER vertical | line recall (h / v) | ms per frame (wall / CPU) |")
    print("|---|---|---|---|---|---|")
    for name, condition, t, ms, cpu in rows:
        print(f"| {name} | {condition} | {t['horizontal'].cer()} | {t['vertical'].cer()} | "
              f"{t['horizontal'].recall()} / {t['vertical'].recall()} | {ms:.0f} / {cpu:.0f} |")
    keys = sorted({k for _, _, t, _, _ in rows for k in t if k not in ("horizontal", "vertical")})
    print("\nCER by slice (" + ", ".join(f"{n} {c}" for n, c, _, _, _ in rows) + ")")
    for key in keys:
        print(f"  {key:24s} " + "  ".join(t[key].cer() if key in t else "   -   " for _, _, t, _, _ in rows))


if __name__ == "__main__":
    main()
