"""Exact knapsacks on host patterns, compiled with Numba: the searches the engine's phases call.

For the host count (every host costs the same) three searches over VM classes share one
depth-first scheme (classes by dual value per unit of size, bounded by the fractional
knapsack of CPU/capacity + memory/capacity):

- ``branch_and_bound`` (through ``bb_columns`` and ``best_pattern``): the host pattern of
  highest dual value, plus further columns of negative reduced cost: exact pricing for column
  generation in milliseconds;
- ``enumerate_patterns``: every pattern whose dual value reaches a floor (the enumeration
  phase, ``enumerate``, and the extra columns of ``bb_columns``);
- ``exact_cover``: Knuth's algorithm X with counts, choosing patterns that cover every class
  exactly.

Anti-affinity (one member of a group per host), the VM-slot limit and the models a VM fits
are respected. These are the engine's lowest layer: they read the shared state (``classes``)
and nothing above it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from planner.exact import _cache  # noqa: F401  (before the kernels: a writable cache or none)
from planner.exact.classes import Pattern, State, fit_count, make_pattern
from planner.tolerances import REDUCED_COST_TOL, SCORE_EPS

__all__ = [
    "CALL_WORK",
    "COVER_WORK",
    "NODE_WORK",
    "applies",
    "arrays",
    "bb_columns",
    "best_pattern",
    "branch_and_bound",
    "compile_kernels",
    "enumerate_patterns",
    "exact_cover",
]

BB_NODES = 2_000_000  # branch-and-bound nodes one pricing may visit (about 0.2 s)
BB_EXTRA = 30  # further columns of negative reduced cost one pricing returns
NODE_WORK = 0.1  # work units per node of the depth-first searches (measured)
COVER_WORK = 0.01  # work units per pattern entry algorithm X touches (measured)
CALL_WORK = 30.0  # work units of the set-up of one compiled search (arrays, sorting)


@njit(cache=True)
def _tables(pi, dem, most, cap):  # type: ignore[no-untyped-def]
    """What the bounds of the depth-first searches read: per class j, the best value per unit
    of each dimension among classes j.. and their total value, and the prefix sums of the
    surrogate knapsack (CPU/cap + memory/cap, capacity 2; classes sorted by pi / surrogate
    size, decreasing)."""
    n = pi.shape[0]
    dims = dem.shape[1]
    ratio = np.zeros((n + 1, dims))
    suffix = np.zeros(n + 1)
    for j in range(n - 1, -1, -1):
        suffix[j] = suffix[j + 1] + pi[j] * most[j]
        for d in range(dims):
            ratio[j, d] = max(ratio[j + 1, d], pi[j] / max(dem[j, d], 1))
    size = np.zeros(n)
    pre_s = np.zeros(n + 1)
    pre_v = np.zeros(n + 1)
    for j in range(n):
        size[j] = dem[j, 0] / cap[0] + dem[j, 1] / cap[1]
        pre_s[j + 1] = pre_s[j] + size[j] * most[j]
        pre_v[j + 1] = pre_v[j] + pi[j] * most[j]
    return ratio, suffix, size, pre_s, pre_v


@njit(cache=True, inline="always")  # hot: inlined into the searches
def _bound(j, left, cap, pi, ratio, suffix, size, pre_s, pre_v):  # type: ignore[no-untyped-def]
    """Most dual value classes j.. can still add with capacity ``left``: the least of their
    total, each dimension's best ratio times what is left of it, and the Dantzig bound of the
    surrogate knapsack."""
    n = pi.shape[0]
    bound = suffix[j]
    for d in range(left.shape[0]):
        bound = min(bound, left[d] * ratio[j, d])
    target = pre_s[j] + left[0] / cap[0] + left[1] / cap[1]
    if target >= pre_s[n]:
        return min(bound, pre_v[n] - pre_v[j])
    r = np.searchsorted(pre_s, target, side="right") - 1  # pre_s[r] <= target < pre_s[r+1]
    r = max(r, j)
    return min(bound, pre_v[r] - pre_v[j] + (target - pre_s[r]) * (pi[r] / size[r]))


@njit(cache=True, inline="always")  # hot: inlined into the searches
def _enter(j, k, left, gused, dem, most, grp):  # type: ignore[no-untyped-def]
    """Put as many VMs of class j as fit (one per anti-affinity group); returns how many."""
    m = most[j]
    for d in range(dem.shape[1]):
        if dem[j, d] > 0:
            m = min(m, left[d] // dem[j, d])
    if grp[j] >= 0:
        m = min(m, 1 - gused[grp[j]])
        gused[grp[j]] += m
    k[j] = m
    for d in range(dem.shape[1]):
        left[d] -= dem[j, d] * m
    return m


@njit(cache=True, inline="always")  # hot: inlined into the searches
def _back(j, k, left, gused, dem, grp):  # type: ignore[no-untyped-def]
    """One VM fewer of the deepest class at or above j that has one (levels left behind are
    reset): the class, or -1 when the search is over."""
    while j >= 0:
        if k[j] > 0:
            k[j] -= 1
            if grp[j] >= 0:
                gused[grp[j]] -= 1
            for d in range(dem.shape[1]):
                left[d] += dem[j, d]
            return j
        k[j] = -1
        j -= 1
    return -1


@njit(cache=True)
def enumerate_patterns(pi, dem, most, grp, cap, floor_value, out_ptr, out_cls, out_k, node_limit):  # type: ignore[no-untyped-def]
    """Every pattern (multiplicity per class, at most ``most``) that fits ``cap`` and whose
    dual value sum pi_c k_c is at least ``floor_value``, written as a sparse list into the
    ``out_*`` arrays. Returns (patterns listed, complete, nodes visited): not complete when
    they are full or the node limit stopped the search."""
    n = pi.shape[0]
    max_out = out_ptr.shape[0] - 1
    ratio, suffix, size, pre_s, pre_v = _tables(pi, dem, most, cap)
    k = np.full(n, -1, dtype=np.int64)
    gused = np.zeros(max(1, grp.max() + 1) if n else 1, dtype=np.int64)  # members per group
    left = cap.copy()
    value = 0.0
    n_out = 0
    n_items = 0
    out_ptr[0] = 0
    nodes = 0
    j = 0
    while True:
        nodes += 1
        if nodes > node_limit:
            return n_out, False, nodes
        if j == n:
            if value >= floor_value - SCORE_EPS:
                if n_out >= max_out:
                    return n_out, False, nodes
                for q in range(n):
                    if k[q] > 0:
                        if n_items >= out_cls.shape[0]:
                            return n_out, False, nodes
                        out_cls[n_items] = q
                        out_k[n_items] = k[q]
                        n_items += 1
                n_out += 1
                out_ptr[n_out] = n_items
            j -= 1
        else:
            if k[j] == -1:
                value += pi[j] * _enter(j, k, left, gused, dem, most, grp)
            bound = _bound(j + 1, left, cap, pi, ratio, suffix, size, pre_s, pre_v)
            if value + bound >= floor_value - SCORE_EPS:
                j += 1
                continue
        j = _back(j, k, left, gused, dem, grp)
        if j < 0:
            return n_out, True, nodes
        value -= pi[j]


@njit(cache=True)
def branch_and_bound(pi, dem, most, grp, cap, node_limit):  # type: ignore[no-untyped-def]
    """The pattern of highest dual value (branch and bound, classes sorted by density):
    (value, multiplicities, proven, nodes visited). ``proven`` is False when the node limit
    cut the search short; the value is then only a lower bound on the best."""
    n = pi.shape[0]
    ratio, suffix, size, pre_s, pre_v = _tables(pi, dem, most, cap)
    k = np.full(n, -1, dtype=np.int64)
    gused = np.zeros(max(1, grp.max() + 1) if n else 1, dtype=np.int64)  # members per group
    best_k = np.zeros(n, dtype=np.int64)
    best = 0.0
    left = cap.copy()
    value = 0.0
    nodes = 0
    j = 0
    while True:
        nodes += 1
        if nodes > node_limit:
            return best, best_k, False, nodes
        if j == n:
            if value > best + SCORE_EPS:
                best = value
                for q in range(n):
                    best_k[q] = max(k[q], 0)
            j -= 1
        else:
            if k[j] == -1:
                value += pi[j] * _enter(j, k, left, gused, dem, most, grp)
            bound = _bound(j + 1, left, cap, pi, ratio, suffix, size, pre_s, pre_v)
            if value + bound > best + SCORE_EPS:
                j += 1
                continue
            if value > best + SCORE_EPS:
                best = value
                for q in range(n):
                    best_k[q] = max(k[q], 0) if q <= j else 0
        j = _back(j, k, left, gused, dem, grp)
        if j < 0:
            return best, best_k, True, nodes
        value -= pi[j]


@njit(cache=True)
def exact_cover(ptr, pcls, pk, rc, need, hosts, gap, work_limit):  # type: ignore[no-untyped-def]
    """Choose at most ``hosts`` patterns (with repetition) that cover every class exactly
    ``need`` times with reduced costs summing to at most ``gap``: Knuth's algorithm X with
    counts (the class with the fewest usable patterns first; patterns in the given order).

    Returns (status, multiplicity per pattern, work): 1 found, 0 none exists, -1 out of work
    (``work_limit`` caps the pattern entries the search touches, ``work``).
    """
    n_pat = ptr.shape[0] - 1
    n_cls = need.shape[0]
    # patterns of each class (CSR)
    deg = np.zeros(n_cls + 1, dtype=np.int64)
    for q in range(ptr[n_pat]):
        deg[pcls[q] + 1] += 1
    for c in range(n_cls):
        deg[c + 1] += deg[c]
    by_cls = np.zeros(ptr[n_pat], dtype=np.int64)
    by_k = np.zeros(ptr[n_pat], dtype=np.int64)
    fill = deg[:-1].copy()
    for p in range(n_pat):
        for q in range(ptr[p], ptr[p + 1]):
            c = pcls[q]
            by_cls[fill[c]] = p
            by_k[fill[c]] = pk[q]
            fill[c] += 1
    left = need.copy()
    dead = np.zeros(n_pat, dtype=np.int64)  # reasons a pattern cannot be used now
    alive = np.zeros(n_cls, dtype=np.int64)  # usable patterns per class
    for p in range(n_pat):
        for q in range(ptr[p], ptr[p + 1]):
            if pk[q] > left[pcls[q]]:
                dead[p] += 1
    for p in range(n_pat):
        if dead[p] == 0:
            for q in range(ptr[p], ptr[p + 1]):
                alive[pcls[q]] += 1
    used = np.zeros(n_pat, dtype=np.int64)
    stack_p = np.zeros(hosts + 1, dtype=np.int64)  # pattern chosen at each depth
    stack_c = np.zeros(hosts + 1, dtype=np.int64)  # class branched on at each depth
    stack_i = np.zeros(hosts + 1, dtype=np.int64)  # position in that class's list
    depth = 0
    spent = 0.0
    work = 0
    remaining = 0
    for c in range(n_cls):
        remaining += left[c]
    choosing = True
    while True:
        if choosing:
            if work > work_limit:
                return -1, used, work
            if remaining == 0:
                return 1, used, work
            best_c, best_n = -1, 1 << 60
            work += n_cls
            for c in range(n_cls):
                if left[c] > 0 and alive[c] < best_n:
                    best_c, best_n = c, alive[c]
            if best_n == 0 or depth >= hosts:
                choosing = False  # dead end: backtrack
            else:
                stack_c[depth] = best_c
                stack_i[depth] = deg[best_c]
        # find the next usable pattern for the class at this depth, else go up
        if not choosing:
            if depth == 0:
                return 0, used, work
            depth -= 1
            p = stack_p[depth]
            # undo pattern p
            used[p] -= 1
            spent -= rc[p]
            for q in range(ptr[p], ptr[p + 1]):
                c = pcls[q]
                old = left[c]
                left[c] = old + pk[q]
                remaining += pk[q]
                work += deg[c + 1] - deg[c]
                for r in range(deg[c], deg[c + 1]):
                    if by_k[r] > old and by_k[r] <= left[c]:
                        pp = by_cls[r]
                        dead[pp] -= 1
                        if dead[pp] == 0:
                            for q2 in range(ptr[pp], ptr[pp + 1]):
                                alive[pcls[q2]] += 1
            stack_i[depth] += 1
        c = stack_c[depth]
        found = -1
        while stack_i[depth] < deg[c + 1]:
            r = stack_i[depth]
            pp = by_cls[r]
            if dead[pp] == 0 and spent + rc[pp] <= gap + REDUCED_COST_TOL:
                found = pp
                break
            stack_i[depth] += 1
            work += 1
        if found < 0:
            choosing = False
            continue
        # apply pattern found
        p = found
        stack_p[depth] = p
        used[p] += 1
        spent += rc[p]
        for q in range(ptr[p], ptr[p + 1]):
            c2 = pcls[q]
            old = left[c2]
            left[c2] = old - pk[q]
            remaining -= pk[q]
            work += deg[c2 + 1] - deg[c2]
            for r in range(deg[c2], deg[c2 + 1]):
                if by_k[r] <= old and by_k[r] > left[c2]:
                    pp = by_cls[r]
                    if dead[pp] == 0:
                        for q2 in range(ptr[pp], ptr[pp + 1]):
                            alive[pcls[q2]] -= 1
                    dead[pp] += 1
        depth += 1
        choosing = True


def arrays(
    state: State, p_index: int, t: int
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The partition's classes, their demands (CPU, memory, one slot), most VMs per host,
    anti-affinity group numbers (-1: none), and the host's capacity."""
    cls = state.classes
    items = state.by_partition[p_index]
    ht = state.problem.host_types[t]
    dem = np.array([[cls[ci].cpu, cls[ci].mem, 1] for ci in items], dtype=np.int64)
    most = np.array(
        [fit_count(state, ci, t) if t in cls[ci].fits else 0 for ci in items], dtype=np.int64
    )
    numbers: dict[str, int] = {}
    grp = np.array(
        [numbers.setdefault(cls[ci].group, len(numbers)) if cls[ci].group else -1 for ci in items],
        dtype=np.int64,
    )
    cap = np.array([ht.cpu_cap_m, ht.mem_cap_mib, ht.vm_cap], dtype=np.int64)
    return items, dem, most, grp, cap


def applies(state: State) -> bool:
    """Branch and bound prices exactly: the host count (every host costs the same)."""
    return state.by_hosts


def _by_density(pi: np.ndarray, dem: np.ndarray, most: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """The classes with a positive value and VMs to place, by value per unit of size."""
    idx = np.flatnonzero((pi > 0) & (most > 0))
    density = pi[idx] / (dem[idx, 0] / cap[0] + dem[idx, 1] / cap[1])
    return idx[np.argsort(-density, kind="stable")]


def best_pattern(
    pi: np.ndarray, dem: np.ndarray, most: np.ndarray, grp: np.ndarray, cap: np.ndarray, nodes: int
) -> tuple[np.ndarray, float]:
    """VMs per class (at most ``most``) of a host of capacity ``cap`` of highest value
    ``pi``: the best branch and bound finds within ``nodes`` nodes (``arrays`` layout), and
    the work units that took."""
    idx = _by_density(pi, dem, most, cap)
    k = np.zeros(len(pi), dtype=np.int64)
    visited = 0
    if len(idx):
        _, ks, _, visited = branch_and_bound(pi[idx], dem[idx], most[idx], grp[idx], cap, nodes)
        k[idx] = ks
    return k, CALL_WORK + NODE_WORK * visited


def bb_columns(
    state: State,
    p_index: int,
    t: int,
    duals: list[float],
    avail: dict[int, int] | None = None,
    nodes: int = 0,
) -> tuple[list[Pattern], float, bool]:
    """The pattern of highest dual value on a host of type t by branch and bound: (columns,
    value, exact). Not exact when the node limit stopped the search. ``avail`` limits the
    VMs of each class (the residual of a dive); ``nodes`` caps the search (default
    ``BB_NODES``, and then more columns of negative reduced cost come along)."""
    items, dem, most, grp, cap = arrays(state, p_index, t)
    if avail is not None:
        most = np.minimum(most, np.array([avail.get(ci, 0) for ci in items], dtype=np.int64))
    pi = np.array([max(0.0, duals[ci]) for ci in items])
    keep = (pi > 0) & (most > 0)
    if not keep.any():
        return [], 0.0, True
    idx = _by_density(pi, dem, most, cap)
    value, ks, exact, visited = branch_and_bound(
        pi[idx], dem[idx], most[idx], grp[idx], cap, nodes or BB_NODES
    )
    state.spend(CALL_WORK + NODE_WORK * visited)
    counts = {items[idx[q]]: int(ks[q]) for q in range(len(idx)) if ks[q] > 0}
    cols = [make_pattern(state, p_index, t, counts)] if counts else []
    if not nodes and value > 1.0 + REDUCED_COST_TOL:  # more columns of negative reduced cost
        floor = 1.0 + 0.3 * (value - 1.0)
        out_ptr = np.zeros(BB_EXTRA + 1, dtype=np.int64)
        out_cls = np.zeros(BB_EXTRA * len(idx), dtype=np.int64)
        out_k = np.zeros(BB_EXTRA * len(idx), dtype=np.int64)
        n_out, _, visited = enumerate_patterns(
            pi[idx], dem[idx], most[idx], grp[idx], cap, floor, out_ptr, out_cls, out_k, BB_NODES
        )
        state.spend(CALL_WORK + NODE_WORK * visited + 10 * n_out)
        for j in range(n_out):
            extra = {
                items[idx[out_cls[q]]]: int(out_k[q]) for q in range(out_ptr[j], out_ptr[j + 1])
            }
            cols.append(make_pattern(state, p_index, t, extra))
    return cols, float(value), bool(exact)


def compile_kernels() -> None:
    """Compile (or load from Numba's cache) every kernel of this module now, on a one-class
    problem, instead of at their first use inside a timed solve."""
    pi = np.array([0.5])
    dem = np.array([[1, 1, 1]], dtype=np.int64)
    most = np.array([1], dtype=np.int64)
    grp = np.array([-1], dtype=np.int64)
    cap = np.array([2, 2, 2], dtype=np.int64)
    branch_and_bound(pi, dem, most, grp, cap, 10)
    ptr = np.zeros(3, dtype=np.int64)
    out = np.zeros(4, dtype=np.int64)
    enumerate_patterns(pi, dem, most, grp, cap, 0.1, ptr, out, out.copy(), 10)
    ptr = np.array([0, 1], dtype=np.int64)
    exact_cover(ptr, np.zeros(1, dtype=np.int64), most, np.zeros(1), most, 1, 0.0, 10)
