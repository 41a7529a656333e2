"""Failure simulation: when hosts fail, can their VMs restart on the survivors?

For every active host, its VMs (largest first) are restarted on the other hosts of the same
partition (same cluster and zone), onto a survivor that still holds the VM in vCPU, memory
and VM count, runs a model the VM fits, does not already run a member of the VM's
anti-affinity group, and holds a licence covering one more VM of each of its tags. This is
what HA admission control promises; the planner checks it rather than assuming it.

Near-linear at any size:

- a failed host whose VMs all fit on one surviving spare (an N+k spare is empty and holds
  the partition's peak licences) restarts whole there, without a per-VM search;
- otherwise each VM is placed first-fit over the survivors (emptiest first) through a max
  tree per kind of VM (the models it fits and its licence tags): a VM larger than every
  survivor's free room in some dimension is stranded at the root, without a scan;
- the whole simulation has a deterministic work budget (tree nodes visited and VMs placed,
  linear in the VM count and capped), so its time is bounded and the same on any machine.

With ``ha_host_failures`` = k >= 2, every combination of k failed hosts of a partition is
simulated when there are at most ``EXHAUSTIVE_LIMIT`` of them; otherwise a sound argument
is tried (at least k spares, and every active host fits whole on every spare: whichever k
hosts fail, each failed active host restarts whole on its own surviving spare), and failing
that a bounded seeded sample of combinations (the heaviest hosts first) is simulated. The
``KFailureCheck`` says which was done. Failures in different partitions are independent
(VMs never leave their partition), and restartability only gets harder as more hosts of a
partition fail, so k failures in one partition are the cases to check.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from planner.heuristic import RoomTree
from planner.models import FailureCheck, HostPlan, KFailureCheck, Problem, SizedVM

__all__ = ["EXHAUSTIVE_LIMIT", "SAMPLE_LIMIT", "simulate_failures", "work_budget"]


def _group(h: HostPlan) -> str:
    """Where a failed host's VMs may restart: its partition and, where it was split, its
    cluster (VMs never leave their cluster)."""
    return f"{h.partition} | {h.cluster}" if h.cluster else h.partition


EXHAUSTIVE_LIMIT = 2000  # k-failure combinations per partition simulated one by one
SAMPLE_LIMIT = 200  # combinations per partition simulated when neither exhaustive nor bound
Method = Literal["exhaustive", "bound", "sample"]
_METHODS: tuple[Method, ...] = ("exhaustive", "bound", "sample")  # weakest last


def work_budget(vm_count: int) -> int:
    """Work units (tree nodes visited, VMs handled) the simulation may spend: linear in the
    VM count with a floor, capped so that it stays within a few seconds at any size."""
    return min(6_000_000, 1_000_000 + 40 * vm_count)


class _OutOfBudget(Exception):
    """The simulation spent its work budget; the scenario under way is left unchecked."""


@dataclass
class _Room:
    host: HostPlan
    cpu: int
    mem: int
    count: int
    groups: set[str]
    tag_room: dict[str, int] = field(default_factory=dict)  # -1 = unlimited

    def holds(self, v: SizedVM) -> bool:
        if self.host.type_index not in v.fits:
            return False
        if v.cpu_m > self.cpu or v.mem_mib > self.mem or self.count < 1:
            return False
        if v.group and v.group in self.groups:
            return False
        return all(self.tag_room.get(t, 0) != 0 for t in v.tags)

    def copy(self) -> _Room:
        """An independent copy, for one failure scenario."""
        return _Room(
            self.host, self.cpu, self.mem, self.count, set(self.groups), dict(self.tag_room)
        )

    def take(self, v: SizedVM) -> None:
        self.cpu -= v.cpu_m
        self.mem -= v.mem_mib
        self.count -= 1
        if v.group:
            self.groups.add(v.group)
        for t in v.tags:
            if self.tag_room[t] > 0:
                self.tag_room[t] -= 1


@dataclass
class _Load:
    """What a failed host asks of the host that would take all its VMs at once."""

    fits: frozenset[int]  # models every one of its VMs fits
    tags: Counter[str]
    groups: frozenset[str]


_Kind = tuple[tuple[int, ...], tuple[str, ...]]  # a VM's fitting models and licence tags


class _Partition:
    """The hosts of one partition, their free room, and the search trees (built on demand)."""

    def __init__(self, members: list[int], rooms: list[_Room]) -> None:
        # Emptiest first (by the scarcer free share): restarts spread over the survivors.
        ranked = sorted(range(len(members)), key=lambda j: (_share(rooms[j]), rooms[j].host.id))
        self.leaf = {members[j]: n for n, j in enumerate(ranked)}
        self.rooms = [rooms[j] for j in ranked]  # baseline room per leaf
        # Per kind of VM: hosts that cannot run it at all (model, licence) are -1 leaves.
        self.trees: dict[_Kind, RoomTree] = {}

    def tree(self, kind: _Kind, changed: dict[int, _Room], down: set[int]) -> RoomTree:
        """The tree of ``kind``; one built during a scenario starts from that scenario's
        state (``changed`` rooms, ``down`` leaves failed)."""
        t = self.trees.get(kind)
        if t is None:
            t = self.trees[kind] = RoomTree(len(self.rooms))
            t.fill(
                [
                    (-1, -1, -1) if n in down else _leaf(changed.get(n, r), kind)
                    for n, r in enumerate(self.rooms)
                ]
            )
        return t


def _holds(room: Callable[[int], _Room], v: SizedVM, n: int) -> bool:
    return room(n).holds(v)


def _covers(room: int, vms: int) -> bool:
    """Whether a licence with ``room`` left (-1 = unlimited) covers ``vms`` more VMs."""
    return room < 0 or room >= vms


def _leaf(room: _Room, kind: _Kind) -> tuple[int, int, int]:
    fits, tags = kind
    if room.host.type_index not in fits or any(room.tag_room.get(t, 0) == 0 for t in tags):
        return -1, -1, -1
    return room.cpu, room.mem, room.count


def _share(room: _Room) -> float:
    h = room.host
    return -min(room.cpu / h.cpu_cap_m, room.mem / h.mem_cap_mib, room.count / h.vm_cap)


class _Simulation:
    def __init__(self, problem: Problem, hosts: Sequence[HostPlan]) -> None:
        self.hosts = hosts
        self.by_name = {v.name: v for v in problem.vms}
        self.rooms: dict[int, _Room] = {}  # built on first use: most hosts never need one
        self.loads: dict[int, _Load] = {}
        members: dict[str, list[int]] = {}
        for i, h in enumerate(hosts):
            members.setdefault(_group(h), []).append(i)
        self.members = members
        self.parts: dict[str, _Partition] = {}
        self.spare_hosts: dict[str, list[int]] = {}
        self.budget = work_budget(len(problem.vms))
        self.work = 0

    def room(self, i: int) -> _Room:
        """Host ``i``'s free room as the plan leaves it."""
        if i not in self.rooms:
            self.rooms[i] = _room(self.hosts[i], self.by_name)
        return self.rooms[i]

    def spend(self, units: int) -> None:
        self.work += units
        if self.work > self.budget:
            raise _OutOfBudget

    def load(self, i: int) -> _Load:
        if i not in self.loads:
            vms = [self.by_name[n] for n in self.hosts[i].vms]
            fits = frozenset(vms[0].fits).intersection(*(v.fits for v in vms[1:])) if vms else []
            self.loads[i] = _Load(
                fits=frozenset(fits),
                tags=Counter(t for v in vms for t in v.tags),
                groups=frozenset(v.group for v in vms if v.group),
            )
        return self.loads[i]

    def takes_whole(self, failed: int, spare: int) -> bool:
        """Whether ``spare`` (as in the plan) holds every VM of ``failed`` at once."""
        h, room, need = self.hosts[failed], self.room(spare), self.load(failed)
        return (
            room.host.type_index in need.fits
            and h.cpu_used_m <= room.cpu
            and h.mem_used_mib <= room.mem
            and h.vm_count <= room.count
            and not (need.groups & room.groups)
            and all(_covers(room.tag_room.get(t, 0), n) for t, n in need.tags.items())
        )

    def spares(self, partition: str) -> list[int]:
        if partition not in self.spare_hosts:
            members = self.members[partition]
            self.spare_hosts[partition] = [i for i in members if self.hosts[i].role == "spare"]
        return self.spare_hosts[partition]

    def on_spares(self, failed: Sequence[int]) -> bool:
        """Each failed active host restarts whole on its own surviving spare (greedy)."""
        actives = [i for i in failed if self.hosts[i].role == "active"]
        free = [s for s in self.spares(_group(self.hosts[failed[0]])) if s not in failed]
        if len(free) < len(actives):
            return False
        for i in sorted(actives, key=lambda i: (-self.hosts[i].mem_used_mib, i)):
            self.spend(1 + len(free))
            s = next((s for s in free if self.takes_whole(i, s)), None)
            if s is None:
                return False
            free.remove(s)
        return True

    def restart(self, failed: Sequence[int]) -> list[str]:
        """The VMs of the ``failed`` hosts (one partition) that find no survivor."""
        vms = [self.by_name[n] for i in failed for n in self.hosts[i].vms]
        if not vms or self.on_spares(failed):
            return []
        name = _group(self.hosts[failed[0]])
        if name not in self.parts:
            members = self.members[name]
            self.parts[name] = _Partition(members, [self.room(i) for i in members])
        part = self.parts[name]
        changed: dict[int, _Room] = {}  # leaf -> its room in this scenario, where changed

        def room(n: int) -> _Room:
            return changed.get(n) or part.rooms[n]

        down = {part.leaf[i] for i in failed}
        touched = set(down)
        for t in part.trees.values():
            for n in down:
                t.set(n, -1, -1, -1)
        stranded: list[str] = []
        too_big: dict[_Kind, list[tuple[int, int]]] = {}
        try:
            for v in sorted(vms, key=lambda v: (-v.mem_mib, -v.cpu_m, v.name)):
                self.spend(1)
                kind = (v.fits, v.tags)
                seen = too_big.setdefault(kind, [])
                # Rooms only shrink: a VM at least as large as a stranded one (same kind, no
                # anti-affinity group) is stranded too.
                if not v.group and any(v.cpu_m >= a and v.mem_mib >= b for a, b in seen):
                    stranded.append(v.name)
                    continue
                tree = part.tree(kind, changed, down)
                n, visits = tree.leftmost(v.cpu_m, v.mem_mib, functools.partial(_holds, room, v))
                self.spend(visits)
                if n < 0:
                    stranded.append(v.name)
                    if not v.group and len(seen) < 8:
                        seen.append((v.cpu_m, v.mem_mib))
                    continue
                if n not in changed:
                    changed[n] = part.rooms[n].copy()
                changed[n].take(v)
                touched.add(n)
                self.spend(len(part.trees))
                for k, t in part.trees.items():
                    t.set(n, *_leaf(changed[n], k))
        finally:
            for k, t in part.trees.items():  # back to the plan as it is
                for n in touched:
                    t.set(n, *_leaf(part.rooms[n], k))
        return stranded


def _room(h: HostPlan, by_name: dict[str, SizedVM]) -> _Room:
    vms = [by_name[n] for n in h.vms]
    tags = Counter(t for v in vms for t in v.tags)
    tag_room = {
        u.tag: (-1 if u.covers_vms < 0 else max(0, u.covers_vms - tags[u.tag]))
        for u in h.licences
        if u.tag
    }
    return _Room(
        host=h,
        cpu=h.cpu_cap_m - h.cpu_used_m,
        mem=h.mem_cap_mib - h.mem_used_mib,
        count=h.vm_cap - h.vm_count,
        groups={v.group for v in vms if v.group},
        tag_room=tag_room,
    )


def simulate_failures(
    problem: Problem, hosts: Sequence[HostPlan], seed: int = 0
) -> tuple[tuple[FailureCheck, ...], KFailureCheck]:
    """One ``FailureCheck`` per active host (one failure at a time, in host order), and the
    check of ``ha_host_failures`` simultaneous failures (at least one). ``seed`` draws the
    sampled combinations (``SolverParams.seed``), so runs repeat.

    When the work budget runs out, the hosts not yet simulated are left out of the per-host
    list and the k-failure check reports the scenarios it did as a ``sample``.
    """
    sim = _Simulation(problem, hosts)
    k = max(1, problem.policy.ha_host_failures)
    checks: list[FailureCheck] = []
    complete = True
    for i, h in enumerate(hosts):
        if h.role != "active":
            continue
        try:
            stranded = sim.restart([i])
        except _OutOfBudget:
            complete = False
            break
        checks.append(
            FailureCheck(host=h.id, restartable=not stranded, vms=h.vms, stranded=tuple(stranded))
        )
    if k == 1:
        bad = next((c.host for c in checks if not c.restartable), None)
        spares = sum(h.role == "spare" for h in hosts)
        return tuple(checks), KFailureCheck(
            k=1,
            method="exhaustive" if complete else "sample",
            scenarios=len(checks) + (spares if complete else 0),
            all_restartable=bad is None and complete,  # unsimulated hosts are not shown
            counterexample=(bad,) if bad else (),
        )
    return tuple(checks), _k_failures(sim, k, seed)


def _k_failures(sim: _Simulation, k: int, seed: int) -> KFailureCheck:
    methods: list[Method] = []
    scenarios = 0
    counterexample: tuple[str, ...] = ()
    unchecked = False  # a partition where the budget ran out before any scenario was done
    for name, members in sim.members.items():
        if not any(sim.hosts[i].vms for i in members):
            continue
        size = min(k, len(members))
        total = math.comb(len(members), size)
        done = 0
        bad: tuple[str, ...] = ()
        if total <= EXHAUSTIVE_LIMIT:
            done, bad = _run(sim, itertools.combinations(members, size))
            counterexample = counterexample or bad
            if done == total:
                methods.append("exhaustive")
                scenarios += done
                continue
        if not bad and _covered_by_spares(sim, name, members, k):
            methods.append("bound")
            scenarios += total
            continue
        if not done:  # else the budget ran out during the exhaustive pass: keep what it did
            done, bad = _run(sim, _sample(sim, seed, name, members, size))
            counterexample = counterexample or bad
        methods.append("sample")
        scenarios += done
        unchecked = unchecked or not done
    return KFailureCheck(
        k=k,
        method=max(methods, key=_METHODS.index, default="exhaustive"),
        scenarios=scenarios,
        all_restartable=not counterexample and not unchecked,
        counterexample=counterexample,
    )


def _run(
    sim: _Simulation, combos: itertools.combinations[tuple[int, ...]] | list[tuple[int, ...]]
) -> tuple[int, tuple[str, ...]]:
    """Simulate ``combos`` until the budget runs out: how many were done, and the first
    that strands VMs (its host ids)."""
    done = 0
    bad: tuple[str, ...] = ()
    try:
        for combo in combos:
            if sim.restart(list(combo)) and not bad:
                bad = tuple(sim.hosts[i].id for i in combo)
            done += 1
    except _OutOfBudget:
        pass
    return done, bad


def _covered_by_spares(sim: _Simulation, name: str, members: list[int], k: int) -> bool:
    """At least k spares, and every active host fits whole on every spare: any k failures
    (j active hosts and at most k - j spares) leave a spare of its own to each failed host.

    Hosts x spares checks, each on precomputed totals: outside the work budget, so a plan
    whose budget went on single failures still gets the argument."""
    spares = sim.spares(name)
    if len(spares) < k:
        return False
    return all(
        sim.takes_whole(i, s) for i in members if sim.hosts[i].role == "active" for s in spares
    )


def _sample(
    sim: _Simulation, seed: int, name: str, members: list[int], size: int
) -> list[tuple[int, ...]]:
    """Up to ``SAMPLE_LIMIT`` distinct combinations: the heaviest hosts (by memory, by vCPU,
    by VM count) first, then random ones drawn with ``seed``, so runs repeat."""
    hosts = sim.hosts
    picks: list[tuple[int, ...]] = []
    for dim in ("mem_used_mib", "cpu_used_m", "vm_count"):
        heaviest = sorted(members, key=lambda i: (-getattr(hosts[i], dim), i))[:size]
        picks.append(tuple(sorted(heaviest)))
    rng = random.Random(f"{seed}/{name}/{size}")
    for _ in range(4 * SAMPLE_LIMIT):
        if len(set(picks)) >= SAMPLE_LIMIT:
            break
        picks.append(tuple(sorted(rng.sample(members, size))))
    return list(dict.fromkeys(picks))[:SAMPLE_LIMIT]
