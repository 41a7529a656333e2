"""Failure simulation: when one host fails, can each of its VMs restart on the survivors?

For every active host, its VMs (largest first) are restarted on the other hosts of the same
partition (same cluster and zone), onto the survivor with the most free capacity that still
holds the VM in vCPU, memory and VM count, does not already run a member of the VM's
anti-affinity group, and holds a licence covering one more VM of each of its tags. This is
what HA admission control promises; the planner checks it rather than assuming it.
"""

from __future__ import annotations

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
    """One ``FailureCheck`` per active host, in host order."""
    by_name = {v.name: v for v in problem.vms}
    base = {h.id: _room(problem, h, by_name) for h in hosts}
    peers: dict[str, list[HostPlan]] = defaultdict(list)
    for h in hosts:
        peers[h.partition].append(h)
    checks = []
    for failed in hosts:
        if failed.role != "active":
            continue
        rooms = [base[h.id].copy() for h in peers[failed.partition] if h.id != failed.id]
        stranded = []
        for v in sorted(
            (by_name[n] for n in failed.vms), key=lambda v: (-v.mem_mib, -v.cpu_m, v.name)
        ):
            fits = [r for r in rooms if r.holds(v, r.host.type_index in v.fits)]
            if not fits:
                stranded.append(v.name)
                continue
            target = max(fits, key=lambda r: (r.mem, r.cpu, r.host.id))
            target.take(v)
        checks.append(
            FailureCheck(
                host=failed.id,
                restartable=not stranded,
                vms=failed.vms,
                stranded=tuple(stranded),
            )
        )
    return tuple(checks)
