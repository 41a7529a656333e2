"""Planning: first-fit decreasing, spares, licences, failures, status and bounds."""

from __future__ import annotations

from planner.models import VM, Policy
from planner.pipeline import run
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
        *vms(4, vcpus=2, mem=2, prefix="win", licenses=("windows",)),
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
    inv = inventory(*vms(16, vcpus=1, mem=4, licenses=("windows",)))
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
    inv = inventory(*vms(10, licenses=("windows",)))
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
    inv = inventory(*vms(1, licenses=("windows",)))
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
    inv = inventory(*vms(20), *vms(1, prefix="ora", licenses=("oracle",)))
    _, plan = run(inv, catalog(licences=(oracle,)), PURE)
    (note,) = [n for n in plan.notes if "isolating is" in n]
    assert "oracle island" in note and "isolating is cheaper" in note
    assert "(5 hosts x 16,000)" in note  # 40 vCPUs need 5 hosts; 16 licensed cores each
