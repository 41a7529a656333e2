"""The naive CP-SAT model "everyone writes" for vector bin packing: the baseline to beat.

One boolean per item and bin, one per bin, nothing clever:

    x[i, b] in {0, 1}   item i goes into bin b          y[b] in {0, 1}   bin b is used
    sum_b x[i, b] = 1                                    every item exactly once
    x[i, b] <= y[b]                                      items only in used bins
    sum_i w[i, d] x[i, b] <= C[d] y[b]                   capacity, per dimension d
    minimise sum_b y[b]

The number of bins offered is the first-fit decreasing count (an upper bound). No symmetry
breaking, no aggregation of identical items, no solution hint, no extra bounds: that is the
point of the baseline. The solution CP-SAT returns is re-checked before it is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

__all__ = ["NaiveResult", "solve_naive"]


@dataclass(frozen=True)
class NaiveResult:
    """What the naive model achieved within its time limit."""

    status: str  # OPTIMAL | FEASIBLE | UNKNOWN | INFEASIBLE | MODEL_INVALID
    bins: int | None  # bins used by the best solution (None when none was found)
    bound: float  # CP-SAT's best lower bound on the objective
    seconds: float  # CP-SAT wall time
    variables: int


def solve_naive(
    items: Sequence[Sequence[int]],
    capacity: Sequence[int],
    max_bins: int,
    time_limit_s: float,
    workers: int = 2,
    seed: int = 0,
) -> NaiveResult:
    """Minimise the bins holding ``items`` (one size per dimension) with the naive model.

    Raises:
        AssertionError: CP-SAT returned a packing that breaks a capacity or loses an item
            (never expected; it would invalidate the benchmark).
    """
    dims = len(capacity)
    bins = range(max_bins)
    model = cp_model.CpModel()
    y = [model.new_bool_var(f"y{b}") for b in bins]
    x = [[model.new_bool_var(f"x{i}_{b}") for b in bins] for i in range(len(items))]
    for i in range(len(items)):
        model.add_exactly_one(x[i])
        for b in bins:
            model.add_implication(x[i][b], y[b])
    for b in bins:
        for d in range(dims):
            model.add(sum(items[i][d] * x[i][b] for i in range(len(items))) <= capacity[d] * y[b])
    model.minimize(sum(y))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    code = solver.solve(model)
    status = solver.status_name(code)
    used: int | None = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        load = [[0] * dims for _ in bins]
        for i, row in enumerate(x):
            chosen = [b for b in bins if solver.boolean_value(row[b])]
            assert len(chosen) == 1, f"item {i} is in {len(chosen)} bins"
            for d in range(dims):
                load[chosen[0]][d] += items[i][d]
        assert all(load[b][d] <= capacity[d] for b in bins for d in range(dims)), "overfull bin"
        used = sum(1 for b in bins if any(load[b]))
    return NaiveResult(
        status=status,
        bins=used,
        bound=solver.best_objective_bound,
        seconds=solver.wall_time,
        variables=len(items) * max_bins + max_bins,
    )
