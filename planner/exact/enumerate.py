"""The enumeration phase: where the bound is tight, list every host of a plan at the bound.

For the host count take dual values pi >= 0 feasible for the LP dual (every pattern a has
sum_c pi_c a_c <= 1: the LP duals scaled down by the best pricing value). For any plan x of
T hosts covering the VMs,

    T = sum_p x_p = sum_p x_p rc_p + sum_p x_p sum_c pi_c a_cp
      >= sum_p x_p rc_p + sum_c pi_c n_c,    rc_p = 1 - sum_c pi_c a_cp >= 0,

so every host of such a plan has rc_p <= G = T - pi.n and their reduced costs add up to at
most G (and a VM whose pi exceeds G is never covered twice). When the bound is tight (G
small) few patterns qualify: all are listed (``kernels.enumerate_patterns``), those that leave
more of some dimension d unused than the whole plan does (W_d = T C_d - S_d,
``classes.waste_budgets``) are dropped, then an LP dive and Knuth's algorithm X with counts
(``kernels.exact_cover``) look for T of them covering every VM exactly. A complete search
that finds none proves T hosts are not enough: the bound rises to T + 1.

The phase runs for partitions with a single model worth buying. It drives the LP master
(``state.lp``) and the pricing; the compiled searches it calls are in ``kernels``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from ortools.linear_solver import pywraplp

from planner.exact.classes import (
    LP_ENTRY_WORK,
    State,
    accept,
    lp_work,
    make_pattern,
    to_packing,
    types_of,
    waste_budgets,
)
from planner.exact.kernels import (
    CALL_WORK,
    COVER_WORK,
    NODE_WORK,
    arrays,
    bb_columns,
    enumerate_patterns,
    exact_cover,
)
from planner.exact.pricing import dp_columns, exact_columns
from planner.tolerances import INTEGRAL_TOL, REDUCED_COST_TOL

__all__ = ["MAX_PATTERNS", "enumerate_phase"]

DIVE_PATTERNS = 20_000  # lowest-reduced-cost patterns the LP dive works on
DIVE_SHARE = 0.6  # of the work left, for the LP dive before algorithm X
DIVE_BACKTRACKS = 8  # dead ends before the LP dive restarts
ENUM_MAX_GAP = 1.0  # widest reduced-cost budget worth enumerating (in hosts)
MAX_PATTERNS = 200_000  # patterns one enumeration may list before it gives up on completeness
WASTE_ENTRY_WORK = 0.05  # work units per pattern entry of the waste-budget filter (NumPy)


def _max_value(state: State, p_index: int, t: int, duals: list[float], until: float) -> float:
    """An upper bound on the best pattern's dual value (exact pricing), or inf."""
    cols, value, exact = bb_columns(state, p_index, t, duals)
    for col in cols:
        state.add(col)
    if exact:
        return value
    cols, value, exact = dp_columns(state, p_index, t, duals, 0.0)
    for col in cols:
        state.add(col)
    if exact:
        return value
    remaining = state.left(until)
    if remaining <= 50_000:
        return math.inf
    hint = dict(cols[0].counts) if cols else None
    cols, bound, _ = exact_columns(state, p_index, t, duals, 0.0, remaining, hint)
    for col in cols:
        state.add(col)
    return min(value, bound)


def enumerate_phase(
    state: State,
    until: float,
    parts: Iterable[int] | None = None,
    dive_share: float = DIVE_SHARE,
) -> None:
    """For each open single-model partition (host count) of ``parts`` (default: all): find
    a plan of one host fewer among the enumerated patterns, or prove there is none; repeat
    while it succeeds, until the work clock reaches ``until``. The LP dive may take
    ``dive_share`` of the work left after the listing, algorithm X the rest."""
    if not (state.by_hosts and state.separable) or state.lp is None:
        return
    for p_index in sorted(state.by_partition if parts is None else parts):
        types = types_of(state, p_index)
        if len(types) != 1:
            continue
        t = types[0]
        while not state.done(p_index) and state.left(until) > 50_000:
            outcome = _try_fewer(state, p_index, t, until, dive_share)
            if outcome != "found":
                break


def _try_fewer(state: State, p_index: int, t: int, until: float, dive_share: float) -> str:
    """One round: "found" (a plan of value - 1 hosts), "proven" (none exists), or "open"."""
    assert state.lp is not None
    solved = state.lp.solve()
    if solved is None:
        return "open"
    _, duals, _, _ = solved
    cls = state.classes
    items, dem, most, grp, cap = arrays(state, p_index, t)
    v = _max_value(state, p_index, t, duals, until)
    if not math.isfinite(v) or v <= 0:
        return "open"
    theta = 1.0 / max(v, 1.0)  # scaled duals: every pattern's value is at most 1
    pi = np.array([duals[ci] * theta for ci in items])
    counts = np.array([cls[ci].count for ci in items], dtype=np.int64)
    hosts = int(state.rounded(state.bound.get(p_index, 0.0)))  # aim at the bound itself
    gap = hosts - float(pi @ counts)
    if gap < -REDUCED_COST_TOL:
        _raise_bound(state, p_index, hosts + 1)
        return "proven"
    if gap > ENUM_MAX_GAP:  # too loose: the patterns would be countless
        return "open"
    density = pi / (dem[:, 0] / cap[0] + dem[:, 1] / cap[1])
    order = np.argsort(-density, kind="stable")
    out_ptr = np.zeros(MAX_PATTERNS + 1, dtype=np.int64)
    out_cls = np.zeros(MAX_PATTERNS * 8, dtype=np.int64)
    out_k = np.zeros(MAX_PATTERNS * 8, dtype=np.int64)
    n_out, complete, visited = enumerate_patterns(
        pi[order],
        dem[order],
        most[order],
        grp[order],
        cap,
        1.0 - gap - REDUCED_COST_TOL,
        out_ptr,
        out_cls,
        out_k,
        max(1, int(state.left(until) / NODE_WORK / 2)),
    )
    state.spend(CALL_WORK + NODE_WORK * visited + 2 * n_out)
    ptr = out_ptr[: n_out + 1]
    pcls, pk = out_cls[: ptr[-1]], out_k[: ptr[-1]]
    # Every VM placed, no host of a plan of ``hosts`` hosts leaves more than the waste budget
    # W_d of a dimension unused: the others go (where W_d is small, most of them).
    budgets = np.array(waste_budgets(state, p_index, t, hosts), dtype=np.int64)
    kept = _within_budgets(ptr, pcls, pk, dem[order], cap, budgets)
    state.spend(WASTE_ENTRY_WORK * len(pcls))
    if not len(kept):
        if complete:
            _raise_bound(state, p_index, hosts + 1)
            return "proven"
        return "open"
    pi_o = pi[order]
    value = np.add.reduceat(pi_o[pcls] * pk, ptr[:-1])
    rc = np.maximum(0.0, 1.0 - value)
    # Patterns kept by reduced cost, lowest first (CSR rebuilt in that order).
    perm = kept[np.argsort(rc[kept], kind="stable")]
    lengths = np.diff(ptr)[perm]
    new_ptr = np.concatenate(([0], np.cumsum(lengths)))
    take = np.repeat(ptr[:-1][perm] - new_ptr[:-1], lengths) + np.arange(new_ptr[-1])
    s_ptr, s_cls, s_k, s_rc = new_ptr, pcls[take], pk[take], rc[perm]
    need = counts[order]
    exact_rows = pi_o > gap + REDUCED_COST_TOL  # VMs that can never be covered twice
    start = state.work
    used = _lp_dive(
        state, s_ptr, s_cls, s_k, need, exact_rows, hosts, start + dive_share * (until - start)
    )
    status = 1 if used is not None else -1
    if used is None:  # algorithm X: finds one, or proves none exists when complete
        limit = max(1, int(state.left(until) / COVER_WORK))
        status, used, touched = exact_cover(s_ptr, s_cls, s_k, s_rc, need, hosts, gap, limit)
        state.spend(CALL_WORK + COVER_WORK * touched)
        if status == 0 and complete and bool(exact_rows.all()):
            _raise_bound(state, p_index, hosts + 1)
            return "proven"
    if status != 1 or used is None:
        return "open"
    chosen = []
    for j in np.flatnonzero(used):
        counts_j = {items[order[s_cls[r]]]: int(s_k[r]) for r in range(s_ptr[j], s_ptr[j + 1])}
        pattern = make_pattern(state, p_index, t, counts_j)
        state.add(pattern)
        chosen.append((pattern, int(used[j])))
    before = state.value[p_index]
    accept(state, to_packing(state, chosen, [p_index]))
    return "found" if state.value[p_index] < before else "open"


def _within_budgets(
    ptr: np.ndarray,
    pcls: np.ndarray,
    pk: np.ndarray,
    dem: np.ndarray,
    cap: np.ndarray,
    budgets: np.ndarray,
) -> np.ndarray:
    """The patterns (CSR over ``dem``'s rows) that leave at most ``budgets[d]`` of each
    dimension d of a host of capacity ``cap`` unused, by index."""
    if not len(pcls):
        return np.zeros(0, dtype=np.int64)
    load = np.add.reduceat(dem[pcls] * pk[:, None], ptr[:-1], axis=0)
    return np.flatnonzero(np.all(cap - load <= budgets, axis=1))


def _lp_dive(
    state: State,
    ptr: np.ndarray,
    pcls: np.ndarray,
    pk: np.ndarray,
    need: np.ndarray,
    exact_rows: np.ndarray,
    hosts: int,
    until: float,
) -> np.ndarray | None:
    """Cover ``need`` with at most ``hosts`` of the first ``DIVE_PATTERNS`` patterns by
    diving on their LP: fix the LP's integral parts (or raise the pattern it uses most),
    re-solve, undo on a dead end. After ``DIVE_BACKTRACKS`` dead ends the dive restarts,
    choosing among the patterns the LP uses at random (seeded by ``SolverParams.seed``), weighted by
    their values. Stops when the work clock reaches ``until``. Multiplicities per pattern,
    or None."""
    n_pat = min(len(ptr) - 1, DIVE_PATTERNS)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with OR-Tools
        return None
    inf = solver.infinity()
    xs = [solver.NumVar(0.0, inf, "") for _ in range(n_pat)]
    rows = [
        solver.Constraint(float(n), float(n) if exact else inf)
        for n, exact in zip(need, exact_rows, strict=True)
    ]
    for j in range(n_pat):
        for q in range(ptr[j], ptr[j + 1]):
            rows[pcls[q]].SetCoefficient(xs[j], float(pk[q]))
    state.spend(LP_ENTRY_WORK * (ptr[n_pat] + 2 * n_pat))
    total = solver.Constraint(0.0, float(hosts))
    for x in xs:
        total.SetCoefficient(x, 1.0)
    solver.Minimize(sum(xs))
    rng = np.random.default_rng(state.seed)
    attempt = 0
    while state.clock() < until:
        lower = np.zeros(n_pat, dtype=np.int64)
        for x in xs:
            x.SetBounds(0.0, inf)
        fixed: list[int] = []
        dead_ends = 0
        while state.clock() < until and dead_ends <= DIVE_BACKTRACKS:
            solved = solver.Solve()
            state.spend(lp_work(solver, len(rows)) + LP_ENTRY_WORK * n_pat)
            if solved != pywraplp.Solver.OPTIMAL:
                if not fixed:
                    return None  # the root LP itself: no cover
                j = fixed.pop()  # undo the last step and forbid it in this attempt
                lower[j] -= 1
                xs[j].SetBounds(float(lower[j]), float(lower[j]))
                dead_ends += 1
                continue
            values = np.array([x.solution_value() for x in xs])
            if np.all(np.abs(values - np.round(values)) < INTEGRAL_TOL):
                return np.round(values).astype(np.int64)
            extra = values - lower
            whole = np.flatnonzero(extra >= 1 - INTEGRAL_TOL)  # the LP's integral parts first
            if len(whole):
                picks: list[int] = [int(j) for j in whole]
            elif attempt == 0:
                picks = [int(np.argmax(extra))]
            else:
                used = np.flatnonzero(extra > INTEGRAL_TOL)
                weights = extra[used] ** 2
                picks = [int(rng.choice(used, p=weights / weights.sum()))]
            for pick in picks:
                lower[pick] += 1
                fixed.append(pick)
                xs[pick].SetLb(float(lower[pick]))
        attempt += 1
    return None


def _raise_bound(state: State, p_index: int, bound: int) -> None:
    state.bound[p_index] = max(state.bound.get(p_index, 0.0), float(bound))
