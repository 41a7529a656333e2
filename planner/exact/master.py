"""The LP relaxation (Gilmore–Gomory master) and column generation with valid bounds.

    minimise  sum_p cost_p x_p
    s.t.      sum_p a_cp x_p >= count_c      for every VM class c
              sum_{p of model t} x_p <= max_count_t
              x_p >= 0

A persistent GLOP master is re-solved after each pricing round. Every round that prices
exactly gives valid lower bounds (Farley's ratio bound and the Lagrangian bound), per
partition when no ``max_count`` couples the partitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ortools.linear_solver import pywraplp

from planner.exact.classes import (
    LP_ENTRY_WORK,
    LP_READ_WORK,
    LPSolution,
    Pattern,
    PatternKey,
    State,
    host_fixed_cost,
    lp_work,
    max_hosts,
    proven,
    types_of,
)
from planner.exact.kernels import applies, bb_columns
from planner.exact.pricing import dp_columns, exact_columns, greedy_columns
from planner.tolerances import DUAL_EPS, REDUCED_COST_TOL

__all__ = ["Master", "column_generation", "exchanges", "update_bounds"]

EXCHANGES_PER_CLASS = 3  # dual-optimal inequalities kept per class
SMOOTHING = 0.5  # Wentges: weight of the best-bound duals in the point priced (cost objective)


class Master:
    """The LP relaxation over the patterns so far, kept between rounds (GLOP re-solves)."""

    def __init__(self, state: State, patterns: list[Pattern]) -> None:
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
        self.patterns: list[Pattern] = []
        self.keys: set[PatternKey] = set()
        for p in patterns:
            self.add(p)
        for big, small in exchanges(state):
            # A slot of a bigger VM may hold a smaller one: dual-optimal inequalities
            # (duals of bigger VMs >= smaller ones) that cut the degenerate tail of the LP.
            y = solver.NumVar(0.0, solver.infinity(), "")
            self.cover[small].SetCoefficient(y, 1.0)
            self.cover[big].SetCoefficient(y, -1.0)

    def add(self, p: Pattern) -> None:
        self.state.spend(LP_ENTRY_WORK * (2 + len(p.counts)))
        self.patterns.append(p)
        self.keys.add(p.key())
        x = self.solver.NumVar(0.0, self.solver.infinity(), "")
        for ci, k in p.counts:
            self.cover[ci].SetCoefficient(x, float(k))
        if p.type_index in self.caps:
            self.caps[p.type_index].SetCoefficient(x, 1.0)
        self.solver.Objective().SetCoefficient(x, p.cost)
        self.xs.append(x)

    def solve(self) -> LPSolution | None:
        """(value, cover duals, max_count duals by type, primal values) or None."""
        self.solver.Objective().SetMinimization()
        status = self.solver.Solve()
        self.state.spend(lp_work(self.solver, len(self.cover)) + LP_READ_WORK * len(self.xs))
        if status != pywraplp.Solver.OPTIMAL:
            return None
        duals = [max(0.0, row.dual_value()) for row in self.cover]
        mu = {t.index: 0.0 for t in self.state.problem.host_types}
        for t_index, row in self.caps.items():
            mu[t_index] = min(0.0, row.dual_value())
        values = [x.solution_value() for x in self.xs]
        return self.solver.Objective().Value(), duals, mu, values


def exchanges(state: State) -> list[tuple[int, int]]:
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


def column_generation(state: State, cg_until: float) -> tuple[bool, int]:
    """Solve the LP relaxation by column generation; returns (converged, iterations).

    Greedy pricing runs first; exact pricing only when it finds nothing. Every exact round
    gives valid bounds, so the loop also stops once every partition's incumbent meets its
    bound. Stops when the work clock reaches ``cg_until``.
    """
    assert state.lp is not None
    iterations = 0
    center: tuple[list[float], dict[int, float]] | None = None  # duals of the best bound
    center_bound = -math.inf  # that bound (this run's own, before the cheap bounds)
    while state.clock() < cg_until:
        if proven(state):
            return False, iterations
        iterations += 1
        lp = state.lp.solve()
        if lp is None:
            return False, iterations
        _, lp_duals, lp_mu, _ = lp
        active = [p for p in state.by_partition if not (state.separable and state.done(p))]
        # Wentges smoothing (cost objective): price at a point between the LP's duals and
        # those that gave the best bound so far; where that finds no column (a mis-price),
        # price at the LP's duals. Any duals give valid bounds.
        points = [(lp_duals, lp_mu)]
        if center is not None and not state.by_hosts:
            a = SMOOTHING
            smooth = [a * c + (1 - a) * d for c, d in zip(center[0], lp_duals, strict=True)]
            smooth_mu = {t: a * center[1][t] + (1 - a) * m for t, m in lp_mu.items()}
            points.insert(0, (smooth, smooth_mu))
        for duals, mu in points:
            added, values, all_exact = _price(state, active, duals, mu, cg_until)
            if added is None:
                return False, iterations
            if values is not None:
                bound = update_bounds(state, duals, mu, values, active)
                if center is None or bound > center_bound:
                    center, center_bound = (duals, mu), bound
            if added:
                break
        else:  # no column at the LP's duals: the bounds above are the LP value
            return all_exact, iterations
    return False, iterations


def _price(
    state: State,
    active: list[int],
    duals: list[float],
    mu: dict[int, float],
    cg_until: float,
) -> tuple[int | None, dict[tuple[int, int], float] | None, bool]:
    """One pricing round at ``duals``: (columns added, or None when the work ran out; the
    pricing values when the round priced exactly, else None; whether every pricing was
    complete). Greedy first; exact pricing only when it finds nothing."""
    added = 0
    for p_index in active:
        for t in types_of(state, p_index):
            for col in greedy_columns(state, p_index, t, duals, mu[t]):
                added += state.add(col)
    if added:
        return added, None, False
    # No greedy column improves: price by DP on a capacity grid (exact when the sizes
    # allow, else a rounded-up column and a rounded-down bound), then by CP-SAT where
    # the grid leaves the answer open. Both give valid bounds.
    values: dict[tuple[int, int], float] = {}
    all_exact = True
    for p_index in active:
        for t in types_of(state, p_index):
            exact = False
            if applies(state):  # branch and bound: exact in milliseconds
                cols, values[p_index, t], exact = bb_columns(state, p_index, t, duals)
            if exact:
                pass
            elif state.by_hosts:
                cols, values[p_index, t], exact = dp_columns(state, p_index, t, duals, mu[t])
            else:  # licences and energy: the grid knows nothing of them
                cols, values[p_index, t], exact = [], math.inf, False
            for col in cols:
                added += state.add(col)
            if exact or values[p_index, t] + mu[t] <= host_fixed_cost(state, t, p_index) * (
                1 + REDUCED_COST_TOL
            ):
                continue
            remaining = state.left(cg_until)
            if remaining <= 0:
                return None, None, False
            hint = dict(cols[0].counts) if cols else None
            cols, bound, exact = exact_columns(state, p_index, t, duals, mu[t], remaining, hint)
            values[p_index, t] = min(values[p_index, t], bound)
            all_exact = all_exact and exact
            for col in cols:
                added += state.add(col)
    return added, values, all_exact


def update_bounds(
    state: State,
    duals: list[float],
    mu: dict[int, float],
    values: dict[tuple[int, int], float],
    active: list[int],
) -> float:
    """Farley and Lagrangian bounds from duals and upper bounds on the pricing values.

    ``values[p, t]`` bounds max over patterns a of (sum_c duals_c a_c - variable cost(a)).
    Scaling the duals by theta <= 1 so that every column's reduced cost is >= 0 gives a
    feasible dual, hence the bound theta * (dual objective) (Farley); subtracting, for each
    (partition, model), the most negative reduced cost times the most hosts it can use gives
    another (Lagrange). Both are valid at every round, converged or not. Returns the
    bound these duals give (over the active partitions; -inf when not computed).
    """
    problem = state.problem
    hts = problem.host_types

    def dual_objective(parts: Iterable[int], with_caps: bool) -> float:
        dual_obj = sum(
            duals[ci] * state.classes[ci].count for p in parts for ci in state.by_partition[p]
        )
        if with_caps:
            dual_obj += sum(
                mu[t.index] * (t.model.max_count or 0) for t in hts if t.model.max_count is not None
            )
        return dual_obj

    def farley(parts: Iterable[int], with_caps: bool) -> float:
        dual_obj = dual_objective(parts, with_caps)
        theta = math.inf
        for (p, t), v in values.items():
            if p not in parts:
                continue
            gain = v + (mu[t] if with_caps else 0.0)
            if gain > DUAL_EPS:
                theta = min(theta, host_fixed_cost(state, t, p) / gain)
        if not state.by_hosts:
            theta = min(theta, 1.0)  # scaling up is only valid when every column costs the same
        if math.isinf(theta):
            return 0.0 if dual_obj <= 0 else dual_obj
        return theta * dual_obj

    def lagrange(parts: Iterable[int], with_caps: bool) -> float:
        total = dual_objective(parts, with_caps)
        for (p, t), v in values.items():
            if p not in parts:
                continue
            rc = host_fixed_cost(state, t, p) - v - (mu[t] if with_caps else 0.0)
            if rc < 0:
                total += rc * max_hosts(state, p, t)
        return total

    if state.separable:
        total = 0.0
        for p in active:
            b = max(farley([p], False), lagrange([p], False))
            state.bound[p] = max(state.bound.get(p, 0.0), b)
            total += b
        return total
    if len(active) == len(state.by_partition):
        b = max(farley(state.by_partition, True), lagrange(state.by_partition, True))
        state.joint_bound = max(state.joint_bound, b)
        return b
    return -math.inf
