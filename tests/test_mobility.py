"""``vm_mobility``: Windows Server Standard stacks per host only where VMs stay put."""

from __future__ import annotations

from planner.models import VM, Policy
from planner.packing import HostBin, bin_licences
from planner.pipeline import run
from planner.sizing import build_problem
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory

CLUSTER = PURE.model_copy(update={"vm_mobility": "cluster"})


def _grants(policy: Policy, cores: int = 16, mem: float = 64) -> list[list[tuple[str, int]]]:
    """Windows licences of two hosts running five and one of six Windows VMs."""
    vms = [VM(name=f"w{i}", vcpus=2, memory_gib=4, licenses=("windows",)) for i in range(6)]
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
        *[VM(name=f"w{i}", vcpus=4, memory_gib=8, licenses=("windows",)) for i in range(2)],
        *[VM(name=f"l{i}", vcpus=8, memory_gib=8) for i in range(2)],
    ]
    cat = catalog(host("h8", cores=8, mem=16), licences=(WIN_STD, WIN_DC))
    _, pinned = run(inventory(*vms), cat, PURE)
    _, moving = run(inventory(*vms), cat, CLUSTER)
    assert len(pinned.hosts) == len(moving.hosts) == 3
    assert sum(bool(h.licences) for h in pinned.hosts) == 1
    assert all(h.licences for h in moving.hosts)
    assert moving.cost.licences > pinned.cost.licences
