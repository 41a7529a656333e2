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

A licensed group's hosts also carry VMs that need none of its licences, filling the room
its own VMs leave: packed again with them, the group keeps as many licensed hosts as it
had. So where the partition's plain hosts form a group too, those VMs join the plain group
(the licence island is formed again from the VMs that need it), and the partition's groups
are kept together where the partition is then cheaper: a SQL Server host pays per core on
every core, many times what a plain host costs, so the island shrinks to the fewest hosts
its own VMs need, at the price of at most about one more plain host.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

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
    # Its VMs are not those of its hosts: the partition's groups were formed again (VMs
    # that need no licence of a licensed group moved to the plain one) and are kept together.
    reformed: bool = False


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
        mine: list[Group] = []
        for paid, bins in sorted(by_paid.items(), key=lambda kv: sorted(kv[0])):
            if len(bins) < MIN_GROUP_HOSTS:
                continue
            model = Counter(b.type_index for b in bins).most_common(1)[0][0]
            vms = tuple(sorted(i for b in bins for i in b.vms))
            if all(model in problem.vms[i].fits for i in vms):
                mine.append(Group(p, paid, model, vms))
        found += _islands(problem, mine, priced)
    return found


def _islands(problem: Problem, mine: list[Group], priced: frozenset[str]) -> list[Group]:
    """One partition's ``mine`` groups, with the VMs of its licensed groups that need no
    host-priced licence (and fit the plain group's model) moved to its plain group; as they
    were where nothing moves or the partition has no plain group among them."""
    plain = next((g for g in mine if not g.paid), None)
    if plain is None:
        return mine
    moved: dict[int, tuple[int, ...]] = {}
    for n, g in enumerate(mine):
        if g.paid:
            free = tuple(
                i
                for i in g.vms
                if plain.model in problem.vms[i].fits
                and not priced.intersection(problem.vms[i].tags)
            )
            if free and len(free) < len(g.vms):
                moved[n] = free
    if not moved:
        return mine
    extra = [i for free in moved.values() for i in free]
    out: list[Group] = []
    for n, g in enumerate(mine):
        gone = set(moved.get(n, ()))
        vms = (
            tuple(sorted((*g.vms, *extra)))
            if g is plain
            else tuple(i for i in g.vms if i not in gone)
        )
        out.append(replace(g, vms=vms, reformed=True))
    return out


def repack(
    problem: Problem, packing: Packing, chosen: Sequence[Group], improve: Improve
) -> Packing:
    """``packing`` with each ``chosen`` group's VMs packed again by host count on its model
    (``improve``: the exact engine, from first fit; one sub-problem with a partition per
    group), group by group where the partition is then cheaper with its spares; the groups
    of a partition formed again (``Group.reformed``) are kept or dropped together."""
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
    # Group by group; the groups of a partition formed again, all at once.
    steps: list[list[int]] = []
    for n, g in enumerate(chosen):
        if g.reformed and steps and chosen[steps[-1][0]].partition == g.partition:
            steps[-1].append(n)
        else:
            steps.append([n])
    for step in steps:
        p = chosen[step[0]].partition
        mine = [b for b in result if b.partition == p]
        members = {i for n in step for i in chosen[n].vms}
        candidate = [b for b in mine if not members.intersection(b.vms)]
        candidate += [
            HostBin(p, b.type_index, b.vms) for b in repacked if b.partition in step and b.vms
        ]
        if sorted(i for b in candidate for i in b.vms) != sorted(i for b in mine for i in b.vms):
            continue  # a partition's groups formed again were not all chosen: none is kept
        if chosen[step[0]].reformed:
            candidate = _fill_islands(problem, candidate)
        if with_spares(problem, tuple(candidate)) < with_spares(problem, tuple(mine)):
            result = [b for b in result if b.partition != p] + candidate
    return tuple(sorted(result, key=lambda b: b.partition))


FILL_TRIES = 3  # plain hosts that fail to empty before the filling of islands stops


def _fill_islands(problem: Problem, bins: Sequence[HostBin]) -> list[HostBin]:
    """``bins`` (one partition) with its emptiest plain hosts emptied into the room the
    licensed hosts leave, host by host while every VM of one finds room (best fit: the
    licensed host with the least memory left that holds it, its model, and no VM of its
    anti-affinity group). A plain VM adds nothing to a licensed host's licences (it needs no
    host-priced one), so each host emptied is one host's cost saved."""
    priced = host_priced_tags(problem)
    vms = problem.vms
    types = problem.host_types
    islands = [b for b in bins if _paid(problem, b, priced)]
    plain = sorted(
        (b for b in bins if b.vms and not _paid(problem, b, priced)),
        key=lambda b: (sum(vms[i].mem_mib for i in b.vms), b.vms),
    )
    if not islands or not plain:
        return list(bins)
    room = [
        [
            types[b.type_index].cpu_cap_m - sum(vms[i].cpu_m for i in b.vms),
            types[b.type_index].mem_cap_mib - sum(vms[i].mem_mib for i in b.vms),
            types[b.type_index].vm_cap - len(b.vms),
        ]
        for b in islands
    ]
    held = [list(b.vms) for b in islands]
    groups = [{vms[i].group for i in b.vms if vms[i].group} for b in islands]
    emptied: set[HostBin] = set()
    failures = 0
    for b in plain:
        trial_room = [r[:] for r in room]
        trial_held = [h[:] for h in held]
        trial_groups = [set(g) for g in groups]
        for i in sorted(b.vms, key=lambda i: (-vms[i].mem_mib, -vms[i].cpu_m, i)):
            v = vms[i]
            fit = [
                n
                for n, r in enumerate(trial_room)
                if islands[n].type_index in v.fits
                and r[0] >= v.cpu_m
                and r[1] >= v.mem_mib
                and r[2] >= 1
                and not (v.group and v.group in trial_groups[n])
            ]
            if not fit:
                break
            n = min(fit, key=lambda n: (trial_room[n][1], n))
            trial_room[n][0] -= v.cpu_m
            trial_room[n][1] -= v.mem_mib
            trial_room[n][2] -= 1
            trial_held[n].append(i)
            if v.group:
                trial_groups[n].add(v.group)
        else:
            room, held, groups = trial_room, trial_held, trial_groups
            emptied.add(b)
            continue
        failures += 1
        if failures >= FILL_TRIES:
            break
    if not emptied:
        return list(bins)
    filled = {
        id(b): HostBin(b.partition, b.type_index, tuple(sorted(h)))
        for b, h in zip(islands, held, strict=True)
    }
    return [filled.get(id(b), b) for b in bins if b not in emptied]
