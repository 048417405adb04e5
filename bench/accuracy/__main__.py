"""`python -m bench.accuracy`: build the benchmark lessons (cached in .cache/accuracy), check each
with only the stages it needs, print precision and recall per finding code for the tune part and
the held-out part (split per family by `--seed`). Exit 1 when the held-out part misses the bar."""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.accuracy import catalog, render, score
from bench.accuracy.model import Case

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE = ROOT / ".cache" / "accuracy"
PROFILE = Path(__file__).resolve().parent / "profile.yaml"
PARTS = ("tune", "held-out")
MIN_RECALL = 0.95


def split(cases: list[Case], seed: int) -> dict[str, str]:
    """case name -> part: a part the family fixed, else within each family a seeded shuffle dealt
    alternately to tune and held-out."""
    by_family: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_family[case.family].append(case)
    parts: dict[str, str] = {c.name: c.part for c in cases if c.part}
    for family in sorted(by_family):
        names = sorted(c.name for c in by_family[family] if not c.part)
        random.Random(f"{seed}:{family}").shuffle(names)
        parts.update({name: PARTS[i % 2] for i, name in enumerate(names)})
    return parts


def check_case(case: Case, path: Path, work: Path) -> list[dict]:
    """The embedded check of one lesson with only the case's stages; findings as dicts."""
    from pipelines import check, profile, registry
    from pipelines.domain import to_jsonable

    prof = profile.load(PROFILE)
    skip = frozenset(registry.all_stages()) - case.stages
    report = check.check(path, prof, work / case.name, skip=skip)
    errors = {k: v.error for k, v in report.stages.items() if v.status == "error"}
    if errors:
        print(f"  ! {case.name}: stage errors {errors}", flush=True)
    return [to_jsonable(f) for f in report.findings]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--part", choices=[*PARTS, "both"], default="both")
    parser.add_argument("-k", "--only", default="", help="only cases whose name contains this")
    parser.add_argument("-f", "--family", action="append", help="only this family (repeatable): " + ", ".join(
        m.rsplit("_", 1)[-1] for m in catalog.FAMILIES))
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every finding of every case")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="lessons checked at once (processes)")
    args = parser.parse_args(argv)
    cases = catalog.all_cases()
    parts = split(cases, args.seed)
    chosen = [c for c in cases if args.only in c.name and (args.part == "both" or parts[c.name] == args.part)
              and (not args.family or c.family in args.family)]
    tables = {p: score.new_table() for p in PARTS if args.part in (p, "both")}
    started = time.perf_counter()
    paths = {c.name: render.cached(c.lesson, CACHE, c.name) for c in chosen}
    print(f"{len(chosen)} lessons ready in {time.perf_counter() - started:.0f} s ({CACHE})", flush=True)
    if args.build_only:
        return 0
    with tempfile.TemporaryDirectory(prefix="accuracy-") as tmp, ProcessPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(check_case, case, paths[case.name], Path(tmp)) for case in chosen]
        for case, job in zip(chosen, jobs):
            findings = job.result()
            score.tally(case, findings, tables[parts[case.name]])
            if args.verbose:
                print(f"  {case.name} [{parts[case.name]}]: " + "; ".join(
                    f"{f['code']} {f['severity']} {f['start_s']}-{f['end_s']}" for f in findings), flush=True)
    print(f"checked in {time.perf_counter() - started:.0f} s (seed {args.seed})\n")
    print(score.render_table(tables))
    for part, table in tables.items():
        for code, t in sorted(table.items()):
            for line in t.misses:
                print(f"  [{part}] missed {code}: {line}")
            for line in t.false:
                print(f"  [{part}] false {code}: {line}")
    held = tables.get("held-out")
    problems = score.done(held, MIN_RECALL) if held is not None else []
    print("\nheld-out bar (recall >= 0.95, no false alarm at fail): " + ("met" if not problems else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
