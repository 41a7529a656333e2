"""The plan JSON contract and the placement CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from planner.models import VM
from planner.pipeline import run
from planner.report import placement_frame, plan_to_dict, write_placement_csv, write_plan_json
from planner.report.placement import neutralise
from tests.conftest import PURE, catalog, inventory, vms


def test_json_has_the_contract_fields_and_accounts_for_every_vm(tmp_path: Path) -> None:
    """Design section 6.1's fields are present and each VM is in one host or in unplaced."""
    problem, plan = run(inventory(*vms(5), VM(name="big", vcpus=1, memory_gib=99)), catalog(), PURE)
    out = tmp_path / "plan.json"
    write_plan_json(plan, problem, out)
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1
    assert data["status"] in {"optimal", "feasible", "infeasible"}
    for key in (
        "vm_count",
        "placed_vm_count",
        "unplaced_vm_count",
        "host_count",
        "spare_host_count",
        "lower_bound_hosts",
        "cost_total",
        "gap",
        "solve_seconds",
    ):
        assert key in data["summary"], key
    host = data["hosts"][0]
    assert {"id", "model", "role", "licenses", "vms", "vcpus", "memory_gib", "limiting"} <= set(
        host
    )
    assert set(host["vcpus"]) == {"used", "capacity"}
    assert {"server_count", "cost_total"} <= set(data["dedicated"])
    assert {"consolidation_ratio", "cost_saving"} <= set(data["comparison"])
    assert data["failures"] and {"host", "restartable", "vms"} <= set(data["failures"][0])
    names = [n for h in data["hosts"] for n in h["vms"]] + [u["vm"] for u in data["unplaced"]]
    assert sorted(names) == sorted(v.name for v in problem.inventory.vms)
    assert data["summary"]["unplaced_vm_count"] == 1


def test_json_numbers_are_in_the_units_of_their_names() -> None:
    """vCPUs and GiB, not milli-vCPU and MiB."""
    problem, plan = run(inventory(*vms(4)), catalog(), PURE)
    host = plan_to_dict(plan, problem)["hosts"][0]
    assert host["vcpus"] == {"used": 8.0, "capacity": 8.0}
    assert host["memory_gib"] == {"used": 8.0, "capacity": 16.0}


def test_placement_csv_round_trips_and_neutralises_formulas(tmp_path: Path) -> None:
    """One row per VM in inventory order; a name starting with '=' is written inert."""
    inv = inventory(
        *vms(3),
        VM(name="=HYPERLINK(1)", vcpus=1, memory_gib=1),
        VM(name="big", vcpus=1, memory_gib=99),
    )
    problem, plan = run(inv, catalog(), PURE)
    out = tmp_path / "placement.csv"
    write_placement_csv(plan, problem, out)
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    assert [r["vm"] for r in rows] == ["vm0", "vm1", "vm2", "'=HYPERLINK(1)", "big"]
    assert rows[4]["host"] == "" and "exceeds" in rows[4]["unplaced_reason"]
    assert all(r["host"].startswith("host-") for r in rows[:4])
    frame = placement_frame(plan, problem)
    assert list(frame["vm"]) == [v.name for v in inv.vms]  # the frame itself keeps raw names


def test_neutralise_only_touches_formula_starts() -> None:
    """=, +, -, @, tab and CR starts get an apostrophe; other text is unchanged."""
    assert [neutralise(s) for s in ("=1", "+1", "-1", "@x", "\tx", "\rx", "web-01")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "web-01",
    ]
