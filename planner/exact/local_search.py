"""Local search that empties hosts: a consistent-neighbourhood tabu search on VM classes.

In the style of Buljubašić & Vasquez (2016) for 2-D vector packing: to go from m hosts to
m - 1, take the least loaded host's VMs out into a *pending* set and keep the other hosts
feasible at every step. Each step puts one pending VM on a host, taking out of that host at
most two VMs (of other classes) so that it fits; the move that adds the least weight to the
pending set wins, and a tabu list keeps the search from undoing a move at once. Pending VMs
that fit somewhere as they are go there first (best fit). When nothing is pending the host
is gone and the search tries the next one.

Hosts hold counts per VM class, so a step costs O(hosts x classes per host), whatever the
number of VMs. Host types never change, so ``max_count`` stays respected; capacity, the VM
count, anti-affinity groups and the models a VM fits on are checked on every move.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from planner.exact.classes import (
    CAPPED,
    Pattern,
    State,
    VMClass,
    accept,
    class_of,
    make_pattern,
    to_packing,
    types_of,
)
from planner.models import HostType

__all__ = ["balanced_fill", "empty_hosts"]

MAX_STEPS_PER_HOST = 4000  # moves one attempt to empty a host may make
ATTEMPTS = 4  # hosts tried as the one to empty before an improvement is given up
PAIR_WORK = 4000  # pairs of VMs (on sampled hosts) evaluated for removal per step
PENDING_TRIED = 4  # pending classes (sampled) whose moves are evaluated per step
BALANCE_POWERS = (0.0, 1.0, 2.0, 4.0)  # dot-product weightings tried by ``balanced_fill``
BULK = 64  # a class with n VMs left is placed up to 1 + n // BULK at a time by the fill
MOVE_WORK = 0.3  # work units per (host, class) or pair of VMs a move evaluates (measured)
STEP_WORK = 20.0  # work units of one step of the tabu search besides its moves
FILL_WORK = 0.05  # work units per class scored by the dot-product fill


@dataclass
class _Host:
    """A host in the search: its type, VM counts per class and residual capacity."""

    type_index: int
    counts: Counter[int]
    cpu: int  # free milli-vCPU
    mem: int  # free MiB
    slots: int  # free VM slots
    groups: Counter[str] = field(default_factory=Counter)


def empty_hosts(state: State, parts: list[int], until: float) -> bool:
    """Try to empty hosts of each partition in ``parts``; keep what improves the incumbent.

    Returns True when some partition's incumbent improved. Stops when the work clock reaches
    ``until`` or when a partition's host count meets its bound.
    """
    improved = False
    by_class = class_of(state)
    size = {p: sum(state.classes[ci].count for ci in state.by_partition[p]) for p in parts}
    for n, p_index in enumerate(parts):
        if state.clock() >= until:
            break
        now = state.work
        # Each partition gets a share of the work left by its size.
        share = size[p_index] / max(1, sum(size[p] for p in parts[n:]))
        rng = random.Random(state.seed * 7919 + p_index)
        hosts = _hosts_of(state, p_index, by_class)
        target = _target(state, p_index)
        best = _search(state, hosts, target, now + share * (until - now), rng)
        if best is None:
            continue
        before = state.value[p_index]
        chosen = [
            (make_pattern(state, p_index, h.type_index, dict(h.counts)), 1)
            for h in best
            if h.counts
        ]
        for pattern, _ in chosen:
            state.add(pattern)  # good columns for the LP and the restricted master
        accept(state, to_packing(state, chosen, [p_index]))
        improved = improved or state.value[p_index] < before
    return improved


def _target(state: State, p_index: int) -> int:
    """Fewest hosts worth searching for: the partition's bound (host count only)."""
    if state.by_hosts and state.separable:
        return int(state.rounded(state.bound.get(p_index, 0.0)))
    return 0


def _hosts_of(state: State, p_index: int, by_class: dict[int, int]) -> list[_Host]:
    hosts = []
    cls = state.classes
    for b in state.bins[p_index]:
        ht = state.problem.host_types[b.type_index]
        counts = Counter(by_class[i] for i in b.vms)
        h = _Host(b.type_index, Counter(), ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap)
        for ci, k in counts.items():
            _put(h, cls[ci], ci, k)
        hosts.append(h)
    return hosts


def _put(h: _Host, c: VMClass, ci: int, k: int) -> None:
    h.counts[ci] += k
    h.cpu -= c.cpu * k
    h.mem -= c.mem * k
    h.slots -= k
    if c.group:
        h.groups[c.group] += k


def _take(h: _Host, c: VMClass, ci: int, k: int) -> None:
    h.counts[ci] -= k
    if not h.counts[ci]:
        del h.counts[ci]
    h.cpu += c.cpu * k
    h.mem += c.mem * k
    h.slots += k
    if c.group:
        h.groups[c.group] -= k
        if not h.groups[c.group]:
            del h.groups[c.group]


def _copy(hosts: list[_Host]) -> list[_Host]:
    return [
        _Host(h.type_index, Counter(h.counts), h.cpu, h.mem, h.slots, Counter(h.groups))
        for h in hosts
    ]


def _search(
    state: State, hosts: list[_Host], target: int, until: float, rng: random.Random
) -> list[_Host] | None:
    """Remove hosts one at a time while the search succeeds; the best host list, or None."""
    cls = state.classes
    ref_cpu = max(state.problem.host_types[h.type_index].cpu_cap_m for h in hosts)
    ref_mem = max(state.problem.host_types[h.type_index].mem_cap_mib for h in hosts)
    weight = [c.cpu / ref_cpu + c.mem / ref_mem for c in cls]
    best: list[_Host] | None = None
    current = hosts
    while len(current) > max(target, 1) and state.clock() < until:
        load = sorted(
            range(len(current)),
            key=lambda b: (sum(weight[ci] * k for ci, k in current[b].counts.items()), b),
        )
        for n, victim in enumerate(load[:ATTEMPTS]):
            trial = _copy(current)
            pending = Counter(trial[victim].counts)
            del trial[victim]
            now = state.work
            attempt_until = now + (until - now) / (ATTEMPTS - n)
            if _drain(state, weight, trial, pending, attempt_until, rng):
                current = trial
                best = _copy(trial)
                break
            if state.clock() >= until:
                return best
        else:
            return best
    return best


def _drain(
    state: State,
    weight: list[float],
    hosts: list[_Host],
    pending: Counter[int],
    until: float,
    rng: random.Random,
) -> bool:
    """Tabu search until nothing is pending (True) or the step budget runs out or the work
    clock reaches ``until``."""
    cls = state.classes
    tabu: dict[tuple[int, int], int] = {}  # (class, host) -> last step it may not move
    for step in range(MAX_STEPS_PER_HOST):
        state.spend(STEP_WORK + MOVE_WORK * _fill(cls, hosts, pending, tabu, step))
        if not pending:
            return True
        if state.clock() >= until:
            return False
        best: tuple[float, float] | None = None
        move: tuple[int, int, tuple[int, ...]] | None = None
        candidates = sorted(pending)
        if len(candidates) > PENDING_TRIED:
            candidates = rng.sample(candidates, PENDING_TRIED)
        for pi in candidates:
            found, evaluated = _best_move(cls, weight, hosts, pi, tabu, step, rng)
            state.spend(MOVE_WORK * evaluated)
            if found is not None and (best is None or found[0] < best):
                best, move = found[0], (pi, *found[1])
        if move is None:
            continue
        ci, b, removed = move
        h = hosts[b]
        for r in removed:
            _take(h, cls[r], r, 1)
            pending[r] += 1
            tabu[r, b] = step + 2 + rng.randint(0, 3)
        _put(h, cls[ci], ci, 1)
        pending[ci] -= 1
        if not pending[ci]:
            del pending[ci]
        tabu[ci, b] = step + 5 + rng.randint(0, 5) + len(pending)
    return False


def _fits(c: VMClass, h: _Host) -> bool:
    return (
        h.type_index in c.fits
        and c.cpu <= h.cpu
        and c.mem <= h.mem
        and h.slots >= 1
        and not (c.group and h.groups[c.group])
    )


def _fill(
    cls: list[VMClass],
    hosts: list[_Host],
    pending: Counter[int],
    tabu: dict[tuple[int, int], int],
    step: int,
) -> int:
    """Best fit of the pending VMs, largest first, onto hosts where they fit as they are;
    returns how many (VM, host) pairs it looked at."""
    looked = 0
    for ci in sorted(pending, key=lambda c: (-(cls[c].cpu + cls[c].mem), c)):
        c = cls[ci]
        while pending.get(ci):
            looked += len(hosts)
            best, best_left = -1, 0.0
            for b, h in enumerate(hosts):
                if tabu.get((ci, b), -1) >= step or not _fits(c, h):
                    continue
                cap_cpu, cap_mem = h.cpu + 1, h.mem + 1
                left = (h.cpu - c.cpu) / cap_cpu + (h.mem - c.mem) / cap_mem
                if best < 0 or left < best_left:
                    best, best_left = b, left
            if best < 0:
                break
            _put(hosts[best], c, ci, 1)
            pending[ci] -= 1
            if not pending[ci]:
                del pending[ci]
    return looked


def _best_move(
    cls: list[VMClass],
    weight: list[float],
    hosts: list[_Host],
    ci: int,
    tabu: dict[tuple[int, int], int],
    step: int,
    rng: random.Random,
) -> tuple[tuple[tuple[float, float], tuple[int, tuple[int, ...]]] | None, int]:
    """The host and the (one or two) VMs to take out of it so that a VM of ``ci`` fits,
    adding the least weight to the pending set (ties broken at random), with that key; and
    how many (host, class) pairs and pairs of VMs it evaluated."""
    c = cls[ci]
    evaluated = len(hosts)
    best: tuple[float, float] | None = None
    move: tuple[int, tuple[int, ...]] | None = None
    # Two-VM removals on a sample of hosts: the pairs of a host grow with its classes squared.
    n_pairs = max(2, PAIR_WORK // max(1, max(len(h.counts) for h in hosts) ** 2))
    pair_hosts = set(rng.sample(range(len(hosts)), min(n_pairs, len(hosts))))
    for b, h in enumerate(hosts):
        if h.type_index not in c.fits or tabu.get((ci, b), -1) >= step:
            continue
        clash = c.group and h.groups[c.group]
        need_cpu, need_mem, need_slot = c.cpu - h.cpu, c.mem - h.mem, 1 - h.slots
        movable = [
            r for r in h.counts if r != ci and tabu.get((r, b), -1) < step and h.counts[r] > 0
        ]
        evaluated += len(h.counts)
        for r in movable:
            cr = cls[r]
            if clash and cr.group != c.group:
                continue
            if cr.cpu >= need_cpu and cr.mem >= need_mem and need_slot <= 1:
                key = (weight[r] - weight[ci], rng.random())
                if best is None or key < best:
                    best, move = key, (b, (r,))
        if b not in pair_hosts:
            continue
        evaluated += len(movable) * (len(movable) + 1) // 2
        for i, r in enumerate(movable):
            cr = cls[r]
            for s in movable[i:]:
                if s == r and h.counts[r] < 2:  # two VMs of one class
                    continue
                cs = cls[s]
                if clash and c.group not in (cr.group, cs.group):
                    continue
                if cr.group and cr.group == cs.group:
                    continue  # never two members of one group on a host anyway
                if cr.cpu + cs.cpu >= need_cpu and cr.mem + cs.mem >= need_mem:
                    key = (weight[r] + weight[s] - weight[ci], rng.random())
                    if best is None or key < best:
                        best, move = key, (b, (r, s))
    return (None if best is None or move is None else (best, move)), evaluated


def balanced_fill(state: State, parts: list[int]) -> None:
    """Repack each partition host by host, each time adding the VM whose demand best matches
    the host's free capacity (the dot-product rule of Panigrahy et al.); keep it if better.

    First-fit decreasing fills the first hosts with the VMs large in one dimension and the
    last ones with those large in the other; this rule keeps every host's CPU and memory
    filling together, which is what many small VMs need. Hosts are of the type that holds
    the most of the partition (the rule is for the host count; ``accept`` judges the cost).
    """
    problem = state.problem
    cls = state.classes
    for p_index in parts:
        items = state.by_partition[p_index]
        types = [
            t for t in types_of(state, p_index) if problem.host_types[t].model.max_count is None
        ]
        if not types:
            continue
        ht = max(
            (problem.host_types[t] for t in types),
            key=lambda h: (
                sum(h.index in cls[ci].fits for ci in items),
                h.cpu_cap_m + h.mem_cap_mib,
            ),
        )
        fit = np.array([ht.index in cls[ci].fits for ci in items])
        if not fit.all():
            continue  # some VMs need another model: leave the partition to the other phases
        cpu = np.array([cls[ci].cpu for ci in items], dtype=np.int64)
        mem = np.array([cls[ci].mem for ci in items], dtype=np.int64)
        counts0 = np.array([cls[ci].count for ci in items], dtype=np.int64)
        best: list[tuple[Pattern, int]] | None = None
        for power in BALANCE_POWERS:
            chosen = _dot_product_fill(state, p_index, ht, cpu, mem, counts0, power)
            if chosen is not None and (best is None or len(chosen) < len(best)):
                best = chosen
        if best is None:
            continue
        chosen = best
        for pattern, _ in chosen:
            state.add(pattern)
        accept(state, to_packing(state, chosen, [p_index]))


def _dot_product_fill(
    state: State,
    p_index: int,
    ht: HostType,
    cpu: np.ndarray,
    mem: np.ndarray,
    counts0: np.ndarray,
    power: float,
) -> list[tuple[Pattern, int]] | None:
    """One dot-product packing of a partition onto hosts of type ``ht``, or None on timeout.

    The free capacity of each dimension is weighted by (what is left to place in that
    dimension / capacity) ** ``power``: 0 treats CPU and memory alike, higher powers lean
    on the scarcer one.
    """
    cls = state.classes
    items = state.by_partition[p_index]
    groups = [cls[ci].group for ci in items]
    left = counts0.copy()
    wc, wm = cpu / ht.cpu_cap_m, mem / ht.mem_cap_mib
    chosen: list[tuple[Pattern, int]] = []
    while left.any():
        if state.clock() >= CAPPED:  # the safety cap only: the fill is short
            return None
        need_c, need_m = float(wc @ left), float(wm @ left)
        ac, am = (need_c / max(need_c, need_m)) ** power, (need_m / max(need_c, need_m)) ** power
        rc, rm, slots = ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap
        counts: Counter[int] = Counter()
        banned = np.zeros(len(items), dtype=bool)
        while slots > 0:
            ok = (left > 0) & (cpu <= rc) & (mem <= rm) & ~banned
            if not ok.any():
                break
            state.spend(FILL_WORK * len(items) + 2)
            score = wc * (ac * rc / ht.cpu_cap_m) + wm * (am * rm / ht.mem_cap_mib)
            j = int(np.argmax(np.where(ok, score, -1.0)))
            k = 1
            if not groups[j]:  # several at once on large partitions: same choice, faster
                k = int(min(left[j], rc // cpu[j], rm // mem[j], slots, 1 + left[j] // BULK))
            counts[items[j]] += k
            left[j] -= k
            rc -= int(cpu[j]) * k
            rm -= int(mem[j]) * k
            slots -= k
            if groups[j]:
                banned |= np.array([g == groups[j] for g in groups])
        chosen.append((make_pattern(state, p_index, ht.index, dict(counts)), 1))
    return chosen
