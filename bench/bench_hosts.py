"""Load run of the farm across hosts (network namespaces, tests/hostfarm.py): short lessons through three
worker hosts while one of them is cut off twice, beside the same farm with one worker host.

    sudo .venv/bin/python -m bench.bench_hosts [--lessons 200] [--single 50] [--seconds 4] [--cut-s 15]

Phase 1: `--single` lessons with only cpu1 serving (cpu2 stopped). Phase 2: `--lessons` lessons with
cpu1, cpu2 and the speech host, cpu2's link cut for `--cut-s` seconds when a quarter and again when
two thirds of the reports are out. Both submit everything at once through the HTTP API; the time is
first submit -> last report. Every report is checked as the fault tests do (done once, the embedded
check's findings, one webhook per job, nothing left running). Prints lessons per minute per phase.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from testmedia import cached, clips
from tests import hostfarm
from tests.hostfarm import HostFarm


def lesson(seconds: float) -> Path:
    root = Path(__file__).resolve().parent.parent / ".cache" / "test-media"
    root.mkdir(parents=True, exist_ok=True)
    return cached(root, "hosts-bench.mp4", clips.clip, seconds, black_between=(1.0, 3.0), speech=False)


def done_count(farm: HostFarm, job_ids: list[str]) -> int:
    return sum(1 for j in job_ids if (farm.reports / j / "report.json").is_file())


def run_phase(farm: HostFarm, video: Path, count: int, cut: str | None, cut_s: float) -> tuple[float, list[str]]:
    """Submit `count` lessons, cut `cut` at 1/4 and 2/3 done; seconds until every job settled, the job ids."""
    started = time.monotonic()
    job_ids = [farm.submit(video) for _ in range(count)]
    cutter = threading.Thread(target=_cut_twice, args=(farm, job_ids, cut, cut_s), daemon=True) if cut else None
    if cutter:
        cutter.start()
    farm.settle(job_ids, timeout_s=3600)
    elapsed = time.monotonic() - started
    if cutter:
        cutter.join()
    return elapsed, job_ids


def _cut_twice(farm: HostFarm, job_ids: list[str], name: str, cut_s: float) -> None:
    for share in (1 / 4, 2 / 3):
        while done_count(farm, job_ids) < share * len(job_ids):
            time.sleep(0.5)
        farm.net.cut(farm.host(name))
        print(f"  {name} cut off at {done_count(farm, job_ids)}/{len(job_ids)} reports", flush=True)
        time.sleep(cut_s)
        farm.net.mend(farm.host(name))
        print(f"  {name} back at {done_count(farm, job_ids)}/{len(job_ids)} reports", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", type=int, default=200)
    parser.add_argument("--single", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each lesson (default 4)")
    parser.add_argument("--cut-s", type=float, default=15.0, help="seconds each cut lasts (default 15)")
    args = parser.parse_args()
    if reason := hostfarm.unavailable():
        raise SystemExit(f"bench_hosts: {reason}")
    video = lesson(args.seconds)
    farm = hostfarm.build(Path(tempfile.mkdtemp(prefix="lqhosts-bench-")), LESSONQC_TEST_SLOW_S="0")
    try:
        farm.stop_worker("cpu2")
        single_s, single = run_phase(farm, video, args.single, None, 0)
        farm.assert_outcome(single, video, runs=None)
        farm.start_worker("cpu2")
        farm.wait_workers(3)
        multi_s, multi = run_phase(farm, video, args.lessons, "cpu2", args.cut_s)
        farm.assert_outcome(multi, video, runs=None)
    finally:
        hostfarm.teardown(farm)
    print(f"{'phase':<48} {'lessons':>7} {'seconds':>8} {'lessons/min':>11}")
    for label, count, spent in (("one worker host (cpu1)", args.single, single_s),
                                (f"three hosts, cpu2 cut off twice for {args.cut_s:.0f} s", args.lessons, multi_s)):
        print(f"{label:<48} {count:>7} {spent:>8.1f} {60 * count / spent:>11.1f}")
    print(f"all {args.single + args.lessons} reports: done once, findings equal to the embedded check's, "
          "one webhook each")


if __name__ == "__main__":
    main()
