"""Sizing: demands and capacities in integers, per design section 3."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.models import VM, Policy
from planner.sizing import build_problem
from tests.conftest import PURE, WIN_STD, catalog, host, inventory, vms


def test_seed_example_demand_and_capacity_are_exact() -> None:
    """A 2 vCPU / 2 GiB VM demands 2000 m and 2048 MiB; an 8-core / 16 GiB host holds 8000 m."""
    p = build_problem(inventory(*vms(1)), catalog(), PURE)
    assert (p.vms[0].cpu_m, p.vms[0].mem_mib) == (2000, 2048)
    t = p.host_types[0]
    assert (t.cpu_cap_m, t.mem_cap_mib, t.vm_cap) == (8000, 16384, 1024)


def test_type1_overheads_reservations_and_headroom() -> None:
    """Type 1 adds 50 MiB + 1 % per VM, reserves 1 core and 4 GiB, and keeps 20 % headroom."""
    policy = Policy(hypervisor="type1", cpu_overcommit=4, ha_host_failures=0)
    p = build_problem(inventory(*vms(1, vcpus=4, mem=4)), catalog(), policy)
    # memory: 4096 + 50 + 40.96 -> 4187 MiB; CPU: 4 / 0.95 efficiency -> 4211 m
    assert p.vms[0].mem_mib == 4187
    assert p.vms[0].cpu_m == 4211
    t = p.host_types[0]
    assert t.cpu_cap_m == round((8 - 1) * 0.8 * 4 * 1000)  # 22,400 m
    assert t.mem_cap_mib == int((16 - 4) * 0.8 * 1024)  # 9,830 MiB


def test_growth_and_memory_overcommit() -> None:
    """Growth scales both demands; memory overcommit 2 halves the memory demand."""
    policy = PURE.model_copy(update={"growth": 0.25, "memory_overcommit": 2.0})
    p = build_problem(inventory(*vms(1, vcpus=4, mem=8)), catalog(host(cores=16, mem=64)), policy)
    assert p.vms[0].cpu_m == 5000
    assert p.vms[0].mem_mib == 5120  # 8 x 1.25 / 2 GiB


def test_utilization_sizing_uses_observed_figures_with_a_floor() -> None:
    """Utilization sizing takes p95 use above a floor; VMs without figures keep allocation."""
    policy = PURE.model_copy(update={"sizing": "utilization", "util_floor_pct": 10})
    inv = inventory(
        VM(name="busy", vcpus=4, memory_gib=8, cpu_util_pct=50, mem_util_pct=75),
        VM(name="idle", vcpus=4, memory_gib=8, cpu_util_pct=1, mem_util_pct=2),
        VM(name="unknown", vcpus=4, memory_gib=8),
    )
    p = build_problem(inv, catalog(host(cores=16, mem=64)), policy)
    demand = {v.name: (v.cpu_m, v.mem_mib) for v in p.vms}
    assert demand == {"busy": (2000, 6144), "idle": (400, 820), "unknown": (4000, 8192)}
    assert any("no utilization figures" in n for n in p.notes)


def test_vm_larger_than_every_model_is_unplaced_with_the_reason() -> None:
    """A VM no model can hold is kept as unplaced, naming dimension, demand and largest capacity."""
    inv = inventory(*vms(1), VM(name="huge", vcpus=2, memory_gib=64))
    p = build_problem(inv, catalog(), PURE)
    assert [v.name for v in p.vms] == ["vm0"]
    (u,) = p.unplaced
    assert u.vm == "huge"
    assert "memory demand 64.0 GiB exceeds the largest usable memory 16.0 GiB" in u.reason


def test_vm_wider_than_the_logical_processors_is_unplaced() -> None:
    """A VM with more vCPUs than any host has threads cannot run, whatever the overcommit."""
    policy = PURE.model_copy(update={"cpu_overcommit": 8})
    p = build_problem(inventory(VM(name="wide", vcpus=12, memory_gib=1)), catalog(), policy)
    assert "12 vCPUs exceed the largest model's 8 logical processors" in p.unplaced[0].reason


def test_powered_off_vms_are_excluded_only_when_the_policy_says_so() -> None:
    """Powered-off VMs are planned by default, and listed as unplaced with a reason otherwise."""
    inv = inventory(
        VM(name="on", vcpus=1, memory_gib=1),
        VM(name="off", vcpus=1, memory_gib=1, powered_on=False),
    )
    assert len(build_problem(inv, catalog(), PURE).vms) == 2
    p = build_problem(inv, catalog(), PURE.model_copy(update={"include_powered_off": False}))
    assert [v.name for v in p.vms] == ["on"]
    assert "powered off" in p.unplaced[0].reason


def test_unknown_licence_tag_names_row_column_and_value() -> None:
    """A tag the user wrote that no licence carries is an error for each row, all at once."""
    inv = inventory(
        VM(name="a", vcpus=1, memory_gib=1, licences=("windwos",), row=2),
        VM(name="b", vcpus=1, memory_gib=1, licences=("windows",), row=3),
        VM(name="c", vcpus=1, memory_gib=1, licences=("oracel",), row=4),
    )
    with pytest.raises(InputError) as err:
        build_problem(inv, catalog(licences=(WIN_STD,)), PURE)
    rows = [(i.row, i.column, i.value) for i in err.value.issues]
    assert rows == [(2, "licenses", "windwos"), (4, "licenses", "oracel")]
    assert "unknown licence tag" in str(err.value)


def test_inferred_tag_without_a_licence_is_dropped_with_a_note() -> None:
    """A tag inferred from the OS text is not an error when the catalog does not price it."""
    inv = inventory(VM(name="r", vcpus=1, memory_gib=1, licences=("rhel",), licences_inferred=True))
    p = build_problem(inv, catalog(), PURE)
    assert p.vms[0].tags == ()
    assert any("rhel" in n and "not priced" in n for n in p.notes)


def test_unknown_hypervisor_profile_is_an_input_error() -> None:
    """The policy may only name a profile of the catalog."""
    with pytest.raises(InputError, match="unknown hypervisor profile"):
        build_problem(inventory(*vms(1)), catalog(), PURE.model_copy(update={"hypervisor": "xen"}))


def test_partitions_split_clusters_zones_and_cluster_scoped_licences() -> None:
    """Clusters and zones are planned apart; VMs of a cluster-scoped licence form an island."""
    oracle = WIN_STD.model_copy(
        update={"name": "Oracle", "family": "oracle", "tag": "oracle", "scope": "cluster"}
    )
    inv = inventory(
        VM(name="a", vcpus=1, memory_gib=1, cluster="c1", zone="int"),
        VM(name="b", vcpus=1, memory_gib=1, cluster="c1", zone="dmz"),
        VM(name="c", vcpus=1, memory_gib=1, cluster="c2", zone="int"),
        VM(name="d", vcpus=1, memory_gib=1, cluster="c1", zone="int", licences=("oracle",)),
    )
    p = build_problem(inv, catalog(licences=(oracle,)), PURE)
    keys = sorted(part.key for part in p.partitions)
    assert keys == ["c1 / dmz", "c1 / int", "c1 / int / oracle island", "c2 / int"]
    assert any("cluster-scoped licence 'oracle'" in n for n in p.notes)


def test_vm_wider_than_a_socket_is_flagged_as_numa_spanning() -> None:
    """A VM with more vCPUs than one socket's cores still fits but is flagged."""
    two_socket = host(sockets=2, cores_per_socket=4, mem=32)
    p = build_problem(inventory(*vms(1, vcpus=6, mem=2)), catalog(two_socket), PURE)
    assert p.vms[0].numa_span
    assert (
        not build_problem(inventory(*vms(1, vcpus=4, mem=2)), catalog(two_socket), PURE)
        .vms[0]
        .numa_span
    )
