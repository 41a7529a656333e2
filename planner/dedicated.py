"""The baseline: every workload on its own physical server (design section 5).

Each VM gets the cheapest catalog model with cores >= its vCPUs and memory >= its memory,
with no hypervisor and no overcommit; the catalog's entry servers (``dedicated_only``, 1
socket, 4-8 cores) let a small workload have a server of its size. OS and application
licences are paid per server at that server's cores with their minimums (a 4-core Windows
server still pays 16 cores; RHEL takes the cheapest of its rules, RHEL Server on bare metal);
the hypervisor's own licence is never paid. Every cost category is priced by the same rule
as a consolidation host (``costs.host_cost``): the server's own costs, energy at the
workload's own load, and the workload's storage on local disks.
"""

from __future__ import annotations

from collections.abc import Iterable

from planner.costs import energy_cost, host_cost, tag_licences, watts, workload_cost
from planner.heap import paused
from planner.models import (
    COST_CATEGORIES,
    CostBreakdown,
    DedicatedBaseline,
    DedicatedServer,
    HostModel,
    LicenceUse,
    Plan,
    Policy,
    Problem,
    SizedVM,
)

__all__ = ["compare", "dedicated_baseline"]

# Per (model name, the workload's tags): the licences the server holds and its total cost at
# idle. Neither depends on the workload's size or load, and the what-ifs of the app re-price
# hundreds of workloads on every model, so each pair is priced once per baseline.
_Fixed = dict[tuple[str, tuple[str, ...]], tuple[tuple[LicenceUse, ...], float]]


def _fixed(
    v: SizedVM, model: HostModel, problem: Problem, memo: _Fixed
) -> tuple[tuple[LicenceUse, ...], float]:
    """The licences ``model`` holds as ``v``'s own server and its total cost at idle."""
    key = (model.model, v.tags)
    if key not in memo:
        policy: Policy = problem.policy
        uses = tag_licences(
            model, dict.fromkeys(v.tags, 1), problem.catalog.licences, policy.horizon_years
        )
        memo[key] = uses, host_cost(model, uses, 0.0, policy).total
    return memo[key]


def _server_total(v: SizedVM, model: HostModel, problem: Problem, memo: _Fixed) -> float:
    """``host_cost(...).total`` of ``model`` as ``v``'s own server: its total at idle plus the
    energy of the workload's load (the only part of ``host_cost`` that depends on it)."""
    at_idle = _fixed(v, model, problem, memo)[1]
    u = v.load_m / 1000.0 / model.cores
    return at_idle + energy_cost(model, u, problem.policy) - energy_cost(model, 0.0, problem.policy)


@paused()  # a million sized VMs or servers: none of them garbage
def dedicated_baseline(problem: Problem, vms: Iterable[SizedVM] | None = None) -> DedicatedBaseline:
    """Cost and footprint of running each VM (default: every placeable VM) on its own server."""
    servers: list[DedicatedServer] = []
    no_fit: list[str] = []
    cores = 0
    memory = 0.0
    rack = 0
    drawn = 0.0
    # Workloads of the same size, tags and load get the same server: choose it once.
    chosen: dict[tuple[int, float, tuple[str, ...], int], tuple[CostBreakdown, HostModel] | None]
    chosen = {}
    memo: _Fixed = {}
    costed: dict[tuple[tuple[int, float, tuple[str, ...], int], float | None], CostBreakdown]
    costed = {}
    for v in problem.vms if vms is None else vms:
        key = (v.vcpus, v.memory_gib, v.tags, v.load_m)
        if key not in chosen:
            options = [
                (_server_total(v, m, problem, memo), m.model, m)
                for m in problem.catalog.hosts
                # a server of today's estate runs VMs: it is no new dedicated server
                if not m.owned and m.cores >= v.vcpus and m.memory_gib >= v.memory_gib
            ]
            best = min(options, key=lambda o: o[:2])[2] if options else None
            chosen[key] = None
            if best is not None:
                uses = _fixed(v, best, problem, memo)[0]
                load = v.load_m / 1000.0 / best.cores
                chosen[key] = host_cost(best, uses, load, problem.policy), best
        pick = chosen[key]
        if pick is None:
            no_fit.append(v.name)
            continue
        server, model = pick
        vm = problem.inventory.vms[v.index]
        # The workload's own costs (local disks, administration) do not depend on the model;
        # workloads of one server and one storage size cost the same: priced once.
        own = (key, vm.storage_gib)
        cost = costed.get(own)
        if cost is None:
            work = workload_cost([vm], problem.policy, "local")
            cost = costed[own] = server.model_copy(
                update={
                    "storage": server.storage + work.storage,
                    "operations": server.operations + work.operations,
                }
            )
        servers.append(DedicatedServer(vm=v.name, model=model.model, cost=cost))
        cores += model.cores
        memory += model.memory_gib
        rack += model.rack_units
        drawn += watts(model, v.load_m / 1000.0 / model.cores)
    return DedicatedBaseline(
        server_count=len(servers),
        cores=cores,
        memory_gib=memory,
        rack_units=rack,
        watts=drawn,
        cost=CostBreakdown.total_of(s.cost for s in servers),
        servers=tuple(servers),
        no_fit=tuple(no_fit),
    )


def compare(plan: Plan, problem: Problem) -> dict[str, float]:
    """Consolidated plan against the dedicated baseline: footprint, cost and savings.

    Savings are ``dedicated - consolidated`` (positive = consolidation is cheaper). The
    consolidation ratio is placed VMs per active host.
    """
    base = plan.dedicated if plan.dedicated is not None else dedicated_baseline(problem)
    models = [problem.host_types[h.type_index].model for h in plan.hosts]
    placed = sum(h.vm_count for h in plan.hosts)
    active = len(plan.active_hosts)
    out: dict[str, float] = {
        "hosts": len(plan.hosts),
        "dedicated_servers": base.server_count,
        "consolidation_ratio": placed / active if active else 0.0,
        "hosts_cores": sum(m.cores for m in models),
        "dedicated_cores": base.cores,
        "hosts_memory_gib": sum(m.memory_gib for m in models),
        "dedicated_memory_gib": base.memory_gib,
        "hosts_rack_units": sum(m.rack_units for m in models),
        "dedicated_rack_units": base.rack_units,
        "hosts_watts": sum(h.watts for h in plan.hosts),
        "dedicated_watts": base.watts,
        "cost_total": plan.cost.total,
        "dedicated_cost_total": base.cost.total,
        "cost_saving": base.cost.total - plan.cost.total,
        "cost_saving_pct": (
            (base.cost.total - plan.cost.total) / base.cost.total if base.cost.total else 0.0
        ),
    }
    for cat in COST_CATEGORIES:
        ours, theirs = getattr(plan.cost, cat), getattr(base.cost, cat)
        out[f"{cat}_cost"] = ours
        out[f"dedicated_{cat}_cost"] = theirs
        out[f"{cat}_saving"] = theirs - ours
    return out
