"""The plan JSON (design section 6.1): the stable contract other tools read.

Field names never change within a ``schema_version``; new fields may be added. Quantities
are in the units their names say (vCPUs, GiB, currency over the policy's horizon).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from planner.dedicated import compare
from planner.models import COST_CATEGORIES, CostBreakdown, HostPlan, Plan, Problem
from planner.report.migration import migration_dict
from planner.units import mib_to_gib, milli_to_vcpu

__all__ = ["SCHEMA_VERSION", "plan_json_bytes", "plan_to_dict", "write_plan_json"]

SCHEMA_VERSION = 1
INDENTED = 2  # levels of the plan JSON written indented (``_dumps``)
_ONE_LINE = json.JSONEncoder(ensure_ascii=False)  # the C encoder: no indent


def _money(x: float) -> float:
    return round(x, 2)


def _costs(c: CostBreakdown) -> dict[str, float]:
    out = {cat: _money(getattr(c, cat)) for cat in COST_CATEGORIES}
    out["total"] = _money(c.total)
    return out


def _host(h: HostPlan) -> dict[str, Any]:
    return {
        "id": h.id,
        "model": h.model,
        "role": h.role,
        "partition": h.partition,
        "cluster": h.cluster,
        "licenses": [
            {
                "name": u.name,
                "tag": u.tag,
                "grants": u.grants,
                "units": u.units,
                "covers_vms": None if u.covers_vms < 0 else u.covers_vms,
                "cost": _money(u.cost),
                "support": _money(u.support),
            }
            for u in h.licences
        ],
        "vms": list(h.vms),
        "vcpus": {"used": milli_to_vcpu(h.cpu_used_m), "capacity": milli_to_vcpu(h.cpu_cap_m)},
        "memory_gib": {
            "used": round(mib_to_gib(h.mem_used_mib), 3),
            "capacity": round(mib_to_gib(h.mem_cap_mib), 3),
        },
        "vm_count": {"used": h.vm_count, "capacity": h.vm_cap},
        "limiting": h.limiting,
        "existing": h.existing,
        "watts": round(h.watts, 1),
        "cost": _costs(h.cost),
    }


def plan_to_dict(plan: Plan, problem: Problem) -> dict[str, Any]:
    """The plan as plain JSON-ready data (schema version ``SCHEMA_VERSION``)."""
    inv = problem.inventory
    placed = sum(h.vm_count for h in plan.hosts)
    base = plan.dedicated
    comparison = compare(plan, problem)
    return {
        "schema_version": SCHEMA_VERSION,
        "status": plan.status,
        "summary": {
            "vm_count": len(inv.vms),
            "placed_vm_count": placed,
            "unplaced_vm_count": len(plan.unplaced),
            "host_count": len(plan.hosts),
            "active_host_count": len(plan.active_hosts),
            "spare_host_count": len(plan.spare_hosts),
            "lower_bound_hosts": plan.lower_bound_hosts,
            "lower_bound_cost": _money(plan.lower_bound_cost),
            "objective": plan.objective,
            "cost_total": _money(plan.cost.total),
            "cost": _costs(plan.cost),
            "gap": round(plan.gap, 6),
            "solve_seconds": round(plan.solve_seconds, 3),
            "engine": plan.engine,
            "explanation": plan.explanation.summary,
            **(
                {
                    "retired_host_count": len(plan.migration.retired),
                    "moved_vm_count": plan.migration.moved_vms,
                }
                if plan.migration
                else {}
            ),
        },
        # Retired owned hosts (existing estates) follow the plan's hosts, role "retired".
        "hosts": [_host(h) for h in plan.hosts]
        + [_host(h) for h in (plan.migration.retired if plan.migration else ())],
        "unplaced": [{"vm": u.vm, "reason": u.reason, "cause": u.cause} for u in plan.unplaced],
        "dedicated": {
            "server_count": base.server_count if base else 0,
            "cost_total": _money(base.cost.total) if base else 0.0,
            "cost": _costs(base.cost) if base else _costs(CostBreakdown()),
            "cores": base.cores if base else 0,
            "memory_gib": base.memory_gib if base else 0.0,
            "rack_units": base.rack_units if base else 0,
            "watts": round(base.watts, 1) if base else 0.0,
            "no_fit": list(base.no_fit) if base else [],
            "servers": [
                {"vm": s.vm, "model": s.model, "cost_total": _money(s.cost.total)}
                for s in (base.servers if base else ())
            ],
        },
        "comparison": {k: round(v, 4) for k, v in comparison.items()},
        "explanation": plan.explanation.model_dump(mode="json", exclude={"summary"}),
        "failures": [
            {
                "host": f.host,
                "restartable": f.restartable,
                "vms": list(f.vms),
                "stranded": list(f.stranded),
            }
            for f in plan.failures
        ],
        "failure_check": (
            {
                "k": fc.k,
                "method": fc.method,
                "scenarios": fc.scenarios,
                "all_restartable": fc.all_restartable,
                "counterexample": list(fc.counterexample),
            }
            if (fc := plan.failure_check)
            else None
        ),
        "inventory": {
            "source": inv.source,
            "format": inv.format,
            "dropped": dict(inv.dropped),
            "notes": list(inv.notes),
        },
        # The scenario's keys and the solver's, as a policy file gives them.
        "policy": {**problem.policy.model_dump(), **_solver_keys(plan)},
        "notes": list(plan.notes),
        **({"migration": mig} if (mig := migration_dict(plan, problem)) is not None else {}),
    }


def _solver_keys(plan: Plan) -> dict[str, object]:
    """The solver params the plan was made with, where it records them."""
    return plan.params.model_dump() if plan.params is not None else {}


def plan_json_bytes(plan: Plan, problem: Problem) -> bytes:
    """The plan JSON as UTF-8 bytes: indented two levels deep (the sections and their keys),
    each item of a list one line (a host, a failure, a dedicated server)."""
    return (_dumps(plan_to_dict(plan, problem), 0) + "\n").encode()


def _dumps(value: object, depth: int) -> str:
    """``value`` as JSON, objects indented by two spaces down to ``INDENTED`` levels and
    anything deeper on one line.

    ``json.dumps`` with ``indent`` runs the pure-Python encoder (five times slower than the
    C one, over a second for 20,000 VMs); a list item on one line keeps large plans quick to
    write and still easy to read and grep.
    """
    if depth >= INDENTED or not isinstance(value, dict | list) or not value:
        return _ONE_LINE.encode(value)
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, list):
        items = (inner + _dumps(v, depth + 1) for v in value)
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    fields = (
        inner + _ONE_LINE.encode(str(k)) + ": " + _dumps(v, depth + 1) for k, v in value.items()
    )
    return "{\n" + ",\n".join(fields) + "\n" + pad + "}"


def write_plan_json(plan: Plan, problem: Problem, target: str | Path) -> None:
    """Write the plan JSON to ``target`` (``-`` for standard output)."""
    data = plan_json_bytes(plan, problem)
    if str(target) == "-":
        sys.stdout.write(data.decode())
    else:
        Path(target).write_bytes(data)
