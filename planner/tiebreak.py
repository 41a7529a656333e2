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
   cores included) that holds its VMs, ``max_count`` respected: first fit's own rule
   (``heuristic.right_size``), which the exact search does not apply.

Both steps are kept only where the plan gets cheaper. The host count, and so a proof that it
is minimal, stands; the cost among plans with that many hosts is not proven minimal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from planner.costs import licence_for_tag
from planner.heuristic import UNLIMITED, right_size
from planner.models import Problem
from planner.packing import HostBin, Packing, bin_cost
from planner.tolerances import COST_SAVING_MIN

__all__ = ["MAX_WORK", "cheaper_same_hosts"]

MAX_WORK = 200_000_000
"""Cells (hosts x classes) the greedy of step 1 may score in all; past it, the VMs left are
dealt out in host order. A count, not a clock, so the plan is the same under any load."""

_ClassKey = tuple[int, int, str, tuple[int, ...]]


def cheaper_same_hosts(problem: Problem, packing: Packing) -> tuple[Packing, float]:
    """``packing`` made cheaper without changing any partition's host count (see module doc),
    and what that saves over the horizon (0.0: ``packing`` itself is returned).
    """
    work = [MAX_WORK]
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        by_part[b.partition].append(b)
    out: list[HostBin] = []
    saved = 0.0
    for p_index in sorted(by_part):
        bins = by_part[p_index]
        if not _priced_tags(problem, bins):  # nothing to gain: every VM's licences are free
            out.extend(bins)
            continue
        dealt = _deal(problem, bins, work)
        # Only the hosts whose VMs changed can change cost.
        changed = [n for n, (a, b) in enumerate(zip(bins, dealt, strict=True)) if a.vms != b.vms]
        gain = sum(
            bin_cost(problem, bins[n]).total - bin_cost(problem, dealt[n]).total for n in changed
        )
        if gain > COST_SAVING_MIN:
            out.extend(dealt)
            saved += gain
        else:
            out.extend(bins)
    remodelled, gain = _cheapest_models(problem, out)
    if gain > COST_SAVING_MIN:
        return remodelled, saved + gain
    return (tuple(out), saved) if saved > 0 else (packing, 0.0)


def _priced_tags(problem: Problem, bins: Sequence[HostBin]) -> bool:
    """Whether any VM on ``bins`` carries a tag whose licence costs something."""
    tags = {t for b in bins for i in b.vms for t in problem.vms[i].tags}
    return any(_signature_cost(problem, bins, (t,)) > 0 for t in sorted(tags))


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
    order = sorted(members, key=lambda s: (-_signature_cost(problem, bins, s), s))
    for sig in order:
        cols = sorted(members[sig])
        queue = {k: sorted(members[sig][k]) for k in cols}
        dealt = dict.fromkeys(cols, 0)  # members of each class already placed
        need = np.array([len(queue[k]) for k in cols], dtype=np.int64)
        sub = free[:, cols]
        # Licence-free VMs (and any once the work is spent) fill what is left, host by host.
        greedy = bool(sig) and _signature_cost(problem, bins, sig) > 0
        while need.any():
            if greedy and work[0] > 0:
                work[0] -= sub.size
                cover = np.minimum(sub, need).sum(axis=1)
                licensed = np.fromiter((set(sig) <= h for h in held), np.int64, len(held))
                # Hosts already licensed for every tag first, then the most VMs taken.
                score = np.where(cover > 0, licensed * (int(need.sum()) + 1) + cover, -1)
                rows = [int(np.argmax(score))]
            else:
                rows = np.flatnonzero((np.minimum(sub, need) > 0).any(axis=1)).tolist()
            for r in rows:
                take = np.minimum(sub[r], need)
                for j in np.flatnonzero(take).tolist():
                    n = int(take[j])
                    k = cols[j]
                    out[r].extend(queue[k][dealt[k] : dealt[k] + n])
                    dealt[k] += n
                sub[r] -= take
                need -= take
                if sig and take.any():
                    held[r].update(sig)
        free[:, cols] = sub
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


def _cheapest_models(problem: Problem, packing: Sequence[HostBin]) -> tuple[Packing, float]:
    """Each host on the cheapest model that holds its VMs, ``max_count`` respected (step 2,
    first-fit's own rule ``heuristic.right_size``), and what that saves."""
    used = Counter(b.type_index for b in packing if b.vms)
    left = {
        t.index: UNLIMITED if t.model.max_count is None else t.model.max_count - used[t.index]
        for t in problem.host_types
    }
    out = right_size(problem, packing, left)
    saved = sum(
        bin_cost(problem, a).total - bin_cost(problem, b).total
        for a, b in zip(packing, out, strict=True)
        if a.type_index != b.type_index
    )
    return tuple(out), saved
