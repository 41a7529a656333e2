"""Planning: first-fit decreasing, spares, licences, failures, status and bounds; the run's
statistics."""

from __future__ import annotations

import itertools
import random

import pytest

from planner.costs import workload_cost
from planner.models import VM, Policy, SolverParams
from planner.pipeline import run
from planner.sizing import build_problem
from planner.solve import SolveResult, solve
from planner.tolerances import BOUND_REL_TOL
from tests.conftest import HYPERVISOR, PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms


def test_seed_example_needs_exactly_three_hosts_and_says_it_is_optimal() -> None:
    """10 VMs of 2 cores / 2 GiB on 8-core / 16 GiB hosts: 4 per host by CPU, so 3 hosts, proven."""
    _, plan = run(inventory(*vms(10)), catalog(), PURE)
    assert len(plan.hosts) == 3
    assert plan.status == "optimal"
    assert plan.lower_bound_hosts == 3
    assert sorted(h.vm_count for h in plan.hosts) == [2, 4, 4]
    assert plan.explanation.summary.startswith("CPU-bound")
    assert all(h.limiting == "cpu" for h in plan.hosts if h.vm_count == 4)


def test_anti_affinity_group_members_get_distinct_hosts() -> None:
    """Three small VMs of one group need three hosts although one host could hold them all."""
    _, plan = run(inventory(*vms(3, group="dc")), catalog(), PURE)
    assert len(plan.hosts) == 3
    assert plan.status == "optimal"  # the group bound proves it
    assert plan.explanation.summary.startswith("anti-affinity-bound")


def test_security_zones_never_share_a_host() -> None:
    """A DMZ VM and an internal VM get a host each, though both would fit on one."""
    inv = inventory(
        VM(name="web", vcpus=1, memory_gib=1, zone="dmz"),
        VM(name="db", vcpus=1, memory_gib=1, zone="int"),
    )
    _, plan = run(inv, catalog(), PURE)
    assert len(plan.hosts) == 2
    assert {h.partition for h in plan.hosts} == {"(no cluster) / dmz", "(no cluster) / int"}


def test_licensed_vms_concentrate_on_few_hosts() -> None:
    """Four Windows VMs share one host (two Standard grants) instead of being spread over three."""
    inv = inventory(
        *vms(4, vcpus=2, mem=2, prefix="win", licences=("windows",)),
        *vms(8, vcpus=1, mem=1, prefix="lx"),
    )
    _, plan = run(
        inv, catalog(licences=(WIN_STD, WIN_DC)), PURE.model_copy(update={"objective": "cost"})
    )
    windows_hosts = [h for h in plan.hosts if any(u.tag == "windows" for u in h.licences)]
    assert len(windows_hosts) == 1
    (use,) = windows_hosts[0].licences
    assert (use.name, use.grants, use.units) == ("Windows Server Standard", 2, 16)


def test_datacenter_is_chosen_when_standard_stacking_costs_more() -> None:
    """With 16 Windows VMs on one host, 8 Standard grants cost more than one Datacenter."""
    big = host("big", cores=32, mem=256)
    inv = inventory(*vms(16, vcpus=1, mem=4, licences=("windows",)))
    _, plan = run(inv, catalog(big, licences=(WIN_STD, WIN_DC)), PURE)
    (h,) = plan.hosts
    assert [u.name for u in h.licences] == ["Windows Server Datacenter"]


def test_cost_objective_buys_the_cheaper_model_mix() -> None:
    """Given a cheap big host and an expensive small one, the cost objective takes the big one."""
    small = host("small", cores=8, mem=16, price=5000)
    big = host("big", cores=16, mem=32, price=6000)
    _, plan = run(
        inventory(*vms(8)), catalog(small, big), PURE.model_copy(update={"objective": "cost"})
    )
    assert [h.model for h in plan.hosts] == ["big"]


def test_hosts_are_right_sized_to_the_cheapest_model_that_holds_them() -> None:
    """A lightly loaded last host is downsized to the smaller, cheaper model."""
    small = host("small", cores=4, mem=8, price=500, watts_idle=50, watts_max=100)
    big = host("big", cores=16, mem=32, price=1500)
    _, plan = run(
        inventory(*vms(9)), catalog(small, big), PURE.model_copy(update={"objective": "cost"})
    )
    assert sorted(h.model for h in plan.hosts) == ["big", "small"]


def test_max_count_caps_leave_vms_unplaced_with_the_reason() -> None:
    """When max_count allows one host and two are needed, the rest is unplaced with a reason."""
    _, plan = run(inventory(*vms(6)), catalog(host(max_count=1)), PURE)
    assert len(plan.hosts) == 1
    assert len(plan.unplaced) == 2
    assert plan.status == "infeasible"
    assert "max_count" in plan.unplaced[0].reason


def test_n_plus_one_adds_a_licensed_spare_of_the_largest_model_in_use() -> None:
    """N+1 adds one spare per partition, licensed for the busiest host's tagged VMs."""
    small, big = host("small", cores=4, mem=8), host("big", cores=16, mem=32, price=1500)
    policy = PURE.model_copy(update={"ha_host_failures": 1, "objective": "hosts"})
    inv = inventory(*vms(10, licences=("windows",)))
    _, plan = run(inv, catalog(small, big, licences=(WIN_STD, WIN_DC, HYPERVISOR)), policy)
    (spare,) = plan.spare_hosts
    assert spare.model == "big"
    assert spare.vms == ()
    names = {u.name for u in spare.licences}
    assert "Hypervisor per core" not in names  # the 'none' profile pays no hypervisor licence
    assert any(u.tag == "windows" for u in spare.licences)
    assert all(f.restartable for f in plan.failures)
    assert len(plan.hosts) == plan.lower_bound_hosts == 3  # 20 vCPUs need 2 big hosts, + 1


def test_hypervisor_licence_is_paid_on_every_host_with_type1() -> None:
    """The per-core hypervisor licence (16 cores per socket minimum) is on every type-1 host."""
    policy = Policy(ha_host_failures=1)
    _, plan = run(inventory(*vms(2)), catalog(host(), licences=(HYPERVISOR,)), policy)
    for h in plan.hosts:
        (use,) = h.licences
        assert (use.units, use.cost) == (16, 16 * 135 * 5)


def test_failures_report_vms_that_cannot_restart_without_spares() -> None:
    """With no spare and full hosts, a failed host's VMs find no room and are listed."""
    _, plan = run(inventory(*vms(8)), catalog(), PURE)
    assert len(plan.failures) == 2
    assert not any(f.restartable for f in plan.failures)
    assert all(len(f.stranded) == 4 for f in plan.failures)


def test_same_input_gives_the_same_plan() -> None:
    """Planning is deterministic."""
    inv = inventory(*vms(30, vcpus=3, mem=5), *vms(20, vcpus=1, mem=7, prefix="m"))
    a = run(inv, catalog(), PURE)[1]
    b = run(inv, catalog(), PURE)[1]
    assert [h.vms for h in a.hosts] == [h.vms for h in b.hosts]


def test_every_inventory_vm_is_placed_once_or_unplaced_with_a_reason() -> None:
    """Excluded, oversized and placed VMs together are exactly the inventory."""
    inv = inventory(
        *vms(5),
        VM(name="off", vcpus=1, memory_gib=1, powered_on=False),
        VM(name="huge", vcpus=1, memory_gib=99),
    )
    _, plan = run(inv, catalog(), PURE.model_copy(update={"include_powered_off": False}))
    placed = [n for h in plan.hosts for n in h.vms]
    assert sorted(placed + [u.vm for u in plan.unplaced]) == sorted(v.name for v in inv.vms)
    assert {u.vm for u in plan.unplaced} == {"off", "huge"}


def test_dedicated_baseline_pays_licence_minimums_and_no_hypervisor() -> None:
    """A 2-vCPU Windows VM on its own 8-core server pays 16 cores and no hypervisor licence."""
    inv = inventory(*vms(1, licences=("windows",)))
    _, plan = run(inv, catalog(host(), licences=(WIN_STD, HYPERVISOR)), Policy(ha_host_failures=0))
    base = plan.dedicated
    assert base is not None
    assert base.server_count == 1
    assert base.cost.licences == 16 * 73.5
    assert base.cost.hardware == 1000.0


def test_isolating_a_cluster_scoped_licence_is_priced_against_licensing_the_cluster() -> None:
    """One Oracle VM on its own host beats licensing the five hosts the others need."""
    oracle = WIN_STD.model_copy(
        update={"name": "Oracle", "family": "oracle", "tag": "oracle", "scope": "cluster",
                "vms_per_grant": 0, "price": 1000.0}
    )  # fmt: skip
    inv = inventory(*vms(20), *vms(1, prefix="ora", licences=("oracle",)))
    _, plan = run(inv, catalog(licences=(oracle,)), PURE)
    (note,) = [n for n in plan.notes if "isolating is" in n]
    assert "oracle island" in note and "isolating is cheaper" in note
    assert "(5 hosts x 16,000)" in note  # 40 vCPUs need 5 hosts; 16 licensed cores each


# --------------------------------------------------------------------------- statistics


def _hard_vms(n: int, zone: str = "", seed: int = 0) -> list[VM]:
    """VMs whose CPU and memory add up to about half a 100-core / 100 GiB host each: the
    engine does not prove a plan of 60 of them before a short work budget is spent."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        cpu = rng.randint(10, 45)
        mem = max(1, 55 - cpu + rng.randint(-8, 8))
        out.append(VM(name=f"{zone}v{i}", vcpus=cpu, memory_gib=mem, zone=zone))
    return out


def _check_trace(result: SolveResult) -> None:
    """Work and time never run backwards; the bound never exceeds the incumbent; the
    incumbent never gets worse."""
    trace = result.statistics.trace
    assert len(trace) >= 3
    for before, after in itertools.pairwise(trace):
        assert after.work >= before.work
        assert after.seconds >= before.seconds
        assert after.incumbent <= before.incumbent + 1e-6
    for t in trace:
        assert t.bound <= t.incumbent + BOUND_REL_TOL * max(1.0, abs(t.bound)), t


def test_statistics_trace_the_search_work_rises_and_the_bound_stays_below() -> None:
    """A search that runs to its work budget reports its phases in order, with work done
    rising, the bound below the incumbent at every point, and the last point the plan's."""
    problem = build_problem(
        inventory(*_hard_vms(60)), catalog(host("h100", cores=100, mem=100)), PURE
    )
    result = solve(problem, SolverParams(time_limit_s=60, work_limit_s=0.375))
    stats, plan = result.statistics, result.plan
    _check_trace(result)
    trace = stats.trace
    assert trace[0].stage == "first-fit decreasing" and trace[0].work == 0.0
    assert trace[-1].work > trace[0].work  # the engine worked
    assert trace[-1].incumbent == len(plan.active_hosts)
    assert trace[-1].bound <= plan.lower_bound_hosts
    names = [p.name for p in stats.phases]
    assert names[0] == "first-fit decreasing" and names[-2:] == ["plan", "analysis"]
    assert "column generation" in names
    assert stats.work == pytest.approx(trace[-1].work)  # the phases account for all of it
    assert stats.work >= 0.9 * 0.375  # the budget, not a proof, ended the search
    assert stats.iterations > 0 and stats.columns > 0 and not stats.capped
    assert sum(p.seconds for p in stats.phases) <= plan.solve_seconds + 1e-9
    assert plan.params == SolverParams(time_limit_s=60, work_limit_s=0.375)


def test_statistics_of_small_and_large_partitions_add_up() -> None:
    """Under the cost objective a small partition goes to the exact cost model and a large
    one to the engine: the trace covers both (the engine's values plus the small
    partition's), so its last incumbent is the cost of the plan's active hosts."""
    policy = PURE.model_copy(update={"objective": "cost"})
    vms_ = [*_hard_vms(10, zone="a", seed=1), *_hard_vms(60, zone="b")]
    problem = build_problem(inventory(*vms_), catalog(host("h100", cores=100, mem=100)), policy)
    result = solve(problem, SolverParams(time_limit_s=60, work_limit_s=0.375))
    _check_trace(result)
    assert result.plan.engine == "CP-SAT cost model + column generation + exact search"
    per_vm = workload_cost(problem.inventory.vms, policy, "shared").total
    active = sum(h.cost.total for h in result.plan.active_hosts)
    assert result.statistics.trace[-1].incumbent + per_vm == pytest.approx(active, rel=1e-9)


def test_work_limit_sets_the_budget_whatever_the_time_limit() -> None:
    """The same work limit under two different time limits gives the same plan and the same
    work done: the time limit is only a safety cap."""
    problem = build_problem(
        inventory(*_hard_vms(60)), catalog(host("h100", cores=100, mem=100)), PURE
    )
    a = solve(problem, SolverParams(time_limit_s=30, work_limit_s=0.375))
    b = solve(problem, SolverParams(time_limit_s=90, work_limit_s=0.375))
    assert [h.vms for h in a.plan.hosts] == [h.vms for h in b.plan.hosts]
    assert a.statistics.work == b.statistics.work


def test_a_capped_model_without_the_engine_is_not_reported_as_stopped_by_the_clock() -> None:
    """The exact cost model alone (one small partition, a model under max_count): the plan
    does not claim the time limit stopped its search."""
    inv = inventory(*vms(6, vcpus=3, mem=4, licences=("windows",)), *vms(5, prefix="lx"))
    cat = catalog(
        host(max_count=4), host("h16", cores=16, mem=32, price=2500.0), licences=(WIN_STD,)
    )
    result = solve(build_problem(inv, cat, PURE.model_copy(update={"objective": "cost"})))
    assert result.plan.engine == "CP-SAT cost model"
    assert not result.statistics.capped
    assert not any("time limit" in n for n in result.plan.notes)


def test_a_packing_that_leaves_vms_out_is_not_traced() -> None:
    """Six VMs, room for four under max_count: the bound holds for full plans only, so no
    trace point compares it with the partial packing; the phases are still reported."""
    problem = build_problem(inventory(*vms(6)), catalog(host(max_count=1)), PURE)
    result = solve(problem)
    assert result.plan.status in ("partial", "infeasible")
    assert result.statistics.trace == ()
    assert [p.name for p in result.statistics.phases][:2] == [
        "first-fit decreasing",
        "capped placement",
    ]


def test_partitions_from_two_searches_never_use_a_capped_model_too_often() -> None:
    """Two partitions (a dmz zone) and a model capped at two hosts, cost objective, N+1: the
    plan keeps each partition's hosts from the engine or from first fit, whichever is cheaper
    with spares; mixing them once used the capped model three times (found by Hypothesis)."""
    items = [
        VM(name="vm5", vcpus=3, memory_gib=0.5),
        VM(name="vm6", vcpus=4, memory_gib=0.5, zone="dmz"),
        VM(name="vm7", vcpus=6, memory_gib=0.5),
        VM(name="vm8", vcpus=8, memory_gib=0.5),
    ]
    cat = catalog(
        host("m0", cores=16, mem=16, price=800.0, max_count=2, threads_per_core=2),
        host("m1", cores=4, mem=16, price=800.0, threads_per_core=2),
        licences=(WIN_STD, WIN_DC, HYPERVISOR),
    )
    policy = PURE.model_copy(update={"objective": "cost", "ha_host_failures": 1})
    problem = build_problem(inventory(*items), cat, policy)
    plan = solve(problem, SolverParams(time_limit_s=2.0)).plan
    assert sum(h.model == "m0" for h in plan.hosts) <= 2
    assert {vm for h in plan.hosts for vm in h.vms} | {u.vm for u in plan.unplaced} == {
        v.name for v in items
    }


def test_the_engine_plans_within_the_spare_model_the_bounds_favour() -> None:
    """Two big hosts are the cheaper active plan (and first fit's), but their N+1 spare must
    be big too: seven small hosts and a small spare cost less in all. The engine, steered by
    the spare structures of the bound, finds the small plan and proves it (first fit's plan
    met the active hosts' bound, so the engine did not run and the big plan stayed)."""
    cat = catalog(
        host("m16", cores=16, mem=64, price=9000.0, watts_idle=0.0, watts_max=0.0),
        host("l64", cores=64, mem=256, price=30000.0, watts_idle=0.0, watts_max=0.0),
    )
    policy = PURE.model_copy(update={"objective": "cost", "ha_host_failures": 1})
    problem = build_problem(inventory(*vms(50, vcpus=2, mem=4)), cat, policy)
    plan = solve(problem, SolverParams(time_limit_s=10)).plan
    assert [(h.model, h.role) for h in plan.hosts] == [("m16", "active")] * 7 + [("m16", "spare")]
    assert plan.status == "optimal"
