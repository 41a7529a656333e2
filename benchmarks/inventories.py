"""Realistic inventories: real exports and generated estates, planned with the bundled catalog.

Cases (each with objective ``hosts`` and ``cost``, default ``Policy`` otherwise):

    rvtools-workshop   RVTools vInfo, Nutanix sizing workshop (795 VMs after templates)
    rvtools-billsample RVTools vInfo, "BillSampleNext" (129 VMs)
    rvtools-analyzer   RVTools tabvInfo CSV, newer format, synthetic (348 VMs)
    bitbrains          500 real VMs of the Bitbrains GWA-T-12 "Rnd" trace, with p95 usage
    gen-1k, gen-10k, gen-100k   ``benchmarks.generate`` (seed 0)

The solver time limit is 10 s up to 10k VMs and 60 s for 100k. Every case runs in a fresh
interpreter (its peak RSS is what a user's ``planner`` process would show) with a hard
timeout. Reported: VMs, distinct sizes, hosts, lower bound, status, gap, times, peak RSS.

    .venv/bin/python -m benchmarks.inventories
    .venv/bin/python -m benchmarks.inventories --cases gen-100k --objectives hosts
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    bench_dir,
    machine,
    planner_sources,
    run_isolated,
    start_workers,
    write_csv,
    write_meta,
)
from benchmarks.generate import generate_inventory
from planner.catalog import load_catalog
from planner.ingest import read_inventory
from planner.models import VM, Inventory, Policy, SolverParams
from planner.pipeline import run

__all__ = ["CASES", "FIELDS", "bitbrains_inventory", "main", "run_case"]

RVTOOLS = {
    "rvtools-workshop": "inventories/rvtools_nutanix_sizing_workshop/SizingWorkshop_vInfo.csv",
    "rvtools-billsample": "inventories/rvtools_nutanix_sizing_workshop/BillSampleNext_vInfo.csv",
    "rvtools-analyzer": "inventories/rvtools_analyzer_sample/RVTools_tabvInfo.csv",
}
BITBRAINS = "inventories/bitbrains_gwa_t12_rnd/bitbrains_rnd_vms.csv"
GENERATED = {"gen-1k": 1_000, "gen-10k": 10_000, "gen-100k": 100_000}
CASES = (*RVTOOLS, "bitbrains", *GENERATED)

FIELDS = (
    "case",
    "objective",
    "outcome",
    "vms",
    "placed",
    "unplaced",
    "distinct_sizes",
    "partitions",
    "hosts",
    "spares",
    "lower_bound_hosts",
    "objective_value",
    "objective_bound",
    "gap",
    "status",
    "engine",
    "time_limit",
    "solve_seconds",
    "run_seconds",
    "read_seconds",
    "peak_rss_mib",
    "notes",
    "planner_sources",
    "error",
)


def time_limit_for(case: str) -> float:
    """The solver time limit of a case: 60 s for 100k VMs, 10 s otherwise."""
    return 60.0 if GENERATED.get(case, 0) >= 100_000 else 10.0


def bitbrains_inventory(path: Path) -> tuple[Inventory, str]:
    """The Bitbrains VMs as an ``Inventory``, and a note on what was skipped or clamped.

    vCPUs are the provisioned maximum (``vcpu``), memory ``memory_mib`` / 1024 GiB; CPU and
    memory utilisation are the p95 usage against the provisioned capacity, clamped to 0-100
    (the trace's CPU usage can exceed the provisioned MHz). Rows with no vCPU are skipped.
    """
    vms = []
    skipped = clamped = 0
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            vcpu = int(float(row["vcpu"]))
            mem_mib = float(row["memory_mib"])
            if vcpu < 1 or mem_mib <= 0:
                skipped += 1
                continue
            cap_mhz = float(row["cpu_capacity_mhz"])
            cpu = 100 * float(row["cpu_usage_mhz_p95"]) / cap_mhz if cap_mhz > 0 else 100.0
            mem = 100 * float(row["memory_usage_mib_p95"]) / mem_mib
            clamped += cpu > 100 or mem > 100
            vms.append(
                VM(
                    name=f"bb{row['vm_id']}",
                    vcpus=vcpu,
                    memory_gib=mem_mib / 1024,
                    cpu_util_pct=min(100.0, max(0.0, cpu)),
                    mem_util_pct=min(100.0, max(0.0, mem)),
                )
            )
    note = f"{skipped} rows skipped (vcpu 0 or no memory); {clamped} utilisations clamped to 100 %"
    inv = Inventory(source=path.name, format="native", vms=tuple(vms), notes=(note,))
    return inv, note


def _load(case: str, bench: Path) -> tuple[Inventory, str]:
    if case in RVTOOLS:
        inv = read_inventory(bench / RVTOOLS[case])
        dropped = ", ".join(f"{n} {k}" for k, n in inv.dropped.items() if n)
        return inv, f"dropped: {dropped}" if dropped else ""
    if case == "bitbrains":
        return bitbrains_inventory(bench / BITBRAINS)
    if case in GENERATED:
        return generate_inventory(GENERATED[case], seed=0), "seed 0"
    raise ValueError(f"unknown case {case!r}")


def run_case(case: str, bench: str, objective: str, time_limit_s: float) -> dict[str, Any]:
    """Read or generate one inventory and plan it (runs inside the isolated child process)."""
    t0 = time.perf_counter()
    inventory, note = _load(case, Path(bench))
    catalog = load_catalog()
    read_s = time.perf_counter() - t0
    policy = Policy(objective=objective)
    t0 = time.perf_counter()
    problem, plan = run(inventory, catalog, policy, SolverParams(time_limit_s=time_limit_s))
    run_s = time.perf_counter() - t0
    return {
        "vms": len(inventory.vms),
        "placed": len(problem.vms) - (len(plan.unplaced) - len(problem.unplaced)),
        "unplaced": len(plan.unplaced),
        "distinct_sizes": len({(v.cpu_m, v.mem_mib) for v in problem.vms}),
        "partitions": len(problem.partitions),
        "hosts": len(plan.hosts),
        "spares": len(plan.spare_hosts),
        "lower_bound_hosts": plan.lower_bound_hosts,
        "objective_value": plan.objective_value,
        "objective_bound": plan.objective_bound,
        "gap": plan.gap,
        "status": plan.status,
        "engine": plan.engine,
        "solve_seconds": plan.solve_seconds,
        "run_seconds": run_s,
        "read_seconds": read_s,
        "notes": note,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the selected cases and write ``results/inventories.csv``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default=",".join(CASES), help=f"comma list of {', '.join(CASES)}")
    ap.add_argument("--objectives", default="hosts,cost", help="hosts, cost or both")
    ap.add_argument(
        "--time-limit",
        type=float,
        default=0,
        help="solver seconds (default: 10, and 60 for 100k VMs)",
    )
    ap.add_argument(
        "--hard-timeout",
        type=float,
        default=600,
        help="seconds over the time limit before a case is killed (sizing, failure "
        "simulation and verification are outside the solver's limit)",
    )
    ap.add_argument("--out", type=Path, default=RESULTS / "inventories.csv")
    args = ap.parse_args(argv)

    bench = bench_dir()
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    objectives = [o for o in args.objectives.split(",") if o]
    started = machine()
    start_workers()
    rows: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    for case in cases:
        for objective in objectives:
            limit = args.time_limit or time_limit_for(case)
            hard = limit + args.hard_timeout
            sources = planner_sources()  # the code the fresh interpreter is about to import
            res = run_isolated(
                "benchmarks.inventories:run_case",
                {"case": case, "bench": str(bench), "objective": objective, "time_limit_s": limit},
                hard,
                fresh=True,
            )
            row = {
                "case": case,
                "objective": objective,
                "outcome": res.outcome,
                "time_limit": limit,
                "peak_rss_mib": res.peak_rss_mib,
                "planner_sources": sources,
                "error": res.error,
                **res.value,
            }
            rows.append(row)
            write_csv(args.out, rows, FIELDS)
            print(
                f"{case:<18} {objective:<5} {res.outcome:<7} vms={row.get('vms', '-')} "
                f"hosts={row.get('hosts', '-')} lb={row.get('lower_bound_hosts', '-')} "
                f"{row.get('status', '')} gap={row.get('gap', float('nan')):.4f} "
                f"solve={row.get('solve_seconds', float('nan')):.2f}s "
                f"rss={res.peak_rss_mib:.0f}MiB {res.error}",
                flush=True,
            )
    write_meta(
        args.out,
        {
            "benchmark": "inventories",
            "cases": cases,
            "objectives": objectives,
            "time_limit_s": args.time_limit or "10 (60 for 100k VMs)",
            "hard_timeout_s": f"time limit + {args.hard_timeout:.0f}",
            "total_wall_s": round(time.perf_counter() - t_all, 1),
        },
        started,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
