"""A realistic sample lesson: 1080p25 H.264/AAC, title card, Chinese slides,
a small moving inset (the teacher camera) and natural Mandarin speech.

Used by `make demo` (through bench/make_lesson.py), the benchmarks and the tests.
Slides are drawn with Pillow (Noto CJK), encoded once by ffmpeg with the slides as a
concat list. An advertising slide and the spoken promotion clip can be planted.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from testmedia.base import DATA, LESSON_CLIPS, PROMO_CLIP, SANS, SANS_BOLD, ffmpeg, looped_clips

TITLE_CARD = ["教材版本：人教版", "学科：数学", "年级：三年级上册", "课名：分数的初步认识", "主讲教师：王丽"]
TOPICS = ["认识几分之一", "比较几分之一的大小", "认识几分之几", "分数的简单计算", "分数的简单应用", "练习与小结"]
AD_SLIDE = ["更多资料请访问 www.example-edu.com", "咨询电话 13812345678", "关注微信公众号：数学加油站"]


@dataclass
class LessonSpec:
    """What to draw: seconds, size, slides, and optional planted defects."""

    seconds: float = 600.0
    width: int = 1920
    height: int = 1080
    fps: int = 25
    slide_s: float = 30.0
    title_s: float = 6.0
    video_bitrate: str = "6M"
    inset: bool = True
    ad_slide_at: float | None = None          # seconds: a slide with URL/phone/公众号 for `slide_s`
    promo_speech_at: float | None = None       # seconds: the spoken promotion clip replaces speech here
    extra_args: list[str] = field(default_factory=list)


def slide(lines: list[str], size: tuple[int, int], title: str | None = None, bg: str = "#fdfbf5") -> Image.Image:
    """One slide: an optional bold heading and centred lines of Chinese text."""
    w, h = size
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    scale = h / 1080
    y = int(120 * scale)
    if title:
        font = ImageFont.truetype(SANS_BOLD, int(72 * scale))
        draw.text((w // 2, y), title, font=font, fill="#1a3e72", anchor="mt")
        y += int(160 * scale)
    font = ImageFont.truetype(SANS, int(54 * scale))
    for line in lines:
        draw.text((int(160 * scale), y), line, font=font, fill="#222222")
        y += int(96 * scale)
    return img


def slide_plan(spec: LessonSpec) -> list[tuple[Image.Image, float]]:
    """(image, seconds) for the whole lesson: title card, topic slides, optional ad slide."""
    size = (spec.width, spec.height)
    plan = [(slide(TITLE_CARD, size, "分数的初步认识"), spec.title_s)]
    t, i, ad_at = spec.title_s, 0, spec.ad_slide_at
    while t < spec.seconds - 0.01:
        dur = min(spec.slide_s, spec.seconds - t)
        if ad_at is not None and t <= ad_at < t + dur:
            dur = ad_at - t
            if dur > 0:
                plan.append((_topic_slide(i, size), dur))
            plan.append((slide(AD_SLIDE, size, "课后拓展"), spec.slide_s))
            t, ad_at = ad_at + spec.slide_s, None
            continue
        plan.append((_topic_slide(i, size), dur))
        t, i = t + dur, i + 1
    return plan


def _topic_slide(i: int, size: tuple[int, int]) -> Image.Image:
    topic = TOPICS[i % len(TOPICS)]
    lines = [f"第{i + 1}部分：{topic}", "把一个整体平均分成若干份，", "表示这样的一份或几份的数叫做分数。",
             f"例：一个长方形平均分成 {i % 5 + 2} 份，每份是它的 1/{i % 5 + 2}。"]
    return slide(lines, size, topic)


def write_concat(plan: list[tuple[Image.Image, float]], folder: Path) -> Path:
    """PNG files plus an ffmpeg concat list giving each its duration."""
    lines = ["ffconcat version 1.0"]
    for n, (img, seconds) in enumerate(plan):
        png = folder / f"slide{n:03d}.png"
        img.save(png)
        lines += [f"file '{png.name}'", f"duration {seconds:.3f}"]
    lines.append(f"file '{folder / f'slide{len(plan) - 1:03d}.png'}'")
    listing = folder / "slides.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


def audio_graph(spec: LessonSpec, first_input: int) -> tuple[list[str], str]:
    """Inputs and filter graph for the speech track (lesson clips looped; optional promo clip)."""
    inputs, graph = looped_clips(spec.seconds, 0.8, first_input=first_input, retime=True)
    inputs += ["-i", str(DATA / PROMO_CLIP)]
    if spec.promo_speech_at is None:
        return inputs, graph.replace("[speech]", "[aout]")
    promo = first_input + len(LESSON_CLIPS)
    at_ms = int(spec.promo_speech_at * 1000)
    graph += (f";[{promo}:a]aresample=48000,pan=stereo|c0=c0|c1=c0,adelay={at_ms}|{at_ms}[promo];"
              f"[speech]volume='if(between(t,{spec.promo_speech_at},{spec.promo_speech_at + 9}),0,1)':eval=frame[bed];"
              f"[bed][promo]amix=inputs=2:duration=first:normalize=0[aout]")
    return inputs, graph


def make_lesson(out: Path, spec: LessonSpec) -> Path:
    """Render the lesson described by `spec` to `out` (MP4)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lesson-") as tmp:
        listing = write_concat(slide_plan(spec), Path(tmp))
        args = ["-f", "concat", "-safe", "0", "-i", str(listing)]
        vgraph = f"[0:v]fps={spec.fps},format=yuv420p[bg]"
        if spec.inset:
            iw, ih = spec.width // 6, spec.height // 6
            args += ["-f", "lavfi", "-i", f"testsrc2=s={iw}x{ih}:r={spec.fps}"]
            vgraph += f";[bg][1:v]overlay=x=W-w-{spec.width // 40}:y=H-h-{spec.height // 40}:shortest=1[v]"
        else:
            vgraph = vgraph.replace("[bg]", "[v]")
        audio_inputs, agraph = audio_graph(spec, 2 if spec.inset else 1)
        args += audio_inputs + ["-filter_complex", f"{vgraph};{agraph}", "-map", "[v]", "-map", "[aout]",
                                "-t", f"{spec.seconds}", "-r", str(spec.fps),
                                "-c:v", "libx264", "-preset", "ultrafast", "-g", str(spec.fps * 4),
                                "-b:v", spec.video_bitrate, "-minrate", spec.video_bitrate,
                                "-maxrate", spec.video_bitrate, "-bufsize", spec.video_bitrate,
                                "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                                "-movflags", "+faststart", *spec.extra_args, str(out)]
        ffmpeg(*args, timeout=3600)
    return out
