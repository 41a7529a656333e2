"""Re-packing a cost plan's host groups by host count (``planner.repack``)."""

from __future__ import annotations

from planner.exact import improve
from planner.models import VM, Licence, Problem
from planner.packing import HostBin, Packing
from planner.repack import MIN_GROUP_HOSTS, groups, repack
from planner.sizing import build_problem
from planner.spares import with_spares
from tests.conftest import PURE, catalog, check_packing, host, inventory

SQL = Licence(name="SQL", family="sql", tag="sql", unit="core", price=7561.5)
COST = PURE.model_copy(update={"objective": "cost", "ha_host_failures": 1})


def _problem(plain: int = 60, sql: int = 60) -> Problem:
    """Plain VMs and SQL VMs of 5 vCPUs (three fit a 16-core host), on one model."""
    items = [VM(name=f"p{i}", vcpus=5, memory_gib=8) for i in range(plain)]
    items += [VM(name=f"s{i}", vcpus=5, memory_gib=8, licences=("sql",)) for i in range(sql)]
    cat = catalog(host("m16", cores=16, mem=64, price=9000.0), licences=(SQL,))
    return build_problem(inventory(*items), cat, COST)


def _one_per_host(problem: Problem) -> Packing:
    """A poor plan: every VM on a host of its own."""
    return tuple(HostBin(0, 0, (i,)) for i in range(len(problem.vms)))


def _engine(sub: Problem, start: Packing) -> Packing:
    return improve(sub, start, 10.0, work_s=1.0).packing


def test_each_group_is_packed_again_by_host_count() -> None:
    """60 plain and 60 SQL VMs, each alone on a host: both groups go to 20 hosts, the SQL
    ones apart from the plain ones, and the plan costs less with its spare."""
    problem = _problem()
    packing = _one_per_host(problem)
    chosen = groups(problem, packing, [0])
    assert [(g.paid, len(g.vms)) for g in chosen] == [(frozenset(), 60), (frozenset({"sql"}), 60)]
    repacked = repack(problem, packing, chosen, _engine)
    check_packing(problem, repacked)
    kinds = [{bool(problem.vms[i].tags) for i in b.vms} for b in repacked]
    assert kinds.count({False}) == kinds.count({True}) == 20
    assert with_spares(problem, repacked) < with_spares(problem, packing)


def test_small_groups_are_left_to_the_cost_search() -> None:
    problem = _problem(plain=MIN_GROUP_HOSTS - 1, sql=MIN_GROUP_HOSTS)
    chosen = groups(problem, _one_per_host(problem), [0])
    assert [g.paid for g in chosen] == [frozenset({"sql"})]


def test_a_licence_island_is_formed_again_from_the_vms_that_need_it() -> None:
    """30 SQL hosts each run one SQL VM beside two plain ones, 20 hosts run plain VMs only:
    the plain VMs leave the SQL hosts for the plain group, so the 30 SQL VMs need 10
    licensed hosts instead of 30, with as many hosts in all, and the plan costs less."""
    problem = _problem(plain=120, sql=30)
    sql = [i for i, v in enumerate(problem.vms) if v.tags]
    plain = [i for i, v in enumerate(problem.vms) if not v.tags]
    packing = tuple(HostBin(0, 0, (s, plain[2 * n], plain[2 * n + 1])) for n, s in enumerate(sql))
    packing += tuple(HostBin(0, 0, tuple(plain[60 + 3 * n : 63 + 3 * n])) for n in range(20))
    check_packing(problem, packing)
    chosen = groups(problem, packing, [0])
    assert [(g.paid, len(g.vms), g.reformed) for g in chosen] == [
        (frozenset(), 120, True),
        (frozenset({"sql"}), 30, True),
    ]
    repacked = repack(problem, packing, chosen, _engine)
    check_packing(problem, repacked)
    licensed = [b for b in repacked if any(problem.vms[i].tags for i in b.vms)]
    assert (len(licensed), len(repacked)) == (10, 50)
    assert with_spares(problem, repacked) < with_spares(problem, packing)
