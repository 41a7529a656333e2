"""The XLSX workbook, the self-contained HTML report and the what-if sweep."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import openpyxl
import pytest

from planner.errors import InputError
from planner.models import VM, Plan, Policy, Problem
from planner.pipeline import run
from planner.report import html_report, workbook_bytes
from planner.report.workbook import SHEETS
from planner.sweep import combinations, parse_vary, sweep
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms


@pytest.fixture(scope="module")
def planned() -> tuple[Problem, Plan]:
    """A small plan with Windows VMs, a spare, an unplaced VM and a formula-like VM name."""
    inv = inventory(
        *vms(6, licenses=("windows",)),
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


def test_sweep_gives_one_row_per_combination_in_grid_order() -> None:
    """A 2 x 2 grid gives four rows; more vCPUs per core never needs more hosts."""
    inv = inventory(*vms(12, vcpus=4, mem=2))
    vary = {"cpu_overcommit": [1, 2], "ha_host_failures": [0, 1]}
    table = sweep(inv, catalog(host(cores=8, mem=64)), PURE, vary, jobs=1)
    assert list(table["cpu_overcommit"]) == [1.0, 1.0, 2.0, 2.0]
    assert list(table["ha_host_failures"]) == [0, 1, 0, 1]
    assert list(table["spare_hosts"]) == [0, 1, 0, 1]
    assert list(table["hosts"]) == [6, 7, 3, 4]  # 48 vCPUs on 8 or 16 vCPUs per host, + spare
    assert set(table["status"]) == {"optimal"}


def test_sweep_in_worker_processes_matches_the_sequential_run() -> None:
    """Two worker processes give the same table as one."""
    inv = inventory(*vms(10, vcpus=2, mem=6))
    vary = {"memory_overcommit": [1.0, 1.5, 2.0]}
    one = sweep(inv, catalog(), PURE, vary, jobs=1)
    two = sweep(inv, catalog(), PURE, vary, jobs=2)
    cols = ["memory_overcommit", "hosts", "status", "cost_total"]
    assert one[cols].equals(two[cols])


def test_sweep_rejects_bad_keys_and_values_before_solving() -> None:
    """An unknown key and an invalid value are input errors naming them."""
    with pytest.raises(InputError, match="unknown policy key"):
        parse_vary(["cpu_overcomit=2,3"])
    with pytest.raises(InputError, match="expected key=v1,v2"):
        parse_vary(["growth"])
    with pytest.raises(InputError) as err:
        combinations(Policy(), {"growth": ["-1", "0.1"], "objective": ["hosts", "cheap"]})
    assert {i.column for i in err.value.issues} == {"growth", "objective"}
