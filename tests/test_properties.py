"""Invariants no example covers, checked on random inventories, catalogs and policies."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.bounds import lower_bounds
from planner.costs import workload_cost
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Catalog, Policy
from planner.packing import packing_objective
from planner.pipeline import run
from planner.solve import assemble
from tests.conftest import HYPERVISOR, NONE, TYPE1, WIN_DC, WIN_STD, host, inventory

vm_st = st.builds(
    dict,
    vcpus=st.integers(1, 12),
    memory_gib=st.sampled_from([0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 48]),
    group=st.sampled_from(["", "", "", "g1", "g2"]),
    zone=st.sampled_from(["", "", "dmz"]),
    licenses=st.sampled_from([(), (), ("windows",)]),
    powered_on=st.booleans(),
)
host_st = st.builds(
    lambda i, cores, mem, price, cap: host(
        f"m{i}", cores=cores, mem=mem, price=price, max_count=cap, threads_per_core=2
    ),
    st.integers(0, 9),
    st.sampled_from([4, 8, 16, 24]),
    st.sampled_from([16, 32, 64, 128]),
    st.sampled_from([800.0, 1500.0, 4000.0]),
    st.sampled_from([None, None, None, 2, 5]),
)
policy_st = st.builds(
    Policy,
    hypervisor=st.sampled_from(["none", "type1"]),
    cpu_overcommit=st.sampled_from([1.0, 2.0, 4.0]),
    memory_overcommit=st.sampled_from([1.0, 1.5]),
    max_utilization=st.sampled_from([0.7, 0.8, 1.0]),
    ha_host_failures=st.integers(0, 2),
    growth=st.sampled_from([0.0, 0.2]),
    include_powered_off=st.booleans(),
    objective=st.sampled_from(["cost", "hosts"]),
    time_limit_s=st.just(2.0),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[VM], Catalog, Policy]:
    specs = draw(st.lists(vm_st, min_size=0, max_size=40))
    machines = draw(st.lists(host_st, min_size=1, max_size=3, unique_by=lambda h: h.model))
    catalog = Catalog(
        hosts=tuple(machines),
        licences=(WIN_STD, WIN_DC, HYPERVISOR),
        profiles={"none": NONE, "type1": TYPE1},
    )
    vms = [VM(name=f"vm{i}", **spec) for i, spec in enumerate(specs)]
    return vms, catalog, draw(policy_st)


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_every_vm_exactly_once_and_every_unplaced_vm_has_a_reason(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """Each inventory VM is on exactly one host or in the unplaced list with a reason."""
    vms, catalog, policy = case
    _, plan = run(inventory(*vms), catalog, policy)
    seen = Counter(n for h in plan.hosts for n in h.vms) + Counter(u.vm for u in plan.unplaced)
    assert seen == Counter(v.name for v in vms)
    assert all(u.reason for u in plan.unplaced)


@SETTINGS
@given(scenarios())
def test_no_host_is_over_capacity_in_any_dimension(case: tuple[list[VM], Catalog, Policy]) -> None:
    """Recomputed from the sized demands, every host is within vCPU, memory and VM count."""
    vms, catalog, policy = case
    problem, plan = run(inventory(*vms), catalog, policy)
    demand = {v.name: v for v in problem.vms}
    for h in plan.hosts:
        t = problem.host_types[h.type_index]
        assert sum(demand[n].cpu_m for n in h.vms) <= t.cpu_cap_m
        assert sum(demand[n].mem_mib for n in h.vms) <= t.mem_cap_mib
        assert len(h.vms) <= t.vm_cap
        assert all(h.type_index in demand[n].fits for n in h.vms)


@SETTINGS
@given(scenarios())
def test_plans_pass_verification_respect_bounds_and_match_the_heuristic(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """Every full plan stays at or above its lower bound, and is never worse than FFD.

    The bounds hold for plans that meet every rule; a partial or infeasible plan (VMs left
    out, spares missing) may undercut them.
    """
    vms, catalog, policy = case
    problem, plan = run(inventory(*vms), catalog, policy)
    if plan.status in ("optimal", "feasible"):
        assert len(plan.hosts) >= plan.lower_bound_hosts
        assert plan.cost.total >= plan.lower_bound_cost - 1e-6
    packing, failed = first_fit_decreasing(problem)
    active_value = packing_objective(problem, [b for b in packing if b.vms])[0]
    if policy.objective == "hosts":
        assert len(plan.active_hosts) <= active_value
    elif policy.ha_host_failures and not failed and plan.status != "partial":
        # The exact cost model weighs the spares too: the whole plan is no dearer than
        # first fit's with its spares, even where its active hosts cost more.
        heuristic = assemble(problem, packing, {}, lower_bounds(problem), "ffd", 0.0)
        if heuristic.status != "partial":
            assert plan.cost.total <= heuristic.cost.total + 1e-6
    else:
        # Per-VM costs (storage, administration) are in the plan, not in the packing objective.
        by_name = {vm.name: vm for vm in problem.inventory.vms}
        placed = [by_name[n] for h in plan.active_hosts for n in h.vms]
        per_vm = workload_cost(placed, problem.policy, "shared").total
        assert sum(h.cost.total for h in plan.active_hosts) - per_vm <= active_value + 1e-6
