"""Lower bounds on the host count and the cost, cheap enough to compute for every plan.

Per partition, the host-count bound is the best of:

- the Martello–Toth L2 bound in each dimension (vCPU, memory) against the largest capacity
  of any model: it counts items too big to pair, then the volume the rest needs;
- the VM-count bound (``max_vms_per_host``);
- the largest anti-affinity group (its members need distinct hosts).

Using the largest capacity of any model makes the bounds valid for a mixed catalog. The N+k
spares are fixed by the policy and added on top. The cost bound is the cheapest way to buy
the capacity the volume needs plus the cheapest licence each tag needs at least once, plus
the energy the VMs' load draws at the least (``energy_floor``).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from ortools.sat.python import cp_model

from planner.clusters import cluster_count, cluster_limit, spares_needed
from planner.costs import host_total, licence_cost
from planner.cpsat import reproducible_solver
from planner.memo import IdentityCache
from planner.models import HostType, Partition, Problem, SizedVM
from planner.packing import mobile_licence_cost, mobile_tags

__all__ = [
    "Bounds",
    "Way",
    "energy_floor",
    "l2_bound",
    "licence_floor",
    "lower_bounds",
    "spare_candidates",
    "spare_floor",
    "structured_cost",
]

CENTS = 100  # the cover model's costs are whole cents, rounded down
COVER_WORK_S = 0.5  # CP-SAT deterministic seconds per cover model (small: it proves in ms)
COVER_WALL_S = 5.0  # the wall-clock safety cap of one cover model


@dataclass(frozen=True)
class Way:
    """One way a plan may give a partition its N+k spares, and what it costs at the least."""

    active: float  # a bound on the partition's active hosts
    spares: float  # a bound on its spares
    model: int | None = None  # the spares' model (host type index); None: split or no spares


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
    # Each partition's spare structures (``Way``): every plan of it takes one of them.
    partition_ways: tuple[tuple[Way, ...], ...] = ()


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


def _host_bound(
    problem: Problem,
    vms: list[SizedVM],
    cap: Cap | None = None,
    types: Iterable[int] | None = None,
) -> tuple[int, str]:
    """The fewest hosts ``vms`` need, and the rule that says so; ``types``: the host types
    that may hold them (default: all)."""
    hts = problem.host_types
    caps = [_capacity(hts[t], cap) for t in (range(len(hts)) if types is None else types)]
    candidates = {
        "cpu": l2_bound(list(map(_CPU, vms)), max(c[0] for c in caps)),
        "memory": l2_bound(list(map(_MEM, vms)), max(c[1] for c in caps)),
        "vm count": math.ceil(len(vms) / max(c[2] for c in caps)),
    }
    groups = Counter(filter(None, map(_GROUP, vms)))
    if groups:
        candidates["anti-affinity group"] = max(groups.values())
    rule = max(candidates, key=lambda k: candidates[k])
    return candidates[rule], rule


def _partition_cost(problem: Problem, p_index: int, hosts: int, cap: Cap | None = None) -> float:
    """A lower bound on what the partition's hosts cost: a small integer model of host counts.

    Whole host counts n_t must hold the partition's demand in every dimension (and at least
    ``hosts`` hosts); for each licence tag, the hosts that carry it (m_tag,t <= n_t) must
    hold the tagged VMs' demand and pay at least one grant each. Every real plan is a
    solution of this relaxation, so its optimum is a valid bound; it sees the licence cost
    of spreading, say, SQL Server VMs over many hosts, which a per-tag minimum cannot, and,
    being whole, that five 32-core hosts license 160 cores where 4.6 hosts' worth of
    capacity would do. With ``vm_mobility = cluster`` every host of the partition pays the
    licences of the VMs that may move onto it (``packing.mobile_licence_cost``), whatever it
    runs. ``cap`` limits what any one host may hold (the spare's model: see
    ``lower_bounds``). Costs are rounded down to cents and the solver's proven bound is
    used, so the value is valid also when the model is stopped early. The energy the VMs'
    load draws above idle is added (``energy_floor``): with one model and no overcommit, the
    same in every plan.
    """
    part = problem.partitions[p_index]
    if not part.vms:
        return 0.0
    # A solve asks again for the partitions a sub-problem shares with its problem.
    held = (part, problem.vms, problem.host_types, problem.catalog, problem.policy)
    known = _COVERS.get(held, (p_index, hosts, cap))
    if known is not None:
        return known
    value = _cover(problem, p_index, hosts, cap)
    _COVERS.put(held, (p_index, hosts, cap), value)
    return value


_COVERS: IdentityCache[float] = IdentityCache()


def _cover(problem: Problem, p_index: int, hosts: int, cap: Cap | None) -> float:
    """``_partition_cost``, computed."""
    part = problem.partitions[p_index]
    vms = [problem.vms[i] for i in part.vms]
    types = problem.host_types
    caps = [_capacity(t, cap) for t in types]
    years = problem.policy.horizon_years
    model = cp_model.CpModel()
    most = len(vms)  # a plan buys no empty host
    n = [model.new_int_var(0, min(most, t.model.max_count or most), f"n{t.index}") for t in types]

    def holds(count: list[cp_model.IntVar], members: list[SizedVM]) -> None:
        """The hosts counted hold ``members``: those that fit only some types on those."""
        distinct = set(map(_FITS, members))  # a million VMs have a few distinct ones
        for fit in sorted({frozenset(f) for f in distinct}, key=sorted):
            within = {f for f in distinct if fit.issuperset(f)}
            only = list(itertools.compress(members, map(within.__contains__, map(_FITS, members))))
            on = [(x, c) for x, c, t in zip(count, caps, types, strict=True) if t.index in fit]
            needs = (sum(map(_CPU, only)), sum(map(_MEM, only)), len(only))
            for d, need in enumerate(needs):
                model.add(sum(c[d] * x for x, c in on) >= need)
            least = _host_bound(problem, only, cap, sorted(fit))[0]
            model.add(sum(x for x, _ in on) >= least)

    holds(n, vms)
    model.add(sum(n) >= hosts)
    offset = energy_floor(problem, vms, caps)
    terms = [
        (x, host_total(t, mobile_licence_cost(problem, p_index, t.index)))
        for x, t in zip(n, types, strict=True)
    ]
    for tag in sorted({tag for v in vms for tag in v.tags} - mobile_tags(problem)):
        options = [
            lic for lic in problem.catalog.licences if lic.applies_to == "tagged" and lic.tag == tag
        ]
        if not options:
            continue
        tagged = [v for v in vms if tag in v.tags]
        if all(lic.unit == "vm" for lic in options):
            # Priced per VM: the same whatever the hosts, so a constant.
            offset += licence_cost(tag, types[0].model, len(tagged), options, years)
            continue
        m = [model.new_int_var(0, len(tagged), f"m_{tag}_{t.index}") for t in types]
        holds(m, tagged)
        for x, y, t in zip(m, n, types, strict=True):
            model.add(x <= y)
            terms.append((x, licence_cost(tag, t.model, 1, options, years)))
    model.minimize(sum(math.floor(c * CENTS) * x for x, c in terms))
    solver = reproducible_solver(COVER_WORK_S, 0, COVER_WALL_S)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return math.inf  # no plan at all within the cap (and the model counts)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0.0
    return max(0.0, offset + solver.best_objective_bound / CENTS)


def energy_floor(problem: Problem, vms: Sequence[SizedVM], caps: Sequence[Cap]) -> float:
    """The least energy above idle that ``vms`` draw on any hosts that hold them, ``caps[t]``
    the most a host of type t may hold: a VM adds its load at the cheapest rate of a model
    it fits.

    A host of type t draws ``energy_per_util_cost x min(1, load / cores)`` above idle
    (``costs.host_total``): linear in its load up to full load, so at least
    ``load / max(cores, most)`` of that, where ``most`` is the largest load a host of type
    t can carry: the VMs' whole load, and no more than their highest load per milli-vCPU
    times the host's vCPU capacity. Where no host can run above full load (no overcommit,
    the usual case) the floor is exactly what every plan pays, whatever the packing.
    """
    total = sum(v.load_m for v in vms)
    if not total:
        return 0.0
    ratio = max((v.load_m / v.cpu_m for v in vms if v.cpu_m > 0), default=0.0)
    if any(v.cpu_m <= 0 < v.load_m for v in vms):
        ratio = math.inf  # a load with no vCPU demand: only the whole load bounds a host's
    rate: list[float] = []
    for t, c in zip(problem.host_types, caps, strict=True):
        most = float(total) if math.isinf(ratio) else min(float(total), ratio * c[0])
        rate.append(t.energy_per_util_cost / max(1000.0 * t.model.cores, most))
    # The cheapest rate of each distinct ``fits`` once (a million VMs have a few of them).
    cheapest = {f: min((rate[t] for t in f), default=0.0) for f in set(map(_FITS, vms))}
    return sum(v.load_m * cheapest[v.fits] for v in vms)


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
    held = (part, problem.vms)
    hit = _SPARE_CANDIDATES.get(held)
    if hit is None:
        # A million VMs have a few distinct ``fits``: intersect those, each once.
        distinct = set(map(_FITS, map(problem.vms.__getitem__, part.vms)))
        hit = tuple(sorted(set.intersection(*map(set, distinct)))) if distinct else ()
        _SPARE_CANDIDATES.put(held, (), hit)
    return list(hit)


# Asked per partition by every comparison of packings with their spares: computed once.
_SPARE_CANDIDATES: IdentityCache[tuple[int, ...]] = IdentityCache()
_FITS, _CPU, _MEM = attrgetter("fits"), attrgetter("cpu_m"), attrgetter("mem_mib")
_GROUP = attrgetter("group")


def spare_floor(problem: Problem, p_index: int, t: HostType) -> float:
    """The least a spare of type ``t`` for partition ``p_index`` costs: the host, one grant
    of every tag it may run, and with ``vm_mobility = cluster`` the licences of the VMs that
    may move onto it, as every host of the partition (``packing.mobile_licence_cost``)."""
    part = problem.partitions[p_index]
    tags = {tag for i in part.vms for tag in problem.vms[i].tags} - mobile_tags(problem)
    total = host_total(t, mobile_licence_cost(problem, p_index, t.index))
    for tag in tags:
        total += _grant(problem, tag, t)
    return total


def _structures(
    problem: Problem, p_index: int, hosts: int, active: float, cheapest_host: float
) -> list[Way]:
    """The ways a plan may give partition ``p_index`` its N+k spares: every plan of the
    partition takes one of them, so it costs at least the least of their bounds.

    ``hosts`` and ``active`` are the partition's bounds on active hosts and their cost.
    """
    part = problem.partitions[p_index]
    k = problem.policy.ha_host_failures
    if not hosts or not k:
        return [Way(active, 0.0)]
    limit = cluster_limit(problem.profile, problem.policy)
    # A partition may become several clusters (at most `limit` hosts each, spares
    # included), each with k spares of its own, carrying only its own tags: then the
    # spares cost at least k x clusters hosts and k grants of every tag.
    clusters = cluster_count(hosts, limit, k)
    split = k * max(2, clusters) * cheapest_host + k * _licence_floor(problem, part)
    if clusters > 1:
        return [Way(active, split)]
    # Every plan picks some model s for the partition's spares (one that runs all its
    # VMs), and then no active host may hold more than s can take over: so the plan
    # costs at least k x floor(s) + (the active bound with capacities capped at s).
    floors = {
        s: spare_floor(problem, p_index, problem.host_types[s])
        for s in spare_candidates(problem, part)
    }
    ways: list[Way] = []
    best = math.inf
    for s, floor in sorted(floors.items(), key=lambda sf: sf[1]):
        if k * floor + active >= best:
            break  # sorted by floor: no later model can do better, whatever the active bound
        t = problem.host_types[s]
        cap = (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)
        capped = _partition_cost(problem, p_index, _partition_hosts(problem, part, cap)[0], cap)
        ways.append(Way(max(active, capped), k * floor, s))
        best = min(best, k * floor + max(active, capped))
    if not ways:  # no model can be the spare: no plan meets N+k, the active hosts bound it
        ways.append(Way(active, 0.0))
    if len(part.vms) > limit - k:
        # A plan with more active hosts than one cluster holds is split, with spares of
        # its own in each cluster: it has at least limit - k + 1 active hosts.
        many = _partition_cost(problem, p_index, max(hosts, limit - k + 1))
        ways.append(Way(max(active, many), split))
    return ways


def structured_cost(
    bounds: Bounds,
    active: Mapping[int, float],
    within: Mapping[int, tuple[int, float]] | None = None,
) -> float:
    """A bound on the partitions of ``active`` with their spares, given valid bounds on the
    cost of each one's active hosts (the engine's, which may beat the cheap ones): the least
    of its spare structures (``_structures``), summed. ``within[p] = (s, bound)``: a bound on
    partition p's active hosts when none holds more than a spare of model s takes over."""
    within = within or {}
    total = 0.0
    for p, a in active.items():
        s, a_s = within.get(p, (None, 0.0))
        total += min(
            max(a, w.active, a_s if w.model == s and s is not None else 0.0) + w.spares
            for w in bounds.partition_ways[p]
        )
    return total


def lower_bounds(problem: Problem) -> Bounds:
    """Lower bounds on hosts (spares included) and cost for ``problem``."""
    k = problem.policy.ha_host_failures
    limit = cluster_limit(problem.profile, problem.policy)
    cheapest_host = min(host_total(t) for t in problem.host_types)
    hosts: list[int] = []
    rules: list[str] = []
    part_spares: list[float] = []
    part_costs: list[float] = []
    part_ways: list[tuple[Way, ...]] = []
    for p_index, part in enumerate(problem.partitions):
        n, rule = _partition_hosts(problem, part)
        hosts.append(n)
        rules.append(rule)
        active = _partition_cost(problem, p_index, n)
        part_costs.append(active)
        ways = _structures(problem, p_index, n, active, cheapest_host)
        part_ways.append(tuple(ways))
        part_spares.append(min(w.spares for w in ways))
    spares = sum(spares_needed(n, limit, k) for n in hosts)
    cost = sum(part_costs) + sum(part_spares)
    joint = sum(min(w.active + w.spares for w in ways) for ways in part_ways)
    return Bounds(
        hosts=sum(hosts) + spares,
        cost=cost,
        partition_hosts=tuple(hosts),
        partition_rule=tuple(rules),
        spare_hosts=spares,
        spare_cost=sum(part_spares),
        joint_cost=max(joint, cost),
        partition_spare_cost=tuple(part_spares),
        partition_cost=tuple(part_costs),
        partition_ways=tuple(part_ways),
    )
