"""Memory on a long video that cuts every second: `lessonqc check` on a short and a long cut of one generator.

The video (testmedia/cuts.py: 320x180, 2 fps, silent AAC) shows a new picture every second, and
every second is a scene that wants reading. Generated once per length into .cache/bench/memory/.
Each check runs as its own `lessonqc check --profile lab --skip-stage speech` process under
`nice`; the RSS of its whole process tree (Python and the ffmpeg children) is sampled from
/proc. Speech is skipped: its VAD reads the whole 16 kHz WAV into memory (64 KB per second of
audio as float32), which grows with the length by design; the farm splits it into segments.

    python -m bench.bench_memory [--minutes 20 240] [--nice 10]
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


def check(path: Path, out: Path, minutes: int, niceness: int, interval_s: float = 0.5) -> Run:
    """`lessonqc check` of `path` in its own process, its tree's RSS sampled every `interval_s`."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "LESSONQC_MEDIA_ROOTS": str(path.parent)}
    cmd = ["nice", "-n", str(niceness), sys.executable, "-m", "workers.cli", "check", str(path),
           "--profile", "lab", "--skip-stage", "speech", "--out", str(out)]
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
    onscreen, lab = run.report["metrics"]["onscreen"], run.report["metrics"]["lab"]
    return {"minutes": run.minutes, "wall_s": round(run.seconds, 1), "peak_tree_mb": round(run.peak_tree / 2**20),
            "peak_python_mb": round(run.peak_python / 2**20), "peak_ffmpeg_mb": round(run.peak_ffmpeg / 2**20),
            "scenes": onscreen["scenes"], "pictures_kept": onscreen["ocr_frames"],
            "unread_scenes": onscreen["unread_scenes"], "ocr_s": onscreen["ocr_s"],
            "lab_samples": lab["samples"], "lab_tiles_kept": lab.get("tiles_kept"),
            "stages_s": {k: round(v["seconds"], 1) for k, v in run.report["stages"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, nargs="+", default=[20, 240])
    parser.add_argument("--nice", type=int, default=10)
    args = parser.parse_args()
    rows = []
    for minutes in args.minutes:
        made = time.monotonic()
        path = video(minutes)
        print(f"{path.name}: ready in {time.monotonic() - made:.1f} s", flush=True)
        rows.append(row(check(path, FOLDER / f"out-{minutes}min", minutes, args.nice)))
        print(json.dumps(rows[-1]), flush=True)
    first, last = rows[0], rows[-1]
    print(f"length x{last['minutes'] / first['minutes']:.1f}: wall x{last['wall_s'] / first['wall_s']:.2f}, "
          f"peak RSS (tree) x{last['peak_tree_mb'] / first['peak_tree_mb']:.2f}, "
          f"Python x{last['peak_python_mb'] / first['peak_python_mb']:.2f}, "
          f"scenes x{last['scenes'] / max(1, first['scenes']):.1f}, "
          f"pictures kept x{last['pictures_kept'] / max(1, first['pictures_kept']):.2f}")


if __name__ == "__main__":
    main()
