"""The migration of an existing estate in report form: moves, waves, hosts before and after.

Shared by the plan JSON, the placement CSV, the workbook, the HTML report and the app, so
each shows the same figures. Empty (or None) when the plan has no migration (``estate =
new``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner.models import COST_CATEGORIES, Plan, Problem
from planner.moves import today_plan
from planner.units import mib_to_gib, milli_to_vcpu

__all__ = [
    "estate_frame",
    "host_utilisation_frame",
    "migration_dict",
    "migration_summary_lines",
    "moves_frame",
    "side_by_side",
    "vm_migration",
]


def vm_migration(plan: Plan, problem: Problem) -> dict[str, tuple[str, bool, int | None]]:
    """Per inventory VM: its host today (as the inventory names it), whether it moves, and
    the wave of its last move (None when it stays)."""
    if plan.migration is None:
        return {}
    wave: dict[str, int] = {}
    for m in plan.migration.moves:
        wave[m.vm] = max(wave.get(m.vm, 0), m.wave)
    where = {vm: h.id for h in plan.hosts for vm in h.vms}
    out = {}
    for vm in problem.inventory.vms:
        planned = where.get(vm.name)
        moved = planned is not None and planned != vm.host
        out[vm.name] = (vm.host, moved, wave.get(vm.name))
    return out


def migration_dict(plan: Plan, problem: Problem) -> dict[str, Any] | None:
    """The plan JSON's ``migration`` object (design section 6.1), or None."""
    m = plan.migration
    if m is None:
        return None
    today = {vm.name: vm.host for vm in problem.inventory.vms}
    return {
        "moves": [
            {
                "vm": mv.vm,
                "from": mv.source or today.get(mv.vm, ""),
                "from_known": bool(mv.source),
                "to": mv.target,
                "wave": mv.wave,
                "swing": mv.swing,
                "exception": mv.exception,
            }
            for mv in m.moves
        ],
        "waves": m.waves,
        "moved_vm_count": m.moved_vms,
        "moved_memory_gib": m.moved_memory_gib,
        "weight": m.weight,
        "moves_bound": m.moves_bound,
        "moves_proven": m.moves_proven,
        "retired_hosts": [h.id for h in m.retired],
        "unmatched_hosts": [{"host": h, "vms": list(vms)} for h, vms in m.unmatched.items()],
        "violations": list(m.violations),
        "notes": list(m.notes),
    }


def moves_frame(plan: Plan) -> pd.DataFrame:
    """One row per move, in wave order."""
    m = plan.migration
    rows = [
        {
            "wave": mv.wave,
            "vm": mv.vm,
            "from": mv.source or "(not in the host list)",
            "to": mv.target,
            "swing": mv.swing,
            "exception": mv.exception,
        }
        for mv in (m.moves if m else ())
    ]
    return pd.DataFrame(rows, columns=["wave", "vm", "from", "to", "swing", "exception"])


def host_utilisation_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """Each owned host (and each bought one) before and after: role, VMs, vCPU and memory
    demand against its capacity under the policy."""
    m = plan.migration
    if m is None:
        return pd.DataFrame()
    sized = {v.name: v for v in problem.vms}
    caps = {t.model.model: t for t in problem.host_types if t.model.owned}
    planned = {h.id: h for h in plan.hosts}
    rows = []
    names = list(m.before) + [h.id for h in plan.hosts if h.id not in m.before]
    for name in names:
        before = [sized[v] for v in m.before.get(name, ()) if v in sized]
        after = planned.get(name)
        t = caps.get(name)
        cpu_cap = t.cpu_cap_m if t else (after.cpu_cap_m if after else 0)
        mem_cap = t.mem_cap_mib if t else (after.mem_cap_mib if after else 0)
        role = after.role if after else "retired"
        rows.append(
            {
                "host": name,
                "existing": name in caps,
                "role": role,
                "vms_before": len(m.before.get(name, ())),
                "vms_after": after.vm_count if after else 0,
                "vcpu_before": milli_to_vcpu(sum(v.cpu_m for v in before)),
                "vcpu_after": milli_to_vcpu(after.cpu_used_m) if after else 0.0,
                "vcpu_capacity": milli_to_vcpu(cpu_cap),
                "memory_gib_before": round(mib_to_gib(sum(v.mem_mib for v in before)), 1),
                "memory_gib_after": round(mib_to_gib(after.mem_used_mib), 1) if after else 0.0,
                "memory_gib_capacity": round(mib_to_gib(mem_cap), 1),
                "cpu_pct_before": _pct(sum(v.cpu_m for v in before), cpu_cap),
                "cpu_pct_after": _pct(after.cpu_used_m if after else 0, cpu_cap),
                "memory_pct_before": _pct(sum(v.mem_mib for v in before), mem_cap),
                "memory_pct_after": _pct(after.mem_used_mib if after else 0, mem_cap),
            }
        )
    return pd.DataFrame(rows)


def _pct(used: int, cap: int) -> float:
    return round(100.0 * used / cap, 1) if cap else 0.0


def migration_summary_lines(plan: Plan) -> list[str]:
    """The migration in a few lines of words (text summary, HTML, app)."""
    m = plan.migration
    if m is None:
        return []
    kept = sum(1 for h in plan.hosts if h.existing)
    what = "VMs" if m.weight == "vms" else "GiB moved"
    proof = (
        "proven minimal"
        if m.moves_proven
        else f"no plan on these hosts moves fewer than {m.moves_bound:g} {what}"
    )
    lines = [
        f"existing estate: {kept} owned hosts kept, {len(m.retired)} retired"
        + (f" ({', '.join(h.id for h in m.retired)})" if m.retired else ""),
        f"moves: {m.moved_vms} VMs change host ({m.moved_memory_gib:,.0f} GiB) in {m.waves} "
        f"wave{'' if m.waves == 1 else 's'}; {proof}",
    ]
    if m.unmatched:
        n = sum(len(v) for v in m.unmatched.values())
        lines.append(
            f"hosts not in the host list: {len(m.unmatched)} names, {n} VMs (planned as new): "
            + ", ".join(h or "(none)" for h in list(m.unmatched)[:8])
            + (" ..." if len(m.unmatched) > 8 else "")
        )
    if m.violations:
        lines.append(f"today's placement breaks {len(m.violations)} rules:")
        lines += [f"  - {v}" for v in m.violations]
    return lines


def side_by_side(entries: Sequence[tuple[str, Plan, Problem]]) -> pd.DataFrame:
    """Columns of estates side by side (today's, consolidated on owned hosts, refreshed onto
    new models, ...), then the first plan's dedicated servers: hosts, cost by category over
    the horizon, power at the wall and rack units."""
    index = ["hosts", *COST_CATEGORIES, "total cost", "power (W)", "rack units"]
    table: dict[str, list[float]] = {}
    for label, plan, problem in entries:
        units = sum(problem.host_types[h.type_index].model.rack_units for h in plan.hosts)
        table[label] = [
            float(len(plan.hosts)),
            *(round(getattr(plan.cost, c), 2) for c in COST_CATEGORIES),
            round(plan.cost.total, 2),
            round(sum(h.watts for h in plan.hosts), 1),
            float(units),
        ]
    base = entries[0][1].dedicated if entries else None
    if base is not None:
        table["dedicated servers"] = [
            float(base.server_count),
            *(round(getattr(base.cost, c), 2) for c in COST_CATEGORIES),
            round(base.cost.total, 2),
            round(base.watts, 1),
            float(base.rack_units),
        ]
    return pd.DataFrame(table, index=index)


def estate_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """Today's estate as it runs beside the plan and the dedicated servers (``side_by_side``);
    empty without a migration."""
    if plan.migration is None:
        return pd.DataFrame()
    today = today_plan(problem)
    return side_by_side([("today", today, problem), ("planned", plan, problem)])
