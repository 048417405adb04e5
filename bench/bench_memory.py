"""Memory on a long video that cuts every second: `lessonqc check` on a short and a long cut of one generator.

The video (testmedia/cuts.py: 320x180, 2 fps, silent AAC) shows a new picture every second, and
every second is a scene that wants reading. Generated once per length into .cache/bench/memory/.
Each check runs as its own `lessonqc check --profile lab` process under `nice`; the RSS of its
whole process tree (Python and the ffmpeg children) is sampled from /proc. By default speech is
left out (`--skip` with no stage runs every stage; `--skip onscreen lab` measures speech alone:
it holds its segment's audio in memory, see `safety.embedded_speech_segment_s`).

    python -m bench.bench_memory [--minutes 20 240] [--nice 10] [--skip [STAGE ...]]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.timing import CACHE
from testmedia import cached, cuts

REPO = Path(__file__).resolve().parent.parent
FOLDER = CACHE / "memory"


def video(minutes: int) -> Path:
    """The generated video of `minutes` (testmedia/cuts.py), made once."""
    return cached(FOLDER, f"cuts-every-second-{minutes}min.mp4", cuts.cuts_every_second, minutes * 60)


def tree_rss(root: int) -> dict[int, tuple[str, int]]:
    """{pid: (command name, RSS bytes)} of `root` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        found[pid] = (fields["Name"].strip(), int(fields.get("VmRSS", "0 kB").split()[0]) * 1024)
        todo += [child for child, parent in parents.items() if parent == pid]
    return found


@dataclass
class Run:
    """One check: wall seconds, peak RSS (whole tree, Python alone, largest ffmpeg) and the report."""

    minutes: int
    seconds: float
    peak_tree: int
    peak_python: int
    peak_ffmpeg: int
    report: dict


def check(path: Path, out: Path, minutes: int, niceness: int, skip: tuple[str, ...] = ("speech",),
          interval_s: float = 0.5) -> Run:
    """`lessonqc check` of `path` (the `skip` stages left out) in its own process, its tree's RSS sampled
    every `interval_s`."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "LESSONQC_MEDIA_ROOTS": str(path.parent)}
    cmd = ["nice", "-n", str(niceness), sys.executable, "-m", "cli", "check", str(path),
           "--profile", "lab", *[a for stage in skip for a in ("--skip-stage", stage)], "--out", str(out)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = {"tree": 0, "python": 0, "ffmpeg": 0}
    while proc.poll() is None:
        rss = tree_rss(proc.pid)
        peaks["tree"] = max(peaks["tree"], sum(r for _, r in rss.values()))
        peaks["python"] = max([peaks["python"]] + [r for name, r in rss.values() if name.startswith("python")])
        peaks["ffmpeg"] = max([peaks["ffmpeg"]] + [r for name, r in rss.values() if name == "ffmpeg"])
        time.sleep(interval_s)
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1, 2):
        raise RuntimeError(f"check exited {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return Run(minutes, wall, peaks["tree"], peaks["python"], peaks["ffmpeg"], report)


def row(run: Run) -> dict[str, object]:
    """The figures of one run, for the table."""
    metrics = run.report["metrics"]
    out: dict[str, object] = {
        "minutes": run.minutes, "wall_s": round(run.seconds, 1), "peak_tree_mb": round(run.peak_tree / 2**20),
        "peak_python_mb": round(run.peak_python / 2**20), "peak_ffmpeg_mb": round(run.peak_ffmpeg / 2**20),
        "stages_s": {k: round(v["seconds"], 1) for k, v in run.report["stages"].items()}}
    if "onscreen" in metrics:
        onscreen = metrics["onscreen"]
        out.update(scenes=onscreen["scenes"], pictures_kept=onscreen["ocr_frames"], ocr_s=onscreen["ocr_s"],
                   repeated_scenes=onscreen["repeated_scenes"], unread_scenes=onscreen["unread_scenes"])
    if "lab" in metrics:
        out.update(lab_samples=metrics["lab"]["samples"], lab_tiles_kept=metrics["lab"]["tiles_kept"])
    if "speech" in metrics:
        out.update(speech_skipped_share=metrics["speech"]["vad_skipped_share"], speech_rtf=metrics["speech"]["rtf"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, nargs="+", default=[20, 240])
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--skip", nargs="*", default=["speech"], help="stages left out (default: speech)")
    args = parser.parse_args()
    rows = []
    for minutes in args.minutes:
        made = time.monotonic()
        path = video(minutes)
        print(f"{path.name}: ready in {time.monotonic() - made:.1f} s", flush=True)
        rows.append(row(check(path, FOLDER / f"out-{minutes}min", minutes, args.nice, tuple(args.skip))))
        print(json.dumps(rows[-1]), flush=True)
    first, last = rows[0], rows[-1]
    ratios = {key: last[key] / max(1, first[key]) for key in ("wall_s", "peak_tree_mb", "peak_python_mb", "scenes",
                                                            "pictures_kept", "lab_tiles_kept") if key in first}
    print(f"length x{last['minutes'] / first['minutes']:.1f}: " + ", ".join(f"{k} x{v:.2f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
