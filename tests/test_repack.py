"""Re-packing a cost plan's plain hosts by host count (``planner.repack``)."""

from __future__ import annotations

from planner.exact import improve
from planner.models import VM, Licence, Problem
from planner.packing import HostBin, Packing
from planner.repack import MIN_PLAIN_HOSTS, plain_share, repack_plain
from planner.sizing import build_problem
from planner.spares import with_spares
from tests.conftest import PURE, catalog, check_packing, host, inventory

SQL = Licence(name="SQL", family="sql", tag="sql", unit="core", price=7561.5)
COST = PURE.model_copy(update={"objective": "cost", "ha_host_failures": 1})


def _problem() -> Problem:
    """60 plain VMs (3 fit a 16-core host) and 4 SQL VMs, on one model."""
    items = [VM(name=f"p{i}", vcpus=5, memory_gib=8) for i in range(60)]
    items += [VM(name=f"s{i}", vcpus=4, memory_gib=8, licences=("sql",)) for i in range(4)]
    cat = catalog(host("m16", cores=16, mem=64, price=9000.0), licences=(SQL,))
    return build_problem(inventory(*items), cat, COST)


def _one_per_host(problem: Problem) -> Packing:
    """A poor plan: every plain VM on a host of its own, the SQL VMs together."""
    plain = [HostBin(0, 0, (i,)) for i, v in enumerate(problem.vms) if not v.tags]
    sql = tuple(i for i, v in enumerate(problem.vms) if v.tags)
    return (*plain, HostBin(0, 0, sql))


def _engine(sub: Problem, start: Packing) -> Packing:
    return improve(sub, start, 10.0, work_s=1.0).packing


def test_plain_hosts_are_packed_again_by_host_count_and_licensed_hosts_kept() -> None:
    problem = _problem()
    packing = _one_per_host(problem)
    chosen = plain_share(problem, packing, [0])
    assert chosen == {0: 0}
    repacked = repack_plain(problem, packing, chosen, _engine)
    check_packing(problem, repacked)
    plain = [b for b in repacked if not any(problem.vms[i].tags for i in b.vms)]
    assert len(plain) == 20  # 60 VMs of 5 vCPUs, three per 16-core host
    assert HostBin(0, 0, (60, 61, 62, 63)) in repacked  # the SQL host as it was
    assert with_spares(problem, repacked) < with_spares(problem, packing)


def test_few_plain_hosts_are_left_to_the_cost_search() -> None:
    problem = _problem()
    packing = _one_per_host(problem)
    few = tuple(b for b in packing if b.vms[0] >= 60 - (MIN_PLAIN_HOSTS - 1) or len(b.vms) > 1)
    sub = problem.model_copy(
        update={
            "partitions": (
                problem.partitions[0].model_copy(
                    update={"vms": tuple(sorted(i for b in few for i in b.vms))}
                ),
            )
        }
    )
    assert plain_share(sub, few, [0]) == {}
