"""What the app draws: KPIs, charts and tables of a plan. Rendering only, no planning logic.

``app.py`` turns widgets into a policy and calls the pipeline; it hands the results to these
functions. The numbers come from ``planner`` (``compare``, ``planner.report.tables``); this
module only formats them, with their units, for the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from planner.dedicated import compare
from planner.errors import InputError, InputIssue
from planner.models import COST_CATEGORIES, Catalog, Inventory, Plan, Policy, Problem
from planner.report import placement_frame, tables

__all__ = [
    "CSS",
    "FORMAT_HELP",
    "HOST_EDIT",
    "LICENCE_EDIT",
    "assumptions",
    "bad_input",
    "chart",
    "cost_chart",
    "downloads",
    "failures",
    "issues_table",
    "kpis",
    "money",
    "overview",
    "placement",
    "policy_line",
    "rule_prices",
    "rules_chart",
    "sensitivity_charts",
    "utilization_chart",
    "validation",
]

BLUE, ORANGE, GREY = "#3b6ea8", "#e08a2c", "#9aa3ad"
CATEGORIES = COST_CATEGORIES


# Less empty space above the title, so the KPIs and the tabs fit a laptop screen.
CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
</style>"""


FORMAT_HELP = """
| format | columns read |
|---|---|
| native | `name`, `vcpus`, `memory_gib` (required); `cpu_util_pct`, `mem_util_pct`, \
`storage_gib`, `os`, `licenses`, `group`, `zone`, `cluster`, `powerstate` |
| RVTools `vInfo` (XLSX or `RVTools_tabvInfo.csv`) | `VM`, `Powerstate`, `CPUs`, \
`Memory` (MiB), `Provisioned MiB`, `OS according to the configuration file`, `Cluster`, \
`Template`, `SRM Placeholder` |
| Azure Migrate import CSV | `Server name`, `Cores`, `Memory (In MB)`, `OS name`, \
`CPU utilization percentage`, `Memory utilization percentage` |
| Live Optics `VMs` sheet | `VM Name`, `Power State`, `Virtual CPU`, \
`Provisioned Memory (MiB)`, `VM OS`, `Cluster` |

CSV: delimiter `,` `;` or tab; UTF-8 (with or without BOM) or Windows-1252. Headers forgive
case and spacing. Row numbers are those a spreadsheet shows (the header is row 1).
"""


# --------------------------------------------------------------------------- formatting


def money(x: float) -> str:
    """A currency amount, compact: ``$4.89 M``, ``$532 k``, ``$980``."""
    a = abs(x)
    if a >= 1e6:
        text = f"${a / 1e6:,.2f} M"
    elif a >= 1e4:
        text = f"${a / 1e3:,.0f} k"
    else:
        text = f"${a:,.0f}"
    return f"-{text}" if x < 0 else text


def _count(n: int, word: str) -> str:
    """``1 VM``, ``3 VMs``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _signed(x: float, unit: str, fmt: str = ",.0f") -> str:
    """``+12 U`` / ``-3.4 kW``: a difference with its sign (ASCII, so st.metric colours it)."""
    return f"{'-' if x < 0 else '+'}{abs(x):{fmt}} {unit}"


def policy_line(policy: Policy) -> str:
    """The scenario's main assumptions on one line, as shown under the title."""
    sizing = "allocated size" if policy.sizing == "allocated" else "observed utilization"
    return " · ".join(
        [
            f"hypervisor **{policy.hypervisor}**",
            f"CPU **{policy.cpu_overcommit:g} vCPU/core**",
            f"memory **{policy.memory_overcommit:g} : 1**",
            f"hosts ≤ **{policy.max_utilization:.0%}** used",
            f"**N+{policy.ha_host_failures}**",
            f"growth **{policy.growth:.0%}**",
            f"sized by **{sizing}**",
            f"objective **{'total cost' if policy.objective == 'cost' else 'host count'}**",
            f"**{policy.horizon_years:g}-year** TCO",
        ]
    )


# --------------------------------------------------------------------------- errors


def issues_table(issues: Sequence[InputIssue]) -> None:
    """Every problem of a file as a table a spreadsheet user can follow (row = sheet row)."""
    frame = pd.DataFrame(
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
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "row": st.column_config.NumberColumn(
                "row", help="Row number as a spreadsheet shows it (the header is row 1)"
            ),
            "problem": st.column_config.TextColumn("problem", width="large"),
        },
    )


def bad_input(title: str, exc: InputError) -> None:
    """A file's problems: one error line and the table of issues, nothing planned."""
    n = exc.total  # the issues listed, and those only counted
    st.error(
        f"**{title}**: {_count(n, 'problem')} found; nothing was planned. "
        f"Fix {'it' if n == 1 else 'them'} and try again.",
        icon=":material/error:",
    )
    issues_table(exc.issues)
    with st.expander("Accepted inventory formats"):
        st.markdown(FORMAT_HELP)


# --------------------------------------------------------------------------- KPIs


def kpis(plan: Plan, problem: Problem, settled: bool = True) -> None:
    """The headline numbers in two rows of four, each with its unit and a comparison.

    ``settled`` is False while a better plan is still being made in the background.
    """
    c = compare(plan, problem)
    policy = problem.policy
    years = policy.horizon_years
    placed = sum(h.vm_count for h in plan.hosts)
    total_vms = len(problem.inventory.vms)
    row1 = st.columns(4)
    row1[0].metric(
        "Hosts needed",
        f"{len(plan.hosts)} hosts",
        f"{len(plan.active_hosts)} active + {len(plan.spare_hosts)} spare "
        f"(N+{policy.ha_host_failures})",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Every physical host of the plan, failover spares included.",
    )
    row1[1].metric(
        "Dedicated servers instead",
        f"{c['dedicated_servers']:,.0f} servers",
        "one per VM, no hypervisor",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="The baseline: each VM on the cheapest catalog model that holds it alone.",
    )
    row1[2].metric(
        "Consolidation ratio",
        f"{c['consolidation_ratio']:.1f} : 1",
        "VMs per active host"
        if placed == total_vms
        else f"{_count(total_vms - placed, 'VM')} unplaced",
        delta_color="off" if placed == total_vms else "inverse",
        delta_arrow="off",
        border=True,
        help="Placed VMs per active host (spares excluded).",
    )
    if plan.status == "optimal":
        quality, note = "Proven optimal", "no cheaper plan exists"
        if plan.objective == "hosts":
            note = "no plan needs fewer hosts"
    elif plan.status == "infeasible":
        quality, note = "Infeasible", "proven: no plan places every VM"
    elif plan.status == "partial":
        quality, note = "Partial", "VMs left out or spares missing"
    else:
        quality = f"Gap {plan.gap:.1%}" if settled else f"Improving… gap {plan.gap:.1%}"
        what = "cost" if plan.objective == "cost" else "host count"
        note = f"to the {what} lower bound"
    row1[3].metric(
        "Plan quality",
        quality,
        note,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=(
            f"{plan.engine}, {plan.solve_seconds:.2f} s; lower bound "
            f"{plan.lower_bound_hosts} hosts. The gap is the distance of the plan's objective "
            "to a proven lower bound: 0 % means optimal. A longer solver time limit "
            "(sidebar, Advanced) may narrow it."
        ),
    )
    row2 = st.columns(4)
    row2[0].metric(
        f"Total cost, {years:g} years",
        money(c["cost_total"]),
        f"{'+' if c['cost_saving'] < 0 else ''}{money(-c['cost_saving'])} vs dedicated",
        delta_color="inverse",
        border=True,
        help="Hardware, support, licences, network, storage, energy, facilities and operations "
        "over the horizon (catalog currency).",
    )
    row2[1].metric(
        "Saving vs dedicated",
        money(c["cost_saving"]),
        f"{c['cost_saving_pct']:.0%} of {money(c['dedicated_cost_total'])}",
        delta_color="normal",
        border=True,
        help="Dedicated cost minus consolidated cost over the horizon.",
    )
    kw = c["hosts_watts"] / 1000
    row2[2].metric(
        "Power draw",
        f"{kw:,.1f} kW",
        f"{_signed(kw - c['dedicated_watts'] / 1000, 'kW', ',.1f')} vs dedicated",
        delta_color="inverse",
        border=True,
        help=f"Expected draw at the wall before PUE ({policy.pue:g}), linear power model.",
    )
    row2[3].metric(
        "Rack space",
        f"{c['hosts_rack_units']:,.0f} U",
        f"{_signed(c['hosts_rack_units'] - c['dedicated_rack_units'], 'U')} vs dedicated",
        delta_color="inverse",
        border=True,
        help="Rack units of the hosts, spares included.",
    )
    if plan.status == "feasible" and settled:
        st.caption(
            f"Not proven optimal within the solver limit of {policy.time_limit_s:g} s. Raise "
            "Advanced › Solver time limit in the sidebar to search longer; the gap says how "
            "much a better plan could still save."
        )


def downloads(files: Sequence[tuple[str, str, str, Callable[[], bytes | str]]]) -> None:
    """One row of download buttons; each file is made only when its button is clicked."""
    cols = st.columns(len(files))
    for col, (label, file_name, mime, make) in zip(cols, files, strict=True):
        col.download_button(
            label,
            data=make,
            file_name=file_name,
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            width="stretch",
            key=f"download-{file_name.rsplit('.', 1)[-1]}",
        )


# --------------------------------------------------------------------------- charts


# Charts are Vega-Lite specs (rendered by Streamlit's bundled Vega, offline). They are written
# as plain dicts rather than built with Altair: Altair validates every spec against the JSON
# schema, which cost ~0.2 s per rerun and would eat most of the one-second re-plan budget.
Spec = dict[str, Any]


def _legend() -> Spec:
    return {"title": None, "orient": "top"}


def utilization_chart(hosts: pd.DataFrame) -> Spec:
    """Per host: vCPU and memory use as % of usable capacity; spare hosts shaded and labelled.

    ``hosts`` is ``planner.report.tables.hosts_frame``.
    """
    order = list(hosts["host"])
    bars = [
        {
            "host": row["host"],
            "model": row["model"],
            "role": row["role"],
            "VMs": row["VMs"],
            "limited by": row["limiting"],
            "resource": resource,
            "percent": row[f"{prefix} %"],
            "used": f"{row[used]:,.1f} {unit}",
            "usable capacity": f"{row[cap]:,.1f} {unit}",
        }
        for row in hosts.to_dict("records")
        for resource, prefix, used, cap, unit in (
            ("vCPU", "vCPU", "vCPU used", "vCPU capacity", "vCPU"),
            ("Memory", "memory", "memory used (GiB)", "memory capacity (GiB)", "GiB"),
        )
    ]
    spares = [
        {"host": h, "model": m}
        for h, m, r in zip(hosts["host"], hosts["model"], hosts["role"], strict=True)
        if r == "spare"
    ]
    many = len(order) > 60
    x = {
        "field": "host",
        "type": "nominal",
        "sort": order,
        "title": None,
        "axis": {"labelAngle": -60, "labels": not many, "ticks": not many},
    }
    y100 = {"datum": 100, "type": "quantitative"}
    return {
        "height": 330,
        "layer": [
            {
                "data": {"values": spares},
                "mark": {"type": "rect", "color": GREY, "opacity": 0.25},
                "encoding": {
                    "x": x,
                    "y": {"datum": 0, "type": "quantitative"},
                    "y2": y100,
                    "tooltip": [{"field": "host"}, {"field": "model"}],
                },
            },
            {
                "data": {"values": bars},
                "mark": {"type": "bar", "clip": True},
                "encoding": {
                    "x": x,
                    "xOffset": {"field": "resource", "sort": ["vCPU", "Memory"]},
                    "y": {
                        "field": "percent",
                        "type": "quantitative",
                        "title": "Used, % of usable capacity",
                        "scale": {"domain": [0, 100]},
                    },
                    "color": {
                        "field": "resource",
                        "type": "nominal",
                        "sort": ["vCPU", "Memory"],
                        "scale": {"domain": ["vCPU", "Memory"], "range": [BLUE, ORANGE]},
                        "legend": _legend(),
                    },
                    "tooltip": [
                        {"field": "host"},
                        {"field": "model"},
                        {"field": "role"},
                        {"field": "VMs", "type": "quantitative"},
                        {"field": "resource"},
                        {"field": "used"},
                        {"field": "usable capacity"},
                        {
                            "field": "percent",
                            "type": "quantitative",
                            "title": "% used",
                            "format": ".1f",
                        },
                        {"field": "limited by"},
                    ],
                },
            },
            {
                "data": {"values": spares},
                "mark": {"type": "text", "angle": 270, "color": "#4a525c", "fontSize": 11},
                "encoding": {
                    "x": x,
                    "y": {"datum": 50, "type": "quantitative"},
                    "text": {"value": "spare (N+k)"},
                },
            },
        ],
    }


def cost_chart(c: Mapping[str, float], years: float) -> Spec:
    """Cost by category, consolidated hosts against dedicated servers."""
    rows = [
        {"category": cat.capitalize(), "scenario": who, "cost": c[f"{prefix}{cat}_cost"]}
        for cat in CATEGORIES
        for who, prefix in (("Consolidated", ""), ("Dedicated", "dedicated_"))
    ]
    scenarios = ["Consolidated", "Dedicated"]
    return {
        "height": 330,
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "x": {
                "field": "category",
                "type": "nominal",
                "sort": [cat.capitalize() for cat in CATEGORIES],
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "xOffset": {"field": "scenario", "sort": scenarios},
            "y": {
                "field": "cost",
                "type": "quantitative",
                "title": f"Cost over {years:g} years ($)",
                "axis": {"format": "$~s"},
            },
            "color": {
                "field": "scenario",
                "type": "nominal",
                "scale": {"domain": scenarios, "range": [BLUE, GREY]},
                "legend": _legend(),
            },
            "tooltip": [
                {"field": "category"},
                {"field": "scenario"},
                {"field": "cost", "type": "quantitative", "format": "$,.0f"},
            ],
        },
    }


def _line_chart(
    frame: pd.DataFrame,
    key: str,
    key_title: str,
    series: Mapping[str, str],
    y_title: str,
    y_format: str,
    current: float,
    colors: Sequence[str],
    step: float,
) -> Spec:
    rows = [
        {key: float(k), "series": name, "y": float(v)}
        for column, name in series.items()
        for k, v in zip(frame[key], frame[column], strict=True)
    ]
    names = list(series.values())
    x = {"field": key, "type": "quantitative", "title": key_title, "axis": {"tickMinStep": step}}
    return {
        "height": 260,
        "layer": [
            {
                "data": {"values": rows},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "y",
                        "type": "quantitative",
                        "title": y_title,
                        "axis": {"format": y_format},
                    },
                    "color": {
                        "field": "series",
                        "type": "nominal",
                        "sort": names,
                        "scale": {"domain": names, "range": list(colors)},
                        "legend": _legend(),
                    },
                    "tooltip": [
                        {"field": key, "type": "quantitative", "title": key_title},
                        {"field": "series"},
                        {
                            "field": "y",
                            "type": "quantitative",
                            "title": y_title,
                            "format": y_format.replace("~s", ",.0f"),
                        },
                    ],
                },
            },
            {
                "data": {"values": [{key: current}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#4a525c"},
                "encoding": {
                    "x": {"field": key, "type": "quantitative"},
                    "tooltip": [{"field": key, "type": "quantitative", "title": "current"}],
                },
            },
        ],
    }


def chart(spec: Spec) -> None:
    """Draw a Vega-Lite spec across the container's width."""
    st.vega_lite_chart(spec, width="stretch")


def sensitivity_charts(
    frame: pd.DataFrame, key: str, key_title: str, current: float, step: float
) -> None:
    """Hosts and cost as functions of one policy key (a ``planner.sweep.sweep`` frame)."""
    left, right = st.columns(2)
    left.vega_lite_chart(
        _line_chart(
            frame,
            key,
            key_title,
            {"hosts": "Hosts, spares included", "active_hosts": "Active hosts"},
            "Hosts",
            "d",
            current,
            (BLUE, ORANGE),
            step,
        ),
        width="stretch",
    )
    right.vega_lite_chart(
        _line_chart(
            frame,
            key,
            key_title,
            {"cost_total": "Consolidated", "dedicated_cost_total": "Dedicated servers"},
            "Total cost ($)",
            "$~s",
            current,
            (BLUE, GREY),
            step,
        ),
        width="stretch",
    )
    shown = frame[[key, "hosts", "spare_hosts", "status", "gap", "cost_total", "cost_saving"]]
    with st.expander(f"Table: hosts and cost by {key_title}"):
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                key: st.column_config.NumberColumn(key_title),
                "hosts": st.column_config.NumberColumn("hosts", format="%d hosts"),
                "spare_hosts": st.column_config.NumberColumn("spares", format="%d hosts"),
                "gap": st.column_config.NumberColumn("gap", format="percent"),
                "cost_total": st.column_config.NumberColumn("total cost", format="dollar"),
                "cost_saving": st.column_config.NumberColumn("saving", format="dollar"),
            },
        )


# --------------------------------------------------------------------------- tabs


_HOST_COLUMNS: dict[str, Any] = {
    "VMs": st.column_config.NumberColumn("VMs"),
    "vCPU used": st.column_config.NumberColumn("vCPU used", format="%.1f vCPU"),
    "vCPU capacity": st.column_config.NumberColumn("vCPU capacity", format="%.1f vCPU"),
    "vCPU %": st.column_config.ProgressColumn(
        "vCPU used %", format="%.0f %%", min_value=0, max_value=100
    ),
    "memory used (GiB)": st.column_config.NumberColumn("memory used", format="%.1f GiB"),
    "memory capacity (GiB)": st.column_config.NumberColumn("memory capacity", format="%.1f GiB"),
    "memory %": st.column_config.ProgressColumn(
        "memory used %", format="%.0f %%", min_value=0, max_value=100
    ),
    "power (W)": st.column_config.NumberColumn("power", format="%,.0f W"),
    "cost": st.column_config.NumberColumn("cost", format="dollar"),
}


def overview(plan: Plan, problem: Problem, drivers: Callable[[], None] | None = None) -> None:
    """What drives the host count, utilization per host, the comparison, unplaced VMs.

    ``drivers`` draws the price of each rule (``app._rule_prices``) under the partitions.
    """
    c = compare(plan, problem)
    years = problem.policy.horizon_years
    models = Counter(h.model for h in plan.hosts)
    st.info(
        f"**What drives the host count.** {plan.explanation.summary}  \n"
        f"**Hosts:** {', '.join(f'{n} × {m}' for m, n in models.most_common()) or 'none'}.  \n"
        f"**Failure simulation:** {_failure_summary(plan)}",
        icon=":material/lightbulb:",
    )
    for note in plan.notes:
        st.caption(f"Note: {note}")
    if plan.explanation.partitions:
        st.markdown("\n".join(f"- {p.text}" for p in plan.explanation.partitions))
    if drivers:
        drivers()
    st.subheader("Utilization per host")
    hosts = tables.hosts_frame(plan, problem)
    if hosts.empty:
        st.write("No hosts in the plan.")
    else:
        chart(utilization_chart(hosts))
        st.caption(
            "Usable capacity: (cores − hypervisor reserve) × max utilization × overcommit for "
            "vCPU; (RAM − reserve) × max utilization for memory. Shaded hosts are the N+k "
            "spares, empty until a host fails."
        )
    st.subheader("Consolidated vs dedicated servers")
    left, right = st.columns(2)
    with left:
        chart(cost_chart(c, years))
    with right:
        comp = tables.comparison_frame(plan, problem)
        comp["unit"] = comp["unit"].str.replace("currency", "$", regex=False)
        st.dataframe(
            comp,
            hide_index=True,
            width="stretch",
            height=420,
            column_config={
                col: st.column_config.NumberColumn(col, format="%,.0f")
                for col in ("consolidated", "dedicated", "saving")
            },
        )
    st.subheader(f"Unplaced VMs ({len(plan.unplaced)})")
    if plan.unplaced:
        st.warning(
            f"{_count(len(plan.unplaced), 'VM')} could not be placed; each is listed with the "
            "reason.",
            icon=":material/warning:",
        )
        unplaced = tables.unplaced_frame(plan)
        if len(unplaced) <= 30:  # a static table wraps the long reasons
            st.table(unplaced.set_index("vm"))
        else:
            st.dataframe(
                unplaced,
                hide_index=True,
                width="stretch",
                column_config={"reason": st.column_config.TextColumn(width="large")},
            )
    else:
        st.success(
            f"Every VM of the inventory is placed ({len(problem.inventory.vms):,} VMs).",
            icon=":material/check_circle:",
        )
    st.subheader("Hosts")
    st.dataframe(hosts, hide_index=True, width="stretch", column_config=_HOST_COLUMNS)


def rules_chart(rules: pd.DataFrame, years: float) -> Spec:
    """One bar per rule: the cost it adds (negative: it saves), most expensive on top.

    ``rules`` is ``planner.report.tables.rules_frame``.
    """
    rows = [
        {"rule": f"{r['rule']}: {r['name']}", "cost": r["cost"], "hosts": r["hosts"]}
        for r in rules.to_dict("records")
    ]
    return {
        "height": max(120, 28 * len(rows)),
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "rule", "type": "nominal", "sort": None, "title": None},
            "x": {
                "field": "cost",
                "type": "quantitative",
                "title": f"Cost the rule adds over {years:g} years ($)",
                "axis": {"format": "$~s"},
            },
            "color": {
                "condition": {"test": "datum.cost < 0", "value": GREY},
                "value": BLUE,
            },
            "tooltip": [
                {"field": "rule"},
                {"field": "hosts", "type": "quantitative", "title": "hosts it adds"},
                {"field": "cost", "type": "quantitative", "format": "$,.0f"},
            ],
        },
    }


def rule_prices(plan: Plan, years: float) -> None:
    """The price of each rule: a table (rule -> hosts -> cost, costliest first by the plan's
    objective) and a bar chart."""
    rules = tables.rules_frame(plan)
    if rules.empty:
        st.caption("This plan honours no rule that could be priced.")
        return
    chart(rules_chart(rules, years))
    st.dataframe(
        rules,
        hide_index=True,
        width="stretch",
        column_config={
            "hosts": st.column_config.NumberColumn("hosts it adds", format="%+d"),
            "cost": st.column_config.NumberColumn("cost it adds", format="dollar"),
        },
    )
    for note in plan.explanation.notes:
        st.caption(f"Note: {note}")


def placement(plan: Plan, problem: Problem) -> None:
    """The per-VM placement table with filters."""
    frame = placement_frame(plan, problem)
    a, b, c, d = st.columns([2, 2, 2, 1])
    # persist_state: the filters survive a visit to another tab (only the open tab is drawn).
    text = a.text_input(
        "Search VM name", key="filter_vm", placeholder="e.g. sql", persist_state="page"
    )
    models = b.multiselect(
        "Host model",
        sorted(m for m in frame["model"].unique() if m),
        key="filter_models",
        persist_state="page",
    )
    hosts = c.multiselect(
        "Host",
        sorted(h for h in frame["host"].unique() if h),
        key="filter_hosts",
        persist_state="page",
    )
    only = d.selectbox(
        "Show", ("all VMs", "placed", "unplaced"), key="filter_show", persist_state="page"
    )
    shown = frame
    if text:
        shown = shown[shown["vm"].str.contains(text, case=False, regex=False)]
    if models:
        shown = shown[shown["model"].isin(models)]
    if hosts:
        shown = shown[shown["host"].isin(hosts)]
    if only == "placed":
        shown = shown[shown["host"] != ""]
    elif only == "unplaced":
        shown = shown[shown["host"] == ""]
    st.caption(f"{len(shown):,} of {len(frame):,} VMs shown.")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=520,
        column_config={
            "vcpus": st.column_config.NumberColumn("vCPUs", format="%d vCPU"),
            "memory_gib": st.column_config.NumberColumn("memory", format="%.1f GiB"),
            "cpu_demand_vcpu": st.column_config.NumberColumn(
                "vCPU demand", format="%.2f vCPU", help="After growth and CPU efficiency"
            ),
            "memory_demand_gib": st.column_config.NumberColumn(
                "memory demand",
                format="%.2f GiB",
                help="After growth, hypervisor overhead and memory overcommit",
            ),
            "numa_span": st.column_config.CheckboxColumn(
                "spans NUMA", help="Wider than one socket of its host"
            ),
            "unplaced_reason": st.column_config.TextColumn("unplaced because", width="large"),
        },
    )


def _failure_summary(plan: Plan) -> str:
    total = len(plan.failures)
    ok = sum(f.restartable for f in plan.failures)
    if not total:
        return "no active host to fail."
    if ok == total:
        who = "the only active host" if total == 1 else f"each of the {total} active hosts"
        return (
            f"{who} can fail on its own with every one of its VMs restarted on the survivors' "
            "free capacity."
        )
    return f"{total - ok} of {total} active hosts cannot fail without stranding VMs."


def failures(plan: Plan) -> None:
    """The failure simulation: can each host's VMs restart on the survivors?"""
    frame = tables.failures_frame(plan)
    text = _failure_summary(plan)
    if all(f.restartable for f in plan.failures):
        st.success(text[0].upper() + text[1:], icon=":material/check_circle:")
    else:
        st.error(text[0].upper() + text[1:], icon=":material/error:")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "stranded VMs": st.column_config.TextColumn("stranded VMs", width="large"),
        },
    )


def validation(inventory: Inventory, plan: Plan, problem: Problem) -> None:
    """The inventory's validation report and the VMs as read."""
    on = sum(vm.powered_on for vm in inventory.vms)
    cols = st.columns(4)
    cols[0].metric("VMs read", f"{len(inventory.vms):,} VMs", border=True)
    cols[1].metric("Powered on", f"{on:,} VMs", border=True)
    cols[2].metric("Format", inventory.format.replace("_", " "), border=True)
    dropped = sum(inventory.dropped.values())
    cols[3].metric("Rows dropped", f"{dropped:,} rows", border=True, help="Templates, SRM")
    st.success("The file passed validation: no problems found.", icon=":material/check_circle:")
    st.table(tables.validation_frame(plan, problem).set_index("check"))
    st.subheader("VMs as read")
    vms = pd.DataFrame(
        [
            {
                "row": vm.row,
                "name": vm.name,
                "vcpus": vm.vcpus,
                "memory_gib": vm.memory_gib,
                "cpu_util_pct": vm.cpu_util_pct,
                "mem_util_pct": vm.mem_util_pct,
                "os": vm.os,
                "licences": ";".join(vm.licenses) + (" (inferred)" if vm.licenses_inferred else ""),
                "group": vm.group,
                "zone": vm.zone,
                "cluster": vm.cluster,
                "powered on": vm.powered_on,
            }
            for vm in inventory.vms
        ]
    )
    st.dataframe(
        vms,
        hide_index=True,
        width="stretch",
        height=400,
        column_config={
            "row": st.column_config.NumberColumn("row", help="Row in the file (header = row 1)"),
            "vcpus": st.column_config.NumberColumn("vCPUs", format="%d vCPU"),
            "memory_gib": st.column_config.NumberColumn("memory", format="%.1f GiB"),
            "cpu_util_pct": st.column_config.NumberColumn("CPU use", format="%.0f %%"),
            "mem_util_pct": st.column_config.NumberColumn("memory use", format="%.0f %%"),
        },
    )


def assumptions(problem: Problem, catalog: Catalog) -> None:
    """Every assumption the plan rests on: policy, hypervisor profile, catalog, sources."""
    st.markdown(
        "Money is in the catalog's currency: the bundled prices are US list prices in US$ "
        f"(sources in `data/README.md`). Costs cover **{problem.policy.horizon_years:g} years**"
        f": purchase prices once, yearly licences and support, energy at "
        f"**${problem.policy.electricity_per_kwh:g}/kWh** × PUE **{problem.policy.pue:g}**, "
        f"colocation at **${problem.policy.colocation_per_kw_month:g} per kW per month**, "
        f"storage at **${problem.policy.shared_storage_per_gib:g}** (shared) / "
        f"**${problem.policy.local_storage_per_gib:g}** (local) per GiB, operations at "
        f"**${problem.policy.ops_per_host_year:g}** per server and "
        f"**${problem.policy.ops_per_vm_year:g}** per VM a year (policy keys; sources in "
        "`data/README.md`)."
    )
    frames = tables.assumption_frames(problem)
    left, right = st.columns(2)
    with left:
        st.markdown("**Policy**")
        st.dataframe(frames["Policy"], hide_index=True, width="stretch")
    with right:
        name = f"Hypervisor profile ({problem.profile.name})"
        st.markdown(f"**{name}**")
        st.dataframe(frames[name], hide_index=True, width="stretch")
        st.markdown("**Sources**")
        st.dataframe(frames["Sources"], hide_index=True, width="stretch")
    if catalog.profiles:
        st.markdown("**Hypervisor profiles available**")
        st.dataframe(
            pd.DataFrame([p.model_dump() for p in catalog.profiles.values()]),
            hide_index=True,
            width="stretch",
        )


# --------------------------------------------------------------------------- catalog editor

HOST_EDIT: dict[str, Any] = {
    "model": st.column_config.TextColumn("model", required=True, width="medium"),
    "sockets": st.column_config.NumberColumn("sockets", min_value=1, step=1, required=True),
    "cores_per_socket": st.column_config.NumberColumn(
        "cores per socket", min_value=1, step=1, required=True
    ),
    "memory_gib": st.column_config.NumberColumn("memory (GiB)", min_value=0, required=True),
    "threads_per_core": st.column_config.NumberColumn("threads per core", min_value=1, step=1),
    "price": st.column_config.NumberColumn(
        "price ($)", min_value=0, help="Empty: estimated from cores and memory"
    ),
    "watts_idle": st.column_config.NumberColumn("idle (W)", min_value=0),
    "watts_max": st.column_config.NumberColumn("max (W)", min_value=0),
    "rack_units": st.column_config.NumberColumn("rack (U)", min_value=0, step=1),
    "max_count": st.column_config.NumberColumn(
        "max count", min_value=0, step=1, help="Cap on hosts of this model (empty: no cap)"
    ),
}
LICENCE_EDIT: dict[str, Any] = {
    "name": st.column_config.TextColumn("name", required=True, width="medium"),
    "unit": st.column_config.SelectboxColumn(
        "unit", options=["core", "socket_pair", "host", "vm"], required=True
    ),
    "price": st.column_config.NumberColumn("price ($ per unit)", min_value=0, required=True),
    "period": st.column_config.SelectboxColumn("period", options=["once", "year"]),
    "scope": st.column_config.SelectboxColumn("scope", options=["host", "cluster"]),
    "applies_to": st.column_config.SelectboxColumn("applies to", options=["tagged", "all_hosts"]),
}
