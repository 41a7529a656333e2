"""A sweep's wall time on the local backend against Ray on this machine, through the CLI.

Each run is ``python -m planner.cli sweep ... --backend B --jobs J --csv FILE --quiet`` in a
process of its own, timed from start to exit (interpreter start, imports and, for Ray, the
start and stop of a local Ray instance included). Three cases:

* ``seed-4`` and ``seed-16``: the seed example (9 VMs, solves of a few milliseconds) over 4
  and 16 values of ``cpu_overcommit``, jobs 2: nearly all of the time is overhead, and the
  difference between the two grids, over 12 more tasks, is the cost of one task;
* ``rvtools-4``: the bundled ``rvtools_small.xlsx`` over ``cpu_overcommit=2,3,4,5`` (solves of
  a few seconds that stop on work done), jobs 1 and 2: how the backend scales with workers.

Every configuration runs twice, the runs interleaved (run 1 of every configuration, then run
2), and each run records a fingerprint of its rows without the timing column, so the report
can say whether both backends and both runs wrote the same rows.

Usage (from the repository root; about five minutes, run nothing else meanwhile):
    .venv/bin/python -m benchmarks.sweep_backends
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import REPO, RESULTS, machine, write_csv, write_meta

__all__ = ["CASES", "FIELDS", "main"]

RUNS = 2
SEED = REPO / "data" / "seed_example"
SEED_ARGS = ("--hosts", str(SEED / "hosts.csv"), "--policy", str(SEED / "policy.toml"))
CASES: dict[str, tuple[Path, tuple[str, ...], str, tuple[int, ...]]] = {
    # name: inventory, options, the --vary grid, the jobs to try
    "seed-4": (SEED / "inventory.csv", SEED_ARGS, "cpu_overcommit=1,2,3,4", (2,)),
    "seed-16": (
        SEED / "inventory.csv",
        SEED_ARGS,
        "cpu_overcommit=" + ",".join(str(v) for v in range(1, 17)),
        (2,),
    ),
    "rvtools-4": (
        REPO / "data" / "samples" / "rvtools_small.xlsx",
        (),
        "cpu_overcommit=2,3,4,5",
        (1, 2),
    ),
}
BACKENDS = ("local", "ray")
FIELDS = (
    "case",
    "points",
    "backend",
    "jobs",
    "run",
    "seconds",
    "solve_seconds",
    "statuses",
    "rows",
    "exit_code",
    "load",
)


def _run(case: str, backend: str, jobs: int, run: int, folder: Path) -> dict[str, Any]:
    inventory, options, vary, _ = CASES[case]
    out = folder / f"{case}-{backend}-{jobs}-{run}.csv"
    cmd = [sys.executable, "-m", "planner.cli", "sweep", str(inventory), *options]
    cmd += ["--vary", vary, "--backend", backend, "--jobs", str(jobs), "--csv", str(out)]
    cmd += ["--quiet"]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    row: dict[str, Any] = {
        "case": case,
        "points": len(vary.split(",")),
        "backend": backend,
        "jobs": jobs,
        "run": run,
        "seconds": seconds,
        "exit_code": proc.returncode,
        "load": load,
    }
    if out.exists():
        table = pd.read_csv(out)
        row["solve_seconds"] = float(table["solve_seconds"].sum())
        row["statuses"] = ";".join(
            f"{s} {n}" for s, n in sorted(table["status"].value_counts().items())
        )
        rows = table.drop(columns=["solve_seconds"]).to_csv(index=False)
        row["rows"] = hashlib.sha256(rows.encode()).hexdigest()[:12]
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return row


def main(argv: Sequence[str] | None = None) -> int:
    """Run every configuration twice and write ``results/sweep_backends.csv``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    ap.add_argument("--out", type=Path, default=RESULTS / "sweep_backends.csv")
    args = ap.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    started = machine()
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, RUNS + 1):
            for case in cases:
                for jobs in CASES[case][3]:
                    for backend in BACKENDS:
                        row = _run(case, backend, jobs, run, Path(tmp))
                        rows.append(row)
                        print(row, flush=True)
    write_csv(args.out, rows, FIELDS)
    options = {
        "benchmark": "sweep wall time through the CLI, local backend against Ray",
        "runs": RUNS,
        "cases": {c: CASES[c][2] for c in cases},
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "ray": _ray_version(),
    }
    write_meta(args.out, options, started)
    return 0


def _ray_version() -> str:
    try:
        import ray  # noqa: PLC0415 - optional

        return str(ray.__version__)
    except ImportError:
        return "not installed"


if __name__ == "__main__":
    raise SystemExit(main())
