"""The XLSX workbook: Summary, Explanation, Comparison, Hosts, Placement, Unplaced, Failures,
Validation, Assumptions, with native Excel charts, frozen headers, widths, number formats and units.

Written with XlsxWriter. Every text cell is written as a string (never as a formula) and text
that a spreadsheet would run as a formula is neutralised as well, so a VM name cannot
execute.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from planner.models import Plan, Problem
from planner.report.migration import estate_frame, host_utilisation_frame, moves_frame
from planner.report.placement import neutralise, placement_frame
from planner.report.tables import (
    CATEGORIES,
    assumption_frames,
    comparison_frame,
    failures_frame,
    hosts_frame,
    partitions_frame,
    rules_frame,
    summary_rows,
    unplaced_frame,
    validation_frame,
)

__all__ = ["SHEETS", "workbook_bytes", "write_workbook"]

SHEETS = (
    "Summary",
    "Explanation",
    "Comparison",
    "Hosts",
    "Placement",
    "Unplaced",
    "Failures",
    "Validation",
    "Assumptions",
)


class _Formats:
    def __init__(self, wb: Workbook) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format(
            {"bold": True, "bg_color": "#1F3B57", "font_color": "#FFFFFF", "border": 1}
        )
        self.section = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3B57"})
        self.number = wb.add_format({"num_format": "#,##0.##"})
        self.integer = wb.add_format({"num_format": "#,##0"})
        self.money = wb.add_format({"num_format": "#,##0.00"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})


def _cell(ws: Worksheet, row: int, col: int, value: Any, fmt: _Formats, money: bool) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        ws.write_blank(row, col, None)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            ws.write_number(row, col, value, fmt.money if money else fmt.number)
        else:
            ws.write_number(row, col, value, fmt.money if money else fmt.integer)
    else:
        ws.write_string(row, col, neutralise(str(value)))


def _table(
    ws: Worksheet,
    frame: pd.DataFrame,
    fmt: _Formats,
    first_row: int = 0,
    money_columns: tuple[str, ...] = (),
) -> int:
    """Write ``frame`` with a header at ``first_row``; returns the next free row."""
    for c, name in enumerate(frame.columns):
        ws.write_string(first_row, c, str(name), fmt.header)
    money = [str(name) in money_columns for name in frame.columns]  # once, not per cell
    for r, values in enumerate(frame.itertuples(index=False), start=first_row + 1):
        for c, value in enumerate(values):
            _cell(ws, r, c, value, fmt, money[c])
    for c, name in enumerate(frame.columns):
        longest = max([len(str(name)), *(len(str(v)) for v in frame.iloc[:200, c])], default=8)
        ws.set_column(c, c, min(max(10, longest + 2), 60))
    return first_row + len(frame) + 2


def _sheet(wb: Workbook, name: str, frame: pd.DataFrame, fmt: _Formats, **kw: Any) -> Worksheet:
    ws = wb.add_worksheet(name)
    _table(ws, frame, fmt, **kw)
    ws.freeze_panes(1, 0)
    if len(frame):
        ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    return ws


def _summary(wb: Workbook, plan: Plan, problem: Problem, fmt: _Formats) -> None:
    ws = wb.add_worksheet("Summary")
    ws.write_string(0, 0, "VM capacity plan", fmt.title)
    ws.write_string(2, 0, "item", fmt.header)
    ws.write_string(2, 1, "value", fmt.header)
    ws.write_string(2, 2, "unit", fmt.header)
    for r, (label, value, unit) in enumerate(summary_rows(plan, problem), start=3):
        ws.write_string(r, 0, label)
        _cell(ws, r, 1, value, fmt, isinstance(value, float))
        ws.write_string(r, 2, neutralise(unit))
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 40, fmt.wrap)
    ws.set_column(2, 2, 28)
    ws.freeze_panes(3, 0)


def _explanation(wb: Workbook, plan: Plan, fmt: _Formats) -> None:
    """Why this many hosts: per partition, then the price of each rule with a bar chart."""
    ws = wb.add_worksheet("Explanation")
    ws.write_string(0, 0, "What drives the host count", fmt.section)
    ws.write_string(1, 0, neutralise(plan.explanation.summary))
    row = _table(ws, partitions_frame(plan), fmt, first_row=3)
    ws.write_string(
        row, 0, "The price of each rule (plan against a re-plan without it)", fmt.section
    )
    rules = rules_frame(plan)
    if rules.empty:
        ws.write_string(row + 1, 0, "not priced: run planner plan --explain")
    else:
        first = row + 1
        _table(ws, rules, fmt, first_row=first, money_columns=("cost",))
        chart = wb.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": "cost the rule adds",
                "categories": ["Explanation", first + 1, 1, first + len(rules), 1],
                "values": ["Explanation", first + 1, 3, first + len(rules), 3],
                "fill": {"color": "#1F77B4"},
            }
        )
        chart.set_title({"name": "Cost each rule adds"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 640, "height": max(240, 32 * len(rules))})
        ws.insert_chart(first, 6, chart)
    ws.set_column(0, 0, 36)
    ws.set_column(4, 4, 90, fmt.wrap)


def _comparison(wb: Workbook, plan: Plan, problem: Problem, fmt: _Formats) -> None:
    frame = comparison_frame(plan, problem)
    ws = _sheet(wb, "Comparison", frame, fmt, money_columns=("consolidated", "dedicated", "saving"))
    chart = wb.add_chart({"type": "column"})
    for col, name, color in ((2, "Consolidated", "#1F77B4"), (3, "Dedicated", "#FF7F0E")):
        chart.add_series(
            {
                "name": name,
                "categories": ["Comparison", 1, 0, len(CATEGORIES), 0],
                "values": ["Comparison", 1, col, len(CATEGORIES), col],
                "fill": {"color": color},
            }
        )
    chart.set_title({"name": "Cost by category, consolidated vs dedicated"})
    chart.set_y_axis({"name": f"currency over {problem.policy.horizon_years:g} years"})
    chart.set_size({"width": 640, "height": 360})
    ws.insert_chart(len(frame) + 3, 0, chart)


def _hosts(wb: Workbook, plan: Plan, fmt: _Formats, problem: Problem) -> None:
    frame = hosts_frame(plan, problem)
    ws = _sheet(wb, "Hosts", frame, fmt, money_columns=("cost",))
    if not len(frame):
        return
    n = len(frame)
    chart = wb.add_chart({"type": "column"})
    for col_name, color in (("vCPU %", "#1F77B4"), ("memory %", "#2CA02C")):
        col = list(frame.columns).index(col_name)
        chart.add_series(
            {
                "name": col_name,
                "categories": ["Hosts", 1, 0, n, 0],
                "values": ["Hosts", 1, col, n, col],
                "fill": {"color": color},
            }
        )
    chart.set_title({"name": "Utilization of usable capacity per host (spares at 0 %)"})
    chart.set_y_axis({"name": "% of usable capacity", "max": 100, "min": 0})
    chart.set_size({"width": max(640, 18 * n), "height": 360})
    ws.insert_chart(n + 3, 0, chart)


def _assumptions(wb: Workbook, plan: Plan, problem: Problem, fmt: _Formats) -> None:
    ws = wb.add_worksheet("Assumptions")
    row = 0
    for title, frame in assumption_frames(problem, plan.params).items():
        ws.write_string(row, 0, title, fmt.section)
        row = _table(ws, frame, fmt, first_row=row + 1)
    ws.set_column(0, 0, 32)


def write_workbook(plan: Plan, problem: Problem, target: str | Path | io.BytesIO) -> None:
    """Write the workbook to a path or a binary buffer."""
    with xlsxwriter.Workbook(target, {"in_memory": True}) as wb:
        fmt = _Formats(wb)
        _summary(wb, plan, problem, fmt)
        _explanation(wb, plan, fmt)
        _comparison(wb, plan, problem, fmt)
        _hosts(wb, plan, fmt, problem)
        _sheet(wb, "Placement", placement_frame(plan, problem), fmt)
        if plan.migration is not None:  # existing estates: hosts before/after, the moves
            _sheet(wb, "Migration", host_utilisation_frame(plan, problem), fmt)
            _sheet(wb, "Moves", moves_frame(plan), fmt)
            _sheet(wb, "Estates", estate_frame(plan, problem).reset_index(names="item"), fmt)
        _sheet(wb, "Unplaced", unplaced_frame(plan), fmt)
        _sheet(wb, "Failures", failures_frame(plan), fmt)
        _sheet(wb, "Validation", validation_frame(plan, problem), fmt)
        _assumptions(wb, plan, problem, fmt)


def workbook_bytes(plan: Plan, problem: Problem) -> bytes:
    """The workbook as bytes (for downloads)."""
    buffer = io.BytesIO()
    write_workbook(plan, problem, buffer)
    return buffer.getvalue()
