"""What is said about a built plan: failure simulation, the dedicated baseline, why this many
hosts, and whether a licence island pays off.

``analyse`` adds these to a plan from ``assemble.build_plan``; it changes neither the hosts
nor the cost nor the status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from planner.bounds import Bounds, licence_floor
from planner.costs import workload_cost
from planner.dedicated import dedicated_baseline
from planner.explain import partition_reasons
from planner.failover import simulate_failures
from planner.models import Explanation, HostPlan, Plan, Problem

__all__ = ["analyse"]


def analyse(plan: Plan, problem: Problem, bounds: Bounds, seed: int = 0) -> Plan:
    """``plan`` with its failure checks (sampled with ``seed`` where there are too many
    combinations), the dedicated baseline, the explanation and the licence-island notes.

    ``bounds`` are the ones the plan was built with (the explanation names what binds).
    """
    failures, failure_check = simulate_failures(problem, plan.hosts, seed)
    return plan.model_copy(
        update={
            "failures": failures,
            "failure_check": failure_check,
            "dedicated": dedicated_baseline(problem),
            "explanation": _explain(problem, plan.hosts, bounds),
            "notes": (*plan.notes, *_island_notes(problem, plan.hosts, bounds)),
        }
    )


def _island_notes(problem: Problem, hosts: Sequence[HostPlan], bounds: Bounds) -> list[str]:
    """Say whether isolating cluster-scoped licences (Oracle) on their own hosts pays off.

    The alternative, running those VMs in their cluster, licenses every host of it, spares
    included: at least (the cluster's host bound + k) times the cheapest grant. The island's
    actual cost, its spares included, is compared with that floor.
    """
    notes = []
    for part in problem.partitions:
        if not part.island:
            continue
        # Per-VM costs (storage, administration) are the same either way: leave them out.
        island = sum(h.cost.total for h in hosts if h.partition == part.key) - (
            workload_cost(
                (problem.inventory.vms[problem.vms[i].index] for i in part.vms),
                problem.policy,
                "shared",
            ).total
        )
        rest = [
            n
            for p, n in zip(problem.partitions, bounds.partition_hosts, strict=True)
            if (p.cluster, p.zone, p.island) == (part.cluster, part.zone, "")
        ]
        if not rest or not rest[0]:
            continue
        grant = licence_floor(problem, part.island.split(","))
        # The cluster's own spares would carry the licence too (they cover every tag).
        licensed = rest[0] + problem.policy.ha_host_failures
        floor = licensed * grant
        verdict = "cheaper" if island <= floor else "not shown to be cheaper"
        notes.append(
            f"{part.key}: the isolated hosts cost {island:,.0f} in all; licensing "
            f"'{part.island}' on the rest of the cluster instead would cost at least "
            f"{floor:,.0f} ({licensed} hosts x {grant:,.0f}), so isolating is {verdict}"
        )
    return notes


def _explain(problem: Problem, hosts: Sequence[HostPlan], bounds: Bounds) -> Explanation:
    """What drives the host count: a line such as 'memory-bound: memory at 93 %, CPU at 41 %',
    and per partition the rule that binds (``planner.explain``); rules are priced on demand."""
    active = [h for h in hosts if h.role == "active"]
    if not active:
        return Explanation(summary="no VMs to place")
    cpu = sum(h.cpu_used_m for h in active) / sum(h.cpu_cap_m for h in active)
    mem = sum(h.mem_used_mib for h in active) / sum(h.mem_cap_mib for h in active)
    drivers = Counter(h.limiting for h in active)
    # Which rule sets each partition's bound, weighted by the hosts it asks for.
    weight: Counter[str] = Counter()
    for rule, n in zip(bounds.partition_rule, bounds.partition_hosts, strict=True):
        weight[rule] += n
    if weight["anti-affinity group"] > weight["cpu"] + weight["memory"]:
        head = "anti-affinity-bound"
    elif drivers["vm_count"] > drivers["cpu"] + drivers["memory"]:
        head = "VM-count-bound"
    else:
        head = "memory-bound" if mem >= cpu else "CPU-bound"
    optimal = (
        problem.policy.objective == "hosts" and len(active) + bounds.spare_hosts <= bounds.hosts
    )
    return Explanation(
        summary=f"{head}: memory at {mem:.0%}, CPU at {cpu:.0%} of the active hosts' usable "
        f"capacity ({drivers['memory']} hosts limited by memory, {drivers['cpu']} by CPU)",
        partitions=partition_reasons(problem, hosts, optimal),
    )
