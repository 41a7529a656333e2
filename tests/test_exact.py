"""The exact engine (column generation + exact search) on small hand-checkable instances."""

from __future__ import annotations

import random
import time
from collections import Counter

from ortools.sat.python import cp_model

from planner.exact import improve
from planner.exact.classes import (
    UNITS_PER_S,
    State,
    add_singletons,
    build_classes,
    make_pattern,
)
from planner.exact.local_search import balanced_fill, empty_hosts
from planner.exact.search import _substitute
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Policy, Problem
from planner.packing import Packing, packing_objective
from planner.sizing import build_problem
from tests.conftest import (
    PURE,
    WIN_DC,
    catalog,
    check_packing,
    engine_state,
    host,
    inventory,
    vms,
)


def _problem(items: list[VM], policy: Policy = PURE, **kw: object) -> Problem:
    hosts = kw.pop("hosts", (host("h10", cores=10, mem=64),))
    assert isinstance(hosts, tuple)
    return build_problem(inventory(*items), catalog(*hosts, **kw), policy)  # type: ignore[arg-type]


def _cpu_items(sizes: list[int]) -> list[VM]:
    """VMs that differ only in vCPUs (memory never binds on the 64 GiB host)."""
    return [VM(name=f"v{i}", vcpus=s, memory_gib=1) for i, s in enumerate(sizes)]


def _hosts(packing: Packing) -> int:
    return sum(1 for b in packing if b.vms)


def _optimum(problem: Problem) -> int:
    """The fewest hosts by a plain CP-SAT assignment model (one host model, no groups)."""
    t = problem.host_types[0]
    n = len(problem.vms)
    m = cp_model.CpModel()
    x = {(i, b): m.new_bool_var(f"x{i}_{b}") for i in range(n) for b in range(n)}
    used = [m.new_bool_var(f"u{b}") for b in range(n)]
    for i in range(n):
        m.add_exactly_one(x[i, b] for b in range(n))
    for b in range(n):
        m.add(sum(problem.vms[i].cpu_m * x[i, b] for i in range(n)) <= t.cpu_cap_m * used[b])
        m.add(sum(problem.vms[i].mem_mib * x[i, b] for i in range(n)) <= t.mem_cap_mib * used[b])
    m.minimize(sum(used))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m) == cp_model.OPTIMAL
    return round(solver.objective_value)


def test_proves_the_optimum_where_first_fit_decreasing_needs_an_extra_host() -> None:
    """CPU 5,4,3,3,3,2 on 10-core hosts: FFD opens 3 hosts ({5,4},{3,3,3},{2}); 2 suffice."""
    problem = _problem(_cpu_items([5, 4, 3, 3, 3, 2]))
    ffd, _ = first_fit_decreasing(problem)
    assert _hosts(ffd) == 3
    result = improve(problem, ffd, 10.0)
    assert _hosts(result.packing) == 2  # {5,3,2} and {4,3,3}
    assert result.proven
    assert result.bound == 2
    check_packing(problem, result.packing)


def test_bound_is_valid_and_plan_never_worse_than_first_fit_on_random_instances() -> None:
    """On small random 2-D instances: bound <= optimum <= plan <= first-fit decreasing."""
    rng = random.Random(7)
    for _ in range(6):
        items = [
            VM(name=f"v{i}", vcpus=rng.randint(1, 6), memory_gib=rng.randint(1, 10))
            for i in range(rng.randint(6, 9))
        ]
        problem = _problem(items, hosts=(host("h8", cores=8, mem=16),))
        ffd, _ = first_fit_decreasing(problem)
        result = improve(problem, ffd, 5.0)
        best = _optimum(problem)
        assert result.bound <= best + 1e-9
        assert best <= _hosts(result.packing) <= _hosts(ffd)
        if result.proven:
            assert _hosts(result.packing) == best
        check_packing(problem, result.packing)


def test_same_input_and_seed_give_the_same_packing() -> None:
    """Two runs on the same problem return identical packings and bounds."""
    rng = random.Random(3)
    items = [
        VM(name=f"v{i}", vcpus=rng.randint(1, 5), memory_gib=rng.randint(1, 12)) for i in range(14)
    ]
    problem = _problem(items, hosts=(host("h8", cores=8, mem=16),))
    ffd, _ = first_fit_decreasing(problem)
    first = improve(problem, ffd, 5.0)
    second = improve(problem, ffd, 5.0)
    assert first.packing == second.packing
    assert first.bound == second.bound


def test_max_count_caps_the_big_model() -> None:
    """With the 16-core model capped at one host, the rest goes to 8-core hosts."""
    big = host("h16", cores=16, mem=64, max_count=1, price=1500.0)
    small = host("h8", cores=8, mem=64)
    problem = _problem(_cpu_items([6, 6, 5, 5, 4, 4, 3, 3]), hosts=(big, small))
    ffd, _ = first_fit_decreasing(problem)
    result = improve(problem, ffd, 5.0)
    used = Counter(problem.host_types[b.type_index].model.model for b in result.packing if b.vms)
    assert used["h16"] <= 1
    assert sum(used.values()) == 4  # 36 cores: 16 + 3 x 8 at best, and that packs
    assert result.proven
    check_packing(problem, result.packing)


def test_anti_affinity_group_members_never_share_a_host() -> None:
    """Three small VMs of one group need three hosts although one host would hold them all."""
    items = [
        *vms(3, vcpus=1, mem=1, prefix="db", group="db"),
        *vms(3, vcpus=3, mem=1, prefix="app"),
    ]
    problem = _problem(items)
    ffd, _ = first_fit_decreasing(problem)
    result = improve(problem, ffd, 5.0)
    assert _hosts(result.packing) == 3
    assert result.proven
    check_packing(problem, result.packing)


def test_cost_objective_puts_licensed_vms_on_one_host() -> None:
    """Four Windows VMs and four plain ones: one host pays the Windows licence, not two."""
    policy = PURE.model_copy(update={"objective": "cost"})
    items = [
        *vms(4, vcpus=2, mem=4, prefix="win", licences=("windows",)),
        *vms(4, vcpus=2, mem=4, prefix="lin"),
    ]
    problem = _problem(items, policy, hosts=(host("h8", cores=8, mem=16),), licences=(WIN_DC,))
    ffd, _ = first_fit_decreasing(problem)
    result = improve(problem, ffd, 10.0)
    licensed = [b for b in result.packing if any(problem.vms[i].tags for i in b.vms)]
    assert len(licensed) == 1
    value = packing_objective(problem, result.packing)[0]
    assert value <= packing_objective(problem, ffd)[0] + 1e-6
    assert result.bound <= value + 1e-6
    check_packing(problem, result.packing)


def test_local_search_empties_a_host_first_fit_decreasing_wastes() -> None:
    """On CPU 5,4,3,3,3,2 the local search alone moves the third host's VM into the others."""
    problem = _problem(_cpu_items([5, 4, 3, 3, 3, 2]))
    ffd, _ = first_fit_decreasing(problem)
    state = engine_state(problem, ffd)
    assert empty_hosts(state, [0], 5.0 * UNITS_PER_S)
    assert _hosts(state.packing()) == 2
    check_packing(problem, state.packing())


def test_local_search_and_balanced_fill_never_worse_on_random_instances() -> None:
    """On random 2-D instances neither repacking ends above first-fit decreasing."""
    rng = random.Random(11)
    for _ in range(8):
        items = [
            VM(name=f"v{i}", vcpus=rng.randint(1, 6), memory_gib=rng.randint(1, 10))
            for i in range(rng.randint(8, 30))
        ]
        problem = _problem(items, hosts=(host("h8", cores=8, mem=16),))
        ffd, _ = first_fit_decreasing(problem)
        state = engine_state(problem, ffd)
        balanced_fill(state, [0])
        empty_hosts(state, [0], 0.5 * UNITS_PER_S)
        assert _hosts(state.packing()) <= _hosts(ffd)
        check_packing(problem, state.packing())


def test_local_search_keeps_groups_zones_and_models() -> None:
    """Repacked hosts keep anti-affinity, stay in their zone, and run VMs only where they fit."""
    big = host("h16", cores=16, mem=64)
    small = host("h4", cores=4, mem=64, price=100.0)
    items = [
        *vms(4, vcpus=1, mem=1, prefix="db", group="db"),
        *vms(3, vcpus=8, mem=4, prefix="wide"),  # fits only the 16-core model
        *vms(6, vcpus=2, mem=2, prefix="web", zone="dmz"),
        *vms(6, vcpus=3, mem=2, prefix="app"),
    ]
    problem = _problem(items, hosts=(big, small))
    ffd, _ = first_fit_decreasing(problem)
    state = engine_state(problem, ffd)
    balanced_fill(state, list(state.by_partition))
    empty_hosts(state, list(state.by_partition), 1.0 * UNITS_PER_S)
    packing = state.packing()
    assert _hosts(packing) <= _hosts(ffd)
    check_packing(problem, packing)
    for b in packing:
        zones = {problem.vms[i].zone for i in b.vms}
        assert len(zones) == 1
        assert set(b.vms) <= set(problem.partitions[b.partition].vms)
        assert all(b.type_index in problem.vms[i].fits for i in b.vms)


def test_dive_substitutes_smaller_vms_and_keeps_patterns_it_can_use_as_they_are() -> None:
    """A fixed pattern whose big VMs are all placed takes smaller VMs still to place instead
    (what the LP's exchange rows allowed); a pattern usable as it is stays the same object,
    so its cost is not recomputed from a partial count."""
    items = _cpu_items([4, 4, 2, 2])
    problem = _problem(items)
    classes, by_partition = build_classes(problem)
    state = State(problem, classes, by_partition, time.perf_counter() + 5)
    add_singletons(state)
    big = next(ci for ci, c in enumerate(classes) if c.cpu == 4000)
    small = next(ci for ci, c in enumerate(classes) if c.cpu == 2000)
    p = make_pattern(state, 0, 0, {big: 2})
    assert _substitute(state, p, {big: 2, small: 2}, {big: [small]}) is p
    swapped = _substitute(state, p, {big: 0, small: 2}, {big: [small]})
    assert dict(swapped.counts) == {small: 2}
