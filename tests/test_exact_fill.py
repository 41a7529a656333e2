"""The exact fill: hosts that a plan at the bound must fill exactly, listed, then chosen."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.exact import improve
from planner.exact.classes import UNITS_PER_S, objective_of, proven
from planner.exact.exact_fill import exact_fill, fill_hosts, fill_instance
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Problem
from planner.sizing import build_problem
from tests.conftest import PURE, catalog, check_packing, engine_state, host, inventory

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def triplet_sizes(n: int, cap: int, rng: random.Random) -> list[int]:
    """``3 n`` sizes, each consecutive three filling ``cap`` exactly (Falkenauer's recipe:
    the first of a triplet in [0.38, 0.49] cap, the second in [0.25 cap, the rest / 2])."""
    sizes = []
    for _ in range(n):
        first = rng.randint(38 * cap // 100, 49 * cap // 100)
        second = rng.randint(cap // 4, (cap - first) // 2)
        sizes += [first, second, cap - first - second]
    rng.shuffle(sizes)
    return sizes


def triplet_problem(
    sizes: list[int], cap: int, groups: dict[int, str] | None = None, objective: str = "hosts"
) -> Problem:
    """One VM of ``s`` vCPUs and 1 GiB per size on hosts of ``cap`` cores and 64 GiB."""
    groups = groups or {}
    vms = [
        VM(name=f"v{i}", vcpus=s, memory_gib=1, group=groups.get(i, ""))
        for i, s in enumerate(sizes)
    ]
    policy = PURE.model_copy(update={"objective": objective})
    return build_problem(inventory(*vms), catalog(host("h", cores=cap, mem=64)), policy)


def fill(problem: Problem) -> tuple[list[int], float]:
    """Run the exact fill alone from first-fit decreasing: (partitions found, hosts)."""
    ffd, _ = first_fit_decreasing(problem)
    state = engine_state(problem, ffd)
    state.value[0] = objective_of(problem, state.bins[0])  # the cost, for that objective
    found = exact_fill(state, 5 * UNITS_PER_S, 2 * UNITS_PER_S)
    check_packing(problem, state.packing())
    return found, float(len(state.bins[0]))


@SETTINGS
@given(st.integers(2, 12), st.integers(0, 10_000))
def test_triplets_are_packed_at_their_optimum(n: int, seed: int) -> None:
    """Generated triplets (one host per triplet is the optimum): the phase finds a valid plan
    of exactly that many hosts."""
    problem = triplet_problem(triplet_sizes(n, 100, random.Random(seed)), 100)
    found, hosts = fill(problem)
    assert found == [0]
    assert hosts == n


@SETTINGS
@given(st.integers(3, 8), st.integers(0, 10_000), st.integers(1, 6))
def test_anti_affinity_is_kept_in_the_plan_it_finds(n: int, seed: int, pairs: int) -> None:
    """Anti-affinity pairs drawn among the VMs: whatever the phase returns keeps every VM
    once, every capacity and every group on distinct hosts (``check_packing``)."""
    rng = random.Random(seed)
    sizes = triplet_sizes(n, 100, rng)
    groups: dict[int, str] = {}
    for g in range(pairs):
        a, b = rng.sample(range(len(sizes)), 2)
        groups.setdefault(a, f"g{g}")
        groups.setdefault(b, groups[a])
    found, hosts = fill(triplet_problem(sizes, 100, groups))
    assert hosts >= n
    if found:
        assert hosts == n


@SETTINGS
@given(st.lists(st.integers(10, 60), min_size=3, max_size=9), st.integers(0, 3))
def test_listing_is_every_host_within_the_waste_budget(sizes: list[int], pad: int) -> None:
    """Brute force over every multiset of VMs: the listed hosts are exactly those that fit
    and leave at most W_d of each dimension unused (W_d: the room a plan at the volume
    bound leaves in all), so a failed choice among them is a proof."""
    cap = 100
    sizes = [*sizes, *([cap - sum(sizes) % cap] if sum(sizes) % cap else [])][: 9 + pad]
    problem = triplet_problem(sizes, cap)
    state = engine_state(problem, first_fit_decreasing(problem)[0])
    applies = fill_instance(state, 0)
    if applies is None:
        return
    _, inst = applies
    listed, _ = fill_hosts(inst, 10**7)
    assert listed is not None
    got = {tuple(sorted(Counter({inst.sizes[j]: k for j, k in h}).elements())) for h in listed}
    expected = set()
    items = [(inst.sizes[j], j) for j, c in enumerate(inst.counts) for _ in range(c)]
    for r in range(1, len(items) + 1):
        for combo in itertools.combinations(items, r):
            load = [sum(s[d] for s, _ in combo) for d in range(3)]
            if all(0 <= inst.cap[d] - load[d] <= inst.waste[d] for d in range(3)):
                expected.add(tuple(sorted(s for s, _ in combo)))
    assert got == expected
    assert len(listed) == len(set(listed))  # each host once


def test_no_exact_plan_raises_the_bound() -> None:
    """Six VMs of 50 and 30 × 5 vCPUs (300 in all) on 100-core hosts: the volume allows 3
    hosts, but none can be filled exactly, so the phase proves that 4 are needed."""
    problem = triplet_problem([50, 30, 30, 30, 30, 30, 100], 100)
    state = engine_state(problem, first_fit_decreasing(problem)[0])
    assert state.bound[0] == 3
    assert exact_fill(state, UNITS_PER_S, UNITS_PER_S) == []
    assert state.bound[0] == 4
    assert proven(state)


def test_cost_objective_keeps_the_cheaper_plan() -> None:
    """Objective cost, no licences: the plan of one host per triplet is kept (it costs less
    than first-fit decreasing's)."""
    sizes = triplet_sizes(20, 100, random.Random(3))
    problem = triplet_problem(sizes, 100, objective="cost")
    ffd, _ = first_fit_decreasing(problem)
    assert sum(1 for b in ffd if b.vms) > 20
    found, hosts = fill(problem)
    assert found == [0]
    assert hosts == 20


def test_engine_reaches_the_optimum_of_a_few_hundred_triplets() -> None:
    """83 triplets (249 VMs) on 1,000-core hosts with one second of work: the engine ends
    at the optimum, 83 hosts, proven (before the exact fill it ended above it)."""
    sizes = triplet_sizes(83, 1000, random.Random(0))
    problem = triplet_problem(sizes, 1000)
    ffd, _ = first_fit_decreasing(problem)
    result = improve(problem, ffd, 30.0, work_s=1.0)
    check_packing(problem, result.packing)
    assert sum(1 for b in result.packing if b.vms) == 83
    assert result.proven
