"""N+k spares (design section 4: dedicated failover hosts), k per planned cluster.

A spare must take over any one active host of its cluster: its model holds each host's load
(vCPU, memory, VM count) and runs every VM of the cluster. Of the models that can (any
model, ``max_count`` permitting, not only those in use), the cheapest is chosen. It holds
the licences to take over any one host: for each tag, as many VMs as the busiest host of the
cluster runs. Spares are part of the plan's hosts and cost, so the plan is built with them
(``assemble``); ``solve`` also weighs them when it compares two packings.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import attrgetter

from planner.bounds import spare_candidates
from planner.clusters import plan_clusters
from planner.costs import host_cost, hypervisor_licences, tag_licences
from planner.heuristic import UNLIMITED
from planner.memo import IdentityCache
from planner.models import HostPlan, Problem
from planner.packing import HostBin, Packing, mobile_counts, packing_objective

__all__ = ["add_spares", "spare_hosts", "with_spares"]


def add_spares(
    problem: Problem, packing: Packing, active: Sequence[HostPlan]
) -> tuple[list[HostPlan], list[HostPlan], list[str]]:
    """The active hosts named by cluster, each cluster's k spares, and notes on what could
    not be added (``clusters.plan_clusters`` with ``spare_hosts`` as the rule)."""
    return plan_clusters(problem, packing, active, spare_hosts)


def with_spares(problem: Problem, packing: Packing) -> float:
    """The objective of a packing with the N+k spares ``spare_hosts`` would add to it."""
    spares, _ = spare_hosts(problem, packing, 0)
    return packing_objective(problem, packing)[0] + sum(h.cost.total for h in spares)


def spare_hosts(
    problem: Problem, packing: Packing, first_id: int
) -> tuple[list[HostPlan], list[str]]:
    """k failover hosts per partition of ``packing``, and a note per partition where no
    model could be added under ``max_count``; ids count on from ``first_id``."""
    k = problem.policy.ha_host_failures
    if k == 0:
        return [], []
    used = Counter(b.type_index for b in packing if b.vms)
    remaining = {
        t.index: (UNLIMITED if t.model.max_count is None else t.model.max_count - used[t.index])
        for t in problem.host_types
    }
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        if b.vms:
            by_part[b.partition].append(b)
    spares: list[HostPlan] = []
    notes: list[str] = []
    width = max(2, len(str(first_id + k * len(by_part))))
    for p_index in sorted(by_part):
        bins = by_part[p_index]
        part = problem.partitions[p_index]
        loads = [_load(problem, b.vms) for b in bins]
        load = (
            max(cpu for cpu, _, _ in loads),
            max(mem for _, mem, _ in loads),
            max(len(b.vms) for b in bins),
        )
        peak: Counter[str] = Counter()
        for _, _, tags in loads:
            for tag, n in tags:
                peak[tag] = max(peak[tag], n)
        able = [
            s
            for s in spare_candidates(problem, part)
            if problem.host_types[s].cpu_cap_m >= load[0]
            and problem.host_types[s].mem_cap_mib >= load[1]
            and problem.host_types[s].vm_cap >= load[2]
        ]
        for _ in range(k):
            offers = sorted(
                (_spare(problem, p_index, s, peak, "").cost.total, s)
                for s in able
                if remaining[s] > 0
            )
            if not offers:
                notes.append(
                    f"N+{k}: no spare host could be added to {part.key}: no model that can "
                    "take over its busiest host is left under max_count"
                )
                break
            s = offers[0][1]
            remaining[s] -= 1
            spares.append(_spare(problem, p_index, s, peak, f"spare-{len(spares) + 1:0{width}d}"))
    return spares, notes


# A host's load: milli-vCPU, MiB and VM count per licence tag.
_Load = tuple[int, int, tuple[tuple[str, int], ...]]
# Every comparison of two packings prices the spares of both, and packings share most of
# their hosts: each host's load is summed once per problem's VMs.
_LOADS: IdentityCache[dict[tuple[int, ...], _Load]] = IdentityCache(size=2)


def _load(problem: Problem, vms: tuple[int, ...]) -> _Load:
    """The load of a host running ``vms`` (positions in ``problem.vms``)."""
    loads = _LOADS.get((problem.vms,))
    if loads is None:
        loads = {}
        _LOADS.put((problem.vms,), (), loads)
    hit = loads.get(vms)
    if hit is None:
        members = list(map(problem.vms.__getitem__, vms))
        tags = Counter(itertools.chain.from_iterable(map(_TAGS, members)))
        hit = (
            sum(map(_CPU, members)),
            sum(map(_MEM, members)),
            tuple(sorted(tags.items())),
        )
        loads[vms] = hit
    return hit


_CPU, _MEM, _TAGS = attrgetter("cpu_m"), attrgetter("mem_mib"), attrgetter("tags")


def _spare(
    problem: Problem, p_index: int, t_index: int, peak: Counter[str], host_id: str
) -> HostPlan:
    t = problem.host_types[t_index]
    years = problem.policy.horizon_years
    if problem.policy.vm_mobility == "cluster":  # VMs may move onto the spare, as onto any host
        peak = peak.copy()
        for tag, n in mobile_counts(problem, p_index, t_index).items():
            peak[tag] = max(peak[tag], n)
    licences = tag_licences(t.model, peak, problem.catalog.licences, years)
    licences += hypervisor_licences(
        t.model, problem.catalog.licences, years, problem.profile.licence_family, peak
    )
    return HostPlan(
        id=host_id,
        model=t.model.model,
        type_index=t.index,
        partition=problem.partitions[p_index].key,
        role="spare",
        vms=(),
        cpu_used_m=0,
        cpu_cap_m=t.cpu_cap_m,
        mem_used_mib=0,
        mem_cap_mib=t.mem_cap_mib,
        vm_count=0,
        vm_cap=t.vm_cap,
        licences=licences,
        cost=host_cost(t.model, licences, 0.0, problem.policy),
        watts=t.model.watts_idle,
        limiting="none",
    )
