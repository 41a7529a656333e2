"""The quick paths large inventories take give what the plain per-VM rules give.

Each quick path (distinct values first, ``map`` instead of Python per VM, a search resumed
past a filled host, costs priced once per kind) is checked against the rule written out
VM by VM on small random inputs.
"""

from __future__ import annotations

import gc
import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from planner import heap
from planner.bounds import spare_candidates
from planner.dedicated import dedicated_baseline
from planner.heuristic import RoomTree, first_fit_decreasing
from planner.models import VM, Policy, Problem
from planner.packing import HostBin, bin_cost, mobile_counts
from planner.sizing import build_problem
from planner.spares import spare_hosts
from tests.conftest import NONE, WIN_STD, catalog, host, inventory

_VMS = st.lists(
    st.tuples(
        st.integers(1, 24),  # vCPUs
        st.sampled_from([1.0, 2.0, 4.0, 8.0, 48.0, 100.0]),  # GiB
        st.sampled_from(["", "windows"]),  # licence tag
        st.sampled_from([0.0, 40.0, 100.0]),  # storage GiB
        st.sampled_from(["", "g1", "g2"]),  # anti-affinity group
    ),
    min_size=1,
    max_size=40,
)


def _problem(rows: list[tuple[int, float, str, float, str]], **policy: object) -> Problem:
    """A problem of three host models, small to large, under the ``none`` profile."""
    vms = [
        VM(
            name=f"vm{n}",
            vcpus=c,
            memory_gib=m,
            licences=(tag,) if tag else (),
            storage_gib=s,
            group=g,
        )
        for n, (c, m, tag, s, g) in enumerate(rows)
    ]
    hosts = (host("s", cores=8, mem=32), host("m", cores=16, mem=64), host("l", cores=32, mem=128))
    cat = catalog(*hosts, licences=(WIN_STD,)).model_copy(update={"profiles": {"none": NONE}})
    return build_problem(inventory(*vms), cat, Policy(hypervisor="none", **policy))


@settings(max_examples=60, deadline=None)
@given(_VMS)
def test_spare_candidates_are_the_models_every_vm_fits(
    rows: list[tuple[int, float, str, float, str]],
) -> None:
    """A partition's spare candidates are the host types in every one of its VMs' fits."""
    problem = _problem(rows)
    for part in problem.partitions:
        every = set.intersection(*(set(problem.vms[i].fits) for i in part.vms))
        assert spare_candidates(problem, part) == sorted(every)


@settings(max_examples=60, deadline=None)
@given(_VMS, st.integers(1, 2))
def test_spare_hosts_take_the_busiest_hosts_load(
    rows: list[tuple[int, float, str, float, str]], k: int
) -> None:
    """Each spare holds the busiest host's vCPUs, memory and VM count, and a licence for as
    many tagged VMs as the host with most of them runs."""
    problem = _problem(rows, ha_host_failures=k)
    packing, _ = first_fit_decreasing(problem)
    spares, _ = spare_hosts(problem, packing, 0)
    assert len(spares) == k * len({b.partition for b in packing if b.vms})
    for s in spares:
        bins = [b for b in packing if b.vms and problem.partitions[b.partition].key == s.partition]
        assert s.cpu_cap_m >= max(sum(problem.vms[i].cpu_m for i in b.vms) for b in bins)
        assert s.mem_cap_mib >= max(sum(problem.vms[i].mem_mib for i in b.vms) for b in bins)
        peak = max(sum("windows" in problem.vms[i].tags for i in b.vms) for b in bins)
        covered = sum(u.covers_vms for u in s.licences if u.tag == "windows")
        assert peak == 0 or covered >= peak


@settings(max_examples=60, deadline=None)
@given(_VMS)
def test_mobile_counts_follow_the_smallest_vms_first(
    rows: list[tuple[int, float, str, float, str]],
) -> None:
    """The VMs of a stacking tag a host may have to license: as many of its smallest VMs as
    the host holds by count, vCPU and memory, whatever the order they were asked in."""
    problem = _problem(rows)
    for p, part in enumerate(problem.partitions):
        tagged = [problem.vms[i] for i in part.vms if "windows" in problem.vms[i].tags]
        for t in reversed(problem.host_types):
            cpu = sorted(v.cpu_m for v in tagged)
            mem = sorted(v.mem_mib for v in tagged)
            most = 0
            while (
                most < len(tagged)
                and most < t.vm_cap
                and sum(cpu[: most + 1]) <= t.cpu_cap_m
                and sum(mem[: most + 1]) <= t.mem_cap_mib
            ):
                most += 1
            assert mobile_counts(problem, p, t.index).get("windows", 0) == most


@settings(max_examples=60, deadline=None)
@given(_VMS)
def test_dedicated_servers_cost_what_each_priced_alone_costs(
    rows: list[tuple[int, float, str, float, str]],
) -> None:
    """Workloads priced once per kind cost, server by server, what pricing each one alone
    (its own baseline of one VM) gives."""
    problem = _problem(rows)
    base = dedicated_baseline(problem)
    for v, server in zip(problem.vms, base.servers, strict=True):
        alone = dedicated_baseline(problem, [v]).servers[0]
        assert server.vm == v.name
        assert (server.model, server.cost) == (alone.model, alone.cost)


@settings(max_examples=60, deadline=None)
@given(_VMS)
def test_a_hosts_cost_sums_its_vms_load(rows: list[tuple[int, float, str, float, str]]) -> None:
    """A host's energy follows the load of the VMs it runs, summed VM by VM."""
    problem = _problem(rows)
    b = HostBin(0, len(problem.host_types) - 1, tuple(problem.partitions[0].vms[:3]))
    t = problem.host_types[b.type_index]
    load = 0
    for i in b.vms:
        load += problem.vms[i].load_m
    idle = bin_cost(problem, HostBin(0, b.type_index, ())).energy
    full = bin_cost(problem, b).energy
    per_util = t.energy_per_util_cost
    assert abs(full - idle - per_util * min(1.0, load / (1000.0 * t.model.cores))) < 1e-6


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 9), st.integers(-1, 9), st.integers(-1, 3)), max_size=40),
    st.integers(0, 9),
    st.integers(0, 9),
    st.integers(0, 45),
    st.sets(st.integers(0, 39)),
)
def test_room_tree_search_from_a_start_is_a_scan_from_there(
    leaves: list[tuple[int, int, int]], cpu: int, mem: int, start: int, refused: set[int]
) -> None:
    """Searching from ``start`` finds the first host at or after it with room that the
    caller accepts, as a scan from there does; from 0 it visits what the plain search does."""
    tree = RoomTree(1)
    tree.fill(leaves)
    found, _ = tree.leftmost(cpu, mem, lambda n: n not in refused, start)
    scan = next(
        (
            n
            for n, (c, m, k) in enumerate(leaves)
            if n >= start and c >= cpu and m >= mem and k >= 1 and n not in refused
        ),
        -1,
    )
    assert found == scan


@settings(max_examples=40, deadline=None)
@given(_VMS)
def test_first_fit_places_every_vm_once_within_capacity(
    rows: list[tuple[int, float, str, float, str]],
) -> None:
    """First fit (its search resumed past each filled host) places every VM exactly once,
    no host over capacity and no two VMs of a group together."""
    problem = _problem(rows)
    packing, failed = first_fit_decreasing(problem)
    assert not failed
    placed = Counter(itertools.chain.from_iterable(b.vms for b in packing))
    assert placed == Counter(range(len(problem.vms)))
    for b in packing:
        t = problem.host_types[b.type_index]
        members = [problem.vms[i] for i in b.vms]
        assert sum(v.cpu_m for v in members) <= t.cpu_cap_m
        assert sum(v.mem_mib for v in members) <= t.mem_cap_mib
        groups = Counter(v.group for v in members if v.group)
        assert all(n == 1 for n in groups.values())


def test_settled_freezes_until_the_outermost_block_ends() -> None:
    """Objects alive on entry stay frozen through nested blocks and are unfrozen at the end;
    ``paused`` stops the collector and restores it."""
    assert gc.get_freeze_count() == 0
    with heap.settled():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with heap.settled():
            built = [[n] for n in range(1000)]
            heap.settle()
            assert gc.get_freeze_count() >= frozen + len(built)
        assert gc.get_freeze_count() > 0  # the inner block ends: still frozen
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
    with heap.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
