"""Re-packing a cost plan's hosts by host count, group by group.

Under the cost objective the hosts of a large partition fall into groups by the licences
they pay for their VMs (``packing.host_priced_tags``: SQL Server per core, Datacenter):
*plain* hosts pay none, so each costs what its model costs, the licences of VMs that may
move onto it included (``vm_mobility = cluster``); the hosts of one SQL Server group each
pay SQL Server on all their cores. Within a group on one model, fewer hosts is cheaper:
that is bin packing by host count, which the exact engine solves far better than the cost
search at thousands of VMs (it proves the host count of 10,000 VMs in seconds). So each
large group's VMs are packed again with ``objective = hosts`` on the model the group
mostly uses, and the result is kept, group by group, where the partition is then cheaper
with its spares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from planner.heuristic import first_fit_decreasing
from planner.models import Problem
from planner.packing import HostBin, Packing, host_priced_tags
from planner.spares import with_spares

__all__ = ["MIN_GROUP_HOSTS", "Group", "groups", "repack"]

MIN_GROUP_HOSTS = 20  # smaller groups are left to the cost search


Improve = Callable[[Problem, Packing], Packing]  # the exact engine: a problem, a start


@dataclass(frozen=True)
class Group:
    """The hosts of one partition that pay the same licences for their VMs."""

    partition: int
    paid: frozenset[str]  # the host-priced tags its hosts carry (empty: plain hosts)
    model: int  # the host type most of them use, which every VM of the group fits
    vms: tuple[int, ...]


def _paid(problem: Problem, b: HostBin, priced: frozenset[str]) -> frozenset[str]:
    return frozenset(t for i in b.vms for t in problem.vms[i].tags if t in priced)


def groups(problem: Problem, packing: Packing, parts: Sequence[int]) -> list[Group]:
    """The groups of ``packing`` in ``parts`` worth re-packing: cost objective, no
    ``max_count``, at least ``MIN_GROUP_HOSTS`` hosts, every VM fitting their model."""
    if problem.policy.objective != "cost" or any(
        t.model.max_count is not None for t in problem.host_types
    ):
        return []
    priced = host_priced_tags(problem)
    found: list[Group] = []
    for p in parts:
        by_paid: dict[frozenset[str], list[HostBin]] = {}
        for b in packing:
            if b.partition == p and b.vms:
                by_paid.setdefault(_paid(problem, b, priced), []).append(b)
        for paid, bins in sorted(by_paid.items(), key=lambda kv: sorted(kv[0])):
            if len(bins) < MIN_GROUP_HOSTS:
                continue
            model = Counter(b.type_index for b in bins).most_common(1)[0][0]
            vms = tuple(sorted(i for b in bins for i in b.vms))
            if all(model in problem.vms[i].fits for i in vms):
                found.append(Group(p, paid, model, vms))
    return found


def repack(
    problem: Problem, packing: Packing, chosen: Sequence[Group], improve: Improve
) -> Packing:
    """``packing`` with each ``chosen`` group's VMs packed again by host count on its model
    (``improve``: the exact engine, from first fit; one sub-problem with a partition per
    group), group by group where the partition is then cheaper with its spares."""
    if not chosen:
        return packing
    vms = list(problem.vms)
    for g in chosen:
        for i in g.vms:
            vms[i] = vms[i].model_copy(update={"fits": (g.model,)})
    sub = problem.model_copy(
        update={
            "vms": tuple(vms),
            "policy": problem.policy.model_copy(update={"objective": "hosts"}),
            "partitions": tuple(
                problem.partitions[g.partition].model_copy(
                    update={"key": f"{problem.partitions[g.partition].key} #{n}", "vms": g.vms}
                )
                for n, g in enumerate(chosen)
            ),
        }
    )
    start, failed = first_fit_decreasing(sub)
    if failed:  # pragma: no cover - every VM of a group fits its model (``groups``)
        return packing
    repacked = improve(sub, start)
    result = list(packing)
    for n, g in enumerate(chosen):
        mine = [b for b in result if b.partition == g.partition]
        members = set(g.vms)
        candidate = [b for b in mine if not members.intersection(b.vms)]
        candidate += [
            HostBin(g.partition, b.type_index, b.vms)
            for b in repacked
            if b.partition == n and b.vms
        ]
        if with_spares(problem, tuple(candidate)) < with_spares(problem, tuple(mine)):
            result = [b for b in result if b.partition != g.partition] + candidate
    return tuple(sorted(result, key=lambda b: b.partition))
