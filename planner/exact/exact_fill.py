"""Exact fill: where a plan at the bound must fill its hosts (almost) exactly, search for one.

Let a partition run on one host type of capacity C (per dimension: milli-vCPU, MiB, VM
count), its VMs need S_d of dimension d in all, and L be its lower bound. Any plan of L
hosts leaves W_d = L * C_d - S_d of dimension d unused *in total*: a budget of waste its
hosts share, so no host of such a plan wastes more than W_d. Where some W_d is smaller than
the smallest VM's demand in d, the hosts of such a plan are few and easy to list: a host is
*complete* in d. The phase runs where some W_d = 0 (every host full to the last unit, as in
Falkenauer's triplets and the class 10 of Caprara and Toth); the other dimensions share
their budgets.

The phase lists them by bin completion (Martello and Toth; Korf 2003) on the VM classes,
sorted by size in the tightest dimension: the largest class of a host opens it, then classes
no larger complete it, each either closing the host (its size within the waste left of the
room, found by bisection: for W_d = 0 the one size that fills the host, a hash look-up in
effect) or leaving room for one more VM; every dimension within its budget, anti-affinity
kept. For triplets that is a few thousand hosts, whatever the number of VMs. Then CP-SAT
chooses how many of each host to use so that every class is covered exactly by at most L
hosts (a small integer model: one variable per listed host, one row per class).

A plan found has L hosts: for the host count it meets the bound, and the partition is proven
optimal. For the cost objective the phase runs where every host costs the same whatever it
runs, bar the energy of its load (no licence but those of the host itself), so the fewest
hosts are a good plan; it is kept only where it costs less. A search that fails changes
nothing. Whether the phase applies is decided in time linear in the classes; the listing
stops at ``MAX_FILL_HOSTS`` hosts (then the phase gives up), both steps stop on work done.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from planner.cpsat import reproducible_solver
from planner.exact.classes import (
    LP_ENTRY_WORK,
    MIN_CP_SAT_S,
    UNITS_PER_DT,
    State,
    accept,
    lp_work,
    make_pattern,
    to_packing,
    types_of,
    waste_budgets,
)
from planner.tolerances import INTEGRAL_TOL

__all__ = [
    "FILL_STEP_WORK",
    "MAX_FILL_HOSTS",
    "FillInstance",
    "exact_fill",
    "fill_hosts",
    "fill_instance",
]

FILL_STEP_WORK = 3.0  # work units per step of the listing (a class tried for a host; measured)
MAX_FILL_HOSTS = 20_000  # hosts the listing may find before the phase gives up
MAX_REACH_BITS = 1 << 16  # widest capacity (in size units) the listing's sum sets cover
MODEL_ENTRY_WORK = 3.0  # work units per term of the CP-SAT model


@dataclass(frozen=True)
class FillInstance:
    """One partition on one host type, as the listing reads it.

    Classes are in the listing's order, largest first in the tight dimension (then the
    others): ``classes[j]`` is the engine's class index, ``sizes[j]`` its demand per
    dimension (the tight one first), ``counts[j]`` its VMs, ``groups[j]`` its anti-affinity
    group's number or -1. ``cap`` and ``waste`` (the budget W_d) are in the same order of
    dimensions; ``hosts`` is the bound L.
    """

    classes: tuple[int, ...]
    sizes: tuple[tuple[int, ...], ...]
    counts: tuple[int, ...]
    groups: tuple[int, ...]
    cap: tuple[int, ...]
    hosts: int
    waste: tuple[int, ...]


Host = tuple[tuple[int, int], ...]  # (class in the listing's order, VMs), by class


class _Budget(Exception):
    """The listing's steps or hosts are spent."""


def fill_instance(state: State, p_index: int) -> tuple[int, FillInstance] | None:
    """The partition's search instance and host type, where the phase applies; else None.

    It applies to a separable partition of one undominated host type that every class
    fits, whose bound L leaves no room in all in some dimension.
    """
    if not state.separable or (not state.by_hosts and not _flat_cost(state, p_index)):
        return None
    types = types_of(state, p_index)
    if len(types) != 1:
        return None
    t = types[0]
    ht = state.problem.host_types[t]
    members = state.by_partition[p_index]
    cls = state.classes
    if any(t not in cls[ci].fits for ci in members):
        return None
    cap = (ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap)
    demand = [(cls[ci].cpu, cls[ci].mem, 1) for ci in members]
    totals = [-w for w in waste_budgets(state, p_index, t, 0)]  # the demand S_d
    hosts = max(-(-total // c) for total, c in zip(totals, cap, strict=True))
    if state.by_hosts:  # the engine's bound (L2, anti-affinity) may be higher
        hosts = max(hosts, int(state.rounded(state.bound.get(p_index, 0.0))))
    if hosts <= 1:
        return None
    waste = waste_budgets(state, p_index, t, hosts)
    # The tightest dimension: the least waste for its capacity. The phase applies where it
    # is zero (every host of a plan at the bound is full in it); the other dimensions may
    # waste their budget. (Measured: where the tightest waste is positive but below the
    # smallest VM, classes 7 and 9 of the 2-D set, the listing costs more than it finds.)
    tight = min(range(3), key=lambda d: (waste[d] / cap[d], d))
    if waste[tight] != 0:
        return None
    order = [tight] + [d for d in range(3) if d != tight]
    keyed = sorted(
        zip(members, demand, strict=True),
        key=lambda md: (tuple(-md[1][d] for d in order), md[0]),
    )
    group_ids: dict[str, int] = {}
    groups = []
    for ci, _ in keyed:
        g = cls[ci].group
        groups.append(group_ids.setdefault(g, len(group_ids)) if g else -1)
    return t, FillInstance(
        classes=tuple(ci for ci, _ in keyed),
        sizes=tuple(tuple(dem[d] for d in order) for _, dem in keyed),
        counts=tuple(cls[ci].count for ci, _ in keyed),
        groups=tuple(groups),
        cap=tuple(cap[d] for d in order),
        hosts=hosts,
        waste=tuple(waste[d] for d in order),
    )


def _flat_cost(state: State, p_index: int) -> bool:
    """Cost objective: every host of the partition costs the same bar its load's energy (its
    VMs carry no licence tag but those whose licences the host holds anyway)."""
    return all(set(state.classes[ci].tags) <= state.mobile for ci in state.by_partition[p_index])


def exact_fill(state: State, until: float, list_work: float) -> list[int]:
    """For each open partition where the phase applies, a plan of L hosts, until the work
    clock reaches ``until``, each listing within ``list_work`` units; returns the partitions
    where one was found and kept. Where CP-SAT proves that no L hosts cover the listed
    ones, the bound (host count) rises to L + 1."""
    found = []
    for p_index in sorted(state.by_partition):
        if state.by_hosts and state.done(p_index):
            continue
        applies = fill_instance(state, p_index)
        if applies is None:
            continue
        t, inst = applies
        if inst.hosts >= len(state.bins[p_index]):  # no fewer hosts to find
            continue
        steps = int(min(list_work, state.left(until)) / FILL_STEP_WORK)
        listed, taken = fill_hosts(inst, steps)
        state.spend(FILL_STEP_WORK * taken)
        if listed is None:
            continue
        plan = _choose(state, p_index, inst, listed, until)
        if plan is None:
            continue
        chosen = [
            (make_pattern(state, p_index, t, {inst.classes[j]: k for j, k in host}), n)
            for host, n in plan
        ]
        for pattern, _ in chosen:
            state.add(pattern)
        before = state.value[p_index]
        accept(state, to_packing(state, chosen, [p_index]))
        if state.value[p_index] < before:
            found.append(p_index)
    return found


def fill_hosts(inst: FillInstance, max_steps: int) -> tuple[list[Host] | None, int]:
    """Every host a plan of ``inst.hosts`` hosts may use (each wasting at most W_d in every
    dimension), and the steps taken; None when the steps or ``MAX_FILL_HOSTS`` ran out."""
    sizes, groups, counts = inst.sizes, inst.groups, inst.counts
    dims = range(len(inst.cap))
    waste = inst.waste
    neg_tight = [-s[0] for s in sizes]  # ascending: bisection over the sizes, largest first
    steps = 0
    hosts: list[Host] = []
    used = [0] * len(sizes)
    chosen: list[int] = []
    groups_used: set[int] = set()
    room = list(inst.cap)
    least = [min(s[d] for s in sizes) for d in dims]  # the smallest VM per dimension
    reach = _reachable(inst)
    unit = math.gcd(inst.cap[0], *(s[0] for s in sizes))
    window = (1 << (waste[0] // unit + 1)) - 1  # rooms that close the host

    def fits(j: int) -> bool:
        return (
            used[j] < counts[j]
            and groups[j] not in groups_used
            and all(sizes[j][d] <= room[d] for d in dims)
        )

    def enter(j: int) -> None:
        used[j] += 1
        if groups[j] >= 0:
            groups_used.add(groups[j])
        chosen.append(j)
        for d in dims:
            room[d] -= sizes[j][d]

    def leave(j: int) -> None:
        used[j] -= 1
        groups_used.discard(groups[j])
        chosen.pop()
        for d in dims:
            room[d] += sizes[j][d]

    def record() -> None:
        if all(room[d] <= waste[d] for d in dims):
            hosts.append(tuple(sorted(_tally(chosen).items())))
            if len(hosts) > MAX_FILL_HOSTS:
                raise _Budget

    def extend(j0: int) -> None:
        # Next VMs from classes j0.. (each host listed once): those that close the host in
        # the tight dimension (sizes in [room - waste, room]), then those that leave room
        # for one more VM (sizes <= room - the smallest size).
        nonlocal steps
        r0 = room[0]
        lo = max(j0, bisect.bisect_left(neg_tight, -r0))
        close_hi = max(lo, bisect.bisect_right(neg_tight, -(r0 - waste[0])))
        more_lo = max(close_hi, bisect.bisect_left(neg_tight, -(r0 - least[0])))
        for j in itertools.chain(range(lo, close_hi), range(more_lo, len(sizes))):
            steps += 1
            if steps > max_steps:
                raise _Budget
            if not fits(j):
                continue
            enter(j)
            # A room between the waste left and the smallest VM can be neither closed nor
            # filled further (the tight dimension's such sizes are skipped above).
            # And the room left in the tight dimension must be fillable, up to the waste,
            # by sums of the classes from j on.
            if not any(waste[d] < room[d] < least[d] for d in dims) and (
                reach is None or (reach[j] >> max(0, (room[0] - waste[0]) // unit)) & window
            ):
                record()
                if room[0] >= least[0]:
                    extend(j)
            leave(j)

    try:
        for first in range(len(sizes)):
            steps += 1
            enter(first)
            record()
            extend(first)
            leave(first)
    except _Budget:
        return None, steps
    return hosts, steps


def _reachable(inst: FillInstance) -> list[int] | None:
    """Per class j, the sums of the tight dimension that VMs of classes j.. can make (in
    units of the sizes' greatest common divisor), as bit sets; None where the capacity has too
    many units for the sets to be cheap."""
    unit = math.gcd(inst.cap[0], *(s[0] for s in inst.sizes))
    top = inst.cap[0] // unit
    if top > MAX_REACH_BITS:
        return None
    mask = (1 << (top + 1)) - 1
    reach = [0] * (len(inst.sizes) + 1)
    reach[-1] = 1  # the empty sum
    for j in range(len(inst.sizes) - 1, -1, -1):
        size = inst.sizes[j][0] // unit
        bits = reach[j + 1]
        step = bits
        for _ in range(min(inst.counts[j], top // max(size, 1))):
            step = (step << size) & mask
            bits |= step
        reach[j] = bits
    return reach


def _tally(chosen: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for j in chosen:
        out[j] = out.get(j, 0) + 1
    return out


def _choose(
    state: State, p_index: int, inst: FillInstance, hosts: list[Host], until: float
) -> list[tuple[Host, int]] | None:
    """How many of each listed host: every class covered exactly by at most L hosts; None
    when none was found.

    The LP relaxation first (GLOP): its whole parts are kept and CP-SAT covers the few VMs
    left (for triplets in milliseconds); where that fails, CP-SAT solves the whole model.
    Where CP-SAT proves the whole model infeasible, the listing being complete, no plan of
    L hosts exists and the bound rises.
    """
    base = _lp_floor(state, inst, hosts)
    if base is not None:
        need = list(inst.counts)
        for host, n in zip(hosts, base, strict=True):
            for j, k in host:
                need[j] -= k * n
        rest = _cover(state, inst, hosts, need, inst.hosts - sum(base), until)
        if rest:  # else the whole parts leave no cover: the whole model below
            return [(h, a + b) for h, a, b in zip(hosts, base, rest, strict=True) if a + b > 0]
    if state.left(until) <= 0:
        return None
    whole = _cover(state, inst, hosts, list(inst.counts), inst.hosts, until)
    if whole is None:
        return None
    if not whole:  # proven: no cover by L hosts
        if state.by_hosts:
            state.bound[p_index] = max(state.bound.get(p_index, 0.0), float(inst.hosts + 1))
        return None
    return [(h, n) for h, n in zip(hosts, whole, strict=True) if n > 0]


def _lp_floor(state: State, inst: FillInstance, hosts: list[Host]) -> list[int] | None:
    """The whole parts of a solution of the LP relaxation (copies per host), or None."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        return None
    xs = [solver.NumVar(0.0, solver.infinity(), "") for _ in hosts]
    rows = [solver.Constraint(float(n), float(n)) for n in inst.counts]
    for x, host in zip(xs, hosts, strict=True):
        for j, k in host:
            rows[j].SetCoefficient(x, float(k))
    total = solver.Constraint(0.0, float(inst.hosts))
    for x in xs:
        total.SetCoefficient(x, 1.0)
    solver.Minimize(sum(xs))
    status = solver.Solve()
    state.spend(lp_work(solver, len(rows)) + LP_ENTRY_WORK * sum(len(h) for h in hosts))
    if status != pywraplp.Solver.OPTIMAL:
        return None
    return [math.floor(x.solution_value() + INTEGRAL_TOL) for x in xs]


def _cover(
    state: State,
    inst: FillInstance,
    hosts: list[Host],
    need: list[int],
    most: int,
    until: float,
) -> list[int] | None:
    """Copies per host covering ``need`` exactly with at most ``most`` hosts (CP-SAT); []
    when proven impossible, None when not found within the work left until ``until``."""
    model = cp_model.CpModel()
    # Variables: copies of each host that ``need`` leaves room for, at most what its
    # scarcest class allows.
    room = [min(need[j] // k for j, k in host) for host in hosts]
    usable = [i for i, r in enumerate(room) if r > 0]
    copies = {i: model.new_int_var(0, room[i], f"h{i}") for i in usable}
    # Constraints: every class covered exactly; at most ``most`` hosts.
    rows: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in need]
    for i in usable:
        for j, k in hosts[i]:
            rows[j].append((copies[i], k))
    for j, row in enumerate(rows):
        model.add(sum(k * x for x, k in row) == need[j])
    model.add(sum(copies.values()) <= most)
    state.spend(MODEL_ENTRY_WORK * (len(hosts) + sum(len(hosts[i]) for i in usable)))
    left = state.left(until)
    if left <= 0:
        return None
    # As ``run_cp_sat`` (one seeded worker, stopped on deterministic time, charged as
    # work), without presolve: on this model it takes half the time (measured on triplets).
    solver = reproducible_solver(
        max(MIN_CP_SAT_S, left / UNITS_PER_DT), state.seed, max(MIN_CP_SAT_S, state.wall_left())
    )
    solver.parameters.cp_model_presolve = False
    status = solver.solve(model)
    state.spend(solver.deterministic_time * UNITS_PER_DT)
    state.clock()  # notes a stop on the safety cap
    if status == cp_model.INFEASIBLE:
        return []
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [int(solver.value(copies[i])) if i in copies else 0 for i in range(len(hosts))]
