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

from ortools.linear_solver import pywraplp

from planner.clusters import cluster_limit, spares_needed
from planner.models import Partition, Problem, SizedVM

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
    return _host_bound(problem, [problem.vms[i] for i in part.vms])


def _host_bound(problem: Problem, vms: list[SizedVM]) -> tuple[int, str]:
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
    """A lower bound on what the partition's hosts cost: a small LP over host counts.

    Continuous host counts n_t must hold the partition's demand in every dimension (and at
    least ``hosts`` hosts); for each licence tag, the hosts that carry it (m_tag,t <= n_t)
    must hold the tagged VMs' demand and pay at least one grant each. Every real plan is a
    solution of this relaxation, so its optimum is a valid bound; it sees the licence cost
    of spreading, say, SQL Server VMs over many hosts, which a per-tag minimum cannot.
    """
    if not part.vms:
        return 0.0
    vms = [problem.vms[i] for i in part.vms]
    types = problem.host_types
    years = problem.policy.horizon_years
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        return 0.0
    inf = solver.infinity()
    n = [
        solver.NumVar(0.0, inf if t.model.max_count is None else t.model.max_count, f"n{t.index}")
        for t in types
    ]

    def holds(count: list[pywraplp.Variable], members: list[SizedVM]) -> None:
        needs = (sum(v.cpu_m for v in members), sum(v.mem_mib for v in members), len(members))
        for d, need in enumerate(needs):
            row = solver.Constraint(float(need), inf)
            for x, t in zip(count, types, strict=True):
                row.SetCoefficient(x, float((t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)[d]))

    holds(n, vms)
    at_least = solver.Constraint(float(hosts), inf)
    for x in n:
        at_least.SetCoefficient(x, 1.0)
    objective = solver.Objective()
    for x, t in zip(n, types, strict=True):
        objective.SetCoefficient(x, t.fixed_cost)
    for tag in sorted({tag for v in vms for tag in v.tags}):
        options = [
            lic for lic in problem.catalog.licences if lic.applies_to == "tagged" and lic.tag == tag
        ]
        if not options:
            continue
        tagged = [v for v in vms if tag in v.tags]
        if all(lic.unit == "vm" for lic in options):
            # Priced per VM: the same whatever the hosts, so a constant.
            cheapest = min(lic.cost(types[0].model, len(tagged), years) for lic in options)
            objective.SetOffset(objective.offset() + cheapest)
            continue
        m = [solver.NumVar(0.0, inf, f"m_{tag}_{t.index}") for t in types]
        holds(m, tagged)
        licensed = solver.Constraint(float(_host_bound(problem, tagged)[0]), inf)
        for x in m:
            licensed.SetCoefficient(x, 1.0)
        for x, y, t in zip(m, n, types, strict=True):
            row = solver.Constraint(-inf, 0.0)  # m <= n
            row.SetCoefficient(x, 1.0)
            row.SetCoefficient(y, -1.0)
            objective.SetCoefficient(x, min(lic.cost(t.model, 1, years) for lic in options))
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return 0.0
    # GLOP's tolerances are ~1e-7 relative; shave a little so the bound stays a bound.
    return max(0.0, float(objective.Value()) * (1 - 1e-6))


def _licence_floor(problem: Problem, part: Partition) -> float:
    """The least a host pays to hold one grant of every licence tag the partition runs."""
    years = problem.policy.horizon_years
    tags = {tag for i in part.vms for tag in problem.vms[i].tags}
    total = 0.0
    for tag in tags:
        costs = [
            lic.cost(t.model, 1, years)
            for lic in problem.catalog.licences
            if lic.applies_to == "tagged" and lic.tag == tag
            for t in problem.host_types
        ]
        total += min(costs, default=0.0)
    return total


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
    # k spares per cluster; a partition of n hosts or more needs ceil(n / (limit - k)) clusters.
    limit = cluster_limit(problem.profile, problem.policy)
    spares = sum(spares_needed(n, limit, k) for n in hosts)
    # Each spare is a host; each tag the partition runs is carried by the k spares of at
    # least one cluster (all of them when the partition is one cluster).
    cheapest_host = min(t.fixed_cost for t in problem.host_types)
    spare_cost = sum(
        spares_needed(n, limit, k) * cheapest_host + k * _licence_floor(problem, part)
        for part, n in zip(problem.partitions, hosts, strict=True)
        if n
    )
    return Bounds(
        hosts=sum(hosts) + spares,
        cost=cost + spare_cost,
        partition_hosts=tuple(hosts),
        partition_rule=tuple(rules),
        spare_hosts=spares,
        spare_cost=spare_cost,
    )
