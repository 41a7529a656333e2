"""What the app draws: KPIs, charts and tables of a plan. Rendering only, no planning logic.

``app.py`` turns widgets into a policy and calls the pipeline; it hands the results to these
functions. The numbers come from ``planner``; the words, cards, chart specs and frames from
this package's pure modules (``text``, ``cards``, ``charts``, ``frames``); this module only
lays them out with Streamlit, with the column formats of each table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from planner.dedicated import compare
from planner.errors import InputError, InputIssue
from planner.models import Catalog, Inventory, Plan, Problem
from planner.moves import today_plan
from planner.report import (
    host_utilisation_frame,
    migration_summary_lines,
    moves_frame,
    placement_frame,
    side_by_side,
    tables,
)
from ui import cards, charts, frames, text

__all__ = [
    "CSS",
    "HOST_EDIT",
    "LICENCE_EDIT",
    "assumptions",
    "bad_input",
    "chart",
    "downloads",
    "estate",
    "failures",
    "issues_table",
    "kpis",
    "overview",
    "placement",
    "rule_prices",
    "sensitivity_charts",
    "validation",
]

# Less empty space above the title, so the KPIs and the tabs fit a laptop screen.
CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
</style>"""


# --------------------------------------------------------------------------- errors


def issues_table(issues: Sequence[InputIssue]) -> None:
    """Every problem of a file as a table a spreadsheet user can follow (row = sheet row)."""
    st.dataframe(
        frames.issues_frame(issues),
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
    st.error(text.problems_found(title, exc.total), icon=":material/error:")
    issues_table(exc.issues)
    with st.expander("Accepted inventory formats"):
        st.markdown(text.FORMAT_HELP)


# --------------------------------------------------------------------------- KPIs


def kpis(plan: Plan, problem: Problem, settled: bool = True) -> None:
    """The headline numbers in two rows of four (``ui.cards``), and how to search longer.

    ``settled`` is False while a better plan is still being made in the background.
    """
    for row in cards.kpi_rows(plan, problem, settled):
        for col, card in zip(st.columns(len(row)), row, strict=True):
            col.metric(
                card.label,
                card.value,
                card.delta,
                delta_color=card.delta_color,
                delta_arrow=card.delta_arrow,
                border=True,
                help=card.help,
            )
    note = cards.search_note(plan, problem, settled)
    if note:
        st.caption(note)


def downloads(files: Sequence[tuple[str, str, str, Callable[[], bytes | str]]]) -> None:
    """One row of download buttons (label, file name, MIME type, maker); each file is made
    only when its button is clicked."""
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


def chart(spec: charts.Spec) -> None:
    """Draw a Vega-Lite spec across the container's width."""
    st.vega_lite_chart(spec, width="stretch")


def sensitivity_charts(
    frame: pd.DataFrame, key: str, key_title: str, current: float, step: float
) -> None:
    """Hosts and cost as functions of one policy key (a ``planner.sweep.sweep`` frame)."""
    hosts, cost = charts.sensitivity_charts(frame, key, key_title, current, step)
    left, right = st.columns(2)
    left.vega_lite_chart(hosts, width="stretch")
    right.vega_lite_chart(cost, width="stretch")
    with st.expander(f"Table: hosts and cost by {key_title}"):
        st.dataframe(
            frames.sweep_frame(frame, key),
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


# A VM's allocated size, as the placement table and the VMs as read both show it.
_VM_SIZE: dict[str, Any] = {
    "vcpus": st.column_config.NumberColumn("vCPUs", format="%d vCPU"),
    "memory_gib": st.column_config.NumberColumn("memory", format="%.1f GiB"),
}
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
    st.info(
        f"**What drives the host count.** {plan.explanation.summary}  \n"
        f"**Hosts:** {text.host_models(plan)}.  \n"
        f"**Failure simulation:** {text.failure_summary(plan)}",
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
        chart(charts.utilization_chart(hosts))
        st.caption(
            "Usable capacity: (cores − hypervisor reserve) × max utilization × overcommit for "
            "vCPU; (RAM − reserve) × max utilization for memory. Shaded hosts are the N+k "
            "spares, empty until a host fails."
        )
    st.subheader("Consolidated vs dedicated servers")
    left, right = st.columns(2)
    with left:
        chart(charts.cost_chart(compare(plan, problem), problem.policy.horizon_years))
    with right:
        st.dataframe(
            frames.comparison_frame(plan, problem),
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
            f"{text.count(len(plan.unplaced), 'VM')} could not be placed; each is listed with "
            "the reason.",
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


def rule_prices(plan: Plan, years: float) -> None:
    """The price of each rule: a table (rule -> hosts -> cost, costliest first by the plan's
    objective) and a bar chart."""
    rules = tables.rules_frame(plan)
    if rules.empty:
        st.caption("This plan honours no rule that could be priced.")
        return
    chart(charts.rules_chart(rules, years))
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
    search = a.text_input(
        "Search VM name", key="filter_vm", placeholder="e.g. sql", persist_state="page"
    )
    models = b.multiselect(
        "Host model", frames.choices(frame, "model"), key="filter_models", persist_state="page"
    )
    hosts = c.multiselect(
        "Host", frames.choices(frame, "host"), key="filter_hosts", persist_state="page"
    )
    show = d.selectbox("Show", frames.SHOW, key="filter_show", persist_state="page")
    shown = frames.filter_placement(frame, search, models, hosts, show)
    st.caption(f"{len(shown):,} of {len(frame):,} VMs shown.")
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=520,
        column_config={
            **_VM_SIZE,
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


def failures(plan: Plan) -> None:
    """The failure simulation: can each host's VMs restart on the survivors?"""
    summary = text.failure_summary(plan)
    summary = summary[0].upper() + summary[1:]
    if all(f.restartable for f in plan.failures):
        st.success(summary, icon=":material/check_circle:")
    else:
        st.error(summary, icon=":material/error:")
    st.dataframe(
        tables.failures_frame(plan),
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
    st.dataframe(
        frames.vms_frame(inventory),
        hide_index=True,
        width="stretch",
        height=400,
        column_config={
            "row": st.column_config.NumberColumn("row", help="Row in the file (header = row 1)"),
            **_VM_SIZE,
            "cpu_util_pct": st.column_config.NumberColumn("CPU use", format="%.0f %%"),
            "mem_util_pct": st.column_config.NumberColumn("memory use", format="%.0f %%"),
        },
    )


def assumptions(problem: Problem, catalog: Catalog) -> None:
    """Every assumption the plan rests on: policy, hypervisor profile, catalog, sources."""
    st.markdown(text.assumptions_intro(problem.policy))
    assumed = tables.assumption_frames(problem)
    left, right = st.columns(2)
    with left:
        st.markdown("**Policy**")
        st.dataframe(assumed["Policy"], hide_index=True, width="stretch")
    with right:
        name = f"Hypervisor profile ({problem.profile.name})"
        st.markdown(f"**{name}**")
        st.dataframe(assumed[name], hide_index=True, width="stretch")
        st.markdown("**Sources**")
        st.dataframe(assumed["Sources"], hide_index=True, width="stretch")
    if catalog.profiles:
        st.markdown("**Hypervisor profiles available**")
        st.dataframe(frames.profiles_frame(catalog), hide_index=True, width="stretch")


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


def estate(plan: Plan, problem: Problem, refreshed: tuple[Problem, Plan] | None) -> None:
    """Current vs planned (existing estates): hosts to retire, VMs to move in waves, each
    host's utilisation before and after, and today's estate beside the plan, the same VMs on
    new models (``refreshed``) and dedicated servers."""
    m = plan.migration
    if m is None:
        st.info(
            "Choose **Plan onto: Today's hosts** (or today's hosts and new models) in the "
            "sidebar to consolidate the estate you own: the RVTools workbook's vHost sheet, or "
            "the host list uploaded under 'Today's hosts', says which hosts run today.",
            icon=":material/info:",
        )
        return
    kept = sum(1 for h in plan.hosts if h.existing)
    cols = st.columns(4)
    cols[0].metric("Hosts today", f"{len(m.before):,}")
    cols[1].metric("Kept", f"{kept:,}", f"{kept - len(m.before):+,}", delta_color="inverse")
    cols[2].metric("VMs to move", f"{m.moved_vms:,}", f"{m.waves} waves", delta_color="off")
    proof = "proven fewest" if m.moves_proven else f"at least {m.moves_bound:g}"
    cols[3].metric("Moves", proof)
    for line in migration_summary_lines(plan):
        st.caption(line)
    for note in m.notes:
        st.caption(f"Note: {note}")
    st.subheader("Hosts to retire")
    if m.retired:
        retired = [
            {"host": h.id, "cluster": h.cluster, "VMs today": len(m.before.get(h.id, ()))}
            for h in m.retired
        ]
        st.dataframe(pd.DataFrame(retired), hide_index=True)
    else:
        st.write("None: every owned host is kept.")
    st.subheader("Utilisation before and after")
    hosts = host_utilisation_frame(plan, problem)
    chart_data = hosts.set_index("host")[["memory_pct_before", "memory_pct_after"]]
    st.bar_chart(chart_data, stack=False, y_label="memory, % of capacity")
    st.dataframe(hosts, hide_index=True, width="stretch")
    st.subheader("VMs to move, by wave")
    st.dataframe(moves_frame(plan), hide_index=True, width="stretch")
    st.subheader("Side by side")
    entries = [("today", today_plan(problem), problem), ("planned", plan, problem)]
    if refreshed is not None:
        entries.append(("on new models", refreshed[1], refreshed[0]))
    st.dataframe(side_by_side(entries), width="stretch")
