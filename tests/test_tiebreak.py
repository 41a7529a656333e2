"""Objective ``hosts`` breaks ties among minimum-host plans by cost (``planner.tiebreak``)."""

from __future__ import annotations

import pytest

from planner.heuristic import first_fit_decreasing
from planner.models import VM, HostPlan, Licence
from planner.packing import HostBin, packing_cost
from planner.pipeline import run
from planner.sizing import build_problem
from planner.tiebreak import cheaper_same_hosts
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory

SQL = Licence(
    name="SQL Server Enterprise",
    family="sql-server",
    tag="sql",
    unit="core",
    price=7561.5,
    min_cores_per_socket=4,
)


def _sql_hosts(hosts: tuple[HostPlan, ...]) -> int:
    return sum(any(u.tag == "sql" for u in h.licences) for h in hosts)


def test_sql_vms_spread_by_the_host_count_search_are_dealt_onto_one_host() -> None:
    """Four 4-vCPU VMs, two of them SQL Server, packed two per 8-core host with one SQL VM on
    each (as the host-count search may leave them): dealt out again, both SQL VMs share one
    host, so SQL Server is licensed on one host instead of two."""
    vms = [
        VM(name=f"v{i}", vcpus=4, memory_gib=4, licences=("sql",) if i % 2 == 0 else ())
        for i in range(4)
    ]
    problem = build_problem(inventory(*vms), catalog(host(), licences=(SQL,)), PURE)
    spread = (HostBin(0, 0, (0, 1)), HostBin(0, 0, (2, 3)))
    out, saved = cheaper_same_hosts(problem, spread)
    assert sorted(b.vms for b in out) == [(0, 2), (1, 3)]
    assert packing_cost(problem, spread) - packing_cost(problem, out) == SQL.price * 8
    assert saved == pytest.approx(SQL.price * 8)


def test_hosts_plan_says_its_cost_is_a_tie_break_not_proven() -> None:
    """The plan with the fewest hosts keeps its proof of the host count, licenses SQL Server
    on one host, and says the cost among such plans is not proven minimal."""
    vms = [
        VM(name=f"v{i}", vcpus=4, memory_gib=4, licences=("sql",) if i % 2 == 0 else ())
        for i in range(4)
    ]
    _, plan = run(inventory(*vms), catalog(host(), licences=(SQL,)), PURE)
    assert len(plan.hosts) == 2 and plan.status == "optimal"
    assert _sql_hosts(plan.hosts) == 1
    assert any("cost among plans with that many hosts is not proven" in n for n in plan.notes)


def test_hosts_objective_puts_each_host_on_the_cheapest_model_that_holds_it() -> None:
    """For the host count a 16-core host dominates an 8-core one; a host whose VMs fit the
    8-core model is moved there when that is cheaper (here: per-core SQL Server licences)."""
    vms = [VM(name=f"v{i}", vcpus=4, memory_gib=4, licences=("sql",)) for i in range(3)]
    inv = inventory(*vms)
    big, small = host("h16", cores=16, mem=32, price=1500), host("h8", cores=8, mem=16)
    cat = catalog(big, small, licences=(SQL,))
    _, plan = run(inv, cat, PURE)
    # 12 vCPUs need the 16-core model on one host, or two hosts: one host, as the hosts say.
    assert [h.model for h in plan.hosts] == ["h16"]
    two = [VM(name=f"w{i}", vcpus=4, memory_gib=4, licences=("sql",)) for i in range(2)]
    _, plan = run(inventory(*two), cat, PURE)
    assert [h.model for h in plan.hosts] == ["h8"]
    assert plan.cost.licences == SQL.price * 8


def test_tie_break_never_changes_a_partitions_host_count_or_a_hosts_load() -> None:
    """Dealt out again, a packing whose tagged VMs were scrambled keeps its hosts per
    partition, each with the same number of VMs of every size, and costs less."""
    vms = [
        VM(
            name=f"v{i}",
            vcpus=1 + i % 3,
            memory_gib=2 + i % 2,
            licences=(("sql",) if i % 5 == 0 else ()) + (("windows",) if i % 2 else ()),
            zone="dmz" if i % 7 == 0 else "",
        )
        for i in range(60)
    ]
    cat = catalog(host("h8", cores=8, mem=16), licences=(SQL, WIN_STD, WIN_DC))
    problem = build_problem(inventory(*vms), cat, PURE)
    ffd, _ = first_fit_decreasing(problem)
    # Scramble: within each size, every VM takes the host of the next one.
    slots: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for n, b in enumerate(ffd):
        for j, i in enumerate(b.vms):
            v = problem.vms[i]
            slots.setdefault((b.partition, v.cpu_m, v.mem_mib), []).append((n, j))
    hosts = [list(b.vms) for b in ffd]
    for places in slots.values():
        moved = [hosts[n][j] for n, j in places]
        for (n, j), i in zip(places, moved[1:] + moved[:1], strict=True):
            hosts[n][j] = i
    scrambled = tuple(
        HostBin(b.partition, b.type_index, tuple(h)) for b, h in zip(ffd, hosts, strict=True)
    )
    out, saved = cheaper_same_hosts(problem, scrambled)

    def shape(bins: tuple[HostBin, ...]) -> list[tuple[int, int, list[tuple[int, int]]]]:
        return sorted(
            (
                b.partition,
                b.type_index,
                sorted((problem.vms[i].cpu_m, problem.vms[i].mem_mib) for i in b.vms),
            )  # type: ignore[misc]
            for b in bins
        )

    assert shape(out) == shape(ffd)
    assert sorted(i for b in out for i in b.vms) == sorted(i for b in ffd for i in b.vms)
    assert packing_cost(problem, out) < packing_cost(problem, scrambled)
    assert packing_cost(problem, scrambled) - packing_cost(problem, out) == pytest.approx(saved)
