"""Render a benchmark Lesson to an MP4 (1920x1080, 25 fps, H.264 + AAC 48 kHz), cached by digest.

Each shot is encoded on its own by ffmpeg (background source, the Pillow layer over it with
its entrance, an optional camera inset and subtitles); the shots are joined with the concat
demuxer (stream copy) and muxed with the numpy soundtrack.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from bench.accuracy import art
from bench.accuracy.model import Lesson, Panel, Picture, Shot, Text
from bench.accuracy.sound import soundtrack

FPS = 25
W, H = art.SIZE
ENTER_S = 0.6
ENCODE = ["-r", str(FPS), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p"]


def ffmpeg(*args: str, timeout: float = 600) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(cmd)}\n{proc.stderr}")


def cached(lesson: Lesson, cache: Path, name: str) -> Path:
    """The lesson rendered once into `cache` (file name: case name + digest of the spec)."""
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{name}-{lesson.digest()}.mp4"
    return out if out.exists() and out.stat().st_size > 0 else render(lesson, out)


def render(lesson: Lesson, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="accuracy-") as tmp:
        folder = Path(tmp)
        chunks: list[Path] = []
        for i, shot in enumerate(lesson.shots):
            chunks.append(_shot(shot, folder, i, _last_frame(chunks[-1], folder) if shot.frozen else None))
        listing = folder / "chunks.txt"
        listing.write_text("".join(f"file '{c.name}'\n" for c in chunks), encoding="utf-8")
        wav = soundtrack(lesson, folder / "sound.wav")
        partial = folder / out.name
        ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-i", wav, "-map", "0:v", "-map", "1:a", "-c:v", "copy",
               "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-t", f"{lesson.seconds:.3f}",
               "-movflags", "+faststart", partial)
        partial.replace(out)
    return out


def _last_frame(chunk: Path, folder: Path) -> Path:
    png = folder / f"{chunk.stem}-last.png"
    ffmpeg("-sseof", "-0.2", "-i", chunk, "-update", "1", "-frames:v", "1", png)
    return png


def _shot(shot: Shot, folder: Path, i: int, frozen: Path | None) -> Path:
    out = folder / f"chunk{i:03d}.mp4"
    if frozen is not None or _static(shot):
        png = frozen or _compose(shot, folder / f"still{i:03d}.png")
        fade = _fades(shot, "")
        ffmpeg("-i", png, "-vf", f"format=yuv420p,tpad=stop_mode=clone:stop_duration={shot.seconds:.3f}{fade}",
               "-t", f"{shot.seconds:.3f}", *ENCODE, out)
        return out
    inputs: list[list[str]] = []
    graph, last = _background(shot, folder, i, inputs)
    if shot.picture is not None:
        graph, last = _layer(shot, folder, i, inputs, graph, last)
    if shot.inset:
        graph, last = _inset(shot, folder, i, inputs, graph, last)
    for k, (a, b, text) in enumerate(shot.subtitles):
        png = folder / f"sub{i:03d}-{k}.png"
        art.layer(_subtitle(text)).save(png)
        inputs.append(["-i", str(png)])
        graph += f";[{len(inputs) - 1}:v]{_LOOP}[sp{k}];[{last}][sp{k}]overlay=0:0:enable='between(t,{a},{b})'[s{k}]"
        last = f"s{k}"
    graph += f";[{last}]trim=duration={shot.seconds:.3f}{_fades(shot, ',')}[out]"
    ffmpeg(*[a for group in inputs for a in group], "-filter_complex", graph, "-map", "[out]",
           "-t", f"{shot.seconds:.3f}", *ENCODE, out)
    return out


_LOOP = f"loop=loop=-1:size=1:start=0,setpts=N/({FPS}*TB)"


def _static(shot: Shot) -> bool:
    return shot.background.kind == "solid" and shot.enter in ("cut", "black") and not shot.inset and not shot.subtitles


def _compose(shot: Shot, png: Path) -> Path:
    img = Image.new("RGBA", art.SIZE, shot.background.color)
    if shot.picture is not None:
        img.alpha_composite(art.layer(shot.picture))
    img.convert("RGB").save(png)
    return png


def _fades(shot: Shot, sep: str) -> str:
    fades = []
    if shot.enter == "black":
        fades.append(f"fade=t=in:st=0:d={ENTER_S}")
    if shot.leave == "fade":
        fades.append(f"fade=t=out:st={max(0.0, shot.seconds - ENTER_S):.3f}:d={ENTER_S}")
    if not fades:
        return ""
    return ("," if not sep else sep) + ",".join(fades)


def _background(shot: Shot, folder: Path, i: int, inputs: list[list[str]]) -> tuple[str, str]:
    bg, s = shot.background, shot.seconds
    hexa = bg.color.lstrip("#")[:6]
    if bg.kind == "solid":
        inputs.append(["-f", "lavfi", "-i", f"color=c=0x{hexa}:s={W}x{H}:r={FPS}:d={s:.3f}"])
        return "[0:v]format=yuv420p[bg]", "bg"
    if bg.kind == "gradient":
        art.gradient(bg.color, bg.color2, bg.seed).save(folder / f"bg{i:03d}.png")
        inputs.append(["-i", str(folder / f"bg{i:03d}.png")])
        return (f"[0:v]format=yuv420p,{_LOOP},crop={W}:{H}:x='(iw-{W})/2*(1+sin(t*0.9))':"
                f"y='(ih-{H})/2*(1+cos(t*0.7))'[bg]"), "bg"
    if bg.kind == "stripes":
        period = 160
        art.stripes(bg.color, bg.color2, period).save(folder / f"bg{i:03d}.png")
        inputs.append(["-i", str(folder / f"bg{i:03d}.png")])
        return f"[0:v]format=yuv420p,{_LOOP},crop={W}:{H}:x='mod(t*120,{period})':y=0[bg]", "bg"
    if bg.kind in ("photo", "camera"):
        art.photo(bg.seed).save(folder / f"bg{i:03d}.png")
        inputs.append(["-i", str(folder / f"bg{i:03d}.png")])
        graph = f"[0:v]format=yuv420p,{_LOOP},crop={W}:{H}:x='(iw-{W})*t/{s:.3f}':y='(ih-{H})*t/{2 * s:.3f}'[bg]"
        if bg.kind == "photo":
            return graph, "bg"
        art.person(bg.seed).save(folder / f"person{i:03d}.png")
        inputs.append(["-i", str(folder / f"person{i:03d}.png")])
        return (graph + f";[1:v]{_LOOP}[who];[bg][who]overlay=x='780+260*sin(t*1.1)':y='H-h+20*sin(t*2.3)'[cam]"), "cam"
    raise ValueError(f"unknown background {bg.kind}")


def _layer(shot: Shot, folder: Path, i: int, inputs: list[list[str]], graph: str, last: str) -> tuple[str, str]:
    png = folder / f"layer{i:03d}.png"
    art.layer(shot.picture).save(png)
    inputs.append(["-i", str(png)])
    n = len(inputs) - 1
    src = f"[{n}:v]format=yuva420p,{_LOOP}"
    if shot.enter == "fade":
        return graph + f";{src},fade=t=in:st=0:d={ENTER_S}:alpha=1[lay];[{last}][lay]overlay=0:0[l]", "l"
    x = f"'if(lt(t,{ENTER_S}),W*(1-t/{ENTER_S}),0)'" if shot.enter == "push" else "0"
    return graph + f";{src}[lay];[{last}][lay]overlay=x={x}:y=0:eval=frame[l]", "l"


def _inset(shot: Shot, folder: Path, i: int, inputs: list[list[str]], graph: str, last: str) -> tuple[str, str]:
    art.photo(shot.background.seed + 7, (560, 320)).save(folder / f"inroom{i:03d}.png")
    art.person(shot.background.seed + 7, (120, 180)).save(folder / f"inperson{i:03d}.png")
    inputs.append(["-i", str(folder / f"inroom{i:03d}.png")])
    inputs.append(["-i", str(folder / f"inperson{i:03d}.png")])
    room, who = len(inputs) - 2, len(inputs) - 1
    return (graph + f";[{room}:v]{_LOOP},crop=384:216:x='88*(1+sin(t*0.4))':y=52[ir];[{who}:v]{_LOOP}[iw];"
                    f"[ir][iw]overlay=x='130+90*sin(t*1.7)':y='H-h+8*sin(t*3.1)',noise=alls=4:allf=t[cam];"
                    f"[{last}][cam]overlay=x=W-w-40:y=H-h-40[ins]"), "ins"


def _subtitle(text: str) -> Picture:
    """A burned-in subtitle: white text on a dark translucent band near the bottom."""
    return Picture(texts=(Text(text, (W // 2, H - 150), 44, "sans", "#ffffff", "ma"),),
                   panels=(Panel((W // 2 - _half(text), H - 162, W // 2 + _half(text), H - 88), "#000000a0", 8),))


def _half(text: str) -> int:
    return int(len(text) * 44 * 0.52) + 40
