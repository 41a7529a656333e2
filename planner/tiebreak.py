"""Objective ``hosts``: among plans with the fewest hosts, a cheaper one (design section 4).

The host-count search packs VM *classes*: VMs of one partition with the same demand,
anti-affinity group and fitting models are interchangeable for it, whatever licence tags
they carry, so which member of a class sits on which host is left open (and was filled in
input order, spreading per-core licences such as SQL Server over every host). Two steps make
the plan cheaper without changing how many hosts any partition has:

1. **Licensed VMs together.** Each host keeps its number of VMs of every class; the members
   are dealt out again, the most expensive licence signature first (e.g. Windows + SQL
   Server, then Windows, then RHEL, untagged VMs last), each onto the hosts that take the
   most of its VMs, hosts already licensed for its tags first. Capacity, models, groups and
   zones are untouched: swapping two VMs of one class changes no host's load.
2. **The cheapest model per host.** Each host moves to the cheapest model (licences by its
   cores included) that holds its VMs, ``max_count`` respected.

Both steps are kept only where the plan gets cheaper. The host count, and so a proof that it
is minimal, stands; the cost among plans with that many hosts is not proven minimal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from planner.costs import licence_for_tag
from planner.heuristic import UNLIMITED
from planner.models import Problem
from planner.packing import HostBin, Packing, bin_cost, packing_cost

__all__ = ["MAX_WORK", "cheaper_same_hosts"]

MAX_WORK = 200_000_000
"""Cells (hosts x classes) the greedy of step 1 may score in all; past it, the VMs left are
dealt out in host order. A count, not a clock, so the plan is the same under any load."""

_ClassKey = tuple[int, int, str, tuple[int, ...]]


def cheaper_same_hosts(problem: Problem, packing: Packing) -> Packing:
    """``packing`` made cheaper without changing any partition's host count (see module doc).

    Returns ``packing`` itself when neither step saves anything.
    """
    work = [MAX_WORK]
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        by_part[b.partition].append(b)
    regrouped: list[HostBin] = []
    for p_index in sorted(by_part):
        bins = by_part[p_index]
        dealt = _deal(problem, bins, work)
        regrouped.extend(
            dealt if packing_cost(problem, dealt) < packing_cost(problem, bins) else bins
        )
    remodelled = _cheapest_models(problem, regrouped)
    best = min(
        (tuple(regrouped), remodelled),
        key=lambda p: packing_cost(problem, p),
    )
    return best if packing_cost(problem, best) < packing_cost(problem, packing) else packing


def _class_key(problem: Problem, i: int) -> _ClassKey:
    v = problem.vms[i]
    return (v.cpu_m, v.mem_mib, v.group, v.fits)


def _deal(problem: Problem, bins: Sequence[HostBin], work: list[int]) -> list[HostBin]:
    """The members of every class dealt out again over ``bins`` of one partition (step 1)."""
    keys: dict[_ClassKey, int] = {}
    slots_of: list[Counter[int]] = []
    members: dict[tuple[str, ...], dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for b in bins:
        slots: Counter[int] = Counter()
        for i in b.vms:
            k = keys.setdefault(_class_key(problem, i), len(keys))
            slots[k] += 1
            members[tuple(sorted(problem.vms[i].tags))][k].append(i)
        slots_of.append(slots)
    free = np.zeros((len(bins), len(keys)), dtype=np.int64)
    for r, slots in enumerate(slots_of):
        for k, n in slots.items():
            free[r, k] = n
    held: list[set[str]] = [set() for _ in bins]
    out: list[list[int]] = [[] for _ in bins]
    for sig in sorted(members, key=lambda s: (-_signature_cost(problem, bins, s), s)):
        need = np.zeros(len(keys), dtype=np.int64)
        for k, vms in members[sig].items():
            need[k] = len(vms)
        queue = {k: sorted(vms) for k, vms in members[sig].items()}
        while need.any():
            if work[0] > 0:
                work[0] -= free.size
                cover = np.minimum(free, need).sum(axis=1)
                licensed = np.array([set(sig) <= h for h in held], dtype=np.int64)
                # Hosts already licensed for every tag first, then the most VMs taken.
                score = np.where(cover > 0, licensed * (need.sum() + 1) + cover, -1)
                r = int(np.argmax(score))
            else:
                r = int(np.argmax(np.minimum(free, need).sum(axis=1) > 0))
            take = np.minimum(free[r], need)
            for col in np.flatnonzero(take).tolist():
                n = int(take[col])
                out[r].extend(queue[col][:n])
                queue[col] = queue[col][n:]
            free[r] -= take
            need -= take
            if sig:
                held[r].update(sig)
    return [
        HostBin(b.partition, b.type_index, tuple(sorted(vms)))
        for b, vms in zip(bins, out, strict=True)
    ]


def _signature_cost(problem: Problem, bins: Sequence[HostBin], sig: tuple[str, ...]) -> float:
    """What one VM of these tags costs in licences on the partition's first host."""
    if not sig or not bins:
        return 0.0
    model = problem.host_types[bins[0].type_index].model
    years = problem.policy.horizon_years
    uses = (licence_for_tag(t, model, 1, problem.catalog.licences, years) for t in sig)
    return sum(u.cost for u in uses if u is not None)


def _cheapest_models(problem: Problem, packing: Sequence[HostBin]) -> Packing:
    """Each host on the cheapest model that holds its VMs, ``max_count`` respected (step 2).

    Hosts that save the most move first, so a capped model goes where it saves most.
    """
    used = Counter(b.type_index for b in packing if b.vms)
    left = {
        t.index: UNLIMITED if t.model.max_count is None else t.model.max_count - used[t.index]
        for t in problem.host_types
    }
    offers = []
    for n, b in enumerate(packing):
        now = bin_cost(problem, b).total
        options = sorted(
            (bin_cost(problem, HostBin(b.partition, t, b.vms)).total, t)
            for t in _models_holding(problem, b)
            if t != b.type_index
        )
        if options and options[0][0] < now - 1e-6:
            offers.append((options[0][0] - now, n, [t for cost, t in options if cost < now]))
    out = list(packing)
    for _saving, n, types in sorted(offers):
        for t in types:
            if left[t] > 0:
                left[t] -= 1
                left[out[n].type_index] += 1
                out[n] = HostBin(out[n].partition, t, out[n].vms)
                break
    return tuple(out)


def _models_holding(problem: Problem, b: HostBin) -> list[int]:
    """Host types that hold all of ``b``'s VMs (capacity, VM count, each VM's fit)."""
    vms = [problem.vms[i] for i in b.vms]
    cpu = sum(v.cpu_m for v in vms)
    mem = sum(v.mem_mib for v in vms)
    return [
        t.index
        for t in problem.host_types
        if t.cpu_cap_m >= cpu
        and t.mem_cap_mib >= mem
        and t.vm_cap >= len(vms)
        and all(t.index in v.fits for v in vms)
    ]
