"""The compiled knapsack searches (branch and bound, enumeration, exact cover) against brute
force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.exact.kernels import branch_and_bound, enumerate_patterns, exact_cover

CAP = np.array([10, 12, 4], dtype=np.int64)  # CPU, memory, VM slots


@st.composite
def knapsacks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Up to 6 classes: dual values, demands, most copies per host, groups (-1: none);
    sorted by value per surrogate size, as the searches expect."""
    n = draw(st.integers(1, 6))
    pi = np.array([draw(st.floats(0.01, 1.0)) for _ in range(n)])
    dem = np.array(
        [[draw(st.integers(1, 8)), draw(st.integers(1, 9)), 1] for _ in range(n)],
        dtype=np.int64,
    )
    most = np.array([draw(st.integers(1, 3)) for _ in range(n)], dtype=np.int64)
    grp = np.array([draw(st.sampled_from([-1, -1, 0, 1])) for _ in range(n)], dtype=np.int64)
    order = np.argsort(-(pi / (dem[:, 0] / CAP[0] + dem[:, 1] / CAP[1])), kind="stable")
    return pi[order], dem[order], most[order], grp[order]


def _patterns(dem: np.ndarray, most: np.ndarray, grp: np.ndarray) -> list[tuple[int, ...]]:
    """Every feasible pattern (multiplicity per class), the empty one included."""
    out = []
    for ks in itertools.product(*(range(int(m) + 1) for m in most)):
        k = np.array(ks)
        if (k @ dem > CAP).any():
            continue
        groups = [int(g) for g, c in zip(grp, ks, strict=True) if g >= 0 for _ in range(c)]
        if len(groups) != len(set(groups)):
            continue
        out.append(ks)
    return out


@settings(max_examples=60, deadline=None)
@given(knapsacks())
def test_branch_and_bound_finds_thebranch_and_bound(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    pi, dem, most, grp = case
    value, ks, proven, _ = branch_and_bound(pi, dem, most, grp, CAP, 10**6)
    assert proven
    best = max(float(np.array(p) @ pi) for p in _patterns(dem, most, grp))
    assert abs(value - best) < 1e-9
    assert abs(float(ks @ pi) - value) < 1e-9
    assert tuple(int(x) for x in ks) in _patterns(dem, most, grp)  # feasible, groups kept


@settings(max_examples=60, deadline=None)
@given(knapsacks(), st.floats(0.1, 2.0))
def test_enumeration_lists_exactly_the_patterns_above_the_floor(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], floor: float
) -> None:
    pi, dem, most, grp = case
    out_ptr = np.zeros(1001, dtype=np.int64)
    out_cls = np.zeros(8000, dtype=np.int64)
    out_k = np.zeros(8000, dtype=np.int64)
    n_out, complete, _ = enumerate_patterns(
        pi, dem, most, grp, CAP, floor, out_ptr, out_cls, out_k, 10**7
    )
    assert complete
    listed = set()
    for j in range(n_out):
        ks = [0] * len(pi)
        for q in range(out_ptr[j], out_ptr[j + 1]):
            ks[out_cls[q]] = int(out_k[q])
        listed.add(tuple(ks))
    expected = {p for p in _patterns(dem, most, grp) if float(np.array(p) @ pi) >= floor - 1e-12}
    assert listed == expected
    assert n_out == len(expected)  # no pattern twice


@st.composite
def covers(draw: st.DrawFn) -> tuple[list[dict[int, int]], np.ndarray, int]:
    """Random patterns over up to 5 classes, the counts to cover, a host limit."""
    n_cls = draw(st.integers(1, 5))
    n_pat = draw(st.integers(1, 8))
    patterns = []
    for _ in range(n_pat):
        chosen = draw(st.sets(st.integers(0, n_cls - 1), min_size=1, max_size=n_cls))
        patterns.append({c: draw(st.integers(1, 2)) for c in sorted(chosen)})
    need = np.array([draw(st.integers(1, 3)) for _ in range(n_cls)], dtype=np.int64)
    return patterns, need, draw(st.integers(1, 5))


def _csr(patterns: list[dict[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr, cls, k = [0], [], []
    for p in patterns:
        for c, n in sorted(p.items()):
            cls.append(c)
            k.append(n)
        ptr.append(len(cls))
    return (np.array(ptr, dtype=np.int64), np.array(cls, dtype=np.int64), np.array(k, np.int64))


@settings(max_examples=80, deadline=None)
@given(covers())
def test_exact_cover_decides_like_brute_force(
    case: tuple[list[dict[int, int]], np.ndarray, int],
) -> None:
    patterns, need, hosts = case
    ptr, cls, k = _csr(patterns)
    status, used, _ = exact_cover(ptr, cls, k, np.zeros(len(patterns)), need, hosts, 0.0, 10**8)
    exists = False
    for x in itertools.product(range(hosts + 1), repeat=len(patterns)):
        if sum(x) > hosts:
            continue
        cover = np.zeros(len(need), dtype=np.int64)
        for n, p in zip(x, patterns, strict=True):
            for c, m in p.items():
                cover[c] += n * m
        if (cover == need).all():
            exists = True
            break
    assert status == (1 if exists else 0)
    if status == 1:
        assert used.sum() <= hosts
        cover = np.zeros(len(need), dtype=np.int64)
        for n, p in zip(used, patterns, strict=True):
            for c, m in p.items():
                cover[c] += n * m
        assert (cover == need).all()


def test_exact_cover_respects_the_reduced_cost_budget() -> None:
    """Two ways to cover class 0 twice: only the one within the budget may be chosen."""
    ptr, cls, k = _csr([{0: 2}, {0: 1}])
    rc = np.array([0.5, 0.1])
    status, used, _ = exact_cover(ptr, cls, k, rc, np.array([2]), 2, 0.25, 10**6)
    assert status == 1 and list(used) == [0, 2]
    status, _, _ = exact_cover(ptr, cls, k, rc, np.array([2]), 2, 0.15, 10**6)
    assert status == 0
