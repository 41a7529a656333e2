"""The tables the app shows (``ui.frames``): a file's problems, the placement filters, the VMs
as read, the comparison in dollars."""

from __future__ import annotations

import pandas as pd

from planner.errors import InputIssue
from planner.models import VM
from planner.pipeline import run
from planner.report import placement_frame
from tests.conftest import PURE, catalog, inventory, vms
from ui import frames

PLACEMENT = pd.DataFrame(
    {
        "vm": ["sql-01", "SQL-02", "web.1", "web-2", "huge"],
        "host": ["h-1", "h-2", "h-1", "h-3", ""],
        "model": ["r650", "r750", "r650", "r650", ""],
    }
)


def test_issues_become_one_row_each_with_empty_cells_not_none() -> None:
    """A problem without a row, column or value shows empty cells, in spreadsheet order."""
    issues = [
        InputIssue(file="a.csv", row=4, column="vcpus", value="x", rule="not a number"),
        InputIssue(file="a.csv", rule="no column 'name'"),
    ]
    frame = frames.issues_frame(issues)
    assert list(frame.columns) == ["file", "row", "column", "value", "problem"]
    assert frame.iloc[0].tolist() == ["a.csv", 4, "vcpus", "x", "not a number"]
    assert frame.iloc[1][["column", "value", "problem"]].tolist() == ["", "", "no column 'name'"]


def test_the_name_filter_ignores_case_and_reads_dots_literally() -> None:
    """``sql`` finds both SQL VMs; ``web.1`` is a name, not a pattern (``web-2`` stays out)."""
    assert list(frames.filter_placement(PLACEMENT, "sql")["vm"]) == ["sql-01", "SQL-02"]
    assert list(frames.filter_placement(PLACEMENT, "web.1")["vm"]) == ["web.1"]
    assert len(frames.filter_placement(PLACEMENT)) == len(PLACEMENT)


def test_the_model_host_and_show_filters_combine() -> None:
    """Each filter narrows the others; an empty choice does not filter."""
    r650 = frames.filter_placement(PLACEMENT, models=["r650"])
    assert list(r650["vm"]) == ["sql-01", "web.1", "web-2"]
    assert list(frames.filter_placement(PLACEMENT, models=["r650"], hosts=["h-1"])["vm"]) == [
        "sql-01",
        "web.1",
    ]
    assert list(frames.filter_placement(PLACEMENT, show="unplaced")["vm"]) == ["huge"]
    assert len(frames.filter_placement(PLACEMENT, show="placed")) == 4
    assert frames.filter_placement(PLACEMENT, "web", show="unplaced").empty


def test_the_filter_choices_are_sorted_and_skip_unplaced_blanks() -> None:
    """Hosts and models offered once each, sorted, without the unplaced VM's empty cell."""
    assert frames.choices(PLACEMENT, "host") == ["h-1", "h-2", "h-3"]
    assert frames.choices(PLACEMENT, "model") == ["r650", "r750"]
    assert frames.SHOW == ("all VMs", "placed", "unplaced")


def test_a_real_placement_frame_filters_by_host() -> None:
    """On the planner's placement frame, a host filter keeps exactly that host's VMs."""
    problem, plan = run(inventory(*vms(6)), catalog(), PURE)
    frame = placement_frame(plan, problem)
    first = plan.hosts[0]
    shown = frames.filter_placement(frame, hosts=[first.id])
    assert sorted(shown["vm"]) == sorted(first.vms)


def test_the_vms_as_read_mark_inferred_licence_tags() -> None:
    """Each VM one row with its file row; tags inferred from the OS say so."""
    inv = inventory(
        VM(name="a", vcpus=2, memory_gib=4, row=2, licences=("windows",), licences_inferred=True),
        VM(name="b", vcpus=1, memory_gib=1, row=3, licences=("rhel", "sql")),
    )
    frame = frames.vms_frame(inv)
    assert list(frame["row"]) == [2, 3]
    assert list(frame["licences"]) == ["windows (inferred)", "rhel;sql"]


def test_the_comparison_shows_money_in_dollars() -> None:
    """The report's ``currency`` unit becomes ``$``; the other units stay."""
    problem, plan = run(inventory(*vms(4)), catalog(), PURE)
    units = set(frames.comparison_frame(plan, problem)["unit"])
    assert "$ / 5 y" in units
    assert "currency" not in " ".join(units)
    assert {"GiB", "U", "W"} <= units


def test_profiles_and_sweep_tables_keep_their_columns() -> None:
    """One row per hypervisor profile; the sweep table shows the key and its results only."""
    profiles = frames.profiles_frame(catalog())  # the "none" and "type1" profiles
    assert list(profiles["name"]) == ["none", "type1"]
    sweep = pd.DataFrame(
        {
            "ha_host_failures": [0, 1],
            "hosts": [2, 3],
            "spare_hosts": [0, 1],
            "status": ["optimal", "optimal"],
            "gap": [0.0, 0.0],
            "cost_total": [1.0, 2.0],
            "cost_saving": [3.0, 2.0],
            "active_hosts": [2, 2],
        }
    )
    assert list(frames.sweep_frame(sweep, "ha_host_failures").columns) == [
        "ha_host_failures",
        "hosts",
        "spare_hosts",
        "status",
        "gap",
        "cost_total",
        "cost_saving",
    ]
