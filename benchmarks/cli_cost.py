"""The cost objective as a user runs it: the CLI's defaults (objective cost, 30 s) on the
bundled sample and the RVTools exports of ``../shared/bench``, every case twice.

Each run is ``python -m planner.cli plan FILE --quiet --json PLAN`` in a process of its own
(process start included). Recorded per run: total cost, lower bound, gap, status, wall
seconds of the process, the plan's solve seconds, whether the wall-clock cap stopped the
search before its work budget (the plan's note), the 1-minute load average at the start,
and a fingerprint of the placement, so that the report can say whether the two runs gave
the same plan.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.cli_cost
    .venv/bin/python -m benchmarks.cli_cost --cases sample --time-limit 10
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, bench_dir, machine, write_csv, write_meta
from benchmarks.inventories import RVTOOLS

__all__ = ["CASES", "FIELDS", "main"]

RUNS = 2
CASES = ("sample", *RVTOOLS)
CAP_NOTE = "stopped the search before its work budget"
RUN_FIELDS = ("cost", "bound", "gap", "status", "seconds", "solve_seconds", "capped", "load")
FIELDS = (
    "case",
    "vms",
    "time_limit",
    *(f"{f}_{r}" for r in range(1, RUNS + 1) for f in RUN_FIELDS),
    "plan_1",
    "plan_2",
    "same_plan",
)


def _path(case: str) -> Path:
    if case == "sample":
        return REPO / "data" / "sample_inventory.csv"
    return bench_dir() / RVTOOLS[case]


def _run(path: Path, time_limit: float, plan_path: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "planner.cli", "plan", str(path), "--quiet"]
    cmd += ["--set", f"time_limit_s={time_limit}", "--json", str(plan_path)]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False, cwd=REPO)
    seconds = time.perf_counter() - t0
    plan = json.loads(plan_path.read_text())
    summary = plan["summary"]
    placement = sorted((h["model"], h["role"], tuple(sorted(h["vms"]))) for h in plan["hosts"])
    return {
        "vms": summary["vm_count"],
        "cost": summary["cost_total"],
        "bound": summary["lower_bound_cost"],
        "gap": summary["gap"],
        "status": plan["status"],
        "seconds": round(seconds, 2),
        "solve_seconds": summary["solve_seconds"],
        "capped": int(any(CAP_NOTE in note for note in plan.get("notes", []))),
        "load": round(load, 2),
        "plan": hashlib.sha256(repr(placement).encode()).hexdigest()[:12],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: plan the selected cases through the CLI, twice each."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help=f"of {', '.join(CASES)}")
    ap.add_argument("--time-limit", type=float, default=30.0, help="the policy's time_limit_s")
    ap.add_argument("--out", type=Path, default=RESULTS / "cli_cost.csv")
    args = ap.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(unknown)}")
    started = machine()
    t_all = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cost-cli-") as tmp:
        for case in cases:
            plan_path = Path(tmp) / "plan.json"
            runs = [_run(_path(case), args.time_limit, plan_path) for _ in range(RUNS)]
            row: dict[str, Any] = {"case": case, "vms": runs[0]["vms"]}
            row["time_limit"] = args.time_limit
            for r, res in enumerate(runs, 1):
                for field in RUN_FIELDS:
                    row[f"{field}_{r}"] = res[field]
                row[f"plan_{r}"] = res["plan"]
            row["same_plan"] = int(len({res["plan"] for res in runs}) == 1)
            rows.append(row)
            print(row, flush=True)
    write_csv(args.out, rows, FIELDS)
    write_meta(
        args.out,
        {
            "benchmark": "cost objective through the CLI (defaults), every case twice",
            "time_limit_s": args.time_limit,
            "instances": len(rows),
            "total_wall_s": round(time.perf_counter() - t_all, 1),
        },
        started,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
