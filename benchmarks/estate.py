"""Existing estates through the CLI, twice: hosts kept against the bound, moves, waves.

The three acceptance cases of the existing-estate planning, each planned by
``python -m planner.cli plan`` in a process of its own, twice:

- BillSample (RVTools XLSX with vHost, 8 hosts): ``estate = existing``, host-count
  objective, the clusters merged into one pool, 90 % ceiling;
- SizingWorkshop (RVTools XLSX, 34 hosts in vHost, host names that disagree with vInfo):
  ``estate = existing``, host count, 10 vCPU per core and memory overcommit 1.25 (today's
  estate runs Cluster2 at 6.4 vCPU per core and 76 % of its memory allocated);
- the RVTools analyzer sample (per-tab CSVs) with ``--current-hosts`` and ``max_moves = 0``:
  today's placement checked against the default policy.

Recorded: status, hosts kept, lower bound, retired hosts, moved VMs and their bound, whether
the moves are proven minimal, waves, unmatched host names, violations, the process's wall
seconds (start included) and a fingerprint of the placement.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.estate
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, bench_dir, machine, write_csv, write_meta

__all__ = ["main"]

RUNS = 2
WORKSHOP = "inventories/rvtools_nutanix_sizing_workshop"
ANALYZER = "inventories/rvtools_analyzer_sample"
CASES: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    (
        "BillSample existing, hosts",
        f"{WORKSHOP}/BillSampleNextRvtoolsFinal.xlsx",
        None,
        ("objective=hosts", "clusters=merge", "max_utilization=0.9"),
    ),
    (
        "SizingWorkshop existing, hosts",
        f"{WORKSHOP}/SizingWorkshop-RVTools.xlsx",
        None,
        ("objective=hosts", "cpu_overcommit=10", "memory_overcommit=1.25"),
    ),
    (
        "analyzer CSV, max_moves=0",
        f"{ANALYZER}/RVTools_tabvInfo.csv",
        f"{ANALYZER}/RVTools_tabvHost.csv",
        ("max_moves=0",),
    ),
)
RUN_FIELDS = ("status", "hosts", "bound", "moved", "seconds", "plan")
FIELDS = (
    "case",
    "settings",
    "vms",
    "owned",
    "retired",
    "moves_bound",
    "moves_proven",
    "waves",
    "unmatched_names",
    "violations",
    *(f"{f}_{r}" for r in range(1, RUNS + 1) for f in RUN_FIELDS),
    "same_plan",
)


def _run(
    bench: Path, inventory: str, hosts: str | None, sets: tuple[str, ...], out: Path
) -> dict[str, Any]:
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "planner.cli", "plan", str(bench / inventory), "--quiet"]
    if hosts:
        cmd += ["--current-hosts", str(bench / hosts)]
    for s in ("estate=existing", *sets):
        cmd += ["--set", s]
    cmd += ["--json", str(out)]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - t0
    plan = json.loads(out.read_text())
    placement = sorted([h["id"], *sorted(h["vms"])] for h in plan["hosts"])
    m = plan["migration"]
    return {
        "status": plan["status"],
        "hosts": plan["summary"]["host_count"],
        "bound": plan["summary"]["lower_bound_hosts"],
        "moved": m["moved_vm_count"],
        "seconds": round(seconds, 2),
        "plan": hashlib.sha256(json.dumps(placement).encode()).hexdigest()[:12],
        "vms": plan["summary"]["vm_count"],
        "owned": plan["summary"]["host_count"] + plan["summary"]["retired_host_count"],
        "retired": plan["summary"]["retired_host_count"],
        "moves_bound": m["moves_bound"],
        "moves_proven": m["moves_proven"],
        "waves": m["waves"],
        "unmatched_names": len(m["unmatched_hosts"]),
        "violations": len(m["violations"]),
    }


def main() -> None:
    """Plan every case twice and write ``results/estate.csv``."""
    bench = bench_dir()
    started = machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, inventory, hosts, sets in CASES:
            row: dict[str, Any] = {"case": name, "settings": " ".join(sets)}
            for r in range(1, RUNS + 1):
                result = _run(bench, inventory, hosts, sets, Path(tmp) / "plan.json")
                for key in RUN_FIELDS:
                    row[f"{key}_{r}"] = result[key]
                for key in FIELDS[2:10]:
                    row[key] = result[key]
            row["same_plan"] = row["plan_1"] == row["plan_2"]
            rows.append(row)
            print(row, flush=True)
    write_csv(RESULTS / "estate.csv", rows, FIELDS)
    write_meta(RESULTS / "estate.csv", {"runs": RUNS}, started)


if __name__ == "__main__":
    main()
