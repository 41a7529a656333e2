"""Acceptance on real exports with a vHost sheet (skipped where the benchmark data is absent)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from planner.catalog import load_catalog
from planner.cli import main
from planner.estate import read_host_list
from planner.ingest import read_inventory
from planner.models import Policy
from planner.pipeline import run
from planner.verify import verify
from planner.waves import verify_migration

WORKSHOP = "inventories/rvtools_nutanix_sizing_workshop"
ANALYZER = "inventories/rvtools_analyzer_sample"


def test_billsample_existing_hosts_kept_proven_minimal_moves_and_waves_verified(
    bench: Path,
) -> None:
    """BillSample XLSX, estate = existing, host count: every VM accounted, only owned hosts,
    the host count proven minimal, the fewest moves proven, every wave within capacity."""
    book = bench / WORKSHOP / "BillSampleNextRvtoolsFinal.xlsx"
    policy = Policy(estate="existing", objective="hosts", clusters="merge", max_utilization=0.9)
    problem, plan = run(read_inventory(book), load_catalog(), policy, estate=read_host_list(book))
    owned = {h.model for h in read_host_list(book).hosts}
    assert plan.status == "optimal" and len(plan.hosts) == plan.lower_bound_hosts
    assert {h.id for h in plan.hosts} <= owned and all(h.existing for h in plan.hosts)
    placed = sorted(vm for h in plan.hosts for vm in h.vms)
    assert placed == sorted(v.name for v in problem.inventory.vms) and not plan.unplaced
    assert plan.migration is not None and plan.migration.moves_proven
    assert plan.migration.retired and plan.migration.waves >= 1
    assert verify(plan, problem) == [] and verify_migration(plan, problem) == []


def _short(name: str) -> str:
    return name.lower().split(".", 1)[0]


def test_sizingworkshop_existing_reports_every_unmatched_host_name(bench: Path) -> None:
    """SizingWorkshop XLSX, estate = existing: every VM accounted, only vHost hosts planned,
    and every vInfo host name that vHost does not list is reported with its VMs."""
    book = bench / WORKSHOP / "SizingWorkshop-RVTools.xlsx"
    estate = read_host_list(book)
    policy = Policy(estate="existing", objective="hosts", cpu_overcommit=10, memory_overcommit=1.25)
    problem, plan = run(read_inventory(book), load_catalog(), policy, estate=estate)
    listed = {h.model for h in estate.hosts}
    assert {h.id for h in plan.hosts} <= listed
    seen = [vm for h in plan.hosts for vm in h.vms] + [u.vm for u in plan.unplaced]
    assert sorted(seen) == sorted(v.name for v in problem.inventory.vms)
    with open(bench / WORKSHOP / "SizingWorkshop_vInfo.csv", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["Template"] != "True"]
    shorts = {_short(h) for h in listed}
    expected = {r["Host"] for r in rows if _short(r["Host"]) not in shorts}
    assert plan.migration is not None
    assert set(plan.migration.unmatched) == expected and len(expected) == 32
    assert all(any(name in n for n in plan.notes) for name in expected)
    assert verify_migration(plan, problem) == []


def test_analyzer_csv_with_current_hosts_and_no_moves_lists_violations(
    bench: Path, tmp_path: Path
) -> None:
    """The analyzer sample's CSVs with --current-hosts and max_moves = 0: no VM moves, and
    each violation of today's placement names its host."""
    out = tmp_path / "plan.json"
    code = main(
        [
            "plan",
            str(bench / ANALYZER / "RVTools_tabvInfo.csv"),
            "--current-hosts",
            str(bench / ANALYZER / "RVTools_tabvHost.csv"),
            "--set",
            "estate=existing",
            "--set",
            "max_moves=0",
            "--quiet",
            "--json",
            str(out),
        ]
    )
    data = json.loads(out.read_text())
    assert code == 3 and data["status"] == "partial"  # today's placement breaks rules
    assert data["migration"]["moves"] == [] and data["summary"]["moved_vm_count"] == 0
    hosts = {h["id"] for h in data["hosts"]}
    assert data["migration"]["violations"]
    assert all(any(h in v for h in hosts) for v in data["migration"]["violations"])
