"""The independent verifier catches every kind of broken plan."""

from __future__ import annotations

from planner.models import VM, LicenceUse, Plan, Problem, Unplaced
from planner.pipeline import run
from planner.verify import verify
from tests.conftest import PURE, WIN_STD, catalog, inventory, vms


def _planned(*extra: VM) -> tuple[Problem, Plan]:
    return run(inventory(*vms(6), *extra), catalog(licences=(WIN_STD,)), PURE)


def _with_hosts(plan: Plan, hosts: list[object]) -> Plan:
    return plan.model_copy(update={"hosts": tuple(hosts)})


def test_a_solver_plan_passes() -> None:
    """What the pipeline returns has no violation."""
    problem, plan = _planned()
    assert verify(plan, problem) == []


def test_a_vm_on_two_hosts_is_caught() -> None:
    """Each VM must appear exactly once."""
    problem, plan = _planned()
    a, b = plan.hosts
    dup = b.model_copy(update={"vms": (*b.vms, a.vms[0])})
    errors = verify(_with_hosts(plan, [a, dup]), problem)
    assert any("appears 2 times" in e for e in errors)


def test_a_missing_vm_is_caught() -> None:
    """A VM that is neither placed nor unplaced is reported."""
    problem, plan = _planned()
    a, b = plan.hosts
    short = b.model_copy(update={"vms": b.vms[1:]})
    assert any("appears 0 times" in e for e in verify(_with_hosts(plan, [a, short]), problem))


def test_over_capacity_is_caught_from_the_demands_not_the_report() -> None:
    """Usage is recomputed: five 2-vCPU VMs on an 8-vCPU host is over, whatever the host claims."""
    problem, plan = _planned()
    a, b = plan.hosts
    full = a.model_copy(update={"vms": (*a.vms, b.vms[0])})
    rest = b.model_copy(update={"vms": b.vms[1:]})
    errors = verify(_with_hosts(plan, [full, rest]), problem)
    assert any("vCPU demand 10000 m > capacity 8000 m" in e for e in errors)
    assert any("reported usage does not match" in e for e in errors)


def test_anti_affinity_zone_and_licence_violations_are_caught() -> None:
    """Two group members together, mixed zones, and an unlicensed Windows VM are each reported."""
    extra = (
        VM(name="g1", vcpus=1, memory_gib=1, group="g"),
        VM(name="g2", vcpus=1, memory_gib=1, group="g"),
        VM(name="z", vcpus=1, memory_gib=1, zone="dmz"),
        VM(name="w", vcpus=1, memory_gib=1, licenses=("windows",)),
    )
    problem, plan = _planned(*extra)
    by_name = {v.name: v for v in problem.vms}
    host = plan.hosts[0]
    names = ("g1", "g2", "z", "w")
    others = [
        h.model_copy(update={"vms": tuple(n for n in h.vms if n not in names)})
        for h in plan.hosts[1:]
    ]
    bad = host.model_copy(
        update={
            "vms": names,
            "cpu_used_m": sum(by_name[n].cpu_m for n in names),
            "mem_used_mib": sum(by_name[n].mem_mib for n in names),
            "vm_count": 4,
            "licences": (),
        }
    )
    rest = [
        h.model_copy(update={"vms": tuple(n for n in host.vms if n not in names)}) for h in [host]
    ]
    errors = verify(_with_hosts(plan, [bad, *rest, *others]), problem)
    text = "\n".join(errors)
    assert "2 VMs of anti-affinity group g" in text
    assert "mixes clusters or security zones" in text
    assert "tagged windows without a licence" in text


def test_a_licence_covering_too_few_vms_is_caught() -> None:
    """A Standard grant covers 2 VMs: three Windows VMs on it are a violation."""
    problem, plan = run(
        inventory(*vms(3, vcpus=1, mem=1, licenses=("windows",))),
        catalog(licences=(WIN_STD,)),
        PURE,
    )
    (h,) = plan.hosts
    one = LicenceUse(
        name="Windows Server Standard", tag="windows", grants=1, units=16, covers_vms=2, cost=1.0
    )
    errors = verify(_with_hosts(plan, [h.model_copy(update={"licences": (one,)})]), problem)
    assert any("covers 2 VMs, runs 3" in e for e in errors)


def test_an_invented_vm_is_caught() -> None:
    """An unplaced entry for a VM that is not in the inventory is reported."""
    problem, plan = _planned()
    ghost = plan.model_copy(update={"unplaced": (Unplaced(vm="ghost", reason="?"),)})
    assert any("ghost is not in the inventory" in e for e in verify(ghost, problem))
