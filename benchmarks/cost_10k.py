"""Generated 10k VMs: the cost plan and the host-count plan side by side, through the CLI.

The inventory of ``benchmarks.generate`` (10,000 VMs, seed 0) is written as a native CSV and
planned by ``python -m planner.cli plan`` in a process of its own with the bundled catalogs
and the default policy (vSphere, N+1, clusters of at most the profile's 96 hosts), once with
``objective = cost`` and once with ``objective = hosts``, ``time_limit_s = 10``; the pair is
run twice. Recorded per run: status, gap, hosts (active, spares), the planned clusters (how
many, the largest against the profile's limit, the fewest spares any cluster has), the eight
cost categories of the plan and of the dedicated baseline, the whole process's wall time
(interpreter start included), ``solve_seconds``, peak RSS and a fingerprint of the placement.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.cost_10k
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, machine, run_cli, write_csv, write_meta
from benchmarks.generate import generate_inventory, write_native_csv
from planner.catalog import find_profile, load_catalog
from planner.models import COST_CATEGORIES, Policy

__all__ = ["FIELDS", "main"]

VMS, SEED = 10_000, 0
RUNS = 2
TIME_LIMIT_S = 10.0
TIMEOUT_S = 300.0
OBJECTIVES = ("cost", "hosts")
FIELDS = (
    "run",
    "objective",
    "status",
    "gap",
    "hosts",
    "active",
    "spares",
    "lower_bound_hosts",
    "clusters",
    "largest_cluster",
    "cluster_limit",
    "min_cluster_spares",
    "k",
    *(f"plan_{c}" for c in COST_CATEGORIES),
    "plan_total",
    "dedicated_servers",
    *(f"dedicated_{c}" for c in COST_CATEGORIES),
    "dedicated_total",
    "seconds",
    "solve_seconds",
    "rss_mib",
    "load",
    "plan",
    "error",
)


def _run(inventory: Path, objective: str, limit: float = TIME_LIMIT_S) -> dict[str, Any]:
    out = inventory.parent / f"plan-{objective}.json"
    out.unlink(missing_ok=True)
    args = ["plan", str(inventory), "--quiet", "--json", str(out)]
    args += ["--set", f"objective={objective}", "--set", f"time_limit_s={limit}"]
    run = run_cli(args, TIMEOUT_S)
    if not out.exists():
        return {"error": run.error(), "seconds": run.seconds}
    plan = json.loads(out.read_text())
    summary, dedicated = plan["summary"], plan["dedicated"]
    per_cluster = Counter(h["cluster"] for h in plan["hosts"])
    spares = Counter(h["cluster"] for h in plan["hosts"] if h["role"] == "spare")
    placement = sorted([*sorted(h["vms"]), h["model"]] for h in plan["hosts"])
    row: dict[str, Any] = {
        "status": plan["status"],
        "gap": summary["gap"],
        "hosts": summary["host_count"],
        "active": summary["active_host_count"],
        "spares": summary["spare_host_count"],
        "lower_bound_hosts": summary["lower_bound_hosts"],
        "clusters": len(per_cluster),
        "largest_cluster": max(per_cluster.values()),
        "min_cluster_spares": min(spares[c] for c in per_cluster),
        "plan_total": summary["cost"]["total"],
        "dedicated_servers": dedicated["server_count"],
        "dedicated_total": dedicated["cost"]["total"],
        "seconds": run.seconds,
        "solve_seconds": summary["solve_seconds"],
        "rss_mib": run.rss_mib,
        "load": run.load,
        "plan": hashlib.sha256(json.dumps(placement).encode()).hexdigest()[:12],
    }
    for c in COST_CATEGORIES:
        row[f"plan_{c}"] = summary["cost"][c]
        row[f"dedicated_{c}"] = dedicated["cost"][c]
    return row


def main() -> None:
    """Plan the 10k inventory for both objectives, twice; write ``results/cost_10k.csv``
    (``--time-limit S``: at S seconds instead, into ``cost_10k_<S>s.csv``; ``--objectives``:
    which)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S)
    parser.add_argument("--objectives", default=",".join(OBJECTIVES))
    args = parser.parse_args()
    limit = args.time_limit
    name = "cost_10k.csv" if limit == TIME_LIMIT_S else f"cost_10k_{limit:g}s.csv"
    policy = Policy()
    profile = find_profile(load_catalog().profiles, policy.hypervisor)
    assert profile is not None
    cluster_limit = profile.max_hosts_per_cluster
    started = machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / f"generated-{VMS}-seed{SEED}.csv"
        write_native_csv(generate_inventory(VMS, SEED), inventory)
        for run in range(1, RUNS + 1):
            for objective in args.objectives.split(","):
                row: dict[str, Any] = {"run": run, "objective": objective}
                row.update(_run(inventory, objective, limit))
                row["cluster_limit"] = cluster_limit
                row["k"] = policy.ha_host_failures
                rows.append(row)
                print({k: row.get(k) for k in FIELDS[:13]}, flush=True)
    write_csv(RESULTS / name, rows, FIELDS)
    write_meta(
        RESULTS / name,
        {"time_limit_s": limit, "vms": VMS, "seed": SEED, "runs": RUNS},
        started,
    )


if __name__ == "__main__":
    main()
