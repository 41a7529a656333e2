"""Lower bounds: valid for every packing, and tight on hand-checked cases."""

from __future__ import annotations

import itertools
import math
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.assemble import build_plan
from planner.bounds import energy_floor, l2_bound, lower_bounds
from planner.costs import workload_cost
from planner.models import VM, Licence, Problem, SolverParams
from planner.packing import HostBin
from planner.pipeline import run
from planner.sizing import build_problem
from planner.solve import solve
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms

SQL_PER_CORE = Licence(
    name="SQL Enterprise", family="sql", tag="sql", unit="core", price=7561.5,
    min_cores_per_socket=4,
)  # fmt: skip
RHEL_PAIRS = Licence(
    name="RHEL", family="rhel", tag="rhel", unit="socket_pair", price=800, period="year",
    vms_per_grant=2,
)  # fmt: skip


def test_l2_counts_items_that_cannot_pair() -> None:
    """Three items of 60 in bins of 100 need three bins although the volume says two."""
    assert math.ceil(180 / 100) == 2
    assert l2_bound([60, 60, 60], 100) == 3


def test_l2_adds_small_items_that_do_not_fit_the_gaps() -> None:
    """Two items of 70 leave 30 free each; six items of 20 fill two gaps and need one more bin."""
    assert l2_bound([70, 70, 20, 20, 20, 20, 20, 20], 100) == 3


def test_l2_of_nothing_is_zero() -> None:
    """No items need no bins."""
    assert l2_bound([], 100) == 0


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=40))
def test_l2_never_exceeds_first_fit_decreasing(sizes: list[int]) -> None:
    """The bound is never above a real packing (first-fit decreasing)."""
    bins: list[int] = []
    for s in sorted(sizes, reverse=True):
        for i, used in enumerate(bins):
            if used + s <= 100:
                bins[i] += s
                break
        else:
            bins.append(s)
    assert math.ceil(sum(sizes) / 100) <= l2_bound(sizes, 100) <= len(bins)


def test_bound_takes_the_largest_model_and_adds_spares() -> None:
    """Volume against the largest model (32 vCPU), plus one spare for N+1."""
    cat = catalog(host("s", cores=8), host("l", cores=32, mem=64))
    p = build_problem(inventory(*vms(40)), cat, PURE.model_copy(update={"ha_host_failures": 1}))
    b = lower_bounds(p)
    assert b.partition_hosts == (3,)  # 80 vCPUs / 32
    assert b.partition_rule == ("cpu",)
    assert b.hosts == 4


def test_anti_affinity_group_bound() -> None:
    """Five members of one group need five hosts."""
    b = lower_bounds(build_problem(inventory(*vms(5, group="g")), catalog(), PURE))
    assert (b.hosts, b.partition_rule) == (5, ("anti-affinity group",))


def test_cost_bound_counts_a_licence_on_every_host_tagged_vms_need() -> None:
    """Three Windows VMs that each fill a host need three Windows licences, and the bound knows
    (with the energy their 18 busy vCPUs draw above idle: 18/8 of a full host's)."""
    cat = catalog(host(cores=8, mem=16), licences=(WIN_STD,))
    p = build_problem(inventory(*vms(3, vcpus=6, mem=4, licences=("windows",))), cat, PURE)
    b = lower_bounds(p)
    licence = 16 * 73.5  # 8-core host, 16-core minimum
    t = p.host_types[0]
    energy = 18 / 8 * t.energy_per_util_cost
    assert b.cost == pytest.approx(3 * (t.fixed_cost + licence) + energy, rel=1e-5)
    _, plan = run(inventory(*vms(3, vcpus=6, mem=4, licences=("windows",))), cat, PURE)
    assert plan.cost.total >= b.cost


def test_energy_floor_counts_load_beyond_full_load_at_the_full_rate() -> None:
    """Four 8-vCPU VMs at 100 % CPU on one 8-core host overcommitted 4:1 draw the energy of
    one fully loaded host, not four: the floor prices their 32 cores of load at the rate
    of a host that can carry 32, and the plan meets it."""
    policy = PURE.model_copy(update={"cpu_overcommit": 4.0, "objective": "cost"})
    cat = catalog(host(cores=8, mem=64))
    inv = inventory(*vms(4, vcpus=8, mem=8, cpu_util_pct=100.0))
    p = build_problem(inv, cat, policy)
    t = p.host_types[0]
    assert energy_floor(p, p.vms, [(t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)]) == pytest.approx(
        t.energy_per_util_cost
    )
    _, plan = run(inv, cat, policy)
    assert len(plan.hosts) == 1
    assert plan.lower_bound_cost <= plan.cost.total * (1 + 1e-9)
    assert plan.status == "optimal"


def test_energy_floor_is_the_load_of_a_one_model_estate() -> None:
    """Without overcommit every plan of one model pays the energy of the VMs' whole load:
    the bound of 100 two-vCPU VMs on 8-core hosts includes 200/8 hosts' worth of it."""
    cat = catalog(host(cores=8, mem=64))
    policy = PURE.model_copy(update={"objective": "cost"})
    p = build_problem(inventory(*vms(100, vcpus=2, mem=4)), cat, policy)
    t = p.host_types[0]
    b = lower_bounds(p)
    assert b.cost == pytest.approx(25 * t.fixed_cost + 200 / 8 * t.energy_per_util_cost)


def _set_partitions(items: list[int]) -> list[list[tuple[int, ...]]]:
    """Every way to split ``items`` into non-empty blocks."""
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out: list[list[tuple[int, ...]]] = []
    for tail in _set_partitions(rest):
        out.append([(first,), *tail])
        for j in range(len(tail)):
            out.append([*tail[:j], (first, *tail[j]), *tail[j + 1 :]])
    return out


def _cheapest_complete_plan(problem: Problem) -> float:
    """The least total cost of a complete plan (every VM placed, N+k met), spares and per-VM
    costs included, by brute force over every split of the VMs and model per host."""
    bounds = lower_bounds(problem)
    best = math.inf
    for blocks in _set_partitions(list(range(len(problem.vms)))):
        choices = [
            [t.index for t in problem.host_types if _fits(problem, t.index, block)]
            for block in blocks
        ]
        for models in itertools.product(*choices):
            packing = tuple(
                HostBin(0, t, tuple(sorted(block))) for t, block in zip(models, blocks, strict=True)
            )
            plan = build_plan(problem, packing, {}, bounds, "brute force")
            if plan.status in ("feasible", "optimal"):
                best = min(best, plan.cost.total)
    return best


def _fits(problem: Problem, t: int, block: tuple[int, ...]) -> bool:
    ht = problem.host_types[t]
    members = [problem.vms[i] for i in block]
    return (
        all(t in v.fits for v in members)
        and sum(v.cpu_m for v in members) <= ht.cpu_cap_m
        and sum(v.mem_mib for v in members) <= ht.mem_cap_mib
        and len(members) <= ht.vm_cap
    )


BOUND_TAGS = ((), ("windows",), ("windows", "sql"), ("rhel",))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.sampled_from((1, 2, 4, 6)), st.sampled_from((2, 8, 16, 24)), st.integers(0, 3)
        ),
        min_size=2,
        max_size=4,
    ),
    st.integers(0, 1),
    st.sampled_from(("cluster", "pinned")),
    st.sampled_from((None, 2, 3)),
    st.booleans(),
    st.sampled_from((1.0, 2.0)),
    st.sampled_from((None, 30.0, 100.0)),
)
def test_cost_bounds_never_exceed_the_cheapest_complete_plan(
    specs: list[tuple[int, int, int]],
    k: int,
    mobility: str,
    cluster_hosts: int | None,
    engine: bool,
    overcommit: float,
    busy: float | None,
) -> None:
    """The cheap cost bound (the integer cover of each partition with the energy floor, its
    spare structures, the split into clusters) and the bound of a whole solve (``engine``:
    the exact engine on the partition instead of the small-partition model, its bound
    combined with the spare structures) stay at or below the cheapest complete plan, found
    by brute force, with N+k spares, licence mobility, small clusters, and overcommitted
    hosts whose observed load may exceed their cores (energy capped at full load)."""
    items = [
        VM(name=f"v{i}", vcpus=c, memory_gib=m, licences=BOUND_TAGS[tag], cpu_util_pct=busy)
        for i, (c, m, tag) in enumerate(specs)
    ]
    policy = PURE.model_copy(
        update={
            "objective": "cost",
            "ha_host_failures": k,
            "vm_mobility": mobility,
            "max_cluster_hosts": cluster_hosts,
            "cpu_overcommit": overcommit,
        }
    )
    cat = catalog(
        host("s8", cores=8, mem=32, price=4000.0),
        host("m16", cores=16, mem=64, price=9000.0),
        licences=(WIN_STD, WIN_DC, SQL_PER_CORE, RHEL_PAIRS),
    )
    problem = build_problem(inventory(*items), cat, policy)
    best = _cheapest_complete_plan(problem)
    workload = workload_cost(
        (problem.inventory.vms[v.index] for v in problem.vms), policy, "shared"
    ).total
    b = lower_bounds(problem)
    assert max(b.cost, b.joint_cost) + workload <= best * (1 + 1e-9)
    with patch("planner.solve.SMALL_COST_MAX_VMS", 0 if engine else 24):
        plan = solve(problem, SolverParams(time_limit_s=5)).plan
    assert plan.lower_bound_cost <= best * (1 + 1e-9)
    if plan.status in ("feasible", "optimal"):
        assert plan.cost.total >= best * (1 - 1e-9)
