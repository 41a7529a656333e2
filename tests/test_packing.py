"""The rules both engines share: VM classes, host-type dominance, and the licences a host
holds under ``vm_mobility`` (Windows Server Standard stacks per host only where VMs stay put)."""

from __future__ import annotations

from planner.models import VM, HostModel, Policy
from planner.packing import HostBin, bin_licences, dominates, undominated, vm_classes
from planner.pipeline import run
from planner.sizing import build_problem
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms


def test_vm_classes_group_identical_vms_in_order_of_their_first_member() -> None:
    """Same size, group, models and tags make one class; members keep their order, and the
    classes come in the order of their first member."""
    problem = build_problem(
        inventory(
            VM(name="a0", vcpus=2, memory_gib=2),
            VM(name="b0", vcpus=4, memory_gib=2),
            VM(name="a1", vcpus=2, memory_gib=2),
            VM(name="g0", vcpus=2, memory_gib=2, group="g"),
            VM(name="w0", vcpus=2, memory_gib=2, licences=("windows",)),
            VM(name="b1", vcpus=4, memory_gib=2),
        ),
        catalog(licences=(WIN_STD,)),
        PURE,
    )
    names = [
        [problem.vms[i].name for i in members]
        for members in vm_classes(problem, range(len(problem.vms))).values()
    ]
    assert names == [["a0", "a1"], ["b0", "b1"], ["g0"], ["w0"]]


def test_vm_classes_without_tags_join_vms_that_differ_only_in_licences() -> None:
    """For the host count licence tags do not matter: a Windows VM joins its size's class."""
    problem = build_problem(
        inventory(*vms(2), *vms(1, prefix="w", licences=("windows",))),
        catalog(licences=(WIN_STD,)),
        PURE,
    )
    positions = range(len(problem.vms))
    assert len(vm_classes(problem, positions)) == 2
    ((key, members),) = vm_classes(problem, positions, with_tags=False).items()
    assert key[4] == () and len(members) == 3


def _types(*hosts: HostModel, policy: Policy = PURE) -> list[int]:
    """The undominated host types of a catalog of ``hosts``, for one small VM that every model
    runs."""
    problem = build_problem(inventory(*vms(1, vcpus=1, mem=1)), catalog(*hosts), policy)
    types = list(range(len(problem.host_types)))
    runs = {t: {0} for t in types}
    return undominated(problem, types, runs, policy.objective == "hosts")


def test_a_bigger_uncapped_model_dominates_for_the_host_count() -> None:
    """For the host count a model at least as large in every dimension replaces a smaller
    one, however much it costs; a cap (``max_count``) takes that right away."""
    small, big = host("small", cores=8, mem=16), host("big", cores=16, mem=64, price=9000.0)
    assert _types(small, big) == [1]
    assert _types(small, host("big", cores=16, mem=64, max_count=3)) == [0, 1]


def test_for_the_cost_only_a_cheaper_model_dominates() -> None:
    """For the cost a larger model replaces a smaller one only when it also costs less, has
    no more cores (per-core licences) and draws no more energy per core."""
    cost = PURE.model_copy(update={"objective": "cost"})
    small, big = host("small", cores=8, mem=16), host("big", cores=8, mem=64, price=500.0)
    assert _types(small, big, policy=cost) == [1]
    dear = host("big", cores=8, mem=64, price=5000.0)
    assert _types(small, dear, policy=cost) == [0, 1]
    more_cores = host("big", cores=16, mem=64, price=500.0)
    assert _types(small, more_cores, policy=cost) == [0, 1]


def test_of_equal_models_exactly_one_is_kept() -> None:
    """Two models equal in capacity and cost dominate each other: the first listed stays."""
    assert _types(host("one"), host("two")) == [0]


def test_a_model_that_cannot_run_a_vm_the_other_runs_does_not_dominate() -> None:
    """Dominance needs the larger model to run every VM the smaller one runs."""
    problem = build_problem(
        inventory(*vms(1, vcpus=1, mem=1)),
        catalog(host("small"), host("big", cores=16, mem=64)),
        PURE,
    )
    small, big = problem.host_types
    assert dominates(big, small, {0: {0}, 1: {0}}, by_count=True)
    assert not dominates(big, small, {0: {0, 1}, 1: {0}}, by_count=True)


CLUSTER = PURE.model_copy(update={"vm_mobility": "cluster"})


def _grants(policy: Policy, cores: int = 16, mem: float = 64) -> list[list[tuple[str, int]]]:
    """Windows licences of two hosts running five and one of six Windows VMs."""
    vms = [VM(name=f"w{i}", vcpus=2, memory_gib=4, licences=("windows",)) for i in range(6)]
    cat = catalog(host("h16", cores=cores, mem=mem), licences=(WIN_STD, WIN_DC))
    problem = build_problem(inventory(*vms), cat, policy)
    bins = (HostBin(0, 0, (0, 1, 2, 3, 4)), HostBin(0, 0, (5,)))
    return [[(u.name, u.grants) for u in bin_licences(problem, b)] for b in bins]


def test_stacked_standard_licences_follow_the_worked_example() -> None:
    """J. Savill, *Mastering Windows Server 2016 Hyper-V* (Sybex, 2016), ch. 1, figures 1.9 and
    1.10: two Hyper-V hosts and six Windows Server VMs. Pinned, each host is licensed for the
    VMs it runs: three copies of Standard on one server and one on the other. To let the VMs
    move freely, each host needs the high-water mark of VMs that may run on it: three copies
    of Standard on both. (Microsoft's rule: licences are assigned to a server and move at
    most once every 90 days, https://microsoft.com/licensing/guidance/Windows-Server-Virtualization-Technologies.)"""
    pinned = _grants(PURE)
    assert pinned == [[("Windows Server Standard", 3)], [("Windows Server Standard", 1)]]
    assert _grants(CLUSTER) == [[("Windows Server Standard", 3)], [("Windows Server Standard", 3)]]


def test_high_water_mark_is_capped_by_what_one_host_holds() -> None:
    """A host that holds at most two of the VMs (8 GiB) is licensed for two, not six."""
    assert _grants(CLUSTER, cores=16, mem=8)[1] == [("Windows Server Standard", 1)]


def test_cluster_mobility_licenses_every_host_of_the_cluster() -> None:
    """A host running no Windows VM in a cluster that runs them is licensed too (the VMs may
    move onto it); pinned, it is not."""
    vms = [
        *[VM(name=f"w{i}", vcpus=4, memory_gib=8, licences=("windows",)) for i in range(2)],
        *[VM(name=f"l{i}", vcpus=8, memory_gib=8) for i in range(2)],
    ]
    cat = catalog(host("h8", cores=8, mem=16), licences=(WIN_STD, WIN_DC))
    _, pinned = run(inventory(*vms), cat, PURE)
    _, moving = run(inventory(*vms), cat, CLUSTER)
    assert len(pinned.hosts) == len(moving.hosts) == 3
    assert sum(bool(h.licences) for h in pinned.hosts) == 1
    assert all(h.licences for h in moving.hosts)
    assert moving.cost.licences > pinned.cost.licences
