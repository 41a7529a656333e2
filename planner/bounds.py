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
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ortools.linear_solver import pywraplp

from planner.clusters import cluster_count, cluster_limit, spares_needed
from planner.costs import host_total, licence_cost
from planner.models import HostType, Partition, Problem, SizedVM
from planner.tolerances import lp_bound

__all__ = [
    "Bounds",
    "l2_bound",
    "licence_floor",
    "lower_bounds",
    "spare_candidates",
    "spare_floor",
]


@dataclass(frozen=True)
class Bounds:
    """Lower bounds for a whole problem and the rule that gives each partition's."""

    hosts: int  # spares included
    cost: float  # spares included
    partition_hosts: tuple[int, ...]
    partition_rule: tuple[str, ...]  # e.g. "memory", "cpu", "anti-affinity group"
    spare_hosts: int = 0  # the N+k spares the policy adds
    spare_cost: float = 0.0  # a lower bound on what they cost (added to any active bound)
    # A bound on active hosts and spares together, valid for every plan: a spare takes over
    # any one host of its partition, so no active host holds more than the spare's model.
    joint_cost: float = 0.0
    partition_spare_cost: tuple[float, ...] = ()  # each partition's share of spare_cost
    partition_cost: tuple[float, ...] = ()  # each partition's active-host cost bound


def l2_bound(sizes: Sequence[int], capacity: int) -> int:
    """Martello–Toth L2 lower bound for 1-D bin packing of ``sizes`` into bins of ``capacity``.

    For every threshold k in [0, C/2]: items above C-k each need their own bin, items in
    (C/2, C-k] too, and items in [k, C/2] fill what those leave free, then whole new bins.
    """
    if not sizes:
        return 0
    s = sorted(sizes)
    n = len(s)
    prefix = [0, *itertools.accumulate(s)]
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


Cap = tuple[int, int, int]  # the largest a host may hold: milli-vCPU, MiB, VMs


def _capacity(t: HostType, cap: Cap | None) -> Cap:
    own = (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)
    return own if cap is None else (min(own[0], cap[0]), min(own[1], cap[1]), min(own[2], cap[2]))


def _partition_hosts(problem: Problem, part: Partition, cap: Cap | None = None) -> tuple[int, str]:
    if not part.vms:
        return 0, "empty"
    return _host_bound(problem, [problem.vms[i] for i in part.vms], cap)


def _host_bound(problem: Problem, vms: list[SizedVM], cap: Cap | None = None) -> tuple[int, str]:
    caps = [_capacity(t, cap) for t in problem.host_types]
    candidates = {
        "cpu": l2_bound([v.cpu_m for v in vms], max(c[0] for c in caps)),
        "memory": l2_bound([v.mem_mib for v in vms], max(c[1] for c in caps)),
        "vm count": math.ceil(len(vms) / max(c[2] for c in caps)),
    }
    groups = Counter(v.group for v in vms if v.group)
    if groups:
        candidates["anti-affinity group"] = max(groups.values())
    rule = max(candidates, key=lambda k: candidates[k])
    return candidates[rule], rule


def _partition_cost(problem: Problem, part: Partition, hosts: int, cap: Cap | None = None) -> float:
    """A lower bound on what the partition's hosts cost: a small LP over host counts.

    Continuous host counts n_t must hold the partition's demand in every dimension (and at
    least ``hosts`` hosts); for each licence tag, the hosts that carry it (m_tag,t <= n_t)
    must hold the tagged VMs' demand and pay at least one grant each. Every real plan is a
    solution of this relaxation, so its optimum is a valid bound; it sees the licence cost
    of spreading, say, SQL Server VMs over many hosts, which a per-tag minimum cannot.
    ``cap`` limits what any one host may hold (the spare's model: see ``lower_bounds``).
    """
    if not part.vms:
        return 0.0
    vms = [problem.vms[i] for i in part.vms]
    types = problem.host_types
    caps = [_capacity(t, cap) for t in types]
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
            for x, c in zip(count, caps, strict=True):
                row.SetCoefficient(x, float(c[d]))

    holds(n, vms)
    at_least = solver.Constraint(float(hosts), inf)
    for x in n:
        at_least.SetCoefficient(x, 1.0)
    objective = solver.Objective()
    for x, t in zip(n, types, strict=True):
        objective.SetCoefficient(x, host_total(t))
    for tag in sorted({tag for v in vms for tag in v.tags}):
        options = [
            lic for lic in problem.catalog.licences if lic.applies_to == "tagged" and lic.tag == tag
        ]
        if not options:
            continue
        tagged = [v for v in vms if tag in v.tags]
        if all(lic.unit == "vm" for lic in options):
            # Priced per VM: the same whatever the hosts, so a constant.
            cheapest = licence_cost(tag, types[0].model, len(tagged), options, years)
            objective.SetOffset(objective.offset() + cheapest)
            continue
        m = [solver.NumVar(0.0, inf, f"m_{tag}_{t.index}") for t in types]
        holds(m, tagged)
        licensed = solver.Constraint(float(_host_bound(problem, tagged, cap)[0]), inf)
        for x in m:
            licensed.SetCoefficient(x, 1.0)
        for x, y, t in zip(m, n, types, strict=True):
            row = solver.Constraint(-inf, 0.0)  # m <= n
            row.SetCoefficient(x, 1.0)
            row.SetCoefficient(y, -1.0)
            objective.SetCoefficient(x, licence_cost(tag, t.model, 1, options, years))
    objective.SetMinimization()
    status = solver.Solve()
    if status == pywraplp.Solver.INFEASIBLE:
        return math.inf  # no plan at all within the cap (and the model counts)
    if status != pywraplp.Solver.OPTIMAL:
        return 0.0
    return max(0.0, lp_bound(float(objective.Value())))


def _licence_floor(problem: Problem, part: Partition) -> float:
    """The least a host of any model pays to hold one grant of every tag the partition runs."""
    return licence_floor(problem, {tag for i in part.vms for tag in problem.vms[i].tags})


def licence_floor(problem: Problem, tags: Iterable[str]) -> float:
    """The least a host of any model pays to hold one grant of each of ``tags``."""
    return sum(
        min(_grant(problem, tag, t) for t in problem.host_types) if problem.host_types else 0.0
        for tag in set(tags)
    )


def _grant(problem: Problem, tag: str, t: HostType) -> float:
    """What one grant of ``tag`` costs at the least on a host of type ``t`` (0: none needed)."""
    return licence_cost(tag, t.model, 1, problem.catalog.licences, problem.policy.horizon_years)


def spare_candidates(problem: Problem, part: Partition) -> list[int]:
    """Host types that could serve as the partition's spare: each runs every one of its VMs."""
    fits = [set(problem.vms[i].fits) for i in part.vms]
    common = set.intersection(*fits) if fits else set()
    return sorted(common)


def spare_floor(problem: Problem, part: Partition, t: HostType) -> float:
    """The least a spare of type ``t`` costs: the host, and one grant of every tag it may run."""
    tags = {tag for i in part.vms for tag in problem.vms[i].tags}
    total = host_total(t)
    for tag in tags:
        total += _grant(problem, tag, t)
    return total


def lower_bounds(problem: Problem) -> Bounds:
    """Lower bounds on hosts (spares included) and cost for ``problem``."""
    k = problem.policy.ha_host_failures
    limit = cluster_limit(problem.profile, problem.policy)
    cheapest_host = min(host_total(t) for t in problem.host_types)
    hosts: list[int] = []
    rules: list[str] = []
    cost = spare_cost = joint = 0.0
    part_spares: list[float] = []
    part_costs: list[float] = []
    for part in problem.partitions:
        n, rule = _partition_hosts(problem, part)
        hosts.append(n)
        rules.append(rule)
        active = _partition_cost(problem, part, n)
        part_costs.append(active)
        cost += active
        if not n or not k:
            joint += active
            part_spares.append(0.0)
            continue
        # A partition may become several clusters (at most `limit` hosts each, spares
        # included), each with k spares of its own, carrying only its own tags: then the
        # spares cost at least k x clusters hosts and k grants of every tag.
        clusters = cluster_count(n, limit, k)
        split = k * max(2, clusters) * cheapest_host + k * _licence_floor(problem, part)
        if clusters > 1:
            part_spares.append(split)
            spare_cost += split
            joint += active + split
            continue
        # Every plan picks some model s for the partition's spares (one that runs all its
        # VMs), and then no active host may hold more than s can take over: so the plan
        # costs at least k x floor(s) + (the active bound with capacities capped at s).
        floors = {
            s: spare_floor(problem, part, problem.host_types[s])
            for s in spare_candidates(problem, part)
        }
        single = k * min(floors.values(), default=0.0)
        best = math.inf
        for s, floor in sorted(floors.items(), key=lambda sf: sf[1]):
            if k * floor + active >= best:
                break  # sorted by floor: no later model can do better
            t = problem.host_types[s]
            cap = (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)
            capped = _partition_cost(problem, part, _partition_hosts(problem, part, cap)[0], cap)
            best = min(best, k * floor + max(active, capped))
        best = best if math.isfinite(best) else active
        if len(part.vms) > limit - k:  # more active hosts than the bound could split it
            single, best = min(single, split), min(best, active + split)
        part_spares.append(single)
        spare_cost += single
        joint += best
    spares = sum(spares_needed(n, limit, k) for n in hosts)
    return Bounds(
        hosts=sum(hosts) + spares,
        cost=cost + spare_cost,
        partition_hosts=tuple(hosts),
        partition_rule=tuple(rules),
        spare_hosts=spares,
        spare_cost=spare_cost,
        joint_cost=max(joint, cost + spare_cost),
        partition_spare_cost=tuple(part_spares),
        partition_cost=tuple(part_costs),
    )
