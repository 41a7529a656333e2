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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from planner.costs import host_total
from planner.models import HostType, Problem, SizedVM
from planner.packing import (
    HostBin,
    Packing,
    bin_total,
    host_priced_tags,
    packing_objective,
    undominated,
    vm_classes,
)
from planner.tolerances import COST_SAVING_MIN

__all__ = ["RoomTree", "complete", "first_fit_decreasing", "right_size"]

UNLIMITED = 1 << 60
LARGE = 20000  # VMs in a partition above which fewer first-fit variants are tried
HUGE = 200_000  # VMs in a partition above which one variant is tried (time stays linear)


class RoomTree:
    """Max free vCPU, memory and VM slots over a row of hosts (a max segment tree).

    ``leftmost`` finds the first host, in row order, with room for a VM, skipping every
    subtree whose largest free room is too small in some dimension: first fit in about
    log(hosts) steps instead of a scan of every host. A leaf of -1 is never entered.
    """

    def __init__(self, size: int) -> None:
        self.base = 1
        self._reset(size)

    def _reset(self, size: int) -> None:
        while self.base < size:
            self.base *= 2
        self.cpu = [-1] * (2 * self.base)
        self.mem = [-1] * (2 * self.base)
        self.count = [-1] * (2 * self.base)

    def fill(self, leaves: Sequence[tuple[int, int, int]]) -> None:
        """Set the first leaves at once (the rest -1), then the inner nodes bottom-up."""
        self._reset(len(leaves))
        c, m, k = self.cpu, self.mem, self.count
        for n, (cpu, mem, count) in enumerate(leaves, self.base):
            c[n], m[n], k[n] = cpu, mem, count
        for i in range(self.base - 1, 0, -1):
            a, b = 2 * i, 2 * i + 1
            c[i], m[i], k[i] = max(c[a], c[b]), max(m[a], m[b]), max(k[a], k[b])

    def set(self, leaf: int, cpu: int, mem: int, count: int) -> None:
        """Set one leaf and its ancestors, stopping where an ancestor does not change."""
        if leaf >= self.base:  # grow: enough leaves for this one, the others kept
            old = self.base
            leaves = list(zip(self.cpu[old:], self.mem[old:], self.count[old:], strict=True))
            self.fill(leaves + [(-1, -1, -1)] * (leaf + 1 - old))
        c, m, k = self.cpu, self.mem, self.count
        i = leaf + self.base
        c[i], m[i], k[i] = cpu, mem, count
        i //= 2
        while i:
            a, b = 2 * i, 2 * i + 1
            new = (max(c[a], c[b]), max(m[a], m[b]), max(k[a], k[b]))
            if new == (c[i], m[i], k[i]):
                return
            c[i], m[i], k[i] = new
            i //= 2

    def leftmost(
        self, cpu: int, mem: int, accept: Callable[[int], bool], start: int = 0
    ) -> tuple[int, int]:
        """The first leaf from ``start`` on with at least ``cpu``, ``mem`` and one VM slot
        free that ``accept`` takes (model, anti-affinity, licences), or -1; and the number of
        nodes visited. Subtrees wholly before ``start`` are skipped unvisited."""
        c, m, k, base = self.cpu, self.mem, self.count, self.base
        if start >= base:
            return -1, 0
        stack = [(1, base)]  # a node and the leaf just past its subtree
        visits = 0
        while stack:
            i, end = stack.pop()
            visits += 1
            if c[i] < cpu or m[i] < mem or k[i] < 1:
                continue
            if i >= base:
                if accept(i - base):
                    return i - base, visits
                continue
            right = 2 * i + 1
            # The left child's leaves end where the right child's begin.
            half = end - (base >> (right.bit_length() - 1))
            stack.append((right, end))
            if half > start:
                stack.append((2 * i, half))
        return -1, visits


@dataclass
class _Open:
    """A host being filled."""

    type_index: int
    cpu: int  # free milli-vCPU
    mem: int  # free MiB
    count: int  # free VM slots
    members: list[int] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)  # its VMs' licence tags


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
        classes = [
            _Class(cpu, mem, group, frozenset(fits), tags, tuple(members))
            for (cpu, mem, group, fits, tags), members in vm_classes(problem, part.vms).items()
        ]
        best: tuple[tuple[int, float, float], list[HostBin], dict[int, str], dict[int, int]]
        best = ((UNLIMITED, 0.0, 0.0), [], {}, remaining)
        orders, prefs = _orders(problem), _preferences(problem, part.vms, classes)
        if len(part.vms) > LARGE:
            # Each variant costs classes x hosts; on large partitions try the likeliest few.
            orders, prefs = [orders[0], orders[-1]], prefs[:2]
        if len(part.vms) > HUGE:
            orders, prefs = orders[-1:], prefs[:1]  # licence-aware order: cheapest by far
        for order in orders:
            for pref in prefs:
                left = dict(remaining)
                packed, lost = _pack(problem, p_index, sorted(classes, key=order), pref, left)
                packed = right_size(problem, packed, left)
                key = (len(lost), *packing_objective(problem, packed))
                if key < best[0]:
                    best = (key, packed, lost, left)
        bins.extend(best[1])
        failed.update(best[2])
        remaining = best[3]
    return tuple(bins), failed


def complete(problem: Problem, kept: Sequence[HostBin], todo: Sequence[int]) -> Packing | None:
    """``kept`` hosts (each valid for ``problem``) with the VMs at ``todo`` added: first fit
    into the kept hosts' free room, then into new hosts, each right-sized; None where a VM
    finds no host (``max_count``). A plan of a nearby scenario repaired this way is a start
    for the search (``planner.warm``)."""
    remaining = {
        t.index: (UNLIMITED if t.model.max_count is None else t.model.max_count)
        for t in problem.host_types
    }
    for b in kept:
        remaining[b.type_index] -= 1
    bins: list[HostBin] = []
    part_of = {i: p for p, part in enumerate(problem.partitions) for i in part.vms}
    todo_of: dict[int, list[int]] = {}
    for i in todo:
        todo_of.setdefault(part_of[i], []).append(i)
    for p_index in range(len(problem.partitions)):
        mine = [b for b in kept if b.partition == p_index]
        if p_index not in todo_of:
            bins.extend(mine)
            continue
        opened = []
        for b in mine:
            ht, vms = problem.host_types[b.type_index], [problem.vms[i] for i in b.vms]
            opened.append(
                _Open(
                    b.type_index,
                    ht.cpu_cap_m - sum(v.cpu_m for v in vms),
                    ht.mem_cap_mib - sum(v.mem_mib for v in vms),
                    ht.vm_cap - len(vms),
                    list(b.vms),
                    {v.group for v in vms if v.group},
                    {t for v in vms for t in v.tags},
                )
            )
        classes = [
            _Class(cpu, mem, group, frozenset(fits), tags, tuple(members))
            for (cpu, mem, group, fits, tags), members in vm_classes(
                problem, todo_of[p_index]
            ).items()
        ]
        pref = _preferences(problem, todo_of[p_index], classes)[0]
        # Licensed VMs first, each to a host that pays its licences already where one has room.
        packed, lost = _pack(
            problem,
            p_index,
            sorted(classes, key=_orders(problem)[-1]),
            pref,
            remaining,
            opened,
            host_priced_tags(problem),
        )
        if lost:
            return None
        bins.extend(right_size(problem, packed, remaining))
    return tuple(bins)


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


def _preferences(
    problem: Problem, positions: Sequence[int], classes: Sequence[_Class]
) -> list[list[int]]:
    """Host-type orders to buy from: each type first in turn, the rest by value for money;
    for the host count, a type another dominates (``packing.dominates``) never comes first."""
    vms = [problem.vms[p] for p in positions]
    cpu = sum(v.cpu_m for v in vms) or 1
    mem = sum(v.mem_mib for v in vms) or 1

    def value(t: HostType) -> float:
        # Share of the partition's demand one host of this type holds (its binding side).
        held = min(t.cpu_cap_m / cpu, t.mem_cap_mib / mem)
        if problem.policy.objective == "hosts":
            return -held
        return host_total(t) / held

    ranked = [t.index for t in sorted(problem.host_types, key=value)]
    firsts = ranked
    if problem.policy.objective == "hosts":
        # A dominated type never buys fewer hosts than the type that dominates it.
        runs = {i: {n for n, c in enumerate(classes) if i in c.fits} for i in ranked}
        firsts = undominated(problem, ranked, runs, by_count=True) or ranked
    return [[first, *(i for i in ranked if i != first)] for first in firsts]


def _pack(
    problem: Problem,
    p_index: int,
    classes: list[_Class],
    pref: list[int],
    remaining: dict[int, int],
    opened: list[_Open] | None = None,
    priced: frozenset[str] = frozenset(),
) -> tuple[list[HostBin], dict[int, str]]:
    """First fit of ``classes`` (in order) into ``opened`` hosts (none by default, else
    filled in place), buying hosts of the first type in ``pref`` that fits and is left.
    A VM with tags in ``priced`` (licences its host pays) goes first to a host that runs
    such a VM already, where one has room."""
    opened = [] if opened is None else opened  # every host bought, in opening order
    tree = RoomTree(64)  # their free room, for first fit without a scan of every host
    tree.fill([(b.cpu, b.mem, b.count) for b in opened])
    lost: dict[int, str] = {}
    types = problem.host_types
    for c in classes:
        todo = list(c.members)
        paying = priced.intersection(c.tags)
        while todo and paying:
            # A host that pays these licences already (its VMs' tags), the first with room.
            n = next(
                (n for n, b in enumerate(opened) if _room(b, c, 1) > 0 and paying <= b.tags),
                -1,
            )
            if n < 0:
                break
            b = opened[n]
            take = _room(b, c, len(todo))
            _put(b, c, todo[:take])
            del todo[:take]
            tree.set(n, b.cpu, b.mem, b.count)
        start = 0  # hosts before it take no more VM of this class
        while todo and not paying:
            # The first host (in opening order) with room: rooms only shrink, so this visits
            # the same hosts, in the same order, as a scan of all of them would. A host it
            # fills for ``c`` (or that gets the class's group) takes no more of ``c`` after.
            n, _ = tree.leftmost(c.cpu, c.mem, functools.partial(_accepts, opened, c), start)
            if n < 0:
                break
            start = n + 1
            b = opened[n]
            take = _room(b, c, len(todo))
            _put(b, c, todo[:take])
            del todo[:take]
            tree.set(n, b.cpu, b.mem, b.count)
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
            take = _room(b, c, len(todo))
            _put(b, c, todo[:take])
            del todo[:take]
            tree.set(len(opened) - 1, b.cpu, b.mem, b.count)
    return [HostBin(p_index, b.type_index, tuple(b.members)) for b in opened], lost


def _accepts(opened: list[_Open], c: _Class, n: int) -> bool:
    """Whether host ``n`` takes a VM of ``c`` (model, anti-affinity; capacity aside)."""
    return _room(opened[n], c, 1) > 0


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
    b.tags.update(c.tags)
    if c.group:
        b.groups.add(c.group)


def right_size(
    problem: Problem, bins: Sequence[HostBin], remaining: dict[int, int]
) -> list[HostBin]:
    """Give each host the cheapest model that still holds its VMs (caps respected).

    ``remaining`` (models still allowed by ``max_count``) is updated for the moves made.
    """
    out = []
    for b in bins:
        vms: list[SizedVM] = list(map(problem.vms.__getitem__, b.vms))
        cpu = sum(map(_CPU, vms))
        mem = sum(map(_MEM, vms))
        fits = set(map(_FITS, vms))  # a host's VMs have a few distinct ones
        others = [
            t
            for t in problem.host_types
            if t.index != b.type_index
            and remaining[t.index] > 0
            and cpu <= t.cpu_cap_m
            and mem <= t.mem_cap_mib
            and len(vms) <= t.vm_cap
            and all(t.index in f for f in fits)
        ]
        if not others:  # nothing to compare: leave the host unpriced
            out.append(b)
            continue
        best, best_cost = b, bin_total(problem, b)
        for t in others:
            if host_total(t) >= best_cost - COST_SAVING_MIN:
                continue  # a host costs at least its fixed cost: no cheaper, skip pricing it
            cand = HostBin(b.partition, t.index, b.vms)
            cost = bin_total(problem, cand)
            if cost < best_cost - COST_SAVING_MIN:
                best, best_cost = cand, cost
        if best is not b:
            remaining[b.type_index] += 1
            remaining[best.type_index] -= 1
        out.append(best)
    return out


_CPU, _MEM, _FITS = attrgetter("cpu_m"), attrgetter("mem_mib"), attrgetter("fits")


def _cap_reason(problem: Problem, fits: frozenset[int]) -> str:
    names = ", ".join(
        f"{problem.host_types[i].model.model} (max_count {problem.host_types[i].model.max_count})"
        for i in sorted(fits)
    )
    return f"every host model that can hold it is used up by max_count: {names}"
