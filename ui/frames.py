"""The tables the page shows that ``planner.report.tables`` does not: a file's problems, the
VMs as read, the placement filters, the hypervisor profiles. No Streamlit."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from planner.errors import InputIssue
from planner.models import Catalog, Inventory, Plan, Problem
from planner.report import tables

__all__ = [
    "SHOW",
    "choices",
    "comparison_frame",
    "filter_placement",
    "issues_frame",
    "profiles_frame",
    "sweep_frame",
    "vms_frame",
]

SHOW = ("all VMs", "placed", "unplaced")  # the placement table's "Show" choices


def issues_frame(issues: Sequence[InputIssue]) -> pd.DataFrame:
    """Every problem of a file, one row each: file, row (as a spreadsheet numbers it),
    column, value, problem."""
    return pd.DataFrame(
        [
            {
                "file": i.file,
                "row": i.row,
                "column": i.column or "",
                "value": i.value or "",
                "problem": i.rule,
            }
            for i in issues
        ]
    )


def comparison_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """``planner.report.tables.comparison_frame`` with money in dollars (``$``)."""
    frame = tables.comparison_frame(plan, problem)
    frame["unit"] = frame["unit"].str.replace("currency", "$", regex=False)
    return frame


def choices(frame: pd.DataFrame, column: str) -> list[str]:
    """The values a placement filter offers: the column's distinct non-empty values, sorted."""
    return sorted(v for v in frame[column].unique() if v)


def filter_placement(
    frame: pd.DataFrame,
    text: str = "",
    models: Collection[str] = (),
    hosts: Collection[str] = (),
    show: str = "all VMs",
) -> pd.DataFrame:
    """The rows of a placement frame (``planner.report.placement_frame``) that pass every
    filter: ``text`` in the VM name (any case), one of ``models``, one of ``hosts`` (each
    ignored when empty), and ``show`` (one of ``SHOW``): placed or unplaced VMs only."""
    shown = frame
    if text:
        shown = shown[shown["vm"].str.contains(text, case=False, regex=False)]
    if models:
        shown = shown[shown["model"].isin(models)]
    if hosts:
        shown = shown[shown["host"].isin(hosts)]
    if show == "placed":
        shown = shown[shown["host"] != ""]
    elif show == "unplaced":
        shown = shown[shown["host"] == ""]
    return shown


def vms_frame(inventory: Inventory) -> pd.DataFrame:
    """The VMs as read, one row each with the file's row number; inferred licence tags say so."""
    return pd.DataFrame(
        [
            {
                "row": vm.row,
                "name": vm.name,
                "vcpus": vm.vcpus,
                "memory_gib": vm.memory_gib,
                "cpu_util_pct": vm.cpu_util_pct,
                "mem_util_pct": vm.mem_util_pct,
                "os": vm.os,
                "licences": ";".join(vm.licences) + (" (inferred)" if vm.licences_inferred else ""),
                "group": vm.group,
                "zone": vm.zone,
                "cluster": vm.cluster,
                "powered on": vm.powered_on,
            }
            for vm in inventory.vms
        ]
    )


def profiles_frame(catalog: Catalog) -> pd.DataFrame:
    """The catalog's hypervisor profiles, one row each."""
    return pd.DataFrame([p.model_dump() for p in catalog.profiles.values()])


def sweep_frame(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The columns of a sensitivity sweep shown as a table under its curves."""
    return frame[[key, "hosts", "spare_hosts", "status", "gap", "cost_total", "cost_saving"]]
