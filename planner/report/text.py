"""The plan as a short text report, as the CLI prints it and the app shows it."""

from __future__ import annotations

from collections import Counter

from planner.dedicated import compare
from planner.errors import printable
from planner.models import COST_CATEGORIES, CostBreakdown, Plan, Problem, RulePrice
from planner.report.migration import migration_summary_lines
from planner.report.tables import failure_check_text
from planner.tolerances import gap_text

__all__ = ["plan_summary"]


def plan_summary(plan: Plan, problem: Problem) -> str:
    """A short text report of a plan, as the CLI prints it."""
    inv = problem.inventory
    years = problem.policy.horizon_years
    c = compare(plan, problem)
    base = CostBreakdown(**{cat: c[f"dedicated_{cat}_cost"] for cat in COST_CATEGORIES})
    models = Counter(h.model for h in plan.hosts)
    placed = sum(h.vm_count for h in plan.hosts)
    if plan.status == "optimal":
        status = "optimal (proven)"
    elif plan.status == "infeasible":
        status = "infeasible (proven): no plan places every VM under these rules"
    elif plan.status == "partial":
        status = (
            "partial: VMs left out or N+k spares missing (no proof that a full plan is impossible)"
        )
    else:
        bound = (
            f"{plan.lower_bound_hosts} hosts"
            if plan.objective == "hosts"
            else f"{plan.lower_bound_cost:,.0f}"
        )
        status = f"{plan.status}, gap {gap_text(plan.gap)} to the lower bound ({bound})"
    restartable = sum(f.restartable for f in plan.failures)
    lines = [
        f"Plan for {inv.source} ({inv.format}, {len(inv.vms)} VMs), objective {plan.objective}",
        f"  status     {status}; {plan.engine}, {plan.solve_seconds:.2f} s",
        f"  hosts      {len(plan.hosts)} = {len(plan.active_hosts)} active + "
        f"{len(plan.spare_hosts)} spare (lower bound {plan.lower_bound_hosts}): "
        + ", ".join(
            m if plan.migration is not None and n == 1 else f"{n} x {m}"  # owned: host names
            for m, n in models.most_common()
        ),
        f"  placed     {placed} of {len(inv.vms)} VMs, {len(plan.unplaced)} unplaced",
        f"  cost       {plan.cost.total:,.0f} over {years:g} years ({_categories(plan.cost)})",
        f"  dedicated  {c['dedicated_servers']:.0f} servers, {c['dedicated_cost_total']:,.0f} "
        f"({_categories(base)}); "
        f"consolidation saves {c['cost_saving']:,.0f} ({c['cost_saving_pct']:.0%}), "
        f"{c['consolidation_ratio']:.1f} VMs per host",
        f"  driver     {plan.explanation.summary}",
        *(f"  partition  {p.text}" for p in plan.explanation.partitions),
        *(f"  rule       {_rule(r)}" for r in plan.explanation.rules),
        f"  failures   {restartable} of {len(plan.failures)} hosts can fail with every VM "
        "restarted on the survivors",
        f"  N+k check  {failure_check_text(plan)}",
    ]
    lines += [f"  migration  {line}" for line in migration_summary_lines(plan)]
    lines += [f"  unplaced   {u.vm}: {u.reason}" for u in plan.unplaced[:10]]
    if len(plan.unplaced) > 10:
        lines.append(f"  unplaced   ... and {len(plan.unplaced) - 10} more (see --csv or --json)")
    lines += [f"  note       {n}" for n in plan.notes]
    return "\n".join(map(printable, lines))  # a name cannot forge a line or an escape


def _categories(cost: CostBreakdown) -> str:
    """``hardware 1,234, support 567, ...``: every category, in the reports' order."""
    return ", ".join(f"{cat} {getattr(cost, cat):,.0f}" for cat in COST_CATEGORIES)


def _rule(r: RulePrice) -> str:
    """One priced rule, e.g. 'anti-affinity group dmz-web-farm: +2 hosts, +28,159 (proven)'."""
    proof = "proven" if r.proven else f"gap {gap_text(r.gap)}"
    hosts = f"{r.hosts:+d} host{'' if abs(r.hosts) == 1 else 's'}"
    return f"{r.kind} {r.name}: {hosts}, {r.cost:+,.0f} ({proof})"
