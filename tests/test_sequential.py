"""Sequential value correction: packings that place every VM once within capacity and
anti-affinity, sizes merged for the knapsack without breaking groups, repacking that never
loses a VM, the phase reaching the bound where first-fit decreasing does not, and the
dive's completion keeping its fixed hosts."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.exact.classes import (
    UNITS_PER_S,
    make_pattern,
    to_packing,
    types_of,
)
from planner.exact.kernels import arrays
from planner.exact.search import _finish
from planner.exact.sequential import _repack, _Sizes, complete, value_correction
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Problem
from planner.packing import Packing
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, check_packing, engine_state, host, inventory


def _problem(items: list[VM], cores: int = 16, mem: float = 64) -> Problem:
    return build_problem(inventory(*items), catalog(host("h", cores=cores, mem=mem)), PURE)


def _check(problem: Problem, packing: Packing) -> None:
    """``check_packing``, and every host in one zone."""
    check_packing(problem, packing)
    for b in packing:
        assert len({problem.vms[i].zone for i in b.vms}) == 1


@st.composite
def estates(draw: st.DrawFn) -> list[VM]:
    """Up to 40 VMs of a few sizes, some in anti-affinity groups, in one or two zones."""
    sizes = draw(st.lists(st.tuples(st.integers(1, 8), st.integers(1, 24)), min_size=1, max_size=5))
    n = draw(st.integers(1, 40))
    out = []
    for i in range(n):
        vcpus, mem = sizes[draw(st.integers(0, len(sizes) - 1))]
        group = draw(st.sampled_from(["", "", "", "g1", "g2"]))
        zone = draw(st.sampled_from(["internal", "internal", "dmz"]))
        out.append(VM(name=f"v{i}", vcpus=vcpus, memory_gib=mem, group=group, zone=zone))
    return out


@settings(max_examples=40, deadline=None)
@given(estates())
def test_completion_places_every_vm_once_within_capacity_and_groups(items: list[VM]) -> None:
    problem = _problem(items)
    ffd, _ = first_fit_decreasing(problem)
    state = engine_state(problem, ffd)
    chosen = []
    for p_index, members in state.by_partition.items():
        counts = {ci: state.classes[ci].count for ci in members}
        (t,) = types_of(state, p_index)
        target = int(state.rounded(state.bound[p_index]))
        found = complete(state, p_index, t, counts, target, 2.0 * UNITS_PER_S)
        assert found is not None
        assert sum(r for _, r in found) >= state.rounded(state.bound[p_index])  # bound valid
        chosen.extend(found)
    _check(problem, to_packing(state, chosen, list(state.by_partition)))


def test_sizes_offer_one_vm_per_group_and_spread_keeps_groups_apart() -> None:
    """Three classes of one size (two of them anti-affinity groups) make one knapsack item."""
    problem = _problem(
        [
            *(VM(name=f"a{i}", vcpus=2, memory_gib=4, group="ga") for i in range(3)),
            *(VM(name=f"b{i}", vcpus=2, memory_gib=4, group="gb") for i in range(2)),
            *(VM(name=f"u{i}", vcpus=2, memory_gib=4) for i in range(5)),
            VM(name="big", vcpus=8, memory_gib=8),
        ]
    )
    state = engine_state(problem, first_fit_decreasing(problem)[0])
    items, dem, _, grp, cap = arrays(state, 0, 0)
    sizes = _Sizes(dem, grp, cap)
    assert len(sizes.dem) == 2  # (2 vCPU, 4 GiB) and (8 vCPU, 8 GiB)
    left = np.array([state.classes[ci].count for ci in items], dtype=np.int64)
    merged = sizes.of[int(np.flatnonzero(grp >= 0)[0])]
    assert sizes.offer(left)[merged] == min(1 + 1 + 5, int(sizes.fit[merged]))
    per_class = sizes.spread(np.where(np.arange(len(sizes.dem)) == merged, 4, 0), left)
    assert per_class.sum() == 4
    assert all(per_class[q] <= 1 for q in np.flatnonzero(grp >= 0))  # one per group


def test_repacking_keeps_every_vm_and_merges_half_empty_hosts() -> None:
    """Twelve hosts holding one small VM each are repacked into fewer, nothing lost."""
    problem = _problem([VM(name=f"v{i}", vcpus=1 + i % 3, memory_gib=2 + i) for i in range(12)])
    state = engine_state(problem, first_fit_decreasing(problem)[0])
    items, dem, _, grp, cap = arrays(state, 0, 0)
    sizes = _Sizes(dem, grp, cap)
    counts = np.array([state.classes[ci].count for ci in items], dtype=np.int64)
    singles = []
    for q in np.flatnonzero(counts):
        for _ in range(int(counts[q])):
            k = np.zeros(len(counts), dtype=np.int64)
            k[q] = 1
            singles.append(k)
    out = _repack(state, sizes, singles, 1, UNITS_PER_S, np.random.default_rng(0))
    assert len(out) < len(singles)
    assert (np.sum(out, axis=0) == counts).all()
    for k in out:
        assert (k @ dem <= cap).all()


def test_value_correction_reaches_the_bound_first_fit_decreasing_misses() -> None:
    """Many small VMs of mixed shapes on 32-core / 128 GiB hosts: first-fit decreasing leaves
    the CPU-heavy ones for last and needs more hosts than the volume bound; the passes meet
    the bound."""
    rng = random.Random(5)
    shapes = [(1, 2), (2, 4), (2, 8), (4, 8), (4, 16), (8, 16), (8, 32), (1, 8), (2, 16)]
    items = [
        VM(name=f"v{i}", vcpus=s[0], memory_gib=s[1])
        for i, s in enumerate(rng.choice(shapes) for _ in range(400))
    ]
    problem = _problem(items, cores=32, mem=128)
    ffd, _ = first_fit_decreasing(problem)
    state = engine_state(problem, ffd)
    bound = int(state.bound[0])
    assert len(ffd) > bound
    value_correction(state, [0], 5.0 * UNITS_PER_S)
    assert state.value[0] == bound
    _check(problem, state.packing())


def test_anytime_dive_completes_what_the_fixed_hosts_leave() -> None:
    """The dive's completion keeps its fixed hosts and packs every other VM exactly once."""
    items = [VM(name=f"v{i}", vcpus=1 + i % 4, memory_gib=2 + 3 * (i % 5)) for i in range(30)]
    problem = _problem(items)
    state = engine_state(problem, first_fit_decreasing(problem)[0])
    first = state.by_partition[0][0]
    fixed = [make_pattern(state, 0, 0, {first: 1})]
    packing = _finish(state, [0], fixed, 2.0 * UNITS_PER_S)
    assert packing is not None
    _check(problem, packing)
    assert any(
        sorted(b.vms) == [state.classes[first].members[0]] for b in packing
    )  # the fixed host, as fixed
