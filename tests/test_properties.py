"""Invariants no example covers, checked on random inventories, catalogs and policies.

``pipeline.run`` verifies every plan (``planner.verify``) and raises on a violation, so these
properties check what it does not: the reasons of unplaced VMs, both bounds whatever the
objective, the comparison with first fit, and that the verifier does catch a broken plan.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.assemble import build_plan, spares_complete
from planner.bounds import lower_bounds
from planner.costs import workload_cost
from planner.heuristic import first_fit_decreasing
from planner.models import VM, Catalog, Policy, SolverParams, Unplaced
from planner.packing import packing_objective
from planner.pipeline import run
from planner.verify import verify
from tests.conftest import HYPERVISOR, NONE, TYPE1, WIN_DC, WIN_STD, host, inventory

vm_st = st.builds(
    dict,
    vcpus=st.integers(1, 12),
    memory_gib=st.sampled_from([0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 48]),
    group=st.sampled_from(["", "", "", "g1", "g2"]),
    zone=st.sampled_from(["", "", "dmz"]),
    licences=st.sampled_from([(), (), ("windows",)]),
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


FAST = SolverParams(time_limit_s=2.0)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_every_unplaced_vm_has_a_reason_its_cause_supports(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """An unplaced VM says why in words, and its cause agrees with the sizing: a VM left out
    for lack of room fits some model, one too large for every model was not sized for any,
    one excluded is powered off under a policy that leaves such VMs out (the verifier checks
    none of this)."""
    vms, catalog, policy = case
    problem, plan = run(inventory(*vms), catalog, policy, FAST)
    powered_on = {v.name: v.powered_on for v in vms}
    fits = {v.name: v.fits for v in problem.vms}
    for u in plan.unplaced:
        assert u.reason.strip()
        if u.cause == "no_room":
            assert fits[u.vm], u
        elif u.cause == "too_large":
            assert u.vm not in fits, u
        else:
            assert not powered_on[u.vm] and not policy.include_powered_off, u


CORRUPTIONS = ("drop a VM", "place a VM twice", "invent a VM", "misreport usage", "raise the bound")


@SETTINGS
@given(scenarios(), st.sampled_from(CORRUPTIONS), st.randoms(use_true_random=False))
def test_the_verifier_catches_a_corrupted_plan(
    case: tuple[list[VM], Catalog, Policy], corruption: str, rnd: random.Random
) -> None:
    """Whatever the plan, breaking one rule in it (a VM dropped or placed twice, a VM that
    is not in the inventory, a host's usage misreported, a bound above the plan) is caught."""
    vms, catalog, policy = case
    problem, plan = run(inventory(*vms), catalog, policy, FAST)
    busy = [i for i, h in enumerate(plan.hosts) if h.vms]
    hosts = list(plan.hosts)
    if corruption == "drop a VM":
        assume(busy)
        i = rnd.choice(busy)
        dropped, *kept = hosts[i].vms
        hosts[i] = hosts[i].model_copy(update={"vms": tuple(kept)})
        expected = f"VM {dropped} appears 0 times"
    elif corruption == "place a VM twice":
        assume(busy and len(hosts) > 1)
        i = rnd.choice(busy)
        j = rnd.choice([k for k in range(len(hosts)) if k != i])
        twice = hosts[i].vms[0]
        hosts[j] = hosts[j].model_copy(update={"vms": (*hosts[j].vms, twice)})
        expected = f"VM {twice} appears 2 times"
    elif corruption == "invent a VM":
        ghost = Unplaced(vm="ghost-vm", reason="made up")
        plan = plan.model_copy(update={"unplaced": (*plan.unplaced, ghost)})
        expected = "VM ghost-vm is not in the inventory"
    elif corruption == "misreport usage":
        assume(hosts)
        i = rnd.randrange(len(hosts))
        hosts[i] = hosts[i].model_copy(update={"cpu_used_m": hosts[i].cpu_used_m + 1})
        expected = f"host {hosts[i].id}: reported usage does not match its VMs"
    else:
        assume(plan.status in ("optimal", "feasible"))
        bound = {"lower_bound_hosts": len(hosts) + 1, "lower_bound_cost": 2 * plan.cost.total + 1}
        plan = plan.model_copy(update=bound)
        expected = "is below its lower bound"
    corrupted = plan.model_copy(update={"hosts": tuple(hosts)})
    assert any(expected in e for e in verify(corrupted, problem)), (corruption, expected)


@SETTINGS
@given(scenarios())
def test_plans_respect_both_bounds_and_are_never_worse_than_first_fit(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """Every full plan stays at or above its lower bound, and is never worse than FFD.

    The bounds hold for plans that meet every rule; a partial or infeasible plan (VMs left
    out, spares missing) may undercut them.
    """
    vms, catalog, policy = case
    problem, plan = run(inventory(*vms), catalog, policy, FAST)
    if plan.status in ("optimal", "feasible"):
        assert len(plan.hosts) >= plan.lower_bound_hosts
        assert plan.cost.total >= plan.lower_bound_cost - 1e-6
    packing, failed = first_fit_decreasing(problem)
    if not spares_complete(problem, packing):
        # First fit's hosts leave a cluster without its N+k spares (a capped model used
        # up): the plan may take more hosts or cost more to meet N+k.
        return
    active_value = packing_objective(problem, [b for b in packing if b.vms])[0]
    if policy.objective == "hosts":
        # First fit's count leaves out the VMs it could not place (the plan may place them).
        assert failed or len(plan.active_hosts) <= active_value
    elif policy.ha_host_failures and not failed and plan.status != "partial":
        # The exact cost model weighs the spares too: the whole plan is no dearer than
        # first fit's with its spares, even where its active hosts cost more.
        heuristic = build_plan(problem, packing, {}, lower_bounds(problem), "ffd")
        if heuristic.status != "partial":
            assert plan.cost.total <= heuristic.cost.total + 1e-6
    elif not failed:  # first fit's objective leaves out the VMs it could not place
        # Per-VM costs (storage, administration) are in the plan, not in the packing objective.
        by_name = {vm.name: vm for vm in problem.inventory.vms}
        placed = [by_name[n] for h in plan.active_hosts for n in h.vms]
        per_vm = workload_cost(placed, problem.policy, "shared").total
        assert sum(h.cost.total for h in plan.active_hosts) - per_vm <= active_value + 1e-6
