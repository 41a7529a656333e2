"""A packing -> a priced ``Plan``: its hosts (active and N+k spares), licences, costs, the
VMs left out, the lower bound and the status.

This is the plan itself; what is said about it afterwards (failures, the dedicated
baseline, the explanation) is ``analysis``. Neither verifies: ``pipeline.run`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from planner.bounds import Bounds
from planner.costs import host_cost, watts, workload_cost
from planner.models import CostBreakdown, HostPlan, Plan, Problem, Status, Unplaced
from planner.packing import HostBin, Packing, bin_licences
from planner.spares import add_spares
from planner.tolerances import meets_bound

__all__ = ["build_plan", "host_plan", "host_plans", "plan_status", "spares_complete"]


def build_plan(
    problem: Problem,
    packing: Packing,
    failed: dict[int, str],
    bounds: Bounds,
    engine: str,
    unplaced_proven: bool = False,
    run_notes: Sequence[str] = (),
) -> Plan:
    """The plan of ``packing``: priced active hosts, their spares, status and bound.

    ``failed`` are VMs the packing leaves out, with the reason; ``unplaced_proven`` says no
    plan could place them; ``run_notes`` are what the run itself reports (the safety cap).
    ``bounds`` must be valid for every plan that meets the rules. The plan's failures,
    baseline and explanation are left empty (``analysis.analyse`` fills them) and its
    ``solve_seconds`` is 0 (``solve`` sets it).
    """
    notes = [*problem.notes, *run_notes]
    active, spares, spare_notes = add_spares(problem, packing, host_plans(problem, packing))
    notes += spare_notes
    hosts = tuple(active + spares)
    unplaced = problem.unplaced + tuple(
        Unplaced(vm=problem.vms[i].name, reason=r, cause="no_room")
        for i, r in sorted(failed.items())
    )
    cost = CostBreakdown.total_of(h.cost for h in hosts)
    spares_missing = _spares_missing(problem, active, spares)
    value = cost.total if problem.policy.objective == "cost" else float(len(hosts))
    # Per-VM costs (storage, administration) do not depend on the packing: the engines
    # leave them out, the plan carries them, so the bound gets them too.
    lower_cost = (
        bounds.cost
        + workload_cost(
            (problem.inventory.vms[v.index] for v in problem.vms), problem.policy, "shared"
        ).total
    )
    bound = lower_cost if problem.policy.objective == "cost" else float(bounds.hosts)
    return Plan(
        status=plan_status(problem, bool(failed), unplaced_proven, spares_missing, value, bound),
        engine=engine,
        objective=problem.policy.objective,
        hosts=hosts,
        unplaced=unplaced,
        lower_bound_hosts=bounds.hosts,
        lower_bound_cost=lower_cost,
        cost=cost,
        solve_seconds=0.0,
        notes=tuple(notes),
    )


def plan_status(
    problem: Problem,
    failed: bool,
    unplaced_proven: bool,
    spares_missing: bool,
    value: float,
    bound: float,
) -> Status:
    """The plan's status: a claim the plan can back.

    ``infeasible``: no plan meets the rules, with a proof (a VM fits no model, or the capped
    models cannot hold the VMs only they can run). ``partial``: VMs left out or spares
    missing, without such a proof. ``optimal``: every rule met and the objective meets a
    valid lower bound (``tolerances.meets_bound``). ``feasible``: every rule met, with a gap.
    """
    if any(u.cause == "too_large" for u in problem.unplaced) or (failed and unplaced_proven):
        return "infeasible"
    if failed or spares_missing:
        return "partial"
    return "optimal" if meets_bound(value, bound) else "feasible"


def _spares_missing(
    problem: Problem, active: Sequence[HostPlan], spares: Sequence[HostPlan]
) -> bool:
    """Fewer than k spares for some planned cluster (a partition, or each part of one split
    at the hypervisor's cluster limit)."""
    clusters = {(h.partition, h.cluster) for h in active if h.vms}
    return len(spares) < problem.policy.ha_host_failures * len(clusters)


def spares_complete(problem: Problem, packing: Packing) -> bool:
    """Every planned cluster of ``packing`` gets its k spares (as ``build_plan`` adds them)."""
    if problem.policy.ha_host_failures == 0:
        return True
    active, spares, _ = add_spares(problem, packing, host_plans(problem, packing))
    return not _spares_missing(problem, active, spares)


def host_plans(problem: Problem, packing: Packing) -> list[HostPlan]:
    """The packing's used hosts, priced, in partition and model order (``host-01`` ...)."""
    bins = sorted(
        (b for b in packing if b.vms),
        key=lambda b: (b.partition, b.type_index, -len(b.vms), b.vms),
    )
    width = max(2, len(str(len(bins) + problem.policy.ha_host_failures * 9)))
    return [host_plan(problem, b, f"host-{n:0{width}d}") for n, b in enumerate(bins, 1)]


def host_plan(problem: Problem, b: HostBin, host_id: str) -> HostPlan:
    """One used host of a packing, priced, as the plan shows it (role active)."""
    t = problem.host_types[b.type_index]
    vms = list(map(problem.vms.__getitem__, b.vms))  # no Python code per VM: a million
    cpu = sum(map(_CPU, vms))
    mem = sum(map(_MEM, vms))
    licences = bin_licences(problem, b)
    util = sum(map(_LOAD, vms)) / (1000.0 * t.model.cores)
    shares = {
        "cpu": cpu / t.cpu_cap_m,
        "memory": mem / t.mem_cap_mib,
        "vm_count": len(vms) / t.vm_cap,
    }
    limiting = max(shares, key=lambda k: shares[k]) if vms else "none"
    return HostPlan(
        id=host_id,
        model=t.model.model,
        type_index=t.index,
        partition=problem.partitions[b.partition].key,
        role="active",
        vms=tuple(map(_NAME, vms)),
        cpu_used_m=cpu,
        cpu_cap_m=t.cpu_cap_m,
        mem_used_mib=mem,
        mem_cap_mib=t.mem_cap_mib,
        vm_count=len(vms),
        vm_cap=t.vm_cap,
        licences=licences,
        cost=host_cost(
            t.model,
            licences,
            util,
            problem.policy,
            list(map(problem.inventory.vms.__getitem__, map(_INDEX, vms))),
            "shared",
        ),
        watts=watts(t.model, util),
        limiting=limiting,
    )


_CPU, _MEM, _LOAD = attrgetter("cpu_m"), attrgetter("mem_mib"), attrgetter("load_m")
_NAME, _INDEX = attrgetter("name"), attrgetter("index")
