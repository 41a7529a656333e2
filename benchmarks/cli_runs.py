"""The planner as a user runs it: ``python -m planner.cli plan FILE.csv --json ...`` in a
process of its own, on CSV input in GiB, process start included, every instance twice.

For the 2-D vector bin packing set (Caprara & Toth 2001) each instance is written as three
CSV files in a temporary folder (never in the repository): the inventory (one VM per item,
``vcpus = w1``, ``memory_gib = w2 / 1024``, exact in decimal), a host catalog with the one
bin model (``cores_per_socket = C1``, ``memory_gib = C2 / 1024``) and a hypervisor profile
with no overhead; the policy comes through ``--set`` (no overcommit, no headroom, no N+k,
``objective = hosts``, the time limit, the CP-SAT workers). Both runs of an instance record
the host count, status, bound, the wall time of the whole process and its peak RSS, and a
fingerprint of the placement (which VMs share which host), so the report can say whether
the two runs gave the same plan.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.cli_runs                       # all 400, twice
    .venv/bin/python -m benchmarks.cli_runs --first 1             # instance 1 of each group
    .venv/bin/python -m benchmarks.cli_runs --sample 8            # the sample, 4 runs at 8 s
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, bench_dir, machine, write_csv, write_meta
from benchmarks.vbp2d import GRACE_S, Instance, load_instances, parse_vbp

__all__ = ["FIELDS", "main", "run_cli", "write_instance"]

RUNS = 2  # every instance is planned this many times
# Per run: hosts, status, bound, wall seconds of the process, the plan's solve seconds, peak
# RSS, the placement's fingerprint, and the machine's 1-minute load average at the start.
RUN_FIELDS = ("hosts", "status", "bound", "seconds", "solve_seconds", "rss_mib", "plan", "load")
FIELDS = (
    "instance",
    "class",
    "n",
    "k",
    "optimum",
    "lower_bound",
    "proven",
    "time_limit",
    *(f"{field}_{run}" for run in range(1, RUNS + 1) for field in RUN_FIELDS),
    "same_plan",
    "error",
)

HYPERVISOR_FIELDS = (
    "name,description,reserved_cores,reserved_memory_gib,vm_memory_overhead_mib,"
    "vm_memory_overhead_pct,cpu_efficiency,max_vms_per_host,max_vcpus_per_core,"
    "max_vcpus_per_vm,pays_hypervisor_licence"
)


def write_instance(path: Path, folder: Path) -> tuple[Path, Path, Path]:
    """The instance as the CLI's inputs: inventory, host catalog and hypervisor CSV files."""
    (c1, c2), items = parse_vbp(path)
    big = max(len(items), c1) + 1
    inventory = folder / "inventory.csv"
    lines = ["name,vcpus,memory_gib"]
    lines += [f"item{i:03d},{w1},{w2 / 1024!r}" for i, (w1, w2) in enumerate(items)]
    inventory.write_text("\n".join(lines) + "\n")
    hosts = folder / "hosts.csv"
    hosts.write_text(
        "model,sockets,cores_per_socket,memory_gib,threads_per_core,price,watts_idle,"
        "watts_max,rack_units,max_count\n"
        f"bin {c1}x{c2},1,{c1},{c2 / 1024!r},1,1000,0,0,1,\n"
    )
    profiles = folder / "hypervisors.csv"
    profiles.write_text(
        HYPERVISOR_FIELDS + f"\nnone,no overhead,0,0,0,0,1,{big},{big},{big},false\n"
    )
    return inventory, hosts, profiles


def run_cli(
    inventory: Path, hosts: Path, profiles: Path, time_limit: float, workers: int, timeout: float
) -> dict[str, Any]:
    """One CLI run in a new process: host count, status, bound, wall seconds (process start
    included), the plan's own solve seconds, peak RSS, and a fingerprint of the placement."""
    out = inventory.parent / "plan.json"
    out.unlink(missing_ok=True)
    settings = {
        "hypervisor": "none",
        "cpu_overcommit": 1,
        "memory_overcommit": 1,
        "max_utilization": 1,
        "ha_host_failures": 0,
        "objective": "hosts",
        "time_limit_s": time_limit,
        "workers": workers,
    }
    cmd = [sys.executable, "-m", "planner.cli", "plan", str(inventory), "--quiet"]
    cmd += ["--hosts", str(hosts), "--hypervisors", str(profiles), "--json", str(out)]
    for key, value in settings.items():
        cmd += ["--set", f"{key}={value}"]
    log = inventory.parent / "stderr.txt"
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, code, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        finally:
            timer.cancel()
        proc.returncode = code
    seconds = time.perf_counter() - t0
    rss = usage.ru_maxrss / 1024  # Linux reports KiB
    if not out.exists():
        lines = log.read_text().strip().splitlines()
        if seconds >= timeout:
            return {"error": f"killed after {timeout:.0f} s", "seconds": seconds}
        return {"error": lines[-1] if lines else f"exit status {code}", "seconds": seconds}
    plan = json.loads(out.read_text())
    summary = plan["summary"]
    placement = sorted(sorted(h["vms"]) for h in plan["hosts"] if h["vms"])
    return {
        "hosts": summary["host_count"],
        "status": plan["status"],
        "bound": summary["lower_bound_hosts"],
        "seconds": seconds,
        "solve_seconds": summary["solve_seconds"],
        "rss_mib": rss,
        "plan": hashlib.sha256(repr(placement).encode()).hexdigest()[:12],
        "load": load,
    }


def _row(inst: Instance, time_limit: float, runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "instance": inst.name,
        "class": inst.cls,
        "n": inst.n,
        "k": inst.k,
        "optimum": inst.optimum,
        "lower_bound": inst.lower_bound,
        "proven": int(inst.proven),
        "time_limit": time_limit,
    }
    errors = []
    for run, res in enumerate(runs, 1):
        for field in RUN_FIELDS:
            row[f"{field}_{run}"] = res.get(field, "")
        if res.get("error"):
            errors.append(f"run {run}: {res['error']}")
        hosts = res.get("hosts")
        if isinstance(hosts, int) and (
            hosts < inst.lower_bound or (inst.proven and hosts < inst.optimum)
        ):
            errors.append(f"run {run}: BELOW THE OPTIMUM ({hosts} < {inst.optimum}): a bug")
    plans = {res.get("plan") for res in runs}
    row["same_plan"] = int(len(plans) == 1 and "" not in plans and None not in plans)
    row["error"] = "; ".join(errors)
    return row


SAMPLE_FIELDS = (
    "run",
    "busy",
    "cost",
    "hosts",
    "status",
    "seconds",
    "solve_seconds",
    "plan",
    "load",
)


def sample_runs(time_limit: float, out: Path) -> None:
    """The bundled sample through the CLI four times at ``time_limit``: twice as it is, twice
    beside a process that keeps one core busy; cost, placement fingerprint and times."""
    sample = REPO / "data" / "sample_inventory.csv"
    rows = []
    started = machine()
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sample-cli-") as tmp:
        plan_path = Path(tmp) / "plan.json"
        for run, busy in enumerate((False, False, True, True), 1):
            spinner = subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if busy else None
            try:
                cmd = [sys.executable, "-m", "planner.cli", "plan", str(sample), "--quiet"]
                cmd += ["--set", f"time_limit_s={time_limit}", "--json", str(plan_path)]
                load = os.getloadavg()[0]
                t0 = time.perf_counter()
                subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
                seconds = time.perf_counter() - t0
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
            plan = json.loads(plan_path.read_text())
            placement = sorted(
                (h["model"], h["role"], tuple(sorted(h["vms"]))) for h in plan["hosts"]
            )
            summary = plan["summary"]
            rows.append(
                {
                    "run": run,
                    "busy": int(busy),
                    "cost": summary["cost_total"],
                    "hosts": summary["host_count"],
                    "status": plan["status"],
                    "seconds": seconds,
                    "solve_seconds": summary["solve_seconds"],
                    "plan": hashlib.sha256(repr(placement).encode()).hexdigest()[:12],
                    "load": load,
                }
            )
            print(rows[-1], flush=True)
    write_csv(out, rows, SAMPLE_FIELDS)
    write_meta(
        out,
        {
            "benchmark": "sample through the CLI, quiet and beside a busy process",
            "time_limit_s": time_limit,
            "instances": len(rows),
            "total_wall_s": round(time.perf_counter() - t_all, 1),
        },
        started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: plan the selected instances through the CLI, twice each."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--classes", default="", help="e.g. 1,2,9 (default: all 10)")
    ap.add_argument("--sizes", default="", help="nominal sizes 25,50,100,200 (default: all)")
    ap.add_argument("--first", type=int, default=0, help="only instances 1..N of each group")
    ap.add_argument("--time-limit", type=float, default=10.0, help="the policy's time_limit_s")
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    ap.add_argument("--out", type=Path, default=RESULTS / "cli_vbp2d.csv")
    ap.add_argument(
        "--sample", type=float, default=0.0, help="instead: the sample at this limit, 4 runs"
    )
    args = ap.parse_args(argv)
    if args.sample:
        sample_runs(args.sample, RESULTS / "cli_sample.csv")
        return 0

    bench = bench_dir()
    classes = [int(c) for c in args.classes.split(",") if c]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    instances = load_instances(bench, classes, sizes)
    if args.first:
        instances = [i for i in instances if i.k <= args.first]
    if not instances:
        sys.exit("no instance matches the selection")
    started = machine()
    t_all = time.perf_counter()
    rows: list[dict[str, Any]] = []
    timeout = args.time_limit + 60
    env_note = os.environ.get("PLANNER_BENCH_NOTE", "")
    with tempfile.TemporaryDirectory(prefix="vbp2d-cli-") as tmp:
        for inst in instances:
            folder = Path(tmp) / inst.name
            folder.mkdir()
            files = write_instance(inst.path, folder)
            runs = [run_cli(*files, args.time_limit, args.workers, timeout) for _ in range(RUNS)]
            rows.append(_row(inst, args.time_limit, runs))
            _progress(len(rows), len(instances), rows[-1])
            if len(rows) % 10 == 0:
                write_csv(args.out, rows, FIELDS)
    write_csv(args.out, rows, FIELDS)
    write_meta(
        args.out,
        {
            "benchmark": "vbp2d through the CLI",
            "classes": classes or "all",
            "sizes": sizes or "all",
            "first": args.first or "all",
            "time_limit_s": args.time_limit,
            "grace_s": GRACE_S,
            "workers": args.workers,
            "runs": RUNS,
            "instances": len(rows),
            "total_wall_s": round(time.perf_counter() - t_all, 1),
            "note": env_note,
        },
        started,
    )
    hits = [sum(int(r[f"hosts_{k}"] == r["optimum"]) for r in rows if r["proven"]) for k in (1, 2)]
    same = sum(int(r["same_plan"]) for r in rows)
    print(f"at the optimum: {hits[0]} / {hits[1]}; same plan on both runs: {same}/{len(rows)}")
    return 0


def _progress(done: int, total: int, row: dict[str, Any]) -> None:
    runs = "  ".join(
        f"{row[f'hosts_{k}']!s:>3} {row[f'seconds_{k}'] or 0:6.2f} s" for k in range(1, RUNS + 1)
    )
    same = "same" if row["same_plan"] else "DIFFERENT"
    print(
        f"[{done:3d}/{total}] {row['instance']:<12} opt {row['optimum']:<3} {runs}  {same}"
        f" {row['error']}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
