"""The report's tables as pandas frames, shared by the workbook, the HTML report and the app.

Each frame has human column names with their units; numbers stay numbers (formatting is the
renderer's job).
"""

from __future__ import annotations

import pandas as pd

from planner.dedicated import compare
from planner.models import COST_CATEGORIES, Plan, Problem, SolverParams
from planner.tolerances import gap_text
from planner.units import mib_to_gib, milli_to_vcpu

__all__ = [
    "assumption_frames",
    "comparison_frame",
    "failure_check_text",
    "failures_frame",
    "hosts_frame",
    "partitions_frame",
    "rules_frame",
    "summary_rows",
    "unplaced_frame",
    "validation_frame",
]

CATEGORIES = COST_CATEGORIES


def summary_rows(plan: Plan, problem: Problem) -> list[tuple[str, object, str]]:
    """The executive summary as (label, value, unit) rows."""
    inv = problem.inventory
    c = compare(plan, problem)
    placed = sum(h.vm_count for h in plan.hosts)
    years = problem.policy.horizon_years
    proof = (
        "proven optimal" if plan.status == "optimal" else f"{plan.status}, gap {gap_text(plan.gap)}"
    )
    return [
        ("Inventory", inv.source, f"{inv.format} format"),
        ("VMs in the inventory", len(inv.vms), "VMs"),
        ("VMs placed", placed, "VMs"),
        ("VMs not placed", len(plan.unplaced), "VMs (see Unplaced)"),
        ("Hosts needed", len(plan.hosts), "hosts, spares included"),
        ("Active hosts", len(plan.active_hosts), "hosts"),
        ("Spare hosts (N+k)", len(plan.spare_hosts), "hosts"),
        ("Lower bound on hosts", plan.lower_bound_hosts, "hosts"),
        ("Plan quality", proof, f"objective: {plan.objective}"),
        ("What drives the host count", plan.explanation.summary, ""),
        ("Total cost", round(plan.cost.total, 2), f"currency over {years:g} years"),
        ("Dedicated servers instead", c["dedicated_servers"], "servers"),
        ("Dedicated cost", round(c["dedicated_cost_total"], 2), f"currency over {years:g} years"),
        ("Saving by consolidation", round(c["cost_saving"], 2), f"currency over {years:g} years"),
        ("Saving by consolidation (%)", round(100 * c["cost_saving_pct"], 1), "%"),
        ("Consolidation ratio", round(c["consolidation_ratio"], 2), "VMs per active host"),
        ("Power drawn, consolidated", round(c["hosts_watts"]), "W (before PUE)"),
        ("Power drawn, dedicated", round(c["dedicated_watts"]), "W (before PUE)"),
        ("Rack space, consolidated", c["hosts_rack_units"], "U"),
        ("Rack space, dedicated", c["dedicated_rack_units"], "U"),
        ("Engine", plan.engine, f"{plan.solve_seconds:.2f} s"),
        ("Failure check", failure_check_text(plan), f"N+{problem.policy.ha_host_failures}"),
    ]


def comparison_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """Consolidated against dedicated: cost by category and footprint."""
    c = compare(plan, problem)
    years = problem.policy.horizon_years
    rows = [
        {
            "item": f"{cat} cost",
            "unit": f"currency / {years:g} y",
            "consolidated": round(c[f"{cat}_cost"], 2),
            "dedicated": round(c[f"dedicated_{cat}_cost"], 2),
        }
        for cat in CATEGORIES
    ]
    rows.append(
        {
            "item": "total cost",
            "unit": f"currency / {years:g} y",
            "consolidated": round(c["cost_total"], 2),
            "dedicated": round(c["dedicated_cost_total"], 2),
        }
    )
    for item, unit, ours, theirs in (
        ("servers", "count", "hosts", "dedicated_servers"),
        ("cores purchased", "cores", "hosts_cores", "dedicated_cores"),
        ("memory purchased", "GiB", "hosts_memory_gib", "dedicated_memory_gib"),
        ("rack space", "U", "hosts_rack_units", "dedicated_rack_units"),
        ("power drawn", "W", "hosts_watts", "dedicated_watts"),
    ):
        rows.append({"item": item, "unit": unit, "consolidated": c[ours], "dedicated": c[theirs]})
    frame = pd.DataFrame(rows)
    frame["saving"] = frame["dedicated"] - frame["consolidated"]
    return frame


def partitions_frame(plan: Plan) -> pd.DataFrame:
    """Per partition: its hosts, the rule that binds them and the reason in words."""
    return pd.DataFrame(
        [
            {
                "partition": p.cluster,
                "hosts": p.hosts,
                "capacity alone": p.capacity_hosts,
                "binding": p.binding,
                "reason": p.text,
            }
            for p in plan.explanation.partitions
        ],
        columns=["partition", "hosts", "capacity alone", "binding", "reason"],
    )


def rules_frame(plan: Plan) -> pd.DataFrame:
    """The price of each rule (hosts and cost it adds), most expensive first; empty until the
    rules are priced (``planner plan --explain``, or the app's Overview)."""
    return pd.DataFrame(
        [
            {
                "rule": r.kind,
                "name": r.name,
                "hosts": r.hosts,
                "cost": round(r.cost, 2),
                "proof": "proven" if r.proven else f"gap {gap_text(r.gap)}",
            }
            for r in plan.explanation.rules
        ],
        columns=["rule", "name", "hosts", "cost", "proof"],
    )


def hosts_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """One row per host: model, role, load against capacity, binding dimension, cost."""
    rows = []
    for h in plan.hosts:
        rows.append(
            {
                "host": h.id,
                "model": h.model,
                "role": h.role,
                "partition": h.partition,
                "VMs": h.vm_count,
                "vCPU used": milli_to_vcpu(h.cpu_used_m),
                "vCPU capacity": milli_to_vcpu(h.cpu_cap_m),
                "vCPU %": round(100 * h.cpu_used_m / h.cpu_cap_m, 1),
                "memory used (GiB)": round(mib_to_gib(h.mem_used_mib), 2),
                "memory capacity (GiB)": round(mib_to_gib(h.mem_cap_mib), 2),
                "memory %": round(100 * h.mem_used_mib / h.mem_cap_mib, 1),
                "limiting": h.limiting,
                "licences": "; ".join(
                    f"{u.name} x{u.grants}" if u.grants > 1 else u.name for u in h.licences
                ),
                "power (W)": round(h.watts, 1),
                "cost": round(h.cost.total, 2),
            }
        )
    return pd.DataFrame(rows)


def unplaced_frame(plan: Plan) -> pd.DataFrame:
    """VMs on no host, with the reason."""
    return pd.DataFrame(
        [{"vm": u.vm, "reason": u.reason} for u in plan.unplaced], columns=["vm", "reason"]
    )


def failure_check_text(plan: Plan) -> str:
    """The check of ``k`` simultaneous host failures in one sentence, with how it was done."""
    fc = plan.failure_check
    if fc is None:
        return "not checked"
    how = {
        "exhaustive": "every combination simulated",
        "bound": "all combinations covered: every active host fits whole on any spare",
        "sample": "a bounded sample simulated, not every combination",
    }[fc.method]
    hosts = "1 host" if fc.k == 1 else f"any {fc.k} hosts"
    if fc.all_restartable:
        verdict = "every VM restarts on the survivors"
    else:
        verb = "fails" if len(fc.counterexample) == 1 else "fail"
        verdict = f"VMs are stranded, e.g. when {', '.join(fc.counterexample)} {verb}"
    return f"{hosts} of one cluster and zone failing: {verdict} ({how}; {fc.scenarios:,} scenarios)"


def failures_frame(plan: Plan) -> pd.DataFrame:
    """The failure simulation: per active host, whether its VMs restart elsewhere."""
    return pd.DataFrame(
        [
            {
                "failed host": f.host,
                "restartable": "yes" if f.restartable else "no",
                "VMs on it": len(f.vms),
                "VMs without room": len(f.stranded),
                "stranded VMs": ", ".join(f.stranded),
            }
            for f in plan.failures
        ],
        columns=["failed host", "restartable", "VMs on it", "VMs without room", "stranded VMs"],
    )


def validation_frame(plan: Plan, problem: Problem) -> pd.DataFrame:
    """What was read, dropped, inferred and checked: the inventory's validation report."""
    inv = problem.inventory
    on = sum(vm.powered_on for vm in inv.vms)
    rows = [
        ("read", f"{len(inv.vms)} VMs from {inv.source} ({inv.format} format)"),
        ("power state", f"{on} powered on, {len(inv.vms) - on} powered off"),
    ]
    rows += [("dropped", f"{n} rows: {reason}") for reason, n in sorted(inv.dropped.items()) if n]
    rows += [("inventory note", n) for n in inv.notes]
    rows += [("plan note", n) for n in plan.notes]
    rows.append(
        (
            "verification",
            "passed: every VM exactly once (on a host or unplaced with a reason), no host over "
            "vCPU, memory or VM-count capacity, licences held for every tagged VM, "
            "anti-affinity groups, security zones and clusters respected",
        )
    )
    return pd.DataFrame(rows, columns=["check", "result"])


def assumption_frames(
    problem: Problem, params: SolverParams | None = None
) -> dict[str, pd.DataFrame]:
    """Every policy value (with the solver params the plan was made with, where known), host
    model, licence rule and the hypervisor profile used."""
    values = {**problem.policy.model_dump(), **(params.model_dump() if params else {})}
    policy = pd.DataFrame([{"key": k, "value": str(v)} for k, v in values.items()])
    hosts = pd.DataFrame(
        [
            {
                **h.model_dump(exclude={"estimated"}),
                "cores": h.cores,
                "estimated fields": ", ".join(h.estimated),
            }
            for h in problem.catalog.hosts
        ]
    )
    licences = pd.DataFrame([lic.model_dump() for lic in problem.catalog.licences])
    profile = pd.DataFrame(
        [{"key": k, "value": str(v)} for k, v in problem.profile.model_dump().items()]
    )
    sources = pd.DataFrame(
        [{"part": k, "file": v} for k, v in problem.catalog.sources.items()]
        + [{"part": "figures and their sources", "file": "data/README.md"}]
    )
    return {
        "Policy": policy,
        "Host models": hosts,
        "Licence rules": licences,
        f"Hypervisor profile ({problem.profile.name})": profile,
        "Sources": sources,
    }
