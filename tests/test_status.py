"""Statuses are claims: optimal only against a valid bound, infeasible only with a proof."""

from __future__ import annotations

import random
import sys
from dataclasses import replace

import pytest

from planner.catalog import load_catalog
from planner.cli import main
from planner.costs import workload_cost
from planner.models import VM, Policy, Problem, SolverParams
from planner.packing import HostBin, bin_cost
from planner.pipeline import run
from planner.tolerances import gap, lp_bound, meets_bound
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory


def _sized(*vcpus: int) -> list[VM]:
    return [VM(name=f"vm{i}", vcpus=c, memory_gib=1) for i, c in enumerate(vcpus)]


def test_a_value_equal_to_an_lp_bound_meets_it() -> None:
    """The LP safety margin is below the proof tolerance: a plan at the LP optimum is proven."""
    for value in (1.0, 1234.5, 4_881_308.0, 383_120_000.0):
        assert meets_bound(value, lp_bound(value))
        assert gap(value, lp_bound(value)) == 0.0
    assert not meets_bound(101.0, 100.0)


def test_first_fit_failure_is_not_infeasible_when_a_plan_exists() -> None:
    """VMs of 5, 4, 3, 3, 3, 2 vCPU fit two 10-core hosts ({5,3,2} + {4,3,3}) though FFD fails."""
    cat = catalog(host("h10", cores=10, mem=64, max_count=2))
    _, plan = run(inventory(*_sized(5, 4, 3, 3, 3, 2)), cat, PURE)
    assert plan.unplaced == ()
    assert len(plan.hosts) == 2
    assert plan.status == "optimal"


def test_capped_models_that_cannot_hold_the_vms_give_a_proven_infeasible() -> None:
    """Seven 3-vCPU VMs on two capped 10-core hosts (room for six): infeasible, with a proof."""
    cat = catalog(host("h10", cores=10, mem=64, max_count=2))
    _, plan = run(inventory(*_sized(*[3] * 7)), cat, PURE)
    assert plan.status == "infeasible"
    assert len(plan.unplaced) == 1
    assert plan.unplaced[0].cause == "no_room"
    assert "proven" in plan.unplaced[0].reason


def test_a_vm_larger_than_every_model_makes_the_plan_infeasible() -> None:
    """A 64-vCPU VM on 10-core models: it fits no model, which proves infeasibility."""
    cat = catalog(host("h10", cores=10, mem=64))
    _, plan = run(inventory(*_sized(64, 2)), cat, PURE)
    assert plan.status == "infeasible"
    assert [u.cause for u in plan.unplaced] == ["too_large"]


def test_powered_off_vms_left_out_by_policy_do_not_make_a_plan_infeasible() -> None:
    """Excluding powered-off VMs is the user's choice: the plan of the rest is still optimal."""
    inv = inventory(
        VM(name="on", vcpus=2, memory_gib=2),
        VM(name="off", vcpus=2, memory_gib=2, powered_on=False),
    )
    _, plan = run(inv, catalog(), PURE.model_copy(update={"include_powered_off": False}))
    assert plan.status == "optimal"
    assert [u.cause for u in plan.unplaced] == ["excluded"]


def test_spare_comes_from_an_uncapped_model_when_the_used_one_is_at_its_cap() -> None:
    """The owned 8-core model is capped at its count; a bought 16-core model serves as the spare."""
    cat = catalog(
        host("owned", cores=8, mem=16, max_count=1, price=0.0),
        host("buy", cores=16, mem=32, price=2000.0),
    )
    policy = PURE.model_copy(update={"ha_host_failures": 1})
    _, plan = run(inventory(*_sized(4, 4)), cat, policy)
    assert plan.status in ("optimal", "feasible")
    assert [h.model for h in plan.spare_hosts] == ["buy"]


def test_n_plus_k_not_met_is_partial_and_exits_3(tmp_path: pytest.TempPathFactory) -> None:
    """A single capped model with N+1 and no room for a spare: partial, exit code 3."""
    inv = tmp_path / "inv.csv"  # type: ignore[operator]
    inv.write_text("name,vcpus,memory_gib\na,2,2\n")
    hosts = tmp_path / "hosts.csv"  # type: ignore[operator]
    hosts.write_text("model,sockets,cores_per_socket,memory_gib,max_count\nm,1,8,64,1\n")
    code = main(["plan", str(inv), "--hosts", str(hosts), "--quiet", "--set", "ha_host_failures=1"])
    assert code == 3
    cat = catalog(host("m", cores=8, mem=64, max_count=1))
    _, plan = run(inventory(*_sized(2)), cat, PURE.model_copy(update={"ha_host_failures": 1}))
    assert plan.status == "partial"
    assert any("N+1" in n for n in plan.notes)


def test_one_host_plus_one_spare_cost_plan_is_proven() -> None:
    """All VMs on one host and its spare: the spare's share of the bound follows the active host."""
    cat = catalog(
        host("small", cores=8, mem=16, price=1000.0),
        host("big", cores=32, mem=128, price=3000.0),
    )
    policy = PURE.model_copy(update={"ha_host_failures": 1, "objective": "cost"})
    _, plan = run(inventory(*_sized(8, 8, 8)), cat, policy)
    assert plan.status == "optimal", (plan.cost.total, plan.lower_bound_cost)
    assert plan.gap == 0.0


def _set_partitions(n: int) -> list[list[list[int]]]:
    """Every way to split items 0..n-1 into blocks (item i joins a block or opens one)."""
    out: list[list[list[int]]] = [[]]
    for i in range(n):
        out = [
            [*blocks[:b], [*blocks[b], i], *blocks[b + 1 :]]
            for blocks in out
            for b in range(len(blocks))
        ] + [[*blocks, [i]] for blocks in out]
    return out


def _brute_force_cost(problem: Problem) -> float:
    """The cheapest plan of one partition, no spares: every split of the VMs into hosts, each
    host of the cheapest model that holds its block, priced by the one host-cost rule."""
    block_cost: dict[tuple[int, ...], float] = {}

    def cheapest(block: tuple[int, ...]) -> float:
        if block not in block_cost:
            costs = [
                bin_cost(problem, HostBin(0, t.index, block)).total
                for t in problem.host_types
                if sum(problem.vms[i].cpu_m for i in block) <= t.cpu_cap_m
                and sum(problem.vms[i].mem_mib for i in block) <= t.mem_cap_mib
            ]
            block_cost[block] = min(costs, default=float("inf"))
        return block_cost[block]

    return min(
        sum(cheapest(tuple(block)) for block in blocks)
        for blocks in _set_partitions(len(problem.vms))
    )


@pytest.mark.parametrize("seed", range(6))
def test_small_cost_plans_with_a_licence_mix_are_proven_and_truly_optimal(seed: int) -> None:
    """Six VMs with Windows tags on two models: the plan says optimal and equals brute force."""
    rng = random.Random(seed)
    tags = [(), ("windows",)]
    vms = [
        VM(
            name=f"v{i}",
            vcpus=rng.choice([1, 2, 4, 6]),
            memory_gib=rng.choice([1, 4, 8]),
            licences=rng.choice(tags),
        )
        for i in range(6)
    ]
    policy = PURE.model_copy(update={"objective": "cost", "ha_host_failures": 0})
    cat = catalog(
        host("small", cores=8, mem=16, price=1000.0),
        host("big", cores=16, mem=32, price=1600.0),
        licences=(WIN_STD, WIN_DC),
    )
    problem, plan = run(inventory(*vms), cat, policy)
    assert plan.status == "optimal"
    per_vm = workload_cost(problem.inventory.vms, problem.policy, "shared").total
    assert plan.cost.total == pytest.approx(_brute_force_cost(problem) + per_vm, rel=1e-9)


@pytest.mark.parametrize("mobility", ["pinned", "cluster"])
def test_the_exact_cost_model_matches_brute_force_where_presolve_once_misled_it(
    mobility: str,
) -> None:
    """A 9-VM estate on three bundled models (a SQL VM among them): the exact cost model's
    optimum equals brute force (OR-Tools' presolve once returned a plan 3.6 times dearer as
    optimal here), and the plan never sits below its bound. With ``cluster`` mobility every
    host is licensed for the Windows and RHEL VMs that may move onto it, and the exact model
    prices that too (it once priced the pinned rule and proved nothing)."""
    rows = [
        ("vm00", 2, 32, ()),
        ("vm01", 2, 32, ("rhel",)),
        ("vm02", 12, 32, ("rhel",)),
        ("vm03", 12, 32, ()),
        ("vm04", 4, 2, ()),
        ("vm05", 4, 2, ("rhel",)),
        ("vm06", 8, 8, ("windows", "sql-enterprise")),
        ("vm07", 2, 8, ("windows",)),
        ("vm08", 8, 2, ()),
    ]
    vms = [VM(name=n, vcpus=c, memory_gib=m, licences=t) for n, c, m, t in rows]
    bundled = load_catalog()
    keep = {
        "2U 2S 2x24c 768G (R760-class)",
        "2U 2S 2x32c 1024G (R760-class)",
        "1U 1S 16c 256G (R660-class)",
    }
    cat = bundled.model_copy(update={"hosts": tuple(h for h in bundled.hosts if h.model in keep)})
    policy = Policy(ha_host_failures=0, vm_mobility=mobility)
    problem, plan = run(inventory(*vms), cat, policy, SolverParams(time_limit_s=10))
    per_vm = workload_cost(problem.inventory.vms, problem.policy, "shared").total
    assert plan.status == "optimal"
    assert plan.cost.total == pytest.approx(_brute_force_cost(problem) + per_vm, rel=1e-9)
    assert plan.cost.total >= plan.lower_bound_cost - 1e-6


def test_a_search_stopped_by_the_wall_clock_says_so_in_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the safety cap, not the work budget, ended the engine, the plan's notes say so."""
    solve_module = sys.modules["planner.solve"]
    real = solve_module.improve

    def capped(*args: object, **kwargs: object) -> object:
        return replace(real(*args, **kwargs), capped=True)

    monkeypatch.setattr(solve_module, "improve", capped)
    cat = catalog(host("h10", cores=10, mem=64))
    _, plan = run(inventory(*_sized(*[3] * 40, 7, 7, 5, 5)), cat, PURE)
    assert plan.engine.startswith("column generation")
    assert any("stopped the search before its work budget" in n for n in plan.notes)
