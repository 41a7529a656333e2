"""N+k spares of a model capped by ``max_count``: a plan is ``partial`` only where no plan
meets N+k, checked against a brute force over every plan of a few VMs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from planner.models import VM, Problem, SolverParams
from planner.pipeline import run
from tests.conftest import PURE, catalog, host, inventory

N_PLUS_1 = PURE.model_copy(update={"ha_host_failures": 1})
PARAMS = SolverParams(time_limit_s=10, work_limit_s=0.2)


def _set_partitions(items: Sequence[int]) -> Iterator[list[list[int]]]:
    """Every way to split ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for blocks in _set_partitions(rest):
        yield [[first], *blocks]
        for i in range(len(blocks)):
            yield [*blocks[:i], [first, *blocks[i]], *blocks[i + 1 :]]


def _complete_plan_exists(problem: Problem, k: int) -> bool:
    """Some plan places every VM (one partition) within every capacity and ``max_count``, with
    k spares of one model that runs every VM and holds the busiest host's load."""
    types = problem.host_types
    vms = problem.vms
    every = set.intersection(*(set(v.fits) for v in vms))
    for blocks in _set_partitions(list(range(len(vms)))):
        load = [
            (sum(vms[i].cpu_m for i in b), sum(vms[i].mem_mib for i in b), len(b)) for b in blocks
        ]
        options = [
            [
                t.index
                for t in types
                if all(t.index in vms[i].fits for i in b)
                and c <= t.cpu_cap_m
                and m <= t.mem_cap_mib
                and n <= t.vm_cap
            ]
            for b, (c, m, n) in zip(blocks, load, strict=True)
        ]
        busiest = tuple(max(x[d] for x in load) for d in range(3))
        for chosen in itertools.product(*options):
            for s in every:
                t = types[s]
                room = (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap)
                if any(a > b for a, b in zip(busiest, room, strict=True)):
                    continue
                counts = [chosen.count(u.index) + (k if u.index == s else 0) for u in types]
                if all(
                    u.model.max_count is None or counts[u.index] <= u.model.max_count for u in types
                ):
                    return True
    return False


def test_a_cheap_capped_model_keeps_one_host_for_the_spare() -> None:
    """Five 6-vCPU VMs; a cheap 16-core model capped at 3, an 8-core one uncapped; N+1. All
    three 16-core hosts active leave no model that can take over a host of 12 vCPU; two of
    them active, one 8-core host and the third 16-core host as the spare meet N+1."""
    cat = catalog(
        host("big", cores=16, mem=64, price=1000.0, max_count=3),
        host("small", cores=8, mem=32, price=3000.0),
    )
    for objective in ("hosts", "cost"):
        policy = N_PLUS_1.model_copy(update={"objective": objective})
        vms = [VM(name=f"v{i}", vcpus=6, memory_gib=4) for i in range(5)]
        _, plan = run(inventory(*vms), cat, policy, PARAMS)
        assert plan.status in ("optimal", "feasible"), plan.notes
        assert [h.model for h in plan.spare_hosts] == ["big"]
        assert sum(h.model == "big" for h in plan.hosts) == 3
        assert any("leaving 1 for the spares" in n for n in plan.notes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 12), min_size=2, max_size=6),
    big_cores=st.integers(8, 24),
    small_cores=st.integers(2, 12),
    cap=st.integers(1, 4),
    objective=st.sampled_from(["hosts", "cost"]),
)
@example(sizes=[6, 6, 6, 6, 6], big_cores=16, small_cores=8, cap=3, objective="cost")
def test_partial_only_where_no_plan_meets_n_plus_1(
    sizes: list[int], big_cores: int, small_cores: int, cap: int, objective: str
) -> None:
    """A cheap model capped at ``cap`` and a dearer uncapped one, N+1: the plan is complete
    exactly where the brute force finds a complete plan (placing every VM)."""
    cat = catalog(
        host("big", cores=big_cores, mem=256, price=1000.0, max_count=cap),
        host("small", cores=small_cores, mem=256, price=3000.0),
    )
    vms = [VM(name=f"v{i}", vcpus=c, memory_gib=1) for i, c in enumerate(sizes)]
    policy = N_PLUS_1.model_copy(update={"objective": objective})
    problem, plan = run(inventory(*vms), cat, policy, PARAMS)
    if problem.unplaced or not all(v.fits for v in problem.vms):
        return  # a VM no model holds: not this property
    exists = _complete_plan_exists(problem, 1)
    complete = plan.status in ("optimal", "feasible")
    assert complete == exists, (plan.status, plan.notes, [(h.model, h.vms) for h in plan.hosts])


def test_the_search_never_trades_away_the_spares_first_fit_keeps() -> None:
    """Two capped hosts hold the four VMs and a 16-core host takes over either one as first
    fit packs them; the cost search pairs them so that no model could take over its busiest
    host. The plan is then first fit's, not one with a capped host given up for the spare
    (which costs more than first fit's, found by the Hypothesis property test)."""
    items = [
        VM(name="a", vcpus=5, memory_gib=4.0),
        VM(name="b", vcpus=5, memory_gib=24.0),
        VM(name="c", vcpus=6, memory_gib=0.5),
        VM(name="d", vcpus=9, memory_gib=0.5),
    ]
    cat = catalog(
        host("m0", cores=8, mem=64, price=800.0, max_count=2, threads_per_core=2),
        host("m1", cores=16, mem=32, price=4000.0, threads_per_core=2),
    )
    policy = N_PLUS_1.model_copy(
        update={
            "objective": "cost",
            "cpu_overcommit": 4.0,
            "memory_overcommit": 1.5,
            "max_utilization": 0.7,
            "growth": 0.2,
        }
    )
    _, plan = run(inventory(*items), cat, policy, SolverParams(time_limit_s=2.0))
    assert plan.status == "feasible"
    assert [(h.model, h.role) for h in plan.hosts] == [
        ("m0", "active"),
        ("m0", "active"),
        ("m1", "spare"),
    ]
