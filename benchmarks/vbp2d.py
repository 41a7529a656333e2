"""2-D vector bin packing (Caprara & Toth 2001, classes 1-10) against the known optima.

Each instance becomes the planner's own input: one host model whose capacity in the
planner's integer units is exactly the bin (``cores_per_socket = C1``, one socket, one
thread per core, ``memory_gib = C2 / 1024``, so ``cpu_cap_m = 1000 C1`` and
``mem_cap_mib = C2``) and one VM per item (``vcpus = w1``, ``memory_gib = w2 / 1024``, so
``cpu_m = 1000 w1`` and ``mem_mib = w2``). No item of the set has a zero size, so every item
is a valid ``VM``. The hypervisor profile adds nothing (no reservation, no overhead, no
per-VM or per-host limit below the instance sizes), and the policy has no overcommit, no
headroom (``max_utilization = 1``), no N+k and minimises the host count.

Engines:
    planner  ``planner.pipeline.run``: the real pipeline (sizing, solve, verify), whatever
             engine ``solve`` uses today (reported in the ``engine`` column)
    ffd      ``planner.heuristic.first_fit_decreasing`` on the sized problem
    naive    ``benchmarks.naive_cpsat``: x[i,b]/y[b] CP-SAT model, FFD count as bin bound

Usage (from the repository root):
    .venv/bin/python -m benchmarks.vbp2d --engine ffd
    .venv/bin/python -m benchmarks.vbp2d --engine naive --sizes 25,50
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS,
    Isolated,
    bench_dir,
    import_footprint_mib,
    machine,
    run_isolated,
    start_workers,
    write_csv,
    write_meta,
)
from benchmarks.naive_cpsat import solve_naive
from planner.heuristic import first_fit_decreasing
from planner.models import (
    VM,
    Catalog,
    HostModel,
    HypervisorProfile,
    Inventory,
    Policy,
    Problem,
    SolverParams,
)
from planner.pipeline import run
from planner.sizing import build_problem

__all__ = ["FIELDS", "Instance", "load_instances", "main", "parse_vbp", "run_instance"]

SET = "vbp2d/caprara_toth_2001"
ENGINES = ("planner", "ffd", "naive")
# Model building and plan assembly may add this much to the solver's time limit before an
# instance stops counting as solved "within the limit".
GRACE_S = 1.0

FIELDS = (
    "instance",
    "class",
    "n",
    "k",
    "engine",
    "engine_name",
    "outcome",
    "hosts",
    "optimum",
    "lower_bound",
    "proven",
    "at_optimum",
    "status",
    "bound",
    "seconds",
    "solver_seconds",
    "time_limit",
    "peak_rss_mib",
    "start_rss_mib",
    "error",
)


@dataclass(frozen=True)
class Instance:
    """One benchmark instance and what is known about its optimum."""

    name: str
    path: Path
    cls: int
    n: int
    k: int
    optimum: int  # proven optimum, or best known when not proven
    lower_bound: int
    proven: bool


def parse_vbp(path: Path) -> tuple[tuple[int, ...], list[tuple[int, ...]]]:
    """Bin capacities and the item list (demands expanded) of a VPSolver ``.vbp`` file."""
    t = [int(x) for x in path.read_text().split()]
    d = t[0]
    cap = tuple(t[1 : 1 + d])
    items: list[tuple[int, ...]] = []
    pos = 2 + d
    for _ in range(t[1 + d]):
        w = tuple(t[pos : pos + d])
        items += [w] * t[pos + d]
        pos += d + 1
    return cap, items


def load_instances(
    bench: Path,
    classes: Sequence[int] | None = None,
    sizes: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[Instance]:
    """The instances of ``optima.csv``, filtered, in (class, n, k) order.

    ``sizes`` filters on the nominal size 25/50/100/200; class 10's 24/51/99/201 count as
    those sizes.
    """
    with (bench / SET / "optima.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        cls, n = int(r["class"]), int(r["n"])
        nominal = min((25, 50, 100, 200), key=lambda s: abs(s - n))
        if classes and cls not in classes:
            continue
        if sizes and nominal not in sizes:
            continue
        out.append(
            Instance(
                name=r["instance"],
                path=bench / r["file"],
                cls=cls,
                n=n,
                k=int(r["instance"].rsplit("_", 1)[1]),
                optimum=int(r["optimum_or_best"]),
                lower_bound=int(r["lower_bound"]),
                proven=r["proven_optimal"] == "1",
            )
        )
    out.sort(key=lambda i: (i.cls, i.n, i.k))
    return out[:limit] if limit else out


def planner_inputs(path: Path) -> tuple[Inventory, Catalog, Policy]:
    """The instance as the planner's (Inventory, Catalog, Policy); capacities are exact."""
    (c1, c2), items = parse_vbp(path)
    if any(w1 < 1 or w2 < 1 for w1, w2 in items):
        raise ValueError(f"{path.name}: an item has a zero size; VM needs vcpus >= 1, memory > 0")
    big = max(len(items), c1) + 1
    profile = HypervisorProfile(
        name="none",
        pays_hypervisor_licence=False,
        max_vms_per_host=big,
        max_vcpus_per_core=big,
        max_vcpus_per_vm=big,
    )
    bin_model = HostModel(
        model=f"bin {c1}x{c2}",
        sockets=1,
        cores_per_socket=c1,
        threads_per_core=1,
        memory_gib=c2 / 1024,
    )
    catalog = Catalog(hosts=(bin_model,), licences=(), profiles={"none": profile})
    vms = tuple(
        VM(name=f"item{i:03d}", vcpus=w1, memory_gib=w2 / 1024) for i, (w1, w2) in enumerate(items)
    )
    inventory = Inventory(source=path.name, format="native", vms=vms)
    policy = Policy(
        hypervisor="none",
        cpu_overcommit=1,
        memory_overcommit=1,
        max_utilization=1,
        ha_host_failures=0,
        objective="hosts",
    )
    return inventory, catalog, policy


def run_instance(path: str, engine: str, time_limit_s: float, workers: int) -> dict[str, Any]:
    """Solve one instance with ``engine`` (runs inside the isolated child process)."""
    inventory, catalog, policy = planner_inputs(Path(path))
    if engine == "planner":
        t0 = time.perf_counter()
        params = SolverParams(time_limit_s=time_limit_s, workers=workers)
        problem, plan = run(inventory, catalog, policy, params)
        seconds = time.perf_counter() - t0
        _check_exact(problem, Path(path))
        if plan.unplaced:
            raise RuntimeError(f"{len(plan.unplaced)} items unplaced")
        return {
            "engine_name": plan.engine,
            "hosts": len(plan.hosts),
            "status": plan.status,
            "bound": plan.lower_bound_hosts,
            "seconds": seconds,
            "solver_seconds": plan.solve_seconds,
        }
    problem = build_problem(inventory, catalog, policy)
    _check_exact(problem, Path(path))
    t0 = time.perf_counter()
    packing, failed = first_fit_decreasing(problem)
    ffd_seconds = time.perf_counter() - t0
    if failed:
        raise RuntimeError(f"first-fit decreasing left {len(failed)} items unplaced")
    ffd_hosts = sum(1 for b in packing if b.vms)
    if engine == "ffd":
        return {
            "engine_name": "first-fit decreasing",
            "hosts": ffd_hosts,
            "status": "feasible",
            "bound": "",
            "seconds": ffd_seconds,
            "solver_seconds": ffd_seconds,
        }
    if engine == "naive":
        t = problem.host_types[0]
        items = [(v.cpu_m, v.mem_mib) for v in problem.vms]
        t0 = time.perf_counter()
        res = solve_naive(items, (t.cpu_cap_m, t.mem_cap_mib), ffd_hosts, time_limit_s, workers)
        return {
            "engine_name": "naive CP-SAT x[i,b]",
            "hosts": res.bins if res.bins is not None else "",
            "status": res.status.lower(),
            "bound": math.ceil(res.bound - 1e-6),
            "seconds": time.perf_counter() - t0,
            "solver_seconds": res.seconds,
        }
    raise ValueError(f"unknown engine {engine!r}")


def _check_exact(problem: Problem, path: Path) -> None:
    """The sized problem must be the instance, unit for unit (no rounding crept in)."""
    (c1, c2), items = parse_vbp(path)
    (t,) = problem.host_types
    if (t.cpu_cap_m, t.mem_cap_mib) != (1000 * c1, c2):
        raise RuntimeError(f"capacity sized to {(t.cpu_cap_m, t.mem_cap_mib)}, not {(c1, c2)}")
    sized = sorted((v.cpu_m, v.mem_mib) for v in problem.vms)
    if sized != sorted((1000 * w1, w2) for w1, w2 in items):
        raise RuntimeError("item demands were not sized exactly")


def _row(inst: Instance, engine: str, time_limit: float, res: Isolated) -> dict[str, Any]:
    v = res.value
    hosts = v.get("hosts", "")
    row: dict[str, Any] = {
        "instance": inst.name,
        "class": inst.cls,
        "n": inst.n,
        "k": inst.k,
        "engine": engine,
        "engine_name": v.get("engine_name", ""),
        "outcome": res.outcome,
        "hosts": hosts,
        "optimum": inst.optimum,
        "lower_bound": inst.lower_bound,
        "proven": int(inst.proven),
        "at_optimum": int(hosts != "" and hosts == inst.optimum),
        "status": v.get("status", ""),
        "bound": v.get("bound", ""),
        "seconds": v.get("seconds", float("nan")),
        "solver_seconds": v.get("solver_seconds", float("nan")),
        "time_limit": time_limit,
        "peak_rss_mib": res.peak_rss_mib,
        "start_rss_mib": res.start_rss_mib,
        "error": res.error,
    }
    if hosts != "" and (hosts < inst.lower_bound or (inst.proven and hosts < inst.optimum)):
        row["error"] = f"BELOW THE OPTIMUM/LOWER BOUND ({hosts} < {inst.optimum}): a bug"
    elif hosts != "" and row["status"] == "optimal" and inst.proven and hosts != inst.optimum:
        row["error"] = f"status optimal with {hosts} hosts, the optimum is {inst.optimum}: a bug"
    return row


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the selected instances with one engine and write the result CSV."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engine", choices=ENGINES, default="planner")
    ap.add_argument("--classes", default="", help="e.g. 1,2,9 (default: all 10)")
    ap.add_argument("--sizes", default="", help="nominal sizes 25,50,100,200 (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="at most N instances (0: all)")
    ap.add_argument("--time-limit", type=float, default=10.0, help="solver seconds per instance")
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    ap.add_argument(
        "--jobs", type=int, default=1, help="instances at once (keep 1 for honest timings)"
    )
    ap.add_argument("--out", type=Path, default=None, help="default results/vbp2d_<engine>.csv")
    args = ap.parse_args(argv)

    bench = bench_dir()
    classes = [int(c) for c in args.classes.split(",") if c]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    instances = load_instances(bench, classes, sizes, args.limit or None)
    if not instances:
        sys.exit("no instance matches the selection")
    out: Path = args.out or RESULTS / f"vbp2d_{args.engine}.csv"
    if args.jobs > 1:
        print(f"warning: --jobs {args.jobs} runs instances side by side; times are not comparable")
    started = machine()
    start_workers()
    hard = args.time_limit + 30
    kwargs = {"engine": args.engine, "time_limit_s": args.time_limit, "workers": args.workers}

    def one(inst: Instance) -> dict[str, Any]:
        res = run_isolated(
            "benchmarks.vbp2d:run_instance", {"path": str(inst.path), **kwargs}, hard
        )
        return _row(inst, args.engine, args.time_limit, res)

    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ThreadPoolExecutor(args.jobs) as pool:
            for row in pool.map(one, instances):
                rows.append(row)
                _progress(len(rows), len(instances), row)
    else:
        for inst in instances:
            rows.append(one(inst))
            _progress(len(rows), len(instances), rows[-1])
            if len(rows) % 20 == 0:  # keep partial results if the run is interrupted
                write_csv(out, rows, FIELDS)
    write_csv(out, rows, FIELDS)
    write_meta(
        out,
        {
            "benchmark": "vbp2d",
            "engine": args.engine,
            "classes": classes or "all",
            "sizes": sizes or "all",
            "limit": args.limit or "none",
            "time_limit_s": args.time_limit,
            "grace_s": GRACE_S,
            "workers": args.workers,
            "jobs": args.jobs,
            "instances": len(rows),
            "total_wall_s": round(time.perf_counter() - t0, 1),
            "import_footprint_mib": round(import_footprint_mib(), 1),
        },
        started,
    )
    hits = sum(int(r["at_optimum"]) for r in rows if r["proven"])
    proven = sum(1 for r in rows if r["proven"])
    print(f"{args.engine}: {hits}/{proven} proven optima matched; wrote {out}")
    return 0


def _progress(done: int, total: int, row: dict[str, Any]) -> None:
    mark = "=" if row["at_optimum"] else ("!" if row["outcome"] != "ok" else ">")
    extra = f" {row['error']}" if row["error"] else ""
    print(
        f"[{done:3d}/{total}] {row['instance']:<12} {row['hosts']!s:>3} {mark} {row['optimum']:<3}"
        f" {row['status']:<9} {row['seconds']:8.3f} s"
        f"{extra}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
