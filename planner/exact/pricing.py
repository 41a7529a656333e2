"""Pricing: the most valuable host pattern under the LP duals, three ways.

- greedy fills under several density orders (fast, no bound);
- dynamic programming over a (coarse) capacity grid with numpy (exact when the grid is the
  sizes' gcd; otherwise a rounded-up column and a rounded-down bound);
- a small CP-SAT knapsack (licences and energy included), whose proven bound is valid.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from planner.exact.classes import (
    Pattern,
    PatternKey,
    State,
    fit_count,
    fits,
    host_fixed_cost,
    licence_table,
    make_pattern,
    run_cp_sat,
)
from planner.tolerances import DUAL_EPS, PRICING_REL_TOL, REDUCED_COST_TOL, SCORE_EPS

__all__ = ["add_capacity", "dp_columns", "exact_columns", "fill", "greedy_columns"]

PRICE_SCALE = 10**8  # scaled value of the largest dual in the pricing knapsack


GREEDY_SEEDS = 12  # seeded greedy columns per (partition, model) and round


COLUMNS_PER_ROUND = 40  # most greedy columns kept per (partition, model) and round


DP_WORK = 4_000_000  # grid cells x knapsack steps one dynamic-programming pricing may touch


PRICING_WORK = 300_000  # most work units (CP-SAT deterministic time) one pricing call may take
GREEDY_WORK = 1.0  # work units per class and fill of the greedy pricing
DP_CELL_WORK = 0.004  # work units per grid cell and step of the DP pricing (numpy)


def greedy_columns(
    state: State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
    avail: dict[int, int] | None = None,
) -> list[Pattern]:
    """Columns of negative reduced cost by greedy knapsack fills under several orders.

    ``avail`` limits the VMs of each class (the residual of a dive); default: the class count.
    """
    ht = state.problem.host_types[t]
    items = _priceable(state, p_index, t, duals, avail)
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

    state.spend(GREEDY_WORK * len(items) * (6 + GREEDY_SEEDS) + 10)
    orders = [sorted(items, key=key, reverse=True) for key in (by_sum, by_max, by_value)]
    fills: list[dict[int, int]] = [fill(state, t, order, {}, avail) for order in orders]
    for seed in orders[2][:GREEDY_SEEDS]:
        fills.append(fill(state, t, orders[0], {seed: 1}, avail))
    found: dict[PatternKey, tuple[float, Pattern]] = {}
    for counts in fills:
        if not counts:
            continue
        col = make_pattern(state, p_index, t, counts)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if rc < -REDUCED_COST_TOL * max(1.0, col.cost) and (
            avail is not None or col.key() not in state.seen
        ):
            found[col.key()] = (rc, col)
    best = sorted(found.values(), key=lambda rc_col: (rc_col[0], rc_col[1].counts))
    return [col for _, col in best[:COLUMNS_PER_ROUND]]


def fill(
    state: State,
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


def _dp_steps(state: State, items: list[int], t: int) -> list[_Step]:
    """Knapsack steps: counts split in binary pieces; an anti-affinity group is one step."""
    cls = state.classes
    steps: list[_Step] = []
    by_group: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ci in items:
        n = fit_count(state, ci, t)
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
    state: State,
    t: int,
    steps: list[_Step],
    duals: list[float],
    grid: tuple[int, int],
    up: bool,
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
            better = cand > dp[w1:, w2:] + SCORE_EPS
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
            better = cand > dp[w1:, w2:] + SCORE_EPS
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


def _dp_grid(state: State, items: list[int], t: int, steps: int) -> tuple[tuple[int, int], bool]:
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


def dp_columns(
    state: State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
) -> tuple[list[Pattern], float, bool]:
    """Pricing by dynamic programming over a (coarse) capacity grid.

    Returns columns of negative reduced cost (from the rounded-up grid: they fit), an upper
    bound on the pricing value (from the rounded-down grid, variable costs left out: a
    relaxation), and whether the grid is exact (then the bound is the exact value).
    """
    items = _priceable(state, p_index, t, duals, None)
    if not items:
        return [], 0.0, True
    steps = _dp_steps(state, items, t)
    grid, exact = _dp_grid(state, items, t, len(steps))
    ht = state.problem.host_types[t]
    cells = (ht.cpu_cap_m // grid[0] + 1) * (ht.mem_cap_mib // grid[1] + 1)
    state.spend(DP_CELL_WORK * cells * len(steps) * (1 if exact else 2) + 20)
    value_up, counts = _dp_knapsack(state, t, steps, duals, grid, up=True)
    bound = value_up
    if not exact:
        bound, _ = _dp_knapsack(state, t, steps, duals, grid, up=False)
    cols: list[Pattern] = []
    if counts and fits(state, t, counts):
        col = make_pattern(state, p_index, t, counts)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if rc < -REDUCED_COST_TOL * max(1.0, col.cost):
            cols.append(col)
    # Exact only when no rule the grid ignores can bind (costs, the VM count).
    slots = sum(k for step in steps for _, k in step.options[:1])
    return cols, bound, exact and state.by_hosts and slots <= ht.vm_cap


class _Collector(cp_model.CpSolverSolutionCallback):
    """Keeps every solution CP-SAT finds: each improving one is a candidate column."""

    def __init__(self, variables: dict[int, cp_model.IntVar]) -> None:
        super().__init__()
        self.variables = variables
        self.found: list[dict[int, int]] = []

    def on_solution_callback(self) -> None:
        self.found.append({ci: int(self.value(v)) for ci, v in self.variables.items()})


def exact_columns(
    state: State,
    p_index: int,
    t: int,
    duals: list[float],
    mu: float,
    work: float,
    hint: dict[int, int] | None = None,
) -> tuple[list[Pattern], float, bool]:
    """Columns of negative reduced cost by CP-SAT, a bound on the pricing value, and whether
    the search was complete.

    The value of a pattern a is sum_c duals_c a_c minus its variable cost (licences, energy);
    the returned bound is >= the best value over all patterns of (p_index, t). Only patterns
    of negative reduced cost are searched for (value > fixed cost - mu): a decision problem
    that CP-SAT settles much faster than the plain maximisation; when there is none, the
    bound is that threshold. ``work`` caps the work units (CP-SAT deterministic time).
    """
    problem = state.problem
    ht = problem.host_types[t]
    # VMs of zero dual only add cost (licence and energy costs grow with the VM count).
    items = [ci for ci in state.by_partition[p_index] if t in state.classes[ci].fits]
    items = [ci for ci in items if duals[ci] > DUAL_EPS]
    fixed = host_fixed_cost(state, t, p_index)
    threshold = fixed - mu + PRICING_REL_TOL * max(1.0, abs(fixed))
    if not items:
        return [], 0.0, True
    scale = PRICE_SCALE / max(duals[ci] for ci in items)
    m = cp_model.CpModel()
    a = {ci: m.new_int_var(0, fit_count(state, ci, t), f"a{ci}") for ci in items}
    add_capacity(m, state, t, [(a[ci], ci) for ci in items])
    # Gains rounded down and costs up: a pattern found has a truly negative reduced cost.
    gain = cp_model.LinearExpr.weighted_sum(
        [a[ci] for ci in items], [math.floor(duals[ci] * scale) for ci in items]
    )
    costs, rounding = _cost_terms(state, m, t, items, a, scale)
    most_vms = min(ht.vm_cap, sum(fit_count(state, ci, t) for ci in items))
    value = gain - costs
    m.add(value >= math.ceil(threshold * scale))
    m.maximize(value)
    for ci, k in (hint or {}).items():
        if ci in a:
            m.add_hint(a[ci], k)
    collector = _Collector(a)
    solver, status = run_cp_sat(state, m, max(50_000.0, min(work, PRICING_WORK)), collector)
    if status == cp_model.INFEASIBLE:
        # Every pattern: scaled value < threshold, true value < that + rounding.
        return [], threshold + (most_vms + rounding + 1) / scale, True
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], math.inf, False
    bound = (solver.best_objective_bound + most_vms + rounding + 1) / scale
    cols: list[Pattern] = []
    for found in reversed(collector.found[-8:]):
        col = make_pattern(state, p_index, t, found)
        rc = col.cost - sum(duals[ci] * k for ci, k in col.counts) - mu
        if col.counts and rc < -REDUCED_COST_TOL * max(1.0, col.cost):
            cols.append(col)
    return cols, bound, status == cp_model.OPTIMAL


def add_capacity(
    m: cp_model.CpModel, state: State, t: int, terms: list[tuple[cp_model.IntVar, int]]
) -> None:
    """One host of type t: CPU, memory and VM-count capacity, one VM per anti-affinity group."""
    ht = state.problem.host_types[t]
    cls = state.classes
    m.add(sum(v * cls[ci].cpu for v, ci in terms) <= ht.cpu_cap_m)
    m.add(sum(v * cls[ci].mem for v, ci in terms) <= ht.mem_cap_mib)
    if sum(fit_count(state, ci, t) for _, ci in terms) > ht.vm_cap:
        m.add(sum(v for v, _ in terms) <= ht.vm_cap)
    by_group: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    for v, ci in terms:
        if cls[ci].group:
            by_group[cls[ci].group].append(v)
    for members in by_group.values():
        if len(members) > 1:
            m.add(sum(members) <= 1)


def _cost_terms(
    state: State,
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
        n_max = min(ht.vm_cap, sum(fit_count(state, ci, t) for ci in tagged))
        table = licence_table(state, t, tag, n_max)[: n_max + 1]
        n = m.new_int_var(0, n_max, f"n_{tag}")
        m.add(n == sum(a[ci] for ci in tagged))
        scaled = [math.ceil(x * scale) for x in table]
        rounding += 1
        cost = m.new_int_var(min(scaled), max(scaled), f"lic_{tag}")
        m.add_element(n, scaled, cost)
        terms.append(cost)
    cores_m = 1000 * ht.model.cores
    load_max = sum(state.classes[ci].load * fit_count(state, ci, t) for ci in items)
    per_m = math.ceil(ht.energy_per_util_cost / cores_m * scale)
    if ht.energy_per_util_cost > 0 and load_max > 0:
        rounding += min(cores_m, load_max)
        load = m.new_int_var(0, load_max, "load")
        m.add(load == sum(a[ci] * state.classes[ci].load for ci in items))
        capped = m.new_int_var(0, min(cores_m, load_max), "capped")
        m.add_min_equality(capped, [load, cores_m])
        terms.append(capped * per_m)
    return cp_model.LinearExpr.sum(terms), rounding


def _priceable(
    state: State, p_index: int, t: int, duals: list[float], avail: dict[int, int] | None
) -> list[int]:
    """Classes of the partition that type t can run, with a positive dual and VMs left."""
    return [
        ci
        for ci in state.by_partition[p_index]
        if t in state.classes[ci].fits
        and duals[ci] > DUAL_EPS
        and (avail is None or avail.get(ci, 0) > 0)
    ]
