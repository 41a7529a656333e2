"""Small estates with a licence mix, cost objective, through the CLI: are they all proven?

Twenty inventories of 8–20 VMs are generated with a fixed seed: Windows Server, SQL Server
Enterprise (with Windows), RHEL and untagged VMs, some in an anti-affinity group, on two or
three host models of the bundled catalog (a host catalog CSV per case). Each is planned by
``python -m planner.cli plan`` in a process of its own, twice, with the CLI's defaults
(objective cost, N+1, 10 s limit), and the status, cost, bound, wall seconds (process start
included) and a fingerprint of the placement are recorded.

Usage (from the repository root):
    .venv/bin/python -m benchmarks.small_cost
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, RESULTS, machine, write_csv, write_meta

__all__ = ["estates", "main"]

CASES = 20
RUNS = 2
TIME_LIMIT_S = 10.0
RUN_FIELDS = ("status", "cost", "bound", "seconds", "plan")
TAGS = ("", "windows", "windows;sql-enterprise", "rhel", "windows")
FIELDS = (
    "case",
    "vms",
    "models",
    *(f"{f}_{r}" for r in range(1, RUNS + 1) for f in RUN_FIELDS),
    "same_plan",
)


def _inventory(rng: random.Random, n: int) -> str:
    rows = ["name,vcpus,memory_gib,licenses,group"]
    for i in range(n):
        vcpus = rng.choice((1, 2, 2, 4, 4, 8, 12))
        mem = rng.choice((2, 4, 8, 16, 32, 64))
        group = "web" if rng.random() < 0.15 else ""
        rows.append(f"vm{i:02d},{vcpus},{mem},{rng.choice(TAGS)},{group}")
    return "\n".join(rows) + "\n"


def _hosts(rng: random.Random) -> tuple[str, int]:
    with (REPO / "data" / "hosts.csv").open() as f:
        models = [r for r in csv.DictReader(f) if r.get("dedicated_only", "").lower() != "true"]
    chosen = rng.sample(models, rng.choice((2, 3)))
    fields = list(chosen[0])
    lines = [",".join(fields)] + [",".join(r[k] for k in fields) for r in chosen]
    return "\n".join(lines) + "\n", len(chosen)


def estates() -> Iterator[tuple[int, str, str]]:
    """The benchmark's estates in order: (case, inventory CSV, host catalog CSV)."""
    rng = random.Random(2026)
    for case in range(CASES):
        n = rng.randint(8, 20)
        inventory = _inventory(rng, n)
        hosts, _ = _hosts(rng)
        yield case, inventory, hosts


def _run(folder: Path) -> dict[str, Any]:
    out = folder / "plan.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "planner.cli", "plan", str(folder / "inventory.csv")]
    cmd += ["--quiet", "--hosts", str(folder / "hosts.csv"), "--json", str(out)]
    cmd += ["--set", f"time_limit_s={TIME_LIMIT_S}"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - t0
    plan = json.loads(out.read_text())
    placement = sorted([*sorted(h["vms"]), h["model"]] for h in plan["hosts"])
    return {
        "status": plan["status"],
        "cost": round(plan["summary"]["cost_total"], 2),
        "bound": round(plan["summary"]["lower_bound_cost"], 2),
        "seconds": round(seconds, 2),
        "plan": hashlib.sha256(json.dumps(placement).encode()).hexdigest()[:12],
    }


def main() -> None:
    """Plan every case twice and write ``results/small_cost.csv``."""
    started = machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case, inventory, hosts in estates():
            folder = Path(tmp) / f"case{case:02d}"
            folder.mkdir()
            (folder / "inventory.csv").write_text(inventory)
            (folder / "hosts.csv").write_text(hosts)
            row: dict[str, Any] = {
                "case": case,
                "vms": inventory.count("\n") - 1,
                "models": hosts.count("\n") - 1,
            }
            for r in range(1, RUNS + 1):
                for key, value in _run(folder).items():
                    row[f"{key}_{r}"] = value
            row["same_plan"] = row["plan_1"] == row["plan_2"]
            rows.append(row)
            print(row, flush=True)
    write_csv(RESULTS / "small_cost.csv", rows, FIELDS)
    write_meta(RESULTS / "small_cost.csv", {"time_limit_s": TIME_LIMIT_S}, started)


if __name__ == "__main__":
    main()
