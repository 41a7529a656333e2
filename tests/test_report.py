"""The report package: the plan JSON contract, the placement CSV, the XLSX workbook and the
self-contained HTML report."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from planner.models import VM, Plan, Policy, Problem
from planner.pipeline import run
from planner.report import (
    html_report,
    placement_frame,
    plan_to_dict,
    workbook_bytes,
    write_placement_csv,
    write_plan_json,
)
from planner.report.placement import neutralise
from planner.report.workbook import SHEETS
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms


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


@pytest.fixture(scope="module")
def planned() -> tuple[Problem, Plan]:
    """A small plan with Windows VMs, a spare, an unplaced VM and a formula-like VM name."""
    inv = inventory(
        *vms(6, licences=("windows",)),
        VM(name="=cmd|' /C calc'!A0", vcpus=1, memory_gib=1),
        VM(name="huge", vcpus=1, memory_gib=500),
    )
    policy = PURE.model_copy(update={"ha_host_failures": 1, "objective": "cost"})
    return run(inv, catalog(host(), licences=(WIN_STD, WIN_DC)), policy)


def test_workbook_has_every_sheet_and_the_plan_figures(planned: tuple[Problem, Plan]) -> None:
    """The eight sheets are there, in order, and the Summary and Hosts agree with the plan."""
    problem, plan = planned
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(plan, problem)))
    assert wb.sheetnames == list(SHEETS)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=4, values_only=True)}
    assert summary["Hosts needed"] == len(plan.hosts)
    assert summary["VMs not placed"] == 1
    hosts = list(wb["Hosts"].iter_rows(min_row=2, values_only=True))
    assert len(hosts) == len(plan.hosts)
    assert [h[2] for h in hosts].count("spare") == 1
    assert wb["Hosts"].freeze_panes == "A2"
    placement = [r[0] for r in wb["Placement"].iter_rows(min_row=2, values_only=True)]
    assert len(placement) == len(problem.inventory.vms)
    unplaced = list(wb["Unplaced"].iter_rows(min_row=2, values_only=True))
    assert unplaced[0][0] == "huge" and "exceeds" in unplaced[0][1]


def test_workbook_neutralises_formulas_and_has_native_charts(planned: tuple[Problem, Plan]) -> None:
    """A VM name starting with '=' is stored as inert text; Comparison and Hosts carry charts."""
    problem, plan = planned
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(plan, problem)))
    names = [r[0] for r in wb["Placement"].iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names
    assert all(not (isinstance(n, str) and n.startswith("=")) for n in names)
    assert len(wb["Comparison"]._charts) == 1
    assert len(wb["Hosts"]._charts) == 1


def test_workbook_assumptions_list_policy_models_and_licences(
    planned: tuple[Problem, Plan],
) -> None:
    """Every policy key, the host model and both licence rules appear on Assumptions."""
    problem, plan = planned
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(plan, problem)))
    cells = {str(c) for row in wb["Assumptions"].iter_rows(values_only=True) for c in row if c}
    assert set(Policy.model_fields) <= cells
    assert {"h8", "Windows Server Standard", "Windows Server Datacenter"} <= cells


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "svg":
            self.svgs += 1
        for key in ("src", "href"):
            value = a.get(key) or ""
            if tag in {"script", "link", "img", "iframe"} and value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_with_summary_first(planned: tuple[Problem, Plan]) -> None:
    """The report loads nothing from outside, starts with the summary and draws two SVG charts."""
    problem, plan = planned
    page = html_report(plan, problem)
    parser = _Collector()
    parser.feed(page)
    assert parser.external == []
    assert "url(http" not in page and "@import" not in page
    assert parser.ids[0] == "summary"
    assert {"comparison", "hosts", "unplaced", "failures", "assumptions", "placement"} <= set(
        parser.ids
    )
    assert parser.svgs >= 2
    text = " ".join(parser.text)
    assert "Hosts needed" in text and "Saving vs dedicated servers" in text
    assert "@media print" in page


def test_html_escapes_vm_names() -> None:
    """A VM named like markup is shown as text, never as markup."""
    problem, plan = run(
        inventory(VM(name="<script>x</script>", vcpus=1, memory_gib=1)), catalog(), PURE
    )
    page = html_report(plan, problem)
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_many_hosts_get_a_chart_of_hosts_per_band_and_json_one_line_per_host() -> None:
    """Beyond ``CHART_HOSTS`` hosts the utilization chart counts hosts per band of
    utilization (a bar per host took minutes at thousands of hosts); the plan JSON writes
    each host on one line, and reads back as the same data."""
    from planner.report.html import CHART_HOSTS, utilization_chart  # noqa: PLC0415
    from planner.report.plan_json import plan_json_bytes  # noqa: PLC0415

    n = CHART_HOSTS + 1
    problem, plan = run(inventory(*vms(n, vcpus=8, mem=2)), catalog(), PURE)
    assert len(plan.active_hosts) == n
    svg = utilization_chart(plan)
    assert f"Utilization of the {n} active hosts" in svg
    text = plan_json_bytes(plan, problem).decode()
    lines = text.splitlines()
    assert sum(line.lstrip().startswith('{"id": "host-') for line in lines) == n
    assert json.loads(text) == json.loads(json.dumps(plan_to_dict(plan, problem)))
