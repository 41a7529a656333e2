"""Lower bounds on the host count and the cost, cheap enough to compute for every plan.

Per partition, the host-count bound is the best of:

- the Martello–Toth L2 bound in each dimension (vCPU, memory) against the largest capacity
  of any model: it counts items too big to pair, then the volume the rest needs;
- the VM-count bound (``max_vms_per_host``);
- the largest anti-affinity group (its members need distinct hosts).

Using the largest capacity of any model makes the bounds valid for a mixed catalog. The N+k
spares are fixed by the policy and added on top. The cost bound is the cheapest way to buy
the capacity the volume needs plus the cheapest licence each tag needs at least once.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from planner.models import Partition, Problem

__all__ = ["Bounds", "l2_bound", "lower_bounds"]


@dataclass(frozen=True)
class Bounds:
    """Lower bounds for a whole problem and the rule that gives each partition's."""

    hosts: int  # spares included
    cost: float  # spares included
    partition_hosts: tuple[int, ...]
    partition_rule: tuple[str, ...]  # e.g. "memory", "cpu", "anti-affinity group"
    spare_hosts: int = 0  # the N+k spares the policy adds
    spare_cost: float = 0.0  # a lower bound on what they cost


def l2_bound(sizes: Sequence[int], capacity: int) -> int:
    """Martello–Toth L2 lower bound for 1-D bin packing of ``sizes`` into bins of ``capacity``.

    For every threshold k in [0, C/2]: items above C-k each need their own bin, items in
    (C/2, C-k] too, and items in [k, C/2] fill what those leave free, then whole new bins.
    """
    if not sizes:
        return 0
    s = sorted(sizes)
    n = len(s)
    prefix = [0]
    for x in s:
        prefix.append(prefix[-1] + x)
    half = capacity / 2
    best = math.ceil(prefix[-1] / capacity)

    def count_above(t: float) -> int:  # items strictly greater than t
        return n - bisect.bisect_right(s, t)

    def sum_range(lo: float, hi: float, lo_incl: bool) -> tuple[int, int]:
        a = bisect.bisect_left(s, lo) if lo_incl else bisect.bisect_right(s, lo)
        b = bisect.bisect_right(s, hi)
        return b - a, prefix[b] - prefix[a]

    ks = [0, *sorted({x for x in s if x <= half})]
    for k in ks:
        j1 = count_above(capacity - k)
        n2, sum2 = sum_range(half, capacity - k, lo_incl=False)
        _, sum3 = sum_range(k, half, lo_incl=True)
        if k == 0:
            _, sum3 = sum_range(0, half, lo_incl=True)
        free = n2 * capacity - sum2
        extra = max(0, math.ceil((sum3 - free) / capacity))
        best = max(best, j1 + n2 + extra)
    return best


def _partition_hosts(problem: Problem, part: Partition) -> tuple[int, str]:
    if not part.vms:
        return 0, "empty"
    vms = [problem.vms[i] for i in part.vms]
    types = problem.host_types
    candidates = {
        "cpu": l2_bound([v.cpu_m for v in vms], max(t.cpu_cap_m for t in types)),
        "memory": l2_bound([v.mem_mib for v in vms], max(t.mem_cap_mib for t in types)),
        "vm count": math.ceil(len(vms) / max(t.vm_cap for t in types)),
    }
    groups = Counter(v.group for v in vms if v.group)
    if groups:
        candidates["anti-affinity group"] = max(groups.values())
    rule = max(candidates, key=lambda k: candidates[k])
    return candidates[rule], rule


def _partition_cost(problem: Problem, part: Partition, hosts: int) -> float:
    if not part.vms:
        return 0.0
    vms = [problem.vms[i] for i in part.vms]
    types = problem.host_types
    cpu = sum(v.cpu_m for v in vms)
    mem = sum(v.mem_mib for v in vms)
    by_cpu = cpu * min(t.fixed_cost / t.cpu_cap_m for t in types)
    by_mem = mem * min(t.fixed_cost / t.mem_cap_mib for t in types)
    by_count = hosts * min(t.fixed_cost for t in types)
    hardware = max(by_cpu, by_mem, by_count)

    years = problem.policy.horizon_years
    tags = Counter(t for v in vms for t in v.tags)
    licences = 0.0
    for tag, n in tags.items():
        options = [
            lic.cost(t.model, n if lic.unit == "vm" else 1, years)
            for lic in problem.catalog.licences
            if lic.applies_to == "tagged" and lic.tag == tag
            for t in types
        ]
        if options:
            licences += min(options)
    return hardware + licences


def lower_bounds(problem: Problem) -> Bounds:
    """Lower bounds on hosts (spares included) and cost for ``problem``."""
    k = problem.policy.ha_host_failures
    hosts: list[int] = []
    rules: list[str] = []
    cost = 0.0
    for part in problem.partitions:
        n, rule = _partition_hosts(problem, part)
        hosts.append(n)
        rules.append(rule)
        cost += _partition_cost(problem, part, n)
    spares = k * sum(1 for n in hosts if n)
    spare_cost = spares * min(t.fixed_cost for t in problem.host_types)
    return Bounds(
        hosts=sum(hosts) + spares,
        cost=cost + spare_cost,
        partition_hosts=tuple(hosts),
        partition_rule=tuple(rules),
        spare_hosts=spares,
        spare_cost=spare_cost,
    )
