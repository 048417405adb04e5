"""`make bench`: run every benchmark in turn; each prints its own ratios."""
from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ["bench.bench_check", "bench.bench_speech", "bench.bench_onscreen", "bench.bench_lab", "bench.bench_farm",
              "bench.bench_api", "bench.bench_package"]


def main() -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"\n=== {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module]).returncode != 0:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
