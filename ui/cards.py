"""The headline numbers of a plan, as cards: two rows of four, each with its unit, a
comparison and a help text. No Streamlit: ``views.kpis`` draws them with ``st.metric``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from planner.dedicated import compare
from planner.models import Plan, Problem
from planner.tolerances import gap_text
from ui.text import count, money, signed

__all__ = ["Card", "kpi_rows", "quality", "search_note"]


@dataclass(frozen=True)
class Card:
    """One headline number: ``st.metric``'s arguments (``delta`` is the comparison line)."""

    label: str
    value: str
    delta: str
    delta_color: Literal["normal", "inverse", "off"]
    help: str
    delta_arrow: Literal["auto", "off"] = "auto"


def quality(plan: Plan, settled: bool = True) -> tuple[str, str]:
    """The plan quality card's value and comparison line.

    ``settled`` is False while a better plan is still being made in the background.
    """
    if plan.status == "optimal":
        if plan.objective == "hosts":
            return "Proven optimal", "no plan needs fewer hosts"
        return "Proven optimal", "no cheaper plan exists"
    if plan.status == "infeasible":
        return "Infeasible", "proven: no plan places every VM"
    if plan.status == "partial":
        return "Partial", "VMs left out or spares missing"
    value = f"Gap {gap_text(plan.gap)}" if settled else f"Improving… gap {gap_text(plan.gap)}"
    what = "cost" if plan.objective == "cost" else "host count"
    return value, f"to the {what} lower bound"


def kpi_rows(
    plan: Plan, problem: Problem, settled: bool = True
) -> tuple[tuple[Card, ...], tuple[Card, ...]]:
    """The two rows of cards: hosts, dedicated servers, consolidation, quality; then cost,
    saving, power and rack space against the dedicated baseline."""
    c = compare(plan, problem)
    policy = problem.policy
    placed = sum(h.vm_count for h in plan.hosts)
    total_vms = len(problem.inventory.vms)
    value, note = quality(plan, settled)
    row1 = (
        Card(
            "Hosts needed",
            f"{len(plan.hosts)} hosts",
            f"{len(plan.active_hosts)} active + {len(plan.spare_hosts)} spare "
            f"(N+{policy.ha_host_failures})",
            "off",
            "Every physical host of the plan, failover spares included.",
            "off",
        ),
        Card(
            "Dedicated servers instead",
            f"{c['dedicated_servers']:,.0f} servers",
            "one per VM, no hypervisor",
            "off",
            "The baseline: each VM on the cheapest catalog model that holds it alone.",
            "off",
        ),
        Card(
            "Consolidation ratio",
            f"{c['consolidation_ratio']:.1f} : 1",
            "VMs per active host"
            if placed == total_vms
            else f"{count(total_vms - placed, 'VM')} unplaced",
            "off" if placed == total_vms else "inverse",
            "Placed VMs per active host (spares excluded).",
            "off",
        ),
        Card(
            "Plan quality",
            value,
            note,
            "off",
            f"{plan.engine}, {plan.solve_seconds:.2f} s; lower bound "
            f"{plan.lower_bound_hosts} hosts. The gap is the distance of the plan's objective "
            "to a proven lower bound: 0 % means optimal. A longer solver time limit "
            "(sidebar, Advanced) may narrow it.",
            "off",
        ),
    )
    kw = c["hosts_watts"] / 1000
    row2 = (
        Card(
            f"Total cost, {policy.horizon_years:g} years",
            money(c["cost_total"]),
            f"{'+' if c['cost_saving'] < 0 else ''}{money(-c['cost_saving'])} vs dedicated",
            "inverse",
            "Hardware, support, licences, network, storage, energy, facilities and operations "
            "over the horizon (catalog currency).",
        ),
        Card(
            "Saving vs dedicated",
            money(c["cost_saving"]),
            f"{c['cost_saving_pct']:.0%} of {money(c['dedicated_cost_total'])}",
            "normal",
            "Dedicated cost minus consolidated cost over the horizon.",
        ),
        Card(
            "Power draw",
            f"{kw:,.1f} kW",
            f"{signed(kw - c['dedicated_watts'] / 1000, 'kW', ',.1f')} vs dedicated",
            "inverse",
            f"Expected draw at the wall before PUE ({policy.pue:g}), linear power model.",
        ),
        Card(
            "Rack space",
            f"{c['hosts_rack_units']:,.0f} U",
            f"{signed(c['hosts_rack_units'] - c['dedicated_rack_units'], 'U')} vs dedicated",
            "inverse",
            "Rack units of the hosts, spares included.",
        ),
    )
    return row1, row2


def search_note(plan: Plan, problem: Problem, settled: bool = True) -> str | None:
    """Under the cards, for a settled plan with a gap: how to search longer; else None."""
    if plan.status != "feasible" or not settled:
        return None
    limit = f" within the solver limit of {plan.params.time_limit_s:g} s" if plan.params else ""
    return (
        f"Not proven optimal{limit}. "
        "Raise Advanced › Solver time limit in the sidebar to search longer; the gap says how "
        "much a better plan could still save."
    )
