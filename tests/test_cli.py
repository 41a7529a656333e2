"""The ``planner`` console script, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PLANNER = Path(sys.executable).with_name("planner")
SEED = REPO / "data" / "seed_example"
FAST = ["--set", "time_limit_s=5"]


def planner(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the installed console script and capture its output."""
    return subprocess.run(
        [str(PLANNER), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def test_seed_example_plans_three_hosts_proven() -> None:
    """The seed case prints a proven plan of exactly 3 hosts and exits 0."""
    r = planner(
        "plan",
        SEED / "inventory.csv",
        "--hosts",
        SEED / "hosts.csv",
        "--policy",
        SEED / "policy.toml",
        "--json",
        "-",
    )
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["status"] == "optimal"
    assert plan["summary"]["host_count"] == 3
    assert plan["summary"]["lower_bound_hosts"] == 3
    assert "optimal (proven)" in r.stderr  # the summary goes to stderr when JSON takes stdout


INVENTORIES = [
    REPO / "data" / "sample_inventory.csv",
    SEED / "inventory.csv",
    *sorted(p for p in (REPO / "data" / "samples").iterdir() if p.suffix in {".csv", ".xlsx"}),
]


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.name)
def test_every_bundled_inventory_plans_and_verifies(inventory: Path, tmp_path: Path) -> None:
    """Each inventory in data/ gives a verified plan whose JSON accounts for every VM."""
    out = tmp_path / "plan.json"
    r = planner("plan", inventory, "--json", out, "--csv", tmp_path / "p.csv", *FAST)
    assert r.returncode in (0, 3), r.stderr
    plan = json.loads(out.read_text())
    placed = [vm for h in plan["hosts"] for vm in h["vms"]]
    unplaced = [u["vm"] for u in plan["unplaced"]]
    assert len(placed) + len(unplaced) == plan["summary"]["vm_count"]
    assert len(set(placed + unplaced)) == plan["summary"]["vm_count"]
    assert (r.returncode == 3) == bool(unplaced)


def test_validate_reports_counts_and_notes() -> None:
    """validate names the detected format and counts the VMs."""
    r = planner("validate", REPO / "data" / "sample_inventory.csv")
    assert r.returncode == 0, r.stderr
    assert "native format, 500 VMs" in r.stdout


def test_bad_input_exits_2_with_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    """Three bad rows give three 'error:' lines naming file, row and column, and exit code 2."""
    bad = tmp_path / "bad.csv"
    bad.write_text("name,vcpus,memory_gib\na,0,4\nb,two,4\nc,2,-1\n", encoding="utf-8")
    r = planner("plan", bad)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("error: bad.csv, row ") for line in lines)
    assert "Traceback" not in r.stderr


def test_unknown_policy_key_and_bad_value_are_usage_errors(tmp_path: Path) -> None:
    """--set with an unknown key or an invalid value exits 2 naming each."""
    r = planner("plan", SEED / "inventory.csv", "--set", "cpu_overcomit=3", "--set", "growth=-1")
    assert r.returncode == 2
    assert "cpu_overcomit" in r.stderr and "unknown policy key" in r.stderr
    assert "growth" in r.stderr


def test_unplaced_vms_exit_3_and_are_listed(tmp_path: Path) -> None:
    """A VM larger than every host is listed with its reason and the exit code is 3."""
    inv = tmp_path / "inv.csv"
    inv.write_text("name,vcpus,memory_gib\nsmall,2,2\nhuge,2,64\n", encoding="utf-8")
    r = planner("plan", inv, "--hosts", SEED / "hosts.csv", "--policy", SEED / "policy.toml")
    assert r.returncode == 3
    assert "huge: memory demand 64.0 GiB exceeds" in r.stdout


def test_missing_file_is_a_clear_error() -> None:
    """A path that does not exist is one error line, exit 2."""
    r = planner("plan", "no-such-file.csv")
    assert r.returncode == 2
    assert "no-such-file.csv" in r.stderr and "Traceback" not in r.stderr


def test_usage_error_exits_2() -> None:
    """An unknown subcommand is a usage error."""
    assert planner("frobnicate").returncode == 2


def test_plan_writes_every_report(tmp_path: Path) -> None:
    """--json, --csv, --xlsx and --html each write a non-empty file."""
    outs = {ext: tmp_path / f"plan.{ext}" for ext in ("json", "csv", "xlsx", "html")}
    args = [f"--{ext}" if ext != "json" else "--json" for ext in outs]
    flat = [x for a, p in zip(args, outs.values(), strict=True) for x in (a, p)]
    r = planner("plan", SEED / "inventory.csv", "--hosts", SEED / "hosts.csv", *flat, "--quiet")
    assert r.returncode == 0, r.stderr
    assert all(p.stat().st_size > 0 for p in outs.values())
    assert outs["xlsx"].read_bytes()[:2] == b"PK"
    assert outs["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_sweep_prints_and_writes_one_row_per_combination(tmp_path: Path) -> None:
    """planner sweep over a 2 x 2 grid writes four rows."""
    out = tmp_path / "sweep.csv"
    r = planner(
        "sweep", SEED / "inventory.csv", "--hosts", SEED / "hosts.csv", "--policy",
        SEED / "policy.toml", "--vary", "cpu_overcommit=1,2", "--vary", "ha_host_failures=0,1",
        "--csv", out, "--quiet", "--jobs", "1",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = out.read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) == 5 and lines[0].startswith("cpu_overcommit,ha_host_failures,hosts")
    assert "optimal" in r.stdout


def test_sweep_with_a_bad_grid_exits_2() -> None:
    """An invalid sweep value is reported before anything is solved."""
    r = planner("sweep", SEED / "inventory.csv", "--vary", "max_utilization=0.8,1.5")
    assert r.returncode == 2 and "max_utilization" in r.stderr
