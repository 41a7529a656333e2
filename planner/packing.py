"""A packing: which host types are bought and which VMs each runs. Solver-neutral plain data.

Both engines (first-fit decreasing and the exact engine) produce a ``Packing``; ``solve``
turns it into a ``Plan``. The cost of a packed host is computed here once, with the rules of
``costs``. So are the two rules both engines reason with: which VMs form one class
(``vm_classes``) and which host type can stand in for another (``dominates``).
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from operator import attrgetter

from planner.costs import host_cost, host_total, hypervisor_licences, licence_cost, tag_licences
from planner.memo import IdentityCache
from planner.models import (
    CostBreakdown,
    HostModel,
    HostType,
    Licence,
    LicenceUse,
    Partition,
    Problem,
)
from planner.tolerances import COST_EPS

__all__ = [
    "ClassKey",
    "HostBin",
    "Packing",
    "bin_cost",
    "bin_licences",
    "bin_total",
    "dominates",
    "host_priced_tags",
    "mobile_counts",
    "mobile_licence_cost",
    "mobile_tags",
    "packing_cost",
    "packing_objective",
    "stacking_tags",
    "undominated",
    "vm_classes",
]


@dataclass(frozen=True, slots=True)
class HostBin:
    """One bought host: its type (index into Problem.host_types) and its VMs.

    ``vms`` are positions in ``Problem.vms``; ``partition`` is the index into
    ``Problem.partitions`` the host belongs to.
    """

    partition: int
    type_index: int
    vms: tuple[int, ...]


Packing = tuple[HostBin, ...]


def bin_licences(problem: Problem, b: HostBin) -> tuple[LicenceUse, ...]:
    """Licences the host needs: its VMs' tags, plus the hypervisor's own where it pays one.

    With ``vm_mobility = cluster`` a host is licensed for the tagged VMs that may move onto it
    as well (``mobile_counts``), not only for those it runs.
    """
    counts: Counter[str] = Counter(
        itertools.chain.from_iterable(map(_TAGS, map(problem.vms.__getitem__, b.vms)))
    )
    if problem.policy.vm_mobility == "cluster":
        for tag, n in mobile_counts(problem, b.partition, b.type_index).items():
            counts[tag] = max(counts[tag], n)
    return _licences(
        problem.host_types[b.type_index].model,
        tuple(sorted(counts.items())),
        problem.catalog.licences,
        problem.policy.horizon_years,
        problem.profile.licence_family,
    )


_TAGS, _LOAD = attrgetter("tags"), attrgetter("load_m")


@functools.lru_cache(maxsize=1 << 16)
def _licences(
    model: HostModel,
    counts: tuple[tuple[str, int], ...],
    licences: tuple[Licence, ...],
    years: float,
    family: str,
) -> tuple[LicenceUse, ...]:
    # Hosts of one plan repeat the same few (model, tag counts): price each combination once.
    uses = tag_licences(model, dict(counts), licences, years)
    return uses + hypervisor_licences(model, licences, years, family, dict(counts))


# Engines price the same (partition, host type) many times: count once.
_MOBILE_COUNTS: IdentityCache[dict[str, int]] = IdentityCache()


def mobile_counts(problem: Problem, p_index: int, t_index: int) -> dict[str, int]:
    """With ``vm_mobility = cluster``: per stacking tag, the VMs a host may have to license.

    A stacking tag is one with a licence that covers a limited number of VMs per grant
    (Windows Server Standard: 2; RHEL Server: 2). Such licences are assigned to a physical
    host and may be reassigned only every 90 days (Windows Server), so where VMs move freely
    within their cluster each host is licensed for the most VMs of that tag it could run at
    once (the high-water mark): all of the partition's VMs with the tag, but no more than a
    host of type ``t_index`` holds by VM count, vCPU or memory (its smallest VMs first).
    Every host of the partition then holds that licence, also one running none of them.
    Tags licensed per host without a VM count (SQL Server per core, Datacenter) are not
    changed: such VMs are kept on their licensed hosts (host affinity rules).
    """
    part = problem.partitions[p_index]
    ht = problem.host_types[t_index]
    held = (part, problem.vms, ht, problem.catalog.licences)
    hit = _MOBILE_COUNTS.get(held)
    if hit is not None:
        return hit
    counts = {
        tag: min(
            len(cpu),
            ht.vm_cap,
            bisect.bisect_right(cpu, ht.cpu_cap_m),
            bisect.bisect_right(mem, ht.mem_cap_mib),
        )
        for tag, (cpu, mem) in _stacked(problem, part).items()
    }
    _MOBILE_COUNTS.put(held, (), counts)
    return counts


# Per partition and stacking tag: the running totals of its VMs' demand, smallest first.
_STACKED: IdentityCache[dict[str, tuple[list[int], list[int]]]] = IdentityCache()


def _stacked(problem: Problem, part: Partition) -> dict[str, tuple[list[int], list[int]]]:
    """Per stacking tag of ``part`` (sorted): the running sums of its tagged VMs' milli-vCPU
    and MiB, each in increasing order; the same for every host type, so summed once."""
    held = (part, problem.vms, problem.catalog.licences)
    hit = _STACKED.get(held)
    if hit is not None:
        return hit
    stacking = stacking_tags(problem)
    sizes: dict[str, list[tuple[int, int]]] = {}
    for v in map(problem.vms.__getitem__, part.vms):
        for tag in v.tags:
            if tag in stacking:
                sizes.setdefault(tag, []).append((v.cpu_m, v.mem_mib))
    totals = {
        tag: (
            list(itertools.accumulate(sorted(c for c, _ in vms))),
            list(itertools.accumulate(sorted(m for _, m in vms))),
        )
        for tag, vms in sorted(sizes.items())
    }
    _STACKED.put(held, (), totals)
    return totals


def stacking_tags(problem: Problem) -> frozenset[str]:
    """Tags with a licence that covers a limited number of VMs per grant (Windows Server
    Standard, RHEL Server): the ones ``vm_mobility = cluster`` prices for VMs that may move."""
    return frozenset(
        lic.tag
        for lic in problem.catalog.licences
        if lic.applies_to == "tagged" and lic.unit != "vm" and lic.vms_per_grant > 0
    )


def mobile_tags(problem: Problem) -> frozenset[str]:
    """Tags whose licence cost ``vm_mobility`` makes a fixed cost of every host of a
    partition (``mobile_licence_cost``): the stacking tags with ``cluster``, none pinned."""
    return stacking_tags(problem) if problem.policy.vm_mobility == "cluster" else frozenset()


def host_priced_tags(problem: Problem) -> frozenset[str]:
    """Tags whose licence a host pays only when it runs such a VM (SQL Server per core,
    Datacenter): not priced per VM, and not made a cost of every host by ``mobile_tags``."""
    hosted = {
        lic.tag
        for lic in problem.catalog.licences
        if lic.applies_to == "tagged" and lic.unit != "vm"
    }
    return frozenset(hosted - mobile_tags(problem))


def mobile_licence_cost(problem: Problem, p_index: int, t_index: int) -> float:
    """With ``vm_mobility = cluster``: what every host of type ``t_index`` in partition
    ``p_index`` pays for the tagged VMs that may move onto it, whatever it runs.

    ``bin_licences`` licenses such a host for ``mobile_counts`` VMs of each stacking tag (at
    least as many as any host of the type can run), so this part of its licence cost does
    not depend on its VMs: the optimizers price it with the host, and the tag's own VMs
    add nothing (``mobile_tags``). 0 with ``pinned``.
    """
    if problem.policy.vm_mobility != "cluster":
        return 0.0
    model = problem.host_types[t_index].model
    licences = problem.catalog.licences
    years = problem.policy.horizon_years
    return sum(
        licence_cost(tag, model, n, licences, years)
        for tag, n in mobile_counts(problem, p_index, t_index).items()
    )


def bin_cost(problem: Problem, b: HostBin) -> CostBreakdown:
    """Cost of one host over the horizon, by category, without its VMs' own costs.

    Per-VM costs (storage, administration per VM) are the same whatever the packing, so the
    comparison of packings leaves them out; ``solve`` adds them to the plan.
    """
    ht = problem.host_types[b.type_index]
    load = sum(map(_LOAD, map(problem.vms.__getitem__, b.vms))) / (1000.0 * ht.model.cores)
    return host_cost(ht.model, bin_licences(problem, b), load, problem.policy)


# The searches price the same hosts again and again (each first-fit variant, right-sizing,
# each comparison with spares): the totals of the last few problems' hosts, by identity.
_TOTALS: IdentityCache[dict[HostBin, float]] = IdentityCache(size=2)


def bin_total(problem: Problem, b: HostBin) -> float:
    """``bin_cost(problem, b).total``, computed once per host of the last few problems."""
    totals = _TOTALS.get((problem,))
    if totals is None:
        totals = {}
        _TOTALS.put((problem,), (), totals)
    total = totals.get(b)
    if total is None:
        total = bin_cost(problem, b).total
        totals[b] = total
    return total


def packing_cost(problem: Problem, bins: Sequence[HostBin]) -> float:
    """Total cost of the bought hosts."""
    return sum(bin_total(problem, b) for b in bins)


def packing_objective(problem: Problem, bins: Sequence[HostBin]) -> tuple[float, float]:
    """What the policy minimises, as a sortable key: (primary, tie-break)."""
    cost = packing_cost(problem, bins)
    if problem.policy.objective == "hosts":
        return (float(len(bins)), cost)
    return (cost, float(len(bins)))


# What makes VMs interchangeable: milli-vCPU, MiB, anti-affinity group, the host types that
# can run them, and their licence tags.
ClassKey = tuple[int, int, str, tuple[int, ...], tuple[str, ...]]


def vm_classes(
    problem: Problem, positions: Iterable[int], with_tags: bool = True
) -> dict[ClassKey, list[int]]:
    """The VMs at ``positions`` (into ``Problem.vms``) in classes of identical demand and
    constraints, and licence tags unless ``with_tags`` is False (the tags key is then empty):
    each class's members in the given order, the classes in the order of their first member.
    """
    classes: dict[ClassKey, list[int]] = defaultdict(list)
    for pos in positions:
        v = problem.vms[pos]
        classes[(v.cpu_m, v.mem_mib, v.group, v.fits, v.tags if with_tags else ())].append(pos)
    return dict(classes)


def dominates(a: HostType, b: HostType, runs: Mapping[int, Set[int]], by_count: bool) -> bool:
    """Host type ``a`` can replace ``b`` in any plan, which stays feasible and no worse.

    ``a`` holds at least as much in every dimension, runs every VM ``b`` runs (``runs``: the
    VMs or VM classes of the partition each type index can run), has no ``max_count`` cap, and
    costs no more: any host for the host count (``by_count``); else a lower fixed cost, no
    more cores or sockets (per-core licences cost no more) and no more energy per core. Of
    types equal in all this, the one with the larger capacity, lower cost, lower index wins,
    so that exactly one of them is kept.
    """
    fixed_a, fixed_b = host_total(a), host_total(b)
    return (
        a.model.max_count is None
        and a.cpu_cap_m >= b.cpu_cap_m
        and a.mem_cap_mib >= b.mem_cap_mib
        and a.vm_cap >= b.vm_cap
        and runs[a.index] >= runs[b.index]
        and (
            by_count
            or (
                fixed_a + COST_EPS < fixed_b
                and a.model.cores <= b.model.cores
                and a.model.sockets <= b.model.sockets
                and a.energy_per_util_cost / a.model.cores <= b.energy_per_util_cost / b.model.cores
            )
        )
        and (a.cpu_cap_m, a.mem_cap_mib, -fixed_a, -a.index)
        > (b.cpu_cap_m, b.mem_cap_mib, -fixed_b, -b.index)
    )


def undominated(
    problem: Problem, types: Sequence[int], runs: Mapping[int, Set[int]], by_count: bool
) -> list[int]:
    """The host types of ``types`` (indices) that no other of them dominates, in order."""
    hts = problem.host_types
    return [
        t
        for t in types
        if not any(dominates(hts[u], hts[t], runs, by_count) for u in types if u != t)
    ]
