"""The exact engine: column generation for the lower bound, CP-SAT over host patterns for the plan.

A *pattern* is one host: a model and how many VMs of each class it runs (a class is a set of
VMs with identical demand and constraints). Every plan is a multiset of patterns, so

    minimise  sum_p cost_p x_p
    s.t.      sum_p a_cp x_p >= count_c      for every VM class c
              sum_{p of model t} x_p <= max_count_t
              x_p integer >= 0

is the whole problem (Gilmore–Gomory). Its LP relaxation, solved by column generation, gives
the strongest cheap lower bound known for bin packing (the optimum is almost always the LP
value rounded up). Columns are priced first greedily, then exactly by a small CP-SAT model per
(partition, model). The integer plan is then found by CP-SAT over the generated patterns,
warm-started from first-fit decreasing, with the bound as a cut: when it reaches the bound,
the plan is proven optimal.

The model size depends on the number of distinct VM classes, not on the number of VMs, so
100,000 VMs of a few hundred sizes make a small model. No CP-SAT or LP object leaves here.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from planner.bounds import lower_bounds
from planner.costs import licence_for_tag
from planner.models import HostType, Problem
from planner.packing import HostBin, Packing, packing_objective

__all__ = ["ExactResult", "improve"]

EPS = 1e-7
COST_SCALE = 100  # cents: CP-SAT needs integer costs


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


@dataclass
class _Pattern:
    partition: int
    type_index: int
    counts: dict[int, int]  # class index -> VMs
    cost: float

    def key(self) -> tuple[int, int, tuple[tuple[int, int], ...]]:
        return (self.partition, self.type_index, tuple(sorted(self.counts.items())))


@dataclass
class _State:
    problem: Problem
    classes: list[_Class]
    by_partition: dict[int, list[int]]
    patterns: list[_Pattern] = field(default_factory=list)
    seen: set[tuple[int, int, tuple[tuple[int, int], ...]]] = field(default_factory=set)
    licence_tables: dict[tuple[int, str], list[float]] = field(default_factory=dict)

    def add(self, p: _Pattern) -> bool:
        k = p.key()
        if k in self.seen or not p.counts:
            return False
        self.seen.add(k)
        self.patterns.append(p)
        return True


Progress = Callable[[str, float | None, float | None], None]


def improve(
    problem: Problem,
    incumbent: Packing,
    time_limit: float,
    progress: Progress | None = None,
) -> ExactResult:
    """Lower bound by column generation, then the best plan CP-SAT finds over the patterns.

    ``incumbent`` (first-fit decreasing) is a column set and the warm start: the result is
    never worse than it. ``time_limit`` is in seconds, for both phases together.
    """
    start = time.perf_counter()
    deadline = start + time_limit
    state = _State(problem, *_classes(problem))
    by_class = _class_of(state)
    ub_value = _objective(problem, incumbent)
    for b in incumbent:
        if b.vms:
            counts = Counter(by_class[i] for i in b.vms)
            state.add(_pattern(state, b.partition, b.type_index, dict(counts)))
    _add_singletons(state)

    # Column generation: leave at least 40 % of the time for the integer phase.
    cg_deadline = start + 0.6 * time_limit
    bound, converged, iterations = _column_generation(state, ub_value, len(incumbent), cg_deadline)
    bound = max(bound, _trivial_bound(problem))
    if problem.policy.objective == "hosts":
        bound = math.ceil(bound - 1e-6)
    if progress:
        progress("lower bound", ub_value, bound)

    best, best_value = incumbent, ub_value
    if best_value > bound + _tolerance(bound):
        found = _integer_master(state, incumbent, bound, deadline)
        if found is not None:
            value = _objective(problem, found)
            if value < best_value - 1e-9:
                best, best_value = found, value
    if progress:
        progress("integer", best_value, bound)
    return ExactResult(
        packing=best,
        bound=min(bound, best_value),
        proven=best_value <= bound + _tolerance(bound),
        converged=converged,
        columns=len(state.patterns),
        iterations=iterations,
    )


def _tolerance(bound: float) -> float:
    return 1e-6 * max(1.0, abs(bound))


def _objective(problem: Problem, packing: Sequence[HostBin]) -> float:
    return packing_objective(problem, [b for b in packing if b.vms])[0]


def _trivial_bound(problem: Problem) -> float:
    b = lower_bounds(problem)
    if problem.policy.objective == "hosts":
        return float(sum(b.partition_hosts))
    return 0.0


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
    return classes, by_partition


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


def _pattern_cost(state: _State, t: int, counts: dict[int, int]) -> float:
    problem = state.problem
    if problem.policy.objective == "hosts":
        return 1.0
    ht = problem.host_types[t]
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
    counts = {c: k for c, k in counts.items() if k > 0}
    return _Pattern(partition, t, counts, _pattern_cost(state, t, counts))


def _add_singletons(state: _State) -> None:
    """One pattern per class holding as many of its VMs as one host of a fitting type can."""
    for ci, c in enumerate(state.classes):
        for t in c.fits:
            ht = state.problem.host_types[t]
            k = min(c.count, ht.cpu_cap_m // c.cpu, ht.mem_cap_mib // c.mem, ht.vm_cap)
            if c.group:
                k = min(k, 1)
            state.add(_pattern(state, c.partition, t, {ci: max(k, 1)}))


# --------------------------------------------------------------------------- column generation


def _column_generation(
    state: _State, ub_value: float, ub_hosts: int, deadline: float
) -> tuple[float, bool, int]:
    """Solve the LP relaxation by column generation; returns (bound, converged, iterations)."""
    problem = state.problem
    best_bound = 0.0
    iterations = 0
    while time.perf_counter() < deadline:
        iterations += 1
        lp = _solve_lp(state)
        if lp is None:
            return best_bound, False, iterations
        z, duals, mu = lp
        added = 0
        for p_index in state.by_partition:
            for t in _types_of(state, p_index):
                col = _greedy_column(state, p_index, t, duals, mu[t])
                if col is not None and state.add(col):
                    added += 1
        if added:
            continue
        # No greedy column improves: price exactly, which also yields a valid bound.
        exact_min_rc: list[tuple[int, int, float]] = []
        for p_index in state.by_partition:
            for t in _types_of(state, p_index):
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return best_bound, False, iterations
                col, rc_bound = _exact_column(state, p_index, t, duals, mu[t], remaining)
                exact_min_rc.append((p_index, t, rc_bound))
                if col is not None and state.add(col):
                    added += 1
        lagrange = z + sum(
            min(0.0, rc) * _max_hosts(state, p, t, ub_hosts) for p, t, rc in exact_min_rc
        )
        best_bound = max(best_bound, lagrange)
        if not added:
            return max(best_bound, z - 1e-9 * max(1.0, z)), True, iterations
        if problem.policy.objective == "hosts" and math.ceil(best_bound - 1e-6) >= ub_value:
            return best_bound, False, iterations
    return best_bound, False, iterations


def _types_of(state: _State, p_index: int) -> list[int]:
    """Host types worth pricing for a partition: those no other type dominates.

    Type u dominates t when it holds at least as much in every dimension, can run every VM t
    can, has no ``max_count`` cap, and costs no more (any host: the ``hosts`` objective).
    Replacing t by u in any plan keeps it feasible and no worse, so t's columns never help.
    """
    types = sorted({t for ci in state.by_partition[p_index] for t in state.classes[ci].fits})
    hts = state.problem.host_types
    by_count = state.problem.policy.objective == "hosts"
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


def _max_hosts(state: _State, p_index: int, t: int, ub_hosts: int) -> int:
    """How many hosts of type t partition p can use in an optimal plan (for the bound)."""
    n = sum(state.classes[ci].count for ci in state.by_partition[p_index])
    cap = state.problem.host_types[t].model.max_count
    limit = min(n, cap if cap is not None else n)
    if state.problem.policy.objective == "hosts":
        limit = min(limit, ub_hosts)
    return limit


def _solve_lp(state: _State) -> tuple[float, list[float], dict[int, float]] | None:
    problem = state.problem
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        return None
    xs = [solver.NumVar(0.0, solver.infinity(), "") for _ in state.patterns]
    cover = []
    for ci, c in enumerate(state.classes):
        row = solver.Constraint(float(c.count), solver.infinity())
        cover.append(row)
        del ci
    for x, p in zip(xs, state.patterns, strict=True):
        for ci, k in p.counts.items():
            cover[ci].SetCoefficient(x, float(k))
    caps: dict[int, pywraplp.Constraint] = {}
    for t in problem.host_types:
        if t.model.max_count is not None:
            caps[t.index] = solver.Constraint(0.0, float(t.model.max_count))
    for x, p in zip(xs, state.patterns, strict=True):
        if p.type_index in caps:
            caps[p.type_index].SetCoefficient(x, 1.0)
    objective = solver.Objective()
    for x, p in zip(xs, state.patterns, strict=True):
        objective.SetCoefficient(x, p.cost)
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    duals = [max(0.0, row.dual_value()) for row in cover]
    mu = {t.index: 0.0 for t in problem.host_types}
    for t_index, row in caps.items():
        mu[t_index] = min(0.0, row.dual_value())
    return solver.Objective().Value(), duals, mu


def _greedy_column(
    state: _State, p_index: int, t: int, duals: list[float], mu: float
) -> _Pattern | None:
    """A column by greedy knapsack on dual value per unit of (normalised) size."""
    ht: HostType = state.problem.host_types[t]
    items = [
        ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits and duals[ci] > EPS
    ]

    def density(ci: int) -> float:
        c = state.classes[ci]
        return duals[ci] / (c.cpu / ht.cpu_cap_m + c.mem / ht.mem_cap_mib)

    cpu, mem, slots = ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap
    groups: set[str] = set()
    counts: dict[int, int] = {}
    for ci in sorted(items, key=density, reverse=True):
        c = state.classes[ci]
        if c.group and c.group in groups:
            continue
        k = min(c.count, cpu // c.cpu, mem // c.mem, slots)
        if c.group:
            k = min(k, 1)
        if k <= 0:
            continue
        counts[ci] = k
        cpu -= k * c.cpu
        mem -= k * c.mem
        slots -= k
        if c.group:
            groups.add(c.group)
    if not counts:
        return None
    col = _pattern(state, p_index, t, counts)
    rc = col.cost - sum(duals[ci] * k for ci, k in counts.items()) - mu
    return col if rc < -1e-9 * max(1.0, col.cost) else None


def _exact_column(
    state: _State, p_index: int, t: int, duals: list[float], mu: float, time_limit: float
) -> tuple[_Pattern | None, float]:
    """The column of least reduced cost by CP-SAT; returns it (if negative) and a bound on it."""
    problem = state.problem
    ht = problem.host_types[t]
    items = [ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits]
    scale = 10**6 / max(1.0, max((duals[ci] for ci in items), default=1.0))
    m = cp_model.CpModel()
    a = {}
    for ci in items:
        c = state.classes[ci]
        ub = min(c.count, ht.cpu_cap_m // c.cpu, ht.mem_cap_mib // c.mem, ht.vm_cap)
        a[ci] = m.new_int_var(0, min(ub, 1) if c.group else ub, f"a{ci}")
    m.add(sum(a[ci] * state.classes[ci].cpu for ci in items) <= ht.cpu_cap_m)
    m.add(sum(a[ci] * state.classes[ci].mem for ci in items) <= ht.mem_cap_mib)
    m.add(sum(a.values()) <= ht.vm_cap)
    by_group: dict[str, list[int]] = defaultdict(list)
    for ci in items:
        if state.classes[ci].group:
            by_group[state.classes[ci].group].append(ci)
    for members in by_group.values():
        if len(members) > 1:
            m.add(sum(a[ci] for ci in members) <= 1)
    gain = cp_model.LinearExpr.weighted_sum(
        [a[ci] for ci in items], [round(duals[ci] * scale) for ci in items]
    )
    m.maximize(gain - _cost_terms(state, m, t, items, a, scale))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, min(time_limit, 1.0))
    solver.parameters.num_workers = 1  # a small knapsack: parallel workers only add overhead
    solver.parameters.random_seed = problem.policy.seed
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, -math.inf
    fixed = 1.0 if problem.policy.objective == "hosts" else ht.fixed_cost
    # Reduced cost bound: fixed cost minus the best achievable (gain - variable cost).
    slack = len(items) / scale  # rounding of the duals, at most 0.5 per unit per item
    rc_bound = fixed - mu - solver.best_objective_bound / scale - slack
    counts = {ci: int(solver.value(a[ci])) for ci in items if solver.value(a[ci]) > 0}
    if not counts:
        return None, min(0.0, rc_bound)
    col = _pattern(state, p_index, t, counts)
    rc = col.cost - sum(duals[ci] * k for ci, k in counts.items()) - mu
    return (col if rc < -1e-9 * max(1.0, col.cost) else None), min(rc_bound, rc)


def _cost_terms(
    state: _State,
    m: cp_model.CpModel,
    t: int,
    items: list[int],
    a: dict[int, cp_model.IntVar],
    scale: float,
) -> cp_model.LinearExpr:
    """Variable cost of a host of type t (licences by tag count, energy by load), scaled."""
    problem = state.problem
    terms: list[cp_model.LinearExpr] = []
    if problem.policy.objective == "hosts":
        return cp_model.LinearExpr.sum(terms)
    ht = problem.host_types[t]
    tags = sorted({tag for ci in items for tag in state.classes[ci].tags})
    for tag in tags:
        tagged = [ci for ci in items if tag in state.classes[ci].tags]
        n_max = min(ht.vm_cap, sum(state.classes[ci].count for ci in tagged))
        table = _licence_table(state, t, tag, n_max)[: n_max + 1]
        n = m.new_int_var(0, n_max, f"n_{tag}")
        m.add(n == sum(a[ci] for ci in tagged))
        cost = m.new_int_var(0, round(max(table) * scale) + 1, f"lic_{tag}")
        m.add_element(n, [round(x * scale) for x in table], cost)
        terms.append(cost)
    cores_m = 1000 * ht.model.cores
    load_max = sum(state.classes[ci].load * state.classes[ci].count for ci in items)
    if ht.energy_per_util_cost > 0 and load_max > 0:
        load = m.new_int_var(0, load_max, "load")
        m.add(load == sum(a[ci] * state.classes[ci].load for ci in items))
        capped = m.new_int_var(0, cores_m, "capped")
        m.add_min_equality(capped, [load, cores_m])
        # Floor keeps the priced cost optimistic, so the pricing bound stays valid.
        terms.append(capped * math.floor(ht.energy_per_util_cost / cores_m * scale))
    return cp_model.LinearExpr.sum(terms)


# --------------------------------------------------------------------------- integer phase


def _integer_master(
    state: _State, incumbent: Packing, bound: float, deadline: float
) -> Packing | None:
    """CP-SAT over the generated patterns, warm-started from the incumbent."""
    problem = state.problem
    remaining = deadline - time.perf_counter()
    if remaining <= 0.05:
        return None
    m = cp_model.CpModel()
    xs = []
    for j, p in enumerate(state.patterns):
        ub = max((math.ceil(state.classes[ci].count / k) for ci, k in p.counts.items()), default=0)
        xs.append(m.new_int_var(0, ub, f"x{j}"))
    for ci, c in enumerate(state.classes):
        m.add(
            sum(xs[j] * p.counts[ci] for j, p in enumerate(state.patterns) if ci in p.counts)
            >= c.count
        )
    for t in problem.host_types:
        if t.model.max_count is not None:
            m.add(
                sum(xs[j] for j, p in enumerate(state.patterns) if p.type_index == t.index)
                <= t.model.max_count
            )
    if problem.policy.objective == "hosts":
        m.add(cp_model.LinearExpr.sum(xs) >= math.ceil(bound - 1e-6))
        m.minimize(cp_model.LinearExpr.sum(xs))
    else:
        costs = [round(p.cost * COST_SCALE) for p in state.patterns]
        m.minimize(cp_model.LinearExpr.weighted_sum(xs, costs))
    by_class = _class_of(state)
    hint: Counter[tuple[int, int, tuple[tuple[int, int], ...]]] = Counter()
    for b in incumbent:
        if b.vms:
            counts = Counter(by_class[i] for i in b.vms)
            hint[(b.partition, b.type_index, tuple(sorted(counts.items())))] += 1
    for x, p in zip(xs, state.patterns, strict=True):
        m.add_hint(x, hint.get(p.key(), 0))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = problem.policy.workers
    solver.parameters.random_seed = problem.policy.seed
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    chosen = [(p, int(solver.value(x))) for x, p in zip(xs, state.patterns, strict=True)]
    return _to_packing(state, chosen)


def _to_packing(state: _State, chosen: list[tuple[_Pattern, int]]) -> Packing:
    """Fill the chosen patterns with real VMs; over-covered slots are simply left empty."""
    queues = {ci: list(c.members) for ci, c in enumerate(state.classes)}
    bins = []
    for p, n in sorted(chosen, key=lambda pn: (pn[0].partition, pn[0].type_index)):
        for _ in range(n):
            vms: list[int] = []
            for ci, k in sorted(p.counts.items()):
                take, queues[ci] = queues[ci][:k], queues[ci][k:]
                vms.extend(take)
            if vms:
                bins.append(HostBin(p.partition, p.type_index, tuple(sorted(vms))))
    left = [ci for ci, q in queues.items() if q]
    if left:  # pragma: no cover - the cover constraints make this impossible
        raise AssertionError(f"classes left unplaced by the pattern plan: {left}")
    return tuple(bins)
