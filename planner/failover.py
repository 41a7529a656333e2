"""Failure simulation: when one host fails, can each of its VMs restart on the survivors?

For every active host, its VMs (largest first) are restarted on the other hosts of the same
partition (same cluster and zone), onto the survivor with the most free room that still
holds the VM in vCPU, memory and VM count, does not already run a member of the VM's
anti-affinity group, and holds a licence covering one more VM of each of its tags. This is
what HA admission control promises; the planner checks it rather than assuming it.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from planner.models import FailureCheck, HostPlan, Problem, SizedVM

__all__ = ["simulate_failures"]


@dataclass
class _Room:
    host: HostPlan
    cpu: int
    mem: int
    count: int
    groups: set[str]
    tag_room: dict[str, int] = field(default_factory=dict)  # -1 = unlimited

    def holds(self, v: SizedVM, type_ok: bool) -> bool:
        if not type_ok or v.cpu_m > self.cpu or v.mem_mib > self.mem or self.count < 1:
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


def _room(problem: Problem, h: HostPlan, by_name: dict[str, SizedVM]) -> _Room:
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


def simulate_failures(problem: Problem, hosts: Sequence[HostPlan]) -> tuple[FailureCheck, ...]:
    """One ``FailureCheck`` per active host, in host order.

    Survivors are kept in a heap ordered by their scarcer free share, so each restarted VM
    looks at the emptiest survivors first; a scenario copies only the hosts it changes.
    That keeps 2,000-host plans to a second or two instead of a quadratic scan per VM.
    """
    by_name = {v.name: v for v in problem.vms}
    rooms = [_room(problem, h, by_name) for h in hosts]
    peers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, h in enumerate(hosts):
        peers[h.partition, h.cluster].append(i)  # VMs restart within their own cluster
    # A list sorted by the heap key is a valid heap: sort each partition once.
    ordered = {part: sorted(_key(rooms[i], i) for i in members) for part, members in peers.items()}
    checks = []
    for index, failed in enumerate(hosts):
        if failed.role != "active":
            continue
        heap = [k for k in ordered[failed.partition, failed.cluster] if k[3] != index]
        changed: dict[int, _Room] = {}
        stranded = []
        for v in sorted(
            (by_name[n] for n in failed.vms), key=lambda v: (-v.mem_mib, -v.cpu_m, v.name)
        ):
            passed = []
            while heap:
                key = heapq.heappop(heap)
                i = key[3]
                room = changed.get(i, rooms[i])
                if room.holds(v, room.host.type_index in v.fits):
                    room = changed.setdefault(i, room.copy())
                    room.take(v)
                    heapq.heappush(heap, _key(room, i))
                    break
                passed.append(key)
            else:
                stranded.append(v.name)
            for key in passed:
                heapq.heappush(heap, key)
        checks.append(
            FailureCheck(
                host=failed.id,
                restartable=not stranded,
                vms=failed.vms,
                stranded=tuple(stranded),
            )
        )
    return tuple(checks)


def _key(room: _Room, index: int) -> tuple[float, int, str, int]:
    """Heap order: the host whose scarcer resource has the largest free share first.

    A host with free memory but no CPU left would be tried, and rejected, for every VM if
    ordered by memory alone; the scarcer share puts the hosts that can take a VM on top.
    """
    h = room.host
    share = min(room.cpu / h.cpu_cap_m, room.mem / h.mem_cap_mib, room.count / h.vm_cap)
    return (-share, -room.mem, h.id, index)
