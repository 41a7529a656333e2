"""The independent verifier catches every kind of broken plan, and passes one rearranged
within the rules."""

from __future__ import annotations

from planner.costs import host_cost
from planner.models import VM, CostBreakdown, LicenceUse, Plan, Problem, Unplaced
from planner.pipeline import run
from planner.verify import verify
from tests.conftest import PURE, WIN_STD, catalog, host, inventory, vms


def _planned(*extra: VM) -> tuple[Problem, Plan]:
    return run(inventory(*vms(6), *extra), catalog(licences=(WIN_STD,)), PURE)


def _with_hosts(plan: Plan, hosts: list[object]) -> Plan:
    return plan.model_copy(update={"hosts": tuple(hosts)})


def _moved(plan: Plan, problem: Problem, vm: str, to: int) -> Plan:
    """``plan`` with ``vm`` moved to host ``to``, every host's usage and cost (and the plan's
    total) restated to match."""
    by_name = {v.name: v for v in problem.vms}
    hosts = []
    for i, h in enumerate(plan.hosts):
        names = tuple(n for n in h.vms if n != vm) + ((vm,) if i == to else ())
        model = problem.host_types[h.type_index].model
        load = sum(by_name[n].load_m for n in names) / (1000.0 * model.cores)
        workloads = [problem.inventory.vms[by_name[n].index] for n in names]
        hosts.append(
            h.model_copy(
                update={
                    "vms": names,
                    "cpu_used_m": sum(by_name[n].cpu_m for n in names),
                    "mem_used_mib": sum(by_name[n].mem_mib for n in names),
                    "vm_count": len(names),
                    "cost": host_cost(model, h.licences, load, problem.policy, workloads),
                }
            )
        )
    total = sum((h.cost for h in hosts), CostBreakdown())
    return _with_hosts(plan, hosts).model_copy(update={"cost": total})


def test_a_plan_rearranged_within_the_rules_passes() -> None:
    """The verifier judges the rules, not the solver's choice: a VM moved to the other host,
    where it still fits, with the usage restated, is a valid plan."""
    problem, plan = _planned()
    fuller = max(range(2), key=lambda i: len(plan.hosts[i].vms))
    moved = _moved(plan, problem, plan.hosts[fuller].vms[0], 1 - fuller)
    assert moved.hosts != plan.hosts
    assert verify(moved, problem) == []


def test_a_plan_below_its_lower_bound_is_caught() -> None:
    """A full plan cheaper than its own bound means the bound is wrong: it is reported."""
    problem, plan = _planned()
    below = plan.model_copy(update={"lower_bound_hosts": len(plan.hosts) + 1})
    assert any("is below its lower bound" in e for e in verify(below, problem))


def test_host_records_that_contradict_the_problem_are_caught() -> None:
    """A host id used twice, a model other than its type's, an unknown type, and a spare
    under a policy without N+k are each reported."""
    problem, plan = _planned()
    a, b = plan.hosts
    twin = b.model_copy(update={"id": a.id})
    assert any(
        f"host id {a.id} is used 2 times" in e
        for e in verify(_with_hosts(plan, [a, twin]), problem)
    )
    renamed = b.model_copy(update={"model": "other"})
    errors = verify(_with_hosts(plan, [a, renamed]), problem)
    assert any("model other does not match its type h8" in e for e in errors)
    unknown = b.model_copy(update={"type_index": 7})
    assert any("unknown host type 7" in e for e in verify(_with_hosts(plan, [a, unknown]), problem))
    spare = b.model_copy(update={"role": "spare"})
    errors = verify(_with_hosts(plan, [a, spare]), problem)
    assert "the plan has spare hosts but the policy asks for none" in errors


def test_a_model_used_beyond_its_max_count_is_caught() -> None:
    """Two hosts of a model capped at one are reported, whatever else is right."""
    problem, plan = _planned()
    capped = catalog(host(max_count=1), licences=(WIN_STD,))
    problem = problem.model_copy(
        update={
            "host_types": tuple(
                t.model_copy(update={"model": capped.hosts[0]}) for t in problem.host_types
            )
        }
    )
    assert any("model h8 used 2 times, max 1" in e for e in verify(plan, problem))


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
        VM(name="w", vcpus=1, memory_gib=1, licences=("windows",)),
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
        inventory(*vms(3, vcpus=1, mem=1, licences=("windows",))),
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


def test_a_host_cost_the_cost_rule_does_not_give_is_caught() -> None:
    """Each host is priced again from its model, licences and VMs: a host whose stated
    hardware cost is off by 1 is reported, naming the host and the category."""
    problem, plan = _planned()
    a, b = plan.hosts
    cost = a.cost.model_copy(update={"hardware": a.cost.hardware + 1.0})
    cheap = a.model_copy(update={"cost": cost})
    errors = verify(_with_hosts(plan, [cheap, b]), problem)
    assert any(e.startswith(f"host {a.id}: hardware cost") for e in errors)


def test_a_plan_total_that_is_not_its_hosts_sum_is_caught() -> None:
    """The plan's cost must add up its hosts' costs, category by category."""
    problem, plan = _planned()
    energy = plan.cost.model_copy(update={"energy": plan.cost.energy * 0.5})
    errors = verify(plan.model_copy(update={"cost": energy}), problem)
    assert any("energy cost" in e and "hosts' sum" in e for e in errors)
