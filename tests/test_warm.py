"""The warm start: a plan of a nearby scenario (the app's previous setting) carried over to a
new problem and repaired where it breaks the new problem's rules (``solve.warm_packing``)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from planner.assemble import build_plan
from planner.bounds import lower_bounds
from planner.models import VM, Catalog, Licence, Plan, Policy, Problem, SolverParams
from planner.packing import HostBin, Packing
from planner.pipeline import run
from planner.sizing import build_problem
from planner.solve import warm_packing
from planner.verify import verify
from tests.conftest import NONE, host, inventory
from tests.test_properties import SETTINGS, scenarios

SQL = Licence(name="SQL per core", family="sql", tag="sql", unit="core", price=5000.0)
CATALOG = Catalog(hosts=(host("h16", cores=16, mem=64),), licences=(SQL,), profiles={"none": NONE})
PLAIN = Policy(
    hypervisor="none",
    cpu_overcommit=1.0,
    memory_overcommit=1.0,
    max_utilization=1.0,
    ha_host_failures=0,
    growth=0.0,
    vm_mobility="pinned",
)
VMS = [
    VM(name="s0", vcpus=6, memory_gib=4, licences=("sql",)),
    VM(name="s1", vcpus=6, memory_gib=4, licences=("sql",)),
    VM(name="p0", vcpus=4, memory_gib=4),
    VM(name="p1", vcpus=4, memory_gib=4),
    VM(name="p2", vcpus=4, memory_gib=4),
    VM(name="p3", vcpus=4, memory_gib=4),
]


def _plan_of(problem: Problem, groups: list[list[str]]) -> Plan:
    """A plan of ``problem`` placing the named VMs together as ``groups`` say."""
    index = {v.name: i for i, v in enumerate(problem.vms)}
    packing = tuple(HostBin(0, 0, tuple(sorted(index[n] for n in g))) for g in groups)
    return build_plan(problem, packing, {}, lower_bounds(problem), "by hand")


def _together(problem: Problem, packing: Packing) -> set[frozenset[str]]:
    return {frozenset(problem.vms[i].name for i in b.vms) for b in packing}


def test_a_plan_that_no_longer_fits_is_repaired_keeping_what_still_fits() -> None:
    """With 25 % growth the first host (16 vCPU of 16) overflows: its SQL VMs stay, the plain
    VM leaves for a new host; the second host (12 of 16, then 15) is kept as it was."""
    before = build_problem(inventory(*VMS), CATALOG, PLAIN)
    plan = _plan_of(before, [["s0", "s1", "p0"], ["p1", "p2", "p3"]])
    after = build_problem(inventory(*VMS), CATALOG, PLAIN.model_copy(update={"growth": 0.25}))
    packing = warm_packing(plan, after)
    assert packing is not None
    assert _together(after, packing) == {
        frozenset({"s0", "s1"}),
        frozenset({"p1", "p2", "p3"}),
        frozenset({"p0"}),
    }


def test_a_licensed_vm_joins_a_host_that_pays_its_licence_or_a_new_one() -> None:
    """A new SQL VM fits the free room of the plain host, but a host of its own costs far
    less than SQL on 16 more cores: it never lands on the plain host."""
    before = build_problem(inventory(*VMS), CATALOG, PLAIN)
    plan = _plan_of(before, [["s0", "s1", "p0"], ["p1", "p2", "p3"]])
    more = [*VMS, VM(name="s2", vcpus=4, memory_gib=4, licences=("sql",))]
    after = build_problem(inventory(*more), CATALOG, PLAIN)
    packing = warm_packing(plan, after)
    assert packing is not None
    together = _together(after, packing)
    assert frozenset({"s0", "s1", "p0"}) in together and frozenset({"s2"}) in together
    # The search, started from it, finds the optimum: the three SQL VMs on one host.
    _, planned = run(inventory(*more), CATALOG, PLAIN, SolverParams(time_limit_s=2), warm=plan)
    licensed = [h for h in planned.active_hosts if any(lic.tag == "sql" for lic in h.licences)]
    assert planned.status == "optimal" and len(licensed) == 1


@SETTINGS
@given(scenarios(), st.sampled_from([0.1, 0.5]), st.sampled_from([1.0, 0.5]))
def test_a_carried_over_plan_is_valid_for_the_new_problem(
    case: tuple[list[VM], Catalog, Policy], growth: float, overcommit_factor: float
) -> None:
    """Whatever the plan and however the setting moved (more growth, less overcommit), the
    carried-over packing places every VM once and keeps every rule of the new problem, as
    the independent verifier checks."""
    vms, catalog, policy = case
    _, plan = run(inventory(*vms), catalog, policy, SolverParams(time_limit_s=0.3))
    moved = policy.model_copy(
        update={
            "growth": policy.growth + growth,
            "cpu_overcommit": max(1.0, policy.cpu_overcommit * overcommit_factor),
        }
    )
    problem = build_problem(inventory(*vms), catalog, moved)
    packing = warm_packing(plan, problem)
    if packing is None:
        return  # nothing carried over (no host of the plan holds a VM the new one places)
    placed = Counter(i for b in packing for i in b.vms)
    assert all(n == 1 for n in placed.values())
    repaired = build_plan(problem, packing, {}, lower_bounds(problem), "warm start")
    assert verify(repaired, problem) == []
