"""Re-packing a cost plan's host groups by host count (``planner.repack``)."""

from __future__ import annotations

from planner.exact import improve
from planner.models import VM, Licence, Problem
from planner.packing import HostBin, Packing
from planner.repack import MIN_GROUP_HOSTS, _fill_islands, groups, repack
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


def _sql_beside_plain(problem: Problem) -> Packing:
    """Each SQL VM on a host of its own beside two plain VMs; the other plain VMs three to a
    host."""
    sql = [i for i, v in enumerate(problem.vms) if v.tags]
    plain = [i for i, v in enumerate(problem.vms) if not v.tags]
    packing = tuple(HostBin(0, 0, (s, plain[2 * n], plain[2 * n + 1])) for n, s in enumerate(sql))
    rest = plain[2 * len(sql) :]
    return packing + tuple(HostBin(0, 0, tuple(rest[k : k + 3])) for k in range(0, len(rest), 3))


def test_a_licence_island_is_formed_again_from_the_vms_that_need_it() -> None:
    """30 SQL hosts each run one SQL VM beside two plain ones, 20 hosts run plain VMs only:
    the plain VMs leave the SQL hosts for the plain group, so the 30 SQL VMs need 10
    licensed hosts instead of 30, with as many hosts in all, and the plan costs less."""
    problem = _problem(plain=120, sql=30)
    packing = _sql_beside_plain(problem)
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


def test_the_room_an_island_leaves_takes_the_emptiest_plain_host() -> None:
    """28 SQL VMs need 10 licensed hosts, the last with room for two more VMs; 119 plain VMs
    need 40 hosts, one of them holding two: those two move into the island's room, so the
    partition keeps 49 hosts, as many as its 147 VMs need, 10 of them licensed."""
    problem = _problem(plain=119, sql=28)
    packing = _sql_beside_plain(problem)
    check_packing(problem, packing)
    repacked = repack(problem, packing, groups(problem, packing, [0]), _engine)
    check_packing(problem, repacked)
    licensed = [b for b in repacked if any(problem.vms[i].tags for i in b.vms)]
    assert (len(licensed), len(repacked)) == (10, 49)
    assert all(len(b.vms) == 3 for b in repacked)


def test_an_island_takes_no_vm_of_an_anti_affinity_group_it_holds() -> None:
    """A SQL host with room for two more VMs takes the lone plain VM of another host, except
    where that VM shares an anti-affinity group with the SQL VM: then both hosts stay."""
    for group, hosts in (("", 1), ("pair", 2)):
        items = [
            VM(name="s", vcpus=5, memory_gib=8, licences=("sql",), group=group),
            VM(name="p", vcpus=5, memory_gib=8, group=group),
        ]
        cat = catalog(host("m16", cores=16, mem=64, price=9000.0), licences=(SQL,))
        problem = build_problem(inventory(*items), cat, COST)
        filled = _fill_islands(problem, [HostBin(0, 0, (0,)), HostBin(0, 0, (1,))])
        check_packing(problem, tuple(filled))
        assert len(filled) == hosts
