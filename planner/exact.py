"""The exact engine: column generation for the lower bound, CP-SAT for the plan.

A *pattern* is one host: a model and how many VMs of each class it runs (a class is a set of
VMs with identical demand and constraints). Every plan is a multiset of patterns, so

    minimise  sum_p cost_p x_p
    s.t.      sum_p a_cp x_p >= count_c      for every VM class c
              sum_{p of model t} x_p <= max_count_t
              x_p integer >= 0

is the whole problem (Gilmore–Gomory). Its LP relaxation, solved by column generation, gives
the strongest cheap lower bound known for bin packing (the optimum is almost always the LP
value rounded up). The engine runs in three phases within one time budget:

1. *Column generation.* A persistent GLOP master; columns priced greedily (several density
   measures and seeds, many columns per round), then exactly by a small CP-SAT knapsack per
   (partition, model), whose proven bound gives a valid lower bound at every round (Farley's
   ratio bound and the Lagrangian bound). When no max_count couples the partitions, bounds and
   stopping are per partition: a partition whose incumbent meets its bound is done.
2. *Restricted master.* CP-SAT over the generated patterns, warm-started from the incumbent,
   with the bound as a cut.
3. *Assignment.* For the host count on small partitions (a single model worth buying), a
   CP-SAT model of VM classes onto ``incumbent - 1`` hosts: it finds the better plan or proves
   there is none. VMs that pairwise cannot share a host are pinned to distinct hosts and the
   other hosts are ordered by load, which removes most symmetry.

The model size depends on the number of distinct VM classes, not on the number of VMs. No
CP-SAT or LP object leaves this module; all constraint arithmetic is in integers (costs are
scaled and rounded so that the bounds stay valid).
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from planner.bounds import lower_bounds
from planner.costs import licence_for_tag
from planner.models import Problem
from planner.packing import HostBin, Packing, packing_objective

__all__ = ["ExactResult", "improve"]

EPS = 1e-9
COST_SCALE = 100  # cents: CP-SAT needs integer costs
PRICE_SCALE = 10**8  # scaled value of the largest dual in the pricing knapsack
CG_SHARE = 0.5  # share of the budget column generation may use before the integer phases
ASSIGN_MAX_VMS = 400  # partitions up to this many VMs get the assignment model
GREEDY_SEEDS = 12  # seeded greedy columns per (partition, model) and round
COLUMNS_PER_ROUND = 40  # most greedy columns kept per (partition, model) and round
DP_WORK = 4_000_000  # grid cells x knapsack steps one dynamic-programming pricing may touch
PRICING_TIME_S = 0.3  # most seconds one CP-SAT pricing call may take
EXCHANGES_PER_CLASS = 3  # dual-optimal inequalities kept per class
DIVE_BACKTRACKS = 20  # undone diving steps before the dive must finish


@dataclass(frozen=True)
class ExactResult:
    """What the exact engine found for the active hosts (spares excluded)."""

    packing: Packing
    bound: float  # lower bound on the objective of the active hosts
    proven: bool  # the packing's objective equals the bound
    converged: bool  # column generation proved its LP optimal (the bound is the LP value)
    columns: int
    iterations: int


@dataclass(frozen=True)
class _Class:
    partition: int
    cpu: int
    mem: int
    group: str
    fits: tuple[int, ...]
    tags: tuple[str, ...]
    load: int  # smallest member load (milli-cores): keeps pattern costs a valid lower bound
    members: tuple[int, ...]  # positions in problem.vms

    @property
    def count(self) -> int:
        return len(self.members)


PatternKey = tuple[int, int, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class _Pattern:
    partition: int
    type_index: int
    counts: tuple[tuple[int, int], ...]  # (class index, VMs), sorted by class
    cost: float

    def key(self) -> PatternKey:
        return (self.partition, self.type_index, self.counts)


Progress = Callable[[str, float | None, float | None], None]


# --------------------------------------------------------------------------- state


@dataclass
class _State:
    """Classes, patterns, the LP master and the bounds found so far."""

    problem: Problem
    classes: list[_Class]
    by_partition: dict[int, list[int]]
    deadline: float
    patterns: list[_Pattern] = field(default_factory=list)
    seen: set[PatternKey] = field(default_factory=set)
    licence_tables: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    lp: _Master | None = None
    # Best incumbent, per partition: its bins and objective value.
    bins: dict[int, list[HostBin]] = field(default_factory=dict)
    value: dict[int, float] = field(default_factory=dict)
    bound: dict[int, float] = field(default_factory=dict)  # per partition (separable only)
    joint_bound: float = 0.0  # whole problem (valid also when max_count couples partitions)

    @property
    def by_hosts(self) -> bool:
        return self.problem.policy.objective == "hosts"

    @property
    def separable(self) -> bool:
        """No max_count couples the partitions: each is an independent problem."""
        return all(t.model.max_count is None for t in self.problem.host_types)

    def add(self, p: _Pattern) -> bool:
        k = p.key()
        if k in self.seen or not p.counts:
            return False
        self.seen.add(k)
        self.patterns.append(p)
        if self.lp is not None:
            self.lp.add(p)
        return True

    def rounded(self, bound: float) -> float:
        """A bound on an objective value: integer for the host count."""
        return math.ceil(bound - 1e-6) if self.by_hosts else bound

    def done(self, p_index: int) -> bool:
        """The partition's incumbent meets its bound (only meaningful when separable)."""
        b = self.rounded(self.bound.get(p_index, 0.0))
        return self.value[p_index] <= b + _tolerance(b)

    def total_bound(self) -> float:
        if self.separable:
            per_part = sum(self.rounded(self.bound.get(p, 0.0)) for p in self.by_partition)
            return max(per_part, self.rounded(self.joint_bound))
        return self.rounded(self.joint_bound)

    def total_value(self) -> float:
        return sum(self.value.values())

    def packing(self) -> Packing:
        return tuple(b for p in sorted(self.bins) for b in self.bins[p])


def improve(
    problem: Problem,
    incumbent: Packing,
    time_limit: float,
    progress: Progress | None = None,
) -> ExactResult:
    """Lower bound by column generation, then the best plan CP-SAT finds.

    ``incumbent`` (first-fit decreasing) is a column set and the warm start: the result is
    never worse than it. ``time_limit`` is in seconds, for all phases together.
    """
    start = time.perf_counter()
    # Keep a margin for model building after a phase's deadline and for the plan's assembly.
    time_limit = max(0.1, min(0.92 * time_limit, time_limit - 0.3))
    deadline = start + time_limit
    classes, by_partition = _classes(problem)
    state = _State(problem, classes, by_partition, deadline)
    by_class = _class_of(state)
    bins_of: dict[int, list[HostBin]] = {p: [] for p in by_partition}
    for b in incumbent:
        if b.vms:
            bins_of[b.partition].append(b)
            counts = Counter(by_class[i] for i in b.vms)
            state.add(_pattern(state, b.partition, b.type_index, dict(counts)))
    for p_index, bins in bins_of.items():
        state.bins[p_index] = bins
        state.value[p_index] = _objective(problem, bins)
    _set_cheap_bounds(state)
    _add_singletons(state)
    state.lp = _Master(state, state.patterns)

    converged, iterations = _column_generation(state, start + CG_SHARE * time_limit)
    if progress:
        progress("lower bound", state.total_value(), state.total_bound())

    if not _proven(state):
        parts = [p for p in state.by_partition if not (state.separable and state.done(p))]
        dived = _dive(state, parts, start + 0.7 * time_limit, DIVE_BACKTRACKS)
        if dived is not None:
            _accept(state, dived)
    if not _proven(state):
        assign_next = state.by_hosts and state.separable
        _restricted_master(state, start + (0.75 if assign_next else 1.0) * time_limit, by_class)
    if not _proven(state) and state.by_hosts and state.separable:
        _assignment_phase(state)
    value, bound = state.total_value(), state.total_bound()
    if progress:
        progress("integer", value, bound)
    return ExactResult(
        packing=state.packing(),
        bound=min(bound, value),
        proven=_proven(state),
        converged=converged,
        columns=len(state.patterns),
        iterations=iterations,
    )


def _proven(state: _State) -> bool:
    bound = state.total_bound()
    return state.total_value() <= bound + _tolerance(bound)


def _tolerance(bound: float) -> float:
    return 1e-6 * max(1.0, abs(bound))


def _objective(problem: Problem, packing: Sequence[HostBin]) -> float:
    return packing_objective(problem, [b for b in packing if b.vms])[0]


def _set_cheap_bounds(state: _State) -> None:
    """Start from the cheap bounds: per partition for the host count, total for the cost."""
    b = lower_bounds(state.problem)
    if state.by_hosts:
        for p_index in state.by_partition:
            state.bound[p_index] = float(b.partition_hosts[p_index])
        state.joint_bound = float(sum(b.partition_hosts))
    else:
        state.joint_bound = b.cost - b.spare_cost


def _remaining(state: _State) -> float:
    return state.deadline - time.perf_counter()


# --------------------------------------------------------------------------- classes, costs


def _classes(problem: Problem) -> tuple[list[_Class], dict[int, list[int]]]:
    by_cost = problem.policy.objective == "cost"
    groups: dict[tuple[int, int, int, str, tuple[int, ...], tuple[str, ...]], list[int]] = (
        defaultdict(list)
    )
    for p_index, part in enumerate(problem.partitions):
        for pos in part.vms:
            v = problem.vms[pos]
            key = (p_index, v.cpu_m, v.mem_mib, v.group, v.fits, v.tags if by_cost else ())
            groups[key].append(pos)
    classes: list[_Class] = []
    by_partition: dict[int, list[int]] = defaultdict(list)
    for (p_index, cpu, mem, group, fits, tags), members in groups.items():
        load = min(problem.vms[i].load_m for i in members) if by_cost else 0
        by_partition[p_index].append(len(classes))
        classes.append(_Class(p_index, cpu, mem, group, fits, tags, load, tuple(members)))
    return classes, dict(by_partition)


def _class_of(state: _State) -> dict[int, int]:
    return {pos: ci for ci, c in enumerate(state.classes) for pos in c.members}


def _licence_table(state: _State, t: int, tag: str, n_max: int) -> list[float]:
    """Cheapest licence cost for 0..n_max VMs tagged ``tag`` on a host of type ``t``."""
    key = (t, tag)
    table = state.licence_tables.get(key)
    if table is None or len(table) <= n_max:
        model = state.problem.host_types[t].model
        years = state.problem.policy.horizon_years
        table = [0.0]
        for n in range(1, n_max + 1):
            use = licence_for_tag(tag, model, n, state.problem.catalog.licences, years)
            table.append(use.cost if use else 0.0)
        state.licence_tables[key] = table
    return table


def _fixed(state: _State, t: int) -> float:
    """Cost of a host of type t whatever it runs (1 for the host count)."""
    return 1.0 if state.by_hosts else state.problem.host_types[t].fixed_cost


def _pattern_cost(state: _State, t: int, counts: dict[int, int]) -> float:
    if state.by_hosts:
        return 1.0
    ht = state.problem.host_types[t]
    tags: Counter[str] = Counter()
    load = 0
    for ci, k in counts.items():
        c = state.classes[ci]
        load += c.load * k
        for tag in c.tags:
            tags[tag] += k
    lic = sum(_licence_table(state, t, tag, n)[n] for tag, n in tags.items())
    energy = ht.energy_per_util_cost * min(1.0, load / (1000.0 * ht.model.cores))
    return ht.fixed_cost + lic + energy


def _pattern(state: _State, partition: int, t: int, counts: dict[int, int]) -> _Pattern:
    kept = {c: k for c, k in counts.items() if k > 0}
    return _Pattern(partition, t, tuple(sorted(kept.items())), _pattern_cost(state, t, kept))


def _fit_count(state: _State, ci: int, t: int) -> int:
    """Most VMs of class ci one empty host of type t holds."""
    c = state.classes[ci]
    ht = state.problem.host_types[t]
    k = min(c.count, ht.cpu_cap_m // c.cpu, ht.mem_cap_mib // c.mem, ht.vm_cap)
    return min(k, 1) if c.group else k


def _add_singletons(state: _State) -> None:
    """One pattern per class holding as many of its VMs as one host of a fitting type can."""
    for ci, c in enumerate(state.classes):
        for t in c.fits:
            state.add(_pattern(state, c.partition, t, {ci: max(_fit_count(state, ci, t), 1)}))


# --------------------------------------------------------------------------- LP master


class _Master:
    """The LP relaxation over the patterns so far, kept between rounds (GLOP re-solves)."""

    def __init__(self, state: _State, patterns: list[_Pattern]) -> None:
        self.state = state
        solver = pywraplp.Solver.CreateSolver("GLOP")
        if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
            raise RuntimeError("OR-Tools GLOP is not available")
        self.solver = solver
        self.cover = [solver.Constraint(float(c.count), solver.infinity()) for c in state.classes]
        self.caps = {
            t.index: solver.Constraint(0.0, float(t.model.max_count))
            for t in state.problem.host_types
            if t.model.max_count is not None
        }
        self.xs: list[pywraplp.Variable] = []
        self.patterns: list[_Pattern] = []
        self.keys: set[PatternKey] = set()
        for p in patterns:
            self.add(p)
        for big, small in _exchanges(state):
            # A slot of a bigger VM may hold a smaller one: dual-optimal inequalities
            # (duals of bigger VMs >= smaller ones) that cut the degenerate tail of the LP.
            y = solver.NumVar(0.0, solver.infinity(), "")
            self.cover[small].SetCoefficient(y, 1.0)
            self.cover[big].SetCoefficient(y, -1.0)

    def add(self, p: _Pattern) -> None:
        self.patterns.append(p)
        self.keys.add(p.key())
        x = self.solver.NumVar(0.0, self.solver.infinity(), "")
        for ci, k in p.counts:
            self.cover[ci].SetCoefficient(x, float(k))
        if p.type_index in self.caps:
            self.caps[p.type_index].SetCoefficient(x, 1.0)
        self.solver.Objective().SetCoefficient(x, p.cost)
        self.xs.append(x)

    def solve(self) -> tuple[float, list[float], dict[int, float], list[float]] | None:
        """(value, cover duals, max_count duals by type, primal values) or None."""
        self.solver.Objective().SetMinimization()
        if self.solver.Solve() != pywraplp.Solver.OPTIMAL:
            return None
        duals = [max(0.0, row.dual_value()) for row in self.cover]
        mu = {t.index: 0.0 for t in self.state.problem.host_types}
        for t_index, row in self.caps.items():
            mu[t_index] = min(0.0, row.dual_value())
        values = [x.solution_value() for x in self.xs]
        return self.solver.Objective().Value(), duals, mu, values


def _exchanges(state: _State) -> list[tuple[int, int]]:
    """(bigger, smaller) class pairs where a VM of the smaller may take a bigger one's slot.

    Only for the host count (all hosts cost the same), within a partition, without
    anti-affinity groups, and where the smaller fits every model the bigger fits. For each
    smaller class only the few nearest bigger ones are kept (chains compose).
    """
    if not state.by_hosts:
        return []
    cls = state.classes
    pairs: list[tuple[int, int]] = []
    for items in state.by_partition.values():
        plain = [ci for ci in items if not cls[ci].group]
        for j in plain:
            cj = cls[j]
            bigger = [
                i
                for i in plain
                if i != j
                and cls[i].cpu >= cj.cpu
                and cls[i].mem >= cj.mem
                and set(cls[i].fits) <= set(cj.fits)
            ]
            bigger.sort(key=lambda i: (cls[i].cpu + cls[i].mem, i))
            pairs.extend((i, j) for i in bigger[:EXCHANGES_PER_CLASS])
    return pairs


# --------------------------------------------------------------------------- column generation


def _column_generation(state: _State, cg_deadline: float) -> tuple[bool, int]:
    """Solve the LP relaxation by column generation; returns (converged, iterations).

    Greedy pricing runs first; exact pricing only when it finds nothing. Every exact round
    gives valid bounds, so the loop also stops once every partition's incumbent meets its
    bound.
    """
    assert state.lp is not None
    iterations = 0
    while time.perf_counter() < cg_deadline:
        if _proven(state):
            return False, iterations
        iterations += 1
        lp = state.lp.solve()
        if lp is None:
            return False, iterations
        _, duals, mu, _ = lp
        active = [p for p in state.by_partition if not (state.separable and state.done(p))]
        added = 0
        for p_index in active:
            for t in _types_of(state, p_index):
                for col in _greedy_columns(state, p_index, t, duals, mu[t]):
                    added += state.add(col)
        if added:
            continue
        # No greedy column improves: price by DP on a capacity grid (exact when the sizes
        # allow, else a rounded-up column and a rounded-down bound), then by CP-SAT where
        # the grid leaves the answer open. Both give valid bounds.
        values: dict[tuple[int, int], float] = {}
        all_exact = True
        for p_index in active:
            for t in _types_of(state, p_index):
                if state.by_hosts:
                    cols, values[p_index, t], exact = _dp_columns(state, p_index, t, duals, mu[t])
                else:  # licences and energy: the grid knows nothing of them
                    cols, values[p_index, t], exact = [], math.inf, False
                for col in cols:
                    added += state.add(col)
                if exact or values[p_index, t] + mu[t] <= _fixed(state, t) * (1 + 1e-9):
                    continue
                remaining = cg_deadline - time.perf_counter()
                if remaining <= 0:
                    return False, iterations
                hint = dict(cols[0].counts) if cols else None
                cols, bound, exact = _exact_columns(
                    state, p_index, t, duals, mu[t], remaining, hint
                )
                values[p_index, t] = min(values[p_index, t], bound)
                all_exact = all_exact and exact
                for col in cols:
                    added += state.add(col)
        _update_bounds(state, duals, mu, values, active)
        if not added:  # the bounds above are then the LP value (up to tolerances)
            return all_exact, iterations
    return False, iterations


def _update_bounds(
    state: _State,
    duals: list[float],
    mu: dict[int, float],
    values: dict[tuple[int, int], float],
    active: list[int],
) -> None:
    """Farley and Lagrangian bounds from duals and upper bounds on the pricing values.

    ``values[p, t]`` bounds max over patterns a of (sum_c duals_c a_c - variable cost(a)).
    Scaling the duals by theta <= 1 so that every column's reduced cost is >= 0 gives a
    feasible dual, hence the bound theta * (dual objective) (Farley); subtracting, for each
    (partition, model), the most negative reduced cost times the most hosts it can use gives
    another (Lagrange). Both are valid at every round, converged or not.
    """
    problem = state.problem
    hts = problem.host_types

    def farley(parts: Iterable[int], with_caps: bool) -> float:
        dual_obj = sum(
            duals[ci] * state.classes[ci].count for p in parts for ci in state.by_partition[p]
        )
        if with_caps:
            dual_obj += sum(
                mu[t.index] * (t.model.max_count or 0) for t in hts if t.model.max_count is not None
            )
        theta = math.inf
        for (p, t), v in values.items():
            if p not in parts:
                continue
            gain = v + (mu[t] if with_caps else 0.0)
            if gain > EPS:
                theta = min(theta, _fixed(state, t) / gain)
        if not state.by_hosts:
            theta = min(theta, 1.0)  # scaling up is only valid when every column costs the same
        if math.isinf(theta):
            return 0.0 if dual_obj <= 0 else dual_obj
        return theta * dual_obj

    def lagrange(parts: Iterable[int], with_caps: bool) -> float:
        dual_obj = sum(
            duals[ci] * state.classes[ci].count for p in parts for ci in state.by_partition[p]
        )
        if with_caps:
            dual_obj += sum(
                mu[t.index] * (t.model.max_count or 0) for t in hts if t.model.max_count is not None
            )
        total = dual_obj
        for (p, t), v in values.items():
            if p not in parts:
                continue
            rc = _fixed(state, t) - v - (mu[t] if with_caps else 0.0)
            if rc < 0:
                total += rc * _max_hosts(state, p, t)
        return total

    if state.separable:
        for p in active:
            b = max(farley([p], False), lagrange([p], False))
            state.bound[p] = max(state.bound.get(p, 0.0), b)
    elif len(active) == len(state.by_partition):
        b = max(farley(state.by_partition, True), lagrange(state.by_partition, True))
        state.joint_bound = max(state.joint_bound, b)


def _types_of(state: _State, p_index: int) -> list[int]:
    """Host types worth pricing for a partition: those no other type dominates.

    Type u dominates t when it holds at least as much in every dimension, can run every VM t
    can, has no ``max_count`` cap, and costs no more (any host: the ``hosts`` objective).
    Replacing t by u in any plan keeps it feasible and no worse, so t's columns never help.
    """
    types = sorted({t for ci in state.by_partition[p_index] for t in state.classes[ci].fits})
    hts = state.problem.host_types
    by_count = state.by_hosts
    runs = {
        t: {ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits} for t in types
    }

    def dominates(u: int, t: int) -> bool:
        a, b = hts[u], hts[t]
        return (
            a.model.max_count is None
            and a.cpu_cap_m >= b.cpu_cap_m
            and a.mem_cap_mib >= b.mem_cap_mib
            and a.vm_cap >= b.vm_cap
            and runs[u] >= runs[t]
            and (
                by_count
                or (
                    a.fixed_cost + 1e-9 < b.fixed_cost
                    and a.model.cores <= b.model.cores  # per-core licences cost no more
                    and a.model.sockets <= b.model.sockets
                    and a.energy_per_util_cost / a.model.cores
                    <= b.energy_per_util_cost / b.model.cores
                )
            )
            and (a.cpu_cap_m, a.mem_cap_mib, -a.fixed_cost, -u)
            > (b.cpu_cap_m, b.mem_cap_mib, -b.fixed_cost, -t)
        )

    return [t for t in types if not any(dominates(u, t) for u in types if u != t)]


def _max_hosts(state: _State, p_index: int, t: int) -> int:
    """How many hosts of type t partition p can use in an optimal plan (for the bound)."""
    n = sum(state.classes[ci].count for ci in state.by_partition[p_index])
    cap = state.problem.host_types[t].model.max_count
    limit = min(n, cap if cap is not None else n)
    if state.by_hosts:
        limit = min(limit, math.ceil(state.value[p_index]) if state.separable else n)
        if not state.separable:
            limit = min(limit, math.ceil(state.total_value()))
    return limit


def _greedy_columns(
    state: _State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
    avail: dict[int, int] | None = None,
) -> list[_Pattern]:
    """Columns of negative reduced cost by greedy knapsack fills under several orders.

    ``avail`` limits the VMs of each class (the residual of a dive); default: the class count.
    """
    ht = state.problem.host_types[t]
    items = [
        ci
        for ci in state.by_partition[p_index]
        if t in state.classes[ci].fits
        and duals[ci] > EPS
        and (avail is None or avail.get(ci, 0) > 0)
    ]
    if not items:
        return []
    cls = state.classes
    cpu_cap, mem_cap = ht.cpu_cap_m, ht.mem_cap_mib

    def by_sum(ci: int) -> float:
        return duals[ci] / (cls[ci].cpu / cpu_cap + cls[ci].mem / mem_cap)

    def by_max(ci: int) -> float:
        return duals[ci] / max(cls[ci].cpu / cpu_cap, cls[ci].mem / mem_cap)

    def by_value(ci: int) -> float:
        return duals[ci]

    orders = [sorted(items, key=key, reverse=True) for key in (by_sum, by_max, by_value)]
    fills: list[dict[int, int]] = [_fill(state, t, order, {}, avail) for order in orders]
    for seed in orders[2][:GREEDY_SEEDS]:
        fills.append(_fill(state, t, orders[0], {seed: 1}, avail))
    found: dict[PatternKey, tuple[float, _Pattern]] = {}
    for counts in fills:
        if not counts:
            continue
        col = _pattern(state, p_index, t, counts)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if rc < -1e-9 * max(1.0, col.cost) and (avail is not None or col.key() not in state.seen):
            found[col.key()] = (rc, col)
    best = sorted(found.values(), key=lambda rc_col: (rc_col[0], rc_col[1].counts))
    return [col for _, col in best[:COLUMNS_PER_ROUND]]


def _fill(
    state: _State,
    t: int,
    order: list[int],
    start: dict[int, int],
    avail: dict[int, int] | None = None,
) -> dict[int, int]:
    """First-fit of the classes in ``order`` into one host of type t, after ``start``."""
    ht = state.problem.host_types[t]
    cls = state.classes
    cpu, mem, slots = ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap
    groups: set[str] = set()
    counts: dict[int, int] = {}
    for ci, k in start.items():
        c = cls[ci]
        counts[ci] = k
        cpu -= k * c.cpu
        mem -= k * c.mem
        slots -= k
        if c.group:
            groups.add(c.group)
    if cpu < 0 or mem < 0 or slots < 0:
        return {}
    for ci in order:
        c = cls[ci]
        if c.group and c.group in groups:
            continue
        have = c.count if avail is None else avail.get(ci, 0)
        k = min(have - counts.get(ci, 0), cpu // c.cpu, mem // c.mem, slots)
        if c.group:
            k = min(k, 1)
        if k <= 0:
            continue
        counts[ci] = counts.get(ci, 0) + k
        cpu -= k * c.cpu
        mem -= k * c.mem
        slots -= k
        if c.group:
            groups.add(c.group)
    return counts


@dataclass(frozen=True)
class _Step:
    """One step of the knapsack DP: a group of alternatives (class, copies), at most one taken."""

    options: tuple[tuple[int, int], ...]


def _dp_steps(state: _State, items: list[int], t: int, avail: dict[int, int] | None) -> list[_Step]:
    """Knapsack steps: counts split in binary pieces; an anti-affinity group is one step."""
    cls = state.classes
    steps: list[_Step] = []
    by_group: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ci in items:
        n = _fit_count(state, ci, t)
        if avail is not None:
            n = min(n, avail.get(ci, 0))
        if n <= 0:
            continue
        if cls[ci].group:
            by_group[cls[ci].group].append((ci, 1))
            continue
        piece = 1
        while n > 0:
            k = min(piece, n)
            steps.append(_Step(((ci, k),)))
            n -= k
            piece *= 2
    steps.extend(_Step(tuple(opts)) for _, opts in sorted(by_group.items()))
    return steps


def _dp_knapsack(
    state: _State, t: int, steps: list[_Step], duals: list[float], grid: tuple[int, int], up: bool
) -> tuple[float, dict[int, int]]:
    """Best dual value of one host of type t on a coarse grid, and the pattern reaching it.

    Sizes are divided by the grid step and rounded up (``up``: every pattern found fits for
    real) or down (a relaxation: the value bounds every real pattern from above).
    """
    ht = state.problem.host_types[t]
    cls = state.classes
    g1, g2 = grid
    n1, n2 = ht.cpu_cap_m // g1, ht.mem_cap_mib // g2

    def size(ci: int, k: int) -> tuple[int, int]:
        if up:
            return -(-cls[ci].cpu * k // g1), -(-cls[ci].mem * k // g2)
        return cls[ci].cpu * k // g1, cls[ci].mem * k // g2

    dp = np.zeros((n1 + 1, n2 + 1))
    taken: list[tuple[int, np.ndarray]] = []  # (option, cells where it was taken) per step
    for step in steps:
        if len(step.options) == 1:
            ci, k = step.options[0]
            w1, w2 = size(ci, k)
            if w1 > n1 or w2 > n2:
                taken.append((0, np.zeros((0, 0), dtype=bool)))
                continue
            cand = dp[: n1 + 1 - w1, : n2 + 1 - w2] + duals[ci] * k
            better = cand > dp[w1:, w2:] + 1e-12
            np.maximum(dp[w1:, w2:], cand, out=dp[w1:, w2:])
            taken.append((1, better))
            continue
        base = dp.copy()
        choice = np.zeros((n1 + 1, n2 + 1), dtype=np.int16)
        for o, (ci, k) in enumerate(step.options, 1):
            w1, w2 = size(ci, k)
            if w1 > n1 or w2 > n2:
                continue
            cand = base[: n1 + 1 - w1, : n2 + 1 - w2] + duals[ci] * k
            better = cand > dp[w1:, w2:] + 1e-12
            np.copyto(dp[w1:, w2:], cand, where=better)
            choice[w1:, w2:][better] = o
        taken.append((-1, choice))
    value = float(dp[n1, n2])
    counts: dict[int, int] = defaultdict(int)
    c1, c2 = n1, n2
    for step, (kind, mark) in zip(reversed(steps), reversed(taken), strict=True):
        if kind == 0:
            continue
        if kind == 1:
            ci, k = step.options[0]
            w1, w2 = size(ci, k)
            o = 1 if c1 >= w1 and c2 >= w2 and mark[c1 - w1, c2 - w2] else 0
        else:
            o = int(mark[c1, c2])
        if o:
            ci, k = step.options[o - 1]
            counts[ci] += k
            w1, w2 = size(ci, k)
            c1, c2 = c1 - w1, c2 - w2
    return value, dict(counts)


def _dp_grid(state: _State, items: list[int], t: int, steps: int) -> tuple[tuple[int, int], bool]:
    """Grid steps (milli-cores, MiB) for the DP within its work budget; True when exact."""
    ht = state.problem.host_types[t]
    cls = state.classes
    d1 = math.gcd(ht.cpu_cap_m, *(cls[ci].cpu for ci in items))
    d2 = math.gcd(ht.mem_cap_mib, *(cls[ci].mem for ci in items))
    n1, n2 = ht.cpu_cap_m // d1, ht.mem_cap_mib // d2
    cells = max(1, DP_WORK // max(1, steps))
    if (n1 + 1) * (n2 + 1) <= cells:
        return (d1, d2), True
    # Same number of cells per dimension, as far as the budget allows.
    side = max(8, math.isqrt(cells))
    return (d1 * max(1, -(-n1 // side)), d2 * max(1, -(-n2 // side))), False


def _dp_columns(
    state: _State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
    avail: dict[int, int] | None = None,
) -> tuple[list[_Pattern], float, bool]:
    """Pricing by dynamic programming over a (coarse) capacity grid.

    Returns columns of negative reduced cost (from the rounded-up grid: they fit), an upper
    bound on the pricing value (from the rounded-down grid, variable costs left out: a
    relaxation), and whether the grid is exact (then the bound is the exact value).
    """
    items = [
        ci
        for ci in state.by_partition[p_index]
        if t in state.classes[ci].fits
        and duals[ci] > EPS
        and (avail is None or avail.get(ci, 0) > 0)
    ]
    if not items:
        return [], 0.0, True
    steps = _dp_steps(state, items, t, avail)
    grid, exact = _dp_grid(state, items, t, len(steps))
    value_up, counts = _dp_knapsack(state, t, steps, duals, grid, up=True)
    bound = value_up
    if not exact:
        bound, _ = _dp_knapsack(state, t, steps, duals, grid, up=False)
    cols: list[_Pattern] = []
    if counts and _fits(state, t, counts):
        col = _pattern(state, p_index, t, counts)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if rc < -1e-9 * max(1.0, col.cost):
            cols.append(col)
    # Exact only when no rule the grid ignores can bind (costs, the VM count).
    ht = state.problem.host_types[t]
    slots = sum(k for step in steps for _, k in step.options[:1])
    return cols, bound, exact and state.by_hosts and slots <= ht.vm_cap


def _fits(state: _State, t: int, counts: dict[int, int]) -> bool:
    """The pattern fits one host of type t (capacity, VM count, anti-affinity)."""
    ht = state.problem.host_types[t]
    cls = state.classes
    groups = [cls[ci].group for ci, k in counts.items() for _ in range(k) if cls[ci].group]
    return (
        sum(cls[ci].cpu * k for ci, k in counts.items()) <= ht.cpu_cap_m
        and sum(cls[ci].mem * k for ci, k in counts.items()) <= ht.mem_cap_mib
        and sum(counts.values()) <= ht.vm_cap
        and len(groups) == len(set(groups))
    )


class _Collector(cp_model.CpSolverSolutionCallback):
    """Keeps every solution CP-SAT finds: each improving one is a candidate column."""

    def __init__(self, variables: dict[int, cp_model.IntVar]) -> None:
        super().__init__()
        self.variables = variables
        self.found: list[dict[int, int]] = []

    def on_solution_callback(self) -> None:
        self.found.append({ci: int(self.value(v)) for ci, v in self.variables.items()})


def _exact_columns(
    state: _State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
    time_limit: float,
    hint: dict[int, int] | None = None,
) -> tuple[list[_Pattern], float, bool]:
    """Columns of negative reduced cost by CP-SAT, a bound on the pricing value, and whether
    the search was complete.

    The value of a pattern a is sum_c duals_c a_c minus its variable cost (licences, energy);
    the returned bound is >= the best value over all patterns of (p_index, t). Only patterns
    of negative reduced cost are searched for (value > fixed cost - mu): a decision problem
    that CP-SAT settles much faster than the plain maximisation; when there is none, the
    bound is that threshold.
    """
    problem = state.problem
    ht = problem.host_types[t]
    # VMs of zero dual only add cost (licence and energy costs grow with the VM count).
    items = [ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits]
    items = [ci for ci in items if duals[ci] > EPS]
    threshold = _fixed(state, t) - mu + 1e-6 * max(1.0, abs(_fixed(state, t)))
    if not items:
        return [], 0.0, True
    scale = PRICE_SCALE / max(duals[ci] for ci in items)
    m = cp_model.CpModel()
    a = {ci: m.new_int_var(0, _fit_count(state, ci, t), f"a{ci}") for ci in items}
    _add_capacity(m, state, t, [(a[ci], ci) for ci in items])
    # Gains rounded down and costs up: a pattern found has a truly negative reduced cost.
    gain = cp_model.LinearExpr.weighted_sum(
        [a[ci] for ci in items], [math.floor(duals[ci] * scale) for ci in items]
    )
    costs, rounding = _cost_terms(state, m, t, items, a, scale)
    most_vms = min(ht.vm_cap, sum(_fit_count(state, ci, t) for ci in items))
    value = gain - costs
    m.add(value >= math.ceil(threshold * scale))
    m.maximize(value)
    for ci, k in (hint or {}).items():
        if ci in a:
            m.add_hint(a[ci], k)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, min(time_limit, PRICING_TIME_S))
    solver.parameters.num_workers = 1  # a small knapsack: parallel workers only add overhead
    solver.parameters.random_seed = problem.policy.seed
    collector = _Collector(a)
    status = solver.solve(m, collector)
    if status == cp_model.INFEASIBLE:
        # Every pattern: scaled value < threshold, true value < that + rounding.
        return [], threshold + (most_vms + rounding + 1) / scale, True
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], math.inf, False
    bound = (solver.best_objective_bound + most_vms + rounding + 1) / scale
    cols: list[_Pattern] = []
    for found in reversed(collector.found[-8:]):
        col = _pattern(state, p_index, t, found)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if col.counts and rc < -1e-9 * max(1.0, col.cost):
            cols.append(col)
    return cols, bound, status == cp_model.OPTIMAL


def _add_capacity(
    m: cp_model.CpModel, state: _State, t: int, terms: list[tuple[cp_model.IntVar, int]]
) -> None:
    """One host of type t: CPU, memory and VM-count capacity, one VM per anti-affinity group."""
    ht = state.problem.host_types[t]
    cls = state.classes
    m.add(sum(v * cls[ci].cpu for v, ci in terms) <= ht.cpu_cap_m)
    m.add(sum(v * cls[ci].mem for v, ci in terms) <= ht.mem_cap_mib)
    if sum(_fit_count(state, ci, t) for _, ci in terms) > ht.vm_cap:
        m.add(sum(v for v, _ in terms) <= ht.vm_cap)
    by_group: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for v, ci in terms:
        if cls[ci].group:
            by_group[cls[ci].group].append(v)
    for members in by_group.values():
        if len(members) > 1:
            m.add(sum(members) <= 1)


def _cost_terms(
    state: _State,
    m: cp_model.CpModel,
    t: int,
    items: list[int],
    a: dict[int, cp_model.IntVar],
    scale: float,
) -> tuple[cp_model.LinearExpr, int]:
    """Variable cost of a host of type t (licences by tag count, energy by load), scaled,
    and the most the rounding adds to it (in scaled units).

    Scaled costs are rounded up, so a priced value is never above the true one.
    """
    problem = state.problem
    terms: list[cp_model.LinearExpr] = []
    rounding = 0
    if state.by_hosts:
        return cp_model.LinearExpr.sum(terms), rounding
    ht = problem.host_types[t]
    tags = sorted({tag for ci in items for tag in state.classes[ci].tags})
    for tag in tags:
        tagged = [ci for ci in items if tag in state.classes[ci].tags]
        n_max = min(ht.vm_cap, sum(_fit_count(state, ci, t) for ci in tagged))
        table = _licence_table(state, t, tag, n_max)[: n_max + 1]
        n = m.new_int_var(0, n_max, f"n_{tag}")
        m.add(n == sum(a[ci] for ci in tagged))
        scaled = [math.ceil(x * scale) for x in table]
        rounding += 1
        cost = m.new_int_var(min(scaled), max(scaled), f"lic_{tag}")
        m.add_element(n, scaled, cost)
        terms.append(cost)
    cores_m = 1000 * ht.model.cores
    load_max = sum(state.classes[ci].load * _fit_count(state, ci, t) for ci in items)
    per_m = math.ceil(ht.energy_per_util_cost / cores_m * scale)
    if ht.energy_per_util_cost > 0 and load_max > 0:
        rounding += min(cores_m, load_max)
        load = m.new_int_var(0, load_max, "load")
        m.add(load == sum(a[ci] * state.classes[ci].load for ci in items))
        capped = m.new_int_var(0, min(cores_m, load_max), "capped")
        m.add_min_equality(capped, [load, cores_m])
        terms.append(capped * per_m)
    return cp_model.LinearExpr.sum(terms), rounding


# --------------------------------------------------------------------------- diving


def _dive(
    state: _State, parts: list[int], dive_deadline: float, backtracks: int = 0
) -> Packing | None:
    """Price-and-dive: fix the patterns the LP likes most, re-solve on the rest, repeat.

    One LP over the known patterns is kept; each step lowers the cover rows to the residual
    VMs, adds greedy columns for the residual until none improves, then fixes every pattern
    the LP uses at least once (or else the one it uses most), clipped to what is left. When
    the fixed hosts plus the residual LP cannot beat the incumbent, the last step is undone
    and its pattern banned (at most ``backtracks`` times). Returns a complete packing of
    ``parts``, or None when out of time.
    """
    problem = state.problem
    cls = state.classes
    counts0 = {ci: cls[ci].count for p in parts for ci in state.by_partition[p]}
    caps0 = {
        t.index: t.model.max_count for t in problem.host_types if t.model.max_count is not None
    }
    for p_index in state.bins:
        if p_index not in parts:
            for b in state.bins[p_index]:
                if b.type_index in caps0:
                    caps0[b.type_index] -= 1
    # Aim at the bound for the host count (an integer), at any improvement for the cost.
    if state.by_hosts and state.separable:
        target = sum(state.rounded(state.bound.get(p, 0.0)) for p in parts) + 0.5
    else:
        target = sum(state.value[p] for p in parts)
    lp = _Master(state, [p for p in state.patterns if p.partition in parts])
    for ci in range(len(cls)):
        if ci not in counts0:
            lp.cover[ci].SetLb(0.0)
    steps: list[tuple[list[_Pattern], int]] = []  # fixed patterns, LP column behind the last
    while True:
        residual, caps = dict(counts0), dict(caps0)
        spent = 0.0
        for cols, _ in steps:
            for col in cols:
                spent += col.cost
                for ci, k in col.counts:
                    residual[ci] -= k
                if col.type_index in caps:
                    caps[col.type_index] -= 1
        if not any(residual.values()):
            break
        for t, n in caps.items():
            lp.caps[t].SetUb(float(max(0, n)))
        for ci, n in residual.items():
            lp.cover[ci].SetLb(float(max(0, n)))
        step = _dive_step(state, lp, parts, residual, caps, dive_deadline)
        if step is None:
            return None
        cols, last, z = step
        future = math.ceil(z - 1e-6) if state.by_hosts else z
        if spent + future >= target - 1e-9 * max(1.0, target) and steps and backtracks > 0:
            backtracks -= 1
            _, banned = steps.pop()
            lp.xs[banned].SetUb(0.0)
            continue
        steps.append((cols, last))
    chosen = [(col, 1) for cols, _ in steps for col in cols]
    return _to_packing(state, chosen, parts)


def _clip(state: _State, p: _Pattern, residual: dict[int, int]) -> _Pattern | None:
    counts = {ci: min(k, residual.get(ci, 0)) for ci, k in p.counts}
    counts = {ci: k for ci, k in counts.items() if k > 0}
    if not counts:
        return None
    if len(counts) == len(p.counts):
        return (
            _Pattern(p.partition, p.type_index, p.counts, p.cost)
            if counts == dict(p.counts)
            else _pattern(state, p.partition, p.type_index, counts)
        )
    return _pattern(state, p.partition, p.type_index, counts)


def _dive_step(
    state: _State,
    lp: _Master,
    parts: list[int],
    residual: dict[int, int],
    caps: dict[int, int],
    dive_deadline: float,
) -> tuple[list[_Pattern], int, float] | None:
    """One diving step: the patterns (clipped to the residual) to fix next, the LP column of
    the last one, and the residual LP value (greedy pricing: an estimate, not a bound)."""
    while True:
        if time.perf_counter() > dive_deadline:
            return None
        solved = lp.solve()
        if solved is None:
            return None
        z, duals, mu, values = solved
        added = 0
        for p_index in parts:
            for t in _types_of(state, p_index):
                if t in caps and caps[t] <= 0:
                    continue
                for col in _greedy_columns(state, p_index, t, duals, mu[t], residual):
                    if state.add(col):
                        added += 1
                    if col.key() not in lp.keys:
                        lp.add(col)
        if not added:
            break
    order = sorted(
        (j for j, v in enumerate(values) if v > 1e-6),
        key=lambda j: (-values[j], lp.patterns[j].key()),
    )
    left = dict(residual)
    room = dict(caps)
    out: list[_Pattern] = []
    last = -1
    for j in order:
        n = math.floor(values[j] + 1e-6) if out or values[j] >= 1 - 1e-6 else 1
        if n <= 0:
            break
        for _ in range(n):
            clipped = _clip(state, lp.patterns[j], left)
            t = lp.patterns[j].type_index
            if clipped is None or (t in room and room[t] <= 0):
                break
            col = clipped
            out.append(col)
            last = j
            for ci, k in col.counts:
                left[ci] -= k
            if t in room:
                room[t] -= 1
    return (out, last, z) if out else None


# --------------------------------------------------------------------------- restricted master


def _restricted_master(state: _State, phase_deadline: float, by_class: dict[int, int]) -> None:
    """CP-SAT over the generated patterns, warm-started from the incumbent."""
    problem = state.problem
    parts = [p for p in state.by_partition if not (state.separable and state.done(p))]
    patterns = [p for p in state.patterns if p.partition in parts]
    remaining = phase_deadline - time.perf_counter()
    if remaining <= 0.05 or not patterns:
        return
    m = cp_model.CpModel()
    xs: list[cp_model.IntVar] = []
    for j, p in enumerate(patterns):
        ub = max(math.ceil(state.classes[ci].count / k) for ci, k in p.counts)
        xs.append(m.new_int_var(0, ub, f"x{j}"))
    rows: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    for x, p in zip(xs, patterns, strict=True):
        for ci, k in p.counts:
            rows[ci].append((x, k))
    for ci in (ci for p in parts for ci in state.by_partition[p]):
        m.add(sum(x * k for x, k in rows[ci]) >= state.classes[ci].count)
    for t in problem.host_types:
        if t.model.max_count is not None:
            m.add(
                sum(x for x, p in zip(xs, patterns, strict=True) if p.type_index == t.index)
                <= t.model.max_count
            )
    if state.by_hosts:
        if state.separable:
            for p_index in parts:
                in_part = [x for x, p in zip(xs, patterns, strict=True) if p.partition == p_index]
                m.add(sum(in_part) >= math.ceil(state.bound.get(p_index, 0.0) - 1e-6))
        else:
            m.add(sum(xs) >= math.ceil(state.joint_bound - 1e-6))
        m.minimize(sum(xs))
    else:
        costs = [round(p.cost * COST_SCALE) for p in patterns]
        m.minimize(cp_model.LinearExpr.weighted_sum(xs, costs))
    hint: Counter[PatternKey] = Counter()
    for b in state.packing():
        if b.partition in parts:
            counts = Counter(by_class[i] for i in b.vms)
            hint[(b.partition, b.type_index, tuple(sorted(counts.items())))] += 1
    for x, p in zip(xs, patterns, strict=True):
        m.add_hint(x, hint.get(p.key(), 0))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = problem.policy.workers
    solver.parameters.random_seed = problem.policy.seed
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return
    chosen = [(p, int(solver.value(x))) for x, p in zip(xs, patterns, strict=True)]
    _accept(state, _to_packing(state, chosen, parts))


def _accept(state: _State, packing: Packing) -> None:
    """Keep a packing's partitions where they improve the incumbent (separable) or as a whole."""
    problem = state.problem
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        by_part[b.partition].append(b)
    if state.separable:
        for p_index, bins in by_part.items():
            value = _objective(problem, bins)
            if value < state.value[p_index] - 1e-9 * max(1.0, value):
                state.bins[p_index], state.value[p_index] = bins, value
        return
    # Coupled partitions: replace only the partitions the packing covers, if the whole improves.
    merged = {p: list(state.bins[p]) for p in state.bins}
    merged.update(by_part)
    all_bins = [b for p in sorted(merged) for b in merged[p]]
    if _objective(problem, all_bins) < state.total_value() - 1e-9:
        for p_index, bins in merged.items():
            state.bins[p_index] = bins
            state.value[p_index] = _objective(problem, bins)


def _to_packing(state: _State, chosen: list[tuple[_Pattern, int]], parts: list[int]) -> Packing:
    """Fill the chosen patterns with real VMs; over-covered slots are simply left empty."""
    members = {ci: state.classes[ci].members for p in parts for ci in state.by_partition[p]}
    used = dict.fromkeys(members, 0)  # members of each class already placed
    bins = []
    for p, n in sorted(chosen, key=lambda pn: (pn[0].partition, pn[0].type_index, pn[0].counts)):
        for _ in range(n):
            vms: list[int] = []
            for ci, k in p.counts:
                vms.extend(members[ci][used[ci] : used[ci] + k])
                used[ci] = min(used[ci] + k, len(members[ci]))
            if vms:
                bins.append(HostBin(p.partition, p.type_index, tuple(sorted(vms))))
    left = [ci for ci in members if used[ci] < len(members[ci])]
    if left:  # pragma: no cover - the cover constraints make this impossible
        raise AssertionError(f"classes left unplaced by the pattern plan: {left}")
    return tuple(bins)


# --------------------------------------------------------------------------- assignment


def _assignment_phase(state: _State) -> None:
    """Per small partition with one model to buy: try ``incumbent - 1`` hosts until proven."""
    for p_index in sorted(state.by_partition):
        while not state.done(p_index) and _remaining(state) > 0.05:
            types = _types_of(state, p_index)
            n_vms = sum(state.classes[ci].count for ci in state.by_partition[p_index])
            if len(types) != 1 or n_vms > ASSIGN_MAX_VMS:
                break
            hosts = round(state.value[p_index]) - 1
            outcome = _assign(state, p_index, types[0], hosts)
            if outcome is None:  # out of time: nothing learnt
                break
            if isinstance(outcome, str):  # infeasible: the incumbent is optimal
                state.bound[p_index] = max(state.bound.get(p_index, 0.0), float(hosts + 1))
                break
            state.bins[p_index], state.value[p_index] = outcome, float(len(outcome))


def _conflict_clique(state: _State, p_index: int, t: int) -> list[int]:
    """Classes of VMs, one entry per VM, that pairwise cannot share a host of type t."""
    ht = state.problem.host_types[t]
    cls = state.classes
    vms = sorted(
        (ci for ci in state.by_partition[p_index] for _ in range(cls[ci].count)),
        key=lambda ci: (-max(cls[ci].cpu / ht.cpu_cap_m, cls[ci].mem / ht.mem_cap_mib), ci),
    )

    def clash(a: int, b: int) -> bool:
        ca, cb = cls[a], cls[b]
        return (
            ca.cpu + cb.cpu > ht.cpu_cap_m
            or ca.mem + cb.mem > ht.mem_cap_mib
            or ht.vm_cap < 2
            or bool(ca.group and ca.group == cb.group)
        )

    clique: list[int] = []
    for ci in vms:
        if all(clash(ci, cj) for cj in clique):
            clique.append(ci)
    return clique


def _assign(state: _State, p_index: int, t: int, hosts: int) -> list[HostBin] | str | None:
    """Pack partition p_index onto ``hosts`` hosts of type t: bins, "infeasible", or None."""
    problem = state.problem
    remaining = _remaining(state)
    if hosts <= 0 or remaining <= 0.05:
        return "infeasible" if hosts <= 0 else None
    items = list(state.by_partition[p_index])
    cls = state.classes
    clique = _conflict_clique(state, p_index, t)
    if len(clique) > hosts:
        return "infeasible"
    m = cp_model.CpModel()
    y = {
        (ci, b): m.new_int_var(0, _fit_count(state, ci, t), f"y{ci}_{b}")
        for ci in items
        for b in range(hosts)
    }
    for ci in items:
        m.add(sum(y[ci, b] for b in range(hosts)) == cls[ci].count)
    for b in range(hosts):
        _add_capacity(m, state, t, [(y[ci, b], ci) for ci in items])
    # Symmetry: clique VMs on hosts 0..q-1; the other hosts in decreasing CPU then memory load.
    for b, ci in enumerate(clique):
        m.add(y[ci, b] >= 1)
    free = list(range(len(clique), hosts))
    loads = {b: sum(y[ci, b] * cls[ci].cpu for ci in items) for b in free}
    for b, b2 in itertools.pairwise(free):
        m.add(loads[b] >= loads[b2])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = problem.policy.workers
    solver.parameters.random_seed = problem.policy.seed
    status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        return "infeasible"
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    queues = {ci: list(cls[ci].members) for ci in items}
    bins = []
    for b in range(hosts):
        vms: list[int] = []
        for ci in items:
            k = int(solver.value(y[ci, b]))
            take, queues[ci] = queues[ci][:k], queues[ci][k:]
            vms.extend(take)
        if vms:
            bins.append(HostBin(p_index, t, tuple(sorted(vms))))
    return bins
