"""First-fit decreasing over the host catalog: an immediate feasible packing.

It is the baseline every exact plan must beat or match, and the exact model's warm start.
VMs of identical demand and constraints are handled as one class with a count, so an
inventory of 100,000 VMs with a few hundred distinct sizes packs in well under a second.

Per partition it tries a few orderings (largest normalised dimension first, largest sum
first, licence-tagged VMs first so that they share few licensed hosts) and each host model
as the preferred one to buy, then keeps the packing with the best objective. Each bought host
is finally right-sized to the cheapest model that still holds its VMs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.models import HostType, Problem, SizedVM
from planner.packing import HostBin, Packing, bin_cost, packing_objective

__all__ = ["first_fit_decreasing"]

UNLIMITED = 1 << 60
LARGE = 20000  # VMs in a partition above which fewer first-fit variants are tried


@dataclass
class _Open:
    """A host being filled."""

    type_index: int
    cpu: int  # free milli-vCPU
    mem: int  # free MiB
    count: int  # free VM slots
    members: list[int] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Class:
    """VMs of identical demand and constraints."""

    cpu: int
    mem: int
    group: str
    fits: frozenset[int]
    tags: tuple[str, ...]
    members: tuple[int, ...]


def first_fit_decreasing(problem: Problem) -> tuple[Packing, dict[int, str]]:
    """Pack every partition with the best of several first-fit decreasing variants.

    Returns the packing and, for VMs it could not place (only when ``max_count`` caps leave
    no host that can hold them), their position in ``problem.vms`` with the reason.
    """
    remaining = {
        t.index: (UNLIMITED if t.model.max_count is None else t.model.max_count)
        for t in problem.host_types
    }
    bins: list[HostBin] = []
    failed: dict[int, str] = {}
    for p_index, part in enumerate(problem.partitions):
        classes = _classes(problem, part.vms)
        best: tuple[tuple[int, float, float], list[HostBin], dict[int, str], dict[int, int]]
        best = ((UNLIMITED, 0.0, 0.0), [], {}, remaining)
        orders, prefs = _orders(problem), _preferences(problem, part.vms)
        if len(part.vms) > LARGE:
            # Each variant costs classes x hosts; on large partitions try the likeliest few.
            orders, prefs = [orders[0], orders[-1]], prefs[:2]
        for order in orders:
            for pref in prefs:
                left = dict(remaining)
                packed, lost = _pack(problem, p_index, sorted(classes, key=order), pref, left)
                packed = _right_size(problem, packed, left)
                key = (len(lost), *packing_objective(problem, packed))
                if key < best[0]:
                    best = (key, packed, lost, left)
        bins.extend(best[1])
        failed.update(best[2])
        remaining = best[3]
    return tuple(bins), failed


def _classes(problem: Problem, positions: Sequence[int]) -> list[_Class]:
    groups: dict[tuple[int, int, str, tuple[int, ...], tuple[str, ...]], list[int]] = defaultdict(
        list
    )
    for pos in positions:
        v = problem.vms[pos]
        groups[(v.cpu_m, v.mem_mib, v.group, v.fits, v.tags)].append(pos)
    return [
        _Class(cpu, mem, group, frozenset(fits), tags, tuple(members))
        for (cpu, mem, group, fits, tags), members in groups.items()
    ]


def _orders(problem: Problem) -> list[Callable[[_Class], tuple[Any, ...]]]:
    """Sort keys (ascending sort, so sizes are negated): the decreasing orders tried."""
    cpu_ref = max(t.cpu_cap_m for t in problem.host_types)
    mem_ref = max(t.mem_cap_mib for t in problem.host_types)

    def biggest(c: _Class) -> tuple[Any, ...]:
        return (-max(c.cpu / cpu_ref, c.mem / mem_ref), -c.cpu, -c.mem)

    def total(c: _Class) -> tuple[Any, ...]:
        return (-(c.cpu / cpu_ref + c.mem / mem_ref), -c.cpu, -c.mem)

    def licensed_first(c: _Class) -> tuple[Any, ...]:
        # VMs sharing a tag set come together so first-fit keeps them on few hosts.
        return (-len(c.tags), " ".join(c.tags), *biggest(c))

    has_tags = any(v.tags for v in problem.vms)
    return [biggest, total, licensed_first] if has_tags else [biggest, total]


def _preferences(problem: Problem, positions: Sequence[int]) -> list[list[int]]:
    """Host-type orders to buy from: each type first in turn, the rest by value for money."""
    vms = [problem.vms[p] for p in positions]
    cpu = sum(v.cpu_m for v in vms) or 1
    mem = sum(v.mem_mib for v in vms) or 1

    def value(t: HostType) -> float:
        # Share of the partition's demand one host of this type holds (its binding side).
        held = min(t.cpu_cap_m / cpu, t.mem_cap_mib / mem)
        if problem.policy.objective == "hosts":
            return -held
        return t.fixed_cost / held

    ranked = [t.index for t in sorted(problem.host_types, key=value)]
    firsts = ranked
    if problem.policy.objective == "hosts":
        # A type that another uncapped type matches in every capacity never buys fewer hosts.
        types = problem.host_types

        def dominated(t: HostType) -> bool:
            return any(
                u.index != t.index
                and u.model.max_count is None
                and u.cpu_cap_m >= t.cpu_cap_m
                and u.mem_cap_mib >= t.mem_cap_mib
                and u.vm_cap >= t.vm_cap
                and u.model.logical_cpus >= t.model.logical_cpus
                and (u.cpu_cap_m, u.mem_cap_mib) != (t.cpu_cap_m, t.mem_cap_mib)
                for u in types
            )

        firsts = [i for i in ranked if not dominated(types[i])] or ranked
    return [[first, *(i for i in ranked if i != first)] for first in firsts]


def _pack(
    problem: Problem,
    p_index: int,
    classes: list[_Class],
    pref: list[int],
    remaining: dict[int, int],
) -> tuple[list[HostBin], dict[int, str]]:
    opened: list[_Open] = []  # every host bought, in opening order
    scan: list[_Open] = []  # the ones that may still take a VM, in the same order
    lost: dict[int, str] = {}
    types = problem.host_types
    # A host with less room than the smallest VM in either dimension is closed for good.
    min_cpu = min((c.cpu for c in classes), default=0)
    min_mem = min((c.mem for c in classes), default=0)
    for c in classes:
        todo = list(c.members)
        closed = False
        for b in scan:
            if not todo:
                break
            take = _room(b, c, len(todo))
            if take:
                _put(b, c, todo[:take])
                del todo[:take]
                closed = closed or b.cpu < min_cpu or b.mem < min_mem or b.count < 1
        while todo:
            t = next((i for i in pref if i in c.fits and remaining[i] > 0), None)
            if t is None:
                reason = _cap_reason(problem, c.fits)
                lost.update(dict.fromkeys(todo, reason))
                break
            remaining[t] -= 1
            ht = types[t]
            b = _Open(t, ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap)
            opened.append(b)
            scan.append(b)
            take = _room(b, c, len(todo))
            _put(b, c, todo[:take])
            del todo[:take]
            closed = closed or b.cpu < min_cpu or b.mem < min_mem or b.count < 1
        if closed:
            scan = [b for b in scan if b.cpu >= min_cpu and b.mem >= min_mem and b.count >= 1]
    return [HostBin(p_index, b.type_index, tuple(b.members)) for b in opened], lost


def _room(b: _Open, c: _Class, wanted: int) -> int:
    """How many of ``wanted`` VMs of class ``c`` fit on ``b`` now."""
    if b.cpu < c.cpu or b.mem < c.mem or b.type_index not in c.fits:
        return 0
    if c.group and c.group in b.groups:
        return 0
    n = min(wanted, b.cpu // c.cpu, b.mem // c.mem, b.count)
    return min(n, 1) if c.group else n


def _put(b: _Open, c: _Class, members: list[int]) -> None:
    b.members.extend(members)
    b.cpu -= c.cpu * len(members)
    b.mem -= c.mem * len(members)
    b.count -= len(members)
    if c.group:
        b.groups.add(c.group)


def _right_size(problem: Problem, bins: list[HostBin], remaining: dict[int, int]) -> list[HostBin]:
    """Give each host the cheapest model that still holds its VMs (caps respected)."""
    out = []
    for b in bins:
        vms: list[SizedVM] = [problem.vms[i] for i in b.vms]
        cpu = sum(v.cpu_m for v in vms)
        mem = sum(v.mem_mib for v in vms)
        allowed = set.intersection(*(set(v.fits) for v in vms)) if vms else set()
        best, best_cost = b, bin_cost(problem, b).total
        for t in problem.host_types:
            if t.index == b.type_index or t.index not in allowed or remaining[t.index] <= 0:
                continue
            if cpu > t.cpu_cap_m or mem > t.mem_cap_mib or len(vms) > t.vm_cap:
                continue
            cand = HostBin(b.partition, t.index, b.vms)
            cost = bin_cost(problem, cand).total
            if cost < best_cost - 1e-6:
                best, best_cost = cand, cost
        if best is not b:
            remaining[b.type_index] += 1
            remaining[best.type_index] -= 1
        out.append(best)
    return out


def _cap_reason(problem: Problem, fits: frozenset[int]) -> str:
    names = ", ".join(
        f"{problem.host_types[i].model.model} (max_count {problem.host_types[i].model.max_count})"
        for i in sorted(fits)
    )
    return f"every host model that can hold it is used up by max_count: {names}"
