"""Hypervisor profiles by vendor, their licences, and clusters as users build them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog import load_catalog, load_profiles
from planner.clusters import cluster_count, cluster_sizes, spares_needed
from planner.costs import hypervisor_licences
from planner.errors import InputError
from planner.ingest import read_inventory
from planner.models import VM, Catalog, HostModel, Policy, SolverParams
from planner.pipeline import run
from planner.report.plan_json import plan_to_dict
from planner.sizing import build_problem
from tests.conftest import PURE, WIN_DC, WIN_STD, catalog, host, inventory, vms


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    """The bundled catalog files."""
    return load_catalog()


def _linux(n: int, **kw: object) -> list[VM]:
    return vms(n, vcpus=2, mem=4, **kw)


def _hypervisor_uses(c: Catalog, profile: str, model: HostModel) -> list[tuple[str, int]]:
    """(licence name, units) the profile's hypervisor needs on a host without tagged guests."""
    family = c.profiles[profile].licence_family
    uses = hypervisor_licences(model, c.licences, 1.0, family, {})
    return [(u.name, u.units) for u in uses]


# --------------------------------------------------------------------------- profiles


def test_type1_in_an_old_policy_plans_with_the_vsphere_profile(bundled: Catalog) -> None:
    """Policy files that say hypervisor = type1 keep working: they get the vsphere profile."""
    problem = build_problem(inventory(*_linux(2)), bundled, Policy(hypervisor="type1"))
    assert problem.profile.name == "vsphere"
    assert problem.profile.licence_family == "vmware"


def test_each_vendor_pays_its_own_hypervisor_licence(bundled: Catalog) -> None:
    """VVF per core (16 per CPU minimum), Proxmox per socket, Nutanix per core, KVM nothing.

    Broadcom KB 313548: VVF counts every core with at least 16 per CPU, so a 2 x 8-core host
    pays 32 cores; Proxmox sells one subscription per CPU socket.
    """
    small = HostModel(model="2x8", sockets=2, cores_per_socket=8, memory_gib=128, price=1)
    assert _hypervisor_uses(bundled, "vsphere", small) == [("VMware vSphere Foundation", 32)]
    assert _hypervisor_uses(bundled, "proxmox", small) == [("Proxmox VE Basic subscription", 2)]
    assert _hypervisor_uses(bundled, "nutanix-ahv", small) == [
        ("Nutanix Cloud Infrastructure Pro", 16)
    ]
    assert _hypervisor_uses(bundled, "kvm", small) == []
    assert _hypervisor_uses(bundled, "type2", small) == []
    assert _hypervisor_uses(bundled, "none", small) == []


def test_hyper_v_host_without_windows_guests_licenses_its_own_windows_server(
    bundled: Catalog,
) -> None:
    """A Hyper-V host runs Windows Server: with no Windows guest it still pays one Standard
    grant (16 cores x $73.50 = $1,176, Microsoft's list price for a 16-core Standard), plus
    its Software Assurance (25 % a year, 5 years: $1,470)."""
    small = HostModel(model="1x16", sockets=1, cores_per_socket=16, memory_gib=128, price=1)
    uses = hypervisor_licences(small, bundled.licences, 5.0, "windows-server", {})
    assert [(u.name, u.grants, u.cost) for u in uses] == [
        ("Windows Server 2025 Standard", 1, pytest.approx(1176.0 * (1 + 0.25 * 5)))
    ]
    assert hypervisor_licences(small, bundled.licences, 5.0, "windows-server", {"windows": 3}) == ()


def test_hyper_v_windows_guests_are_licensed_once_with_the_host(bundled: Catalog) -> None:
    """Under Hyper-V the Windows guests' licence also covers the host OS: a host with 5
    Windows VMs pays 3 stacked Standard grants (2 VMs each, Microsoft's virtualization
    guide) and nothing more; the same host under KVM pays the same for its guests."""
    model = HostModel(model="1x16", sockets=1, cores_per_socket=16, memory_gib=256, price=1)
    c = bundled.model_copy(update={"hosts": (model,)})
    inv = inventory(*vms(5, vcpus=2, mem=4, licences=("windows",)))
    base = Policy(ha_host_failures=0, objective="hosts")
    _, hv = run(inv, c, base.model_copy(update={"hypervisor": "hyper-v"}))
    _, kvm = run(inv, c, base.model_copy(update={"hypervisor": "kvm"}))
    (h,) = hv.hosts
    assert [(u.name, u.grants) for u in h.licences] == [("Windows Server 2025 Standard", 3)]
    assert hv.cost.licences == pytest.approx(kvm.cost.licences) == pytest.approx(3 * 1176.0)


def test_hyper_v_costs_one_windows_grant_more_on_a_linux_only_host(bundled: Catalog) -> None:
    """A Hyper-V host of Linux guests pays its own Windows Server Standard, a KVM host not."""
    model = HostModel(model="1x16", sockets=1, cores_per_socket=16, memory_gib=256, price=1)
    c = bundled.model_copy(update={"hosts": (model,)})
    base = Policy(ha_host_failures=0, objective="hosts")
    _, hv = run(inventory(*_linux(3)), c, base.model_copy(update={"hypervisor": "hyper-v"}))
    _, kvm = run(inventory(*_linux(3)), c, base.model_copy(update={"hypervisor": "kvm"}))
    assert hv.cost.licences - kvm.cost.licences == pytest.approx(1176.0)


def test_type2_plans_no_spares_and_says_why() -> None:
    """A hosted hypervisor restarts nothing: no N+k spares, and the plan's notes say so."""
    c = load_catalog()
    _, plan = run(inventory(*_linux(6)), c, Policy(hypervisor="type2", ha_host_failures=2))
    assert plan.spare_hosts == ()
    assert plan.status != "infeasible"
    assert any("type-2" in n and "no HA" in n for n in plan.notes)


def test_profile_naming_a_missing_licence_family_is_reported() -> None:
    """A profile whose licence family has no row names the file, the column and the value."""
    csv = b"name,licence_family\nvsphere,vmware-typo\n"
    c = catalog(host()).model_copy(update={"profiles": load_profiles(csv)})
    with pytest.raises(InputError) as err:
        build_problem(inventory(*_linux(1)), c, Policy(hypervisor="vsphere"))
    (issue,) = err.value.issues
    assert (issue.column, issue.value) == ("licence_family", "vmware-typo")
    assert "no row of the licence catalog" in issue.rule


def test_legacy_pays_hypervisor_licence_column_still_reads() -> None:
    """Profiles written with the old boolean column load: true pays, false pays nothing."""
    csv = b"name,pays_hypervisor_licence\nold,true\nfree,false\nblank,\n"
    profiles = load_profiles(csv)
    assert (profiles["old"].licence_family, profiles["free"].licence_family) == ("*", "")
    assert profiles["blank"].licence_family == "*"


def test_profile_type_other_than_one_or_two_is_reported() -> None:
    """A type of 3 is an error naming the row and the column."""
    with pytest.raises(InputError) as err:
        load_profiles(b"name,type\nodd,3\n")
    (issue,) = err.value.issues
    assert (issue.row, issue.column, issue.value) == (2, "type", "3")


# --------------------------------------------------------------------------- policy keys


def test_max_cluster_hosts_above_the_profile_maximum_is_rejected(bundled: Catalog) -> None:
    """max_cluster_hosts may only lower the profile's limit (vSphere 8: 96 hosts)."""
    with pytest.raises(InputError) as err:
        build_problem(inventory(*_linux(1)), bundled, Policy(max_cluster_hosts=97))
    (issue,) = err.value.issues
    assert (issue.column, issue.value) == ("max_cluster_hosts", "97")
    assert "96" in issue.rule


def test_cluster_without_room_beside_its_spares_is_rejected(bundled: Catalog) -> None:
    """Two hosts per cluster with N+2 leave no host for VMs: a clear error, not a plan."""
    with pytest.raises(InputError) as err:
        build_problem(
            inventory(*_linux(1)), bundled, Policy(max_cluster_hosts=2, ha_host_failures=2)
        )
    assert err.value.issues[0].column == "max_cluster_hosts"


def test_merge_plans_the_inventory_clusters_as_one_pool_per_zone() -> None:
    """clusters = merge joins clusters A and B; zones still keep their VMs apart."""
    inv = inventory(
        *_linux(2, prefix="a", cluster="A"),
        *_linux(2, prefix="b", cluster="B"),
        *_linux(1, prefix="d", cluster="B", zone="dmz"),
    )
    keep = build_problem(inv, catalog(), PURE)
    merged = build_problem(inv, catalog(), PURE.model_copy(update={"clusters": "merge"}))
    assert len(keep.partitions) == 3
    assert sorted(len(p.vms) for p in merged.partitions) == [1, 4]
    assert {p.zone for p in merged.partitions} == {"", "dmz"}
    assert any("2 inventory clusters" in n for n in merged.notes)


def test_merge_lets_vms_of_two_clusters_share_a_host() -> None:
    """Two half-full clusters need two hosts kept apart and one host merged."""
    inv = inventory(
        *vms(2, vcpus=2, mem=2, prefix="a", cluster="A"), *vms(2, prefix="b", cluster="B")
    )
    _, keep = run(inv, catalog(), PURE)
    _, merged = run(inv, catalog(), PURE.model_copy(update={"clusters": "merge"}))
    assert (len(keep.hosts), len(merged.hosts)) == (2, 1)


# --------------------------------------------------------------------------- cluster split


def _whole_host_vms(n: int, **kw: object) -> list[VM]:
    """VMs that each fill an 8-core / 16 GiB host under PURE, so n VMs need n hosts."""
    return vms(n, vcpus=8, mem=16, **kw)


def test_partition_beyond_the_cluster_limit_is_split_with_spares_in_each() -> None:
    """12 full hosts, at most 4 hosts per cluster with N+1: 4 clusters of 3 + 1 spare, 16
    hosts in all, which the lower bound proves (spares = k x ceil(12 / (4 - 1)))."""
    policy = PURE.model_copy(update={"ha_host_failures": 1, "max_cluster_hosts": 4})
    problem, plan = run(inventory(*_whole_host_vms(12)), catalog(), policy)
    clusters: dict[str, list[str]] = {}
    for h in plan.hosts:
        clusters.setdefault(h.cluster, []).append(h.role)
    assert len(clusters) == 4
    assert all(len(roles) <= 4 and roles.count("spare") == 1 for roles in clusters.values())
    assert len(plan.hosts) == plan.lower_bound_hosts == 16
    assert plan.status == "optimal"
    assert {h.partition for h in plan.hosts} == {problem.partitions[0].key}
    assert any("planned as 4 clusters" in n for n in plan.notes)
    assert all(f.restartable for f in plan.failures)


def test_hosts_that_pay_for_their_vms_licences_share_as_few_clusters_as_possible() -> None:
    """Seven full hosts, two of them with SQL Server, in clusters of at most 4 with N+1
    (3 + 2 + 2 active hosts): both SQL hosts go to one cluster, so only that cluster's spare
    is licensed for SQL Server (sorted by tag name, 'rhel' < 'rhel, sql' < 'windows', they
    used to straddle the first two clusters)."""
    sql = WIN_DC.model_copy(update={"name": "SQL", "family": "sql", "tag": "sql"})
    items = [VM(name=f"r{i}", vcpus=8, memory_gib=2, licences=("rhel",)) for i in range(2)]
    items += [VM(name=f"s{i}", vcpus=8, memory_gib=2, licences=("rhel", "sql")) for i in range(2)]
    items += [VM(name=f"w{i}", vcpus=8, memory_gib=2, licences=("windows",)) for i in range(3)]
    rhel = WIN_STD.model_copy(update={"name": "RHEL", "family": "rhel", "tag": "rhel"})
    policy = PURE.model_copy(update={"ha_host_failures": 1, "max_cluster_hosts": 4})
    _, plan = run(inventory(*items), catalog(licences=(WIN_STD, sql, rhel)), policy)
    with_sql = {h.cluster for h in plan.active_hosts if any(u.tag == "sql" for u in h.licences)}
    assert len(with_sql) == 1
    spares = [h for h in plan.spare_hosts if any(u.tag == "sql" for u in h.licences)]
    assert [h.cluster for h in spares] == list(with_sql)


def test_each_host_of_the_plan_json_names_its_cluster() -> None:
    """The plan JSON gives every host, spares included, its cluster."""
    policy = PURE.model_copy(update={"ha_host_failures": 1, "max_cluster_hosts": 3})
    problem, plan = run(inventory(*_whole_host_vms(4)), catalog(), policy)
    hosts = plan_to_dict(plan, problem)["hosts"]
    names = {h["cluster"] for h in hosts}
    assert names == {"(no cluster) / (no zone) #1", "(no cluster) / (no zone) #2"}
    assert sorted(h["role"] for h in hosts if h["cluster"].endswith("#2")) == [
        "active",
        "active",
        "spare",
    ]


def test_partition_within_the_limit_stays_one_cluster_named_after_it() -> None:
    """A partition that fits keeps one cluster, named as the partition, with k spares."""
    policy = PURE.model_copy(update={"ha_host_failures": 2})
    _, plan = run(inventory(*_whole_host_vms(5)), catalog(), policy)
    assert {h.cluster for h in plan.hosts} == {"(no cluster) / (no zone)"}
    assert len(plan.spare_hosts) == 2


def test_failed_host_restarts_only_within_its_cluster() -> None:
    """A failed host's VMs restart on the free room of its own cluster only, never on a
    host of another cluster of the same partition."""
    policy = PURE.model_copy(update={"max_cluster_hosts": 2})
    small = vms(17, vcpus=1, mem=2)  # 8 per host: 3 hosts, clusters of 2 + 1
    _, plan = run(inventory(*small), catalog(), policy)
    by_id = {h.id: h for h in plan.hosts}
    assert len({h.cluster for h in plan.hosts}) == 2
    differs = False
    for f in plan.failures:
        failed = by_id[f.host]
        same = [h for h in plan.hosts if h.cluster == failed.cluster and h.id != f.host]
        others = [h for h in plan.hosts if h.id != f.host]
        room = sum(8 - h.vm_count for h in same)
        assert len(f.stranded) == max(0, failed.vm_count - room)
        differs |= room != sum(8 - h.vm_count for h in others)
    assert differs


@st.composite
def crowded(draw: st.DrawFn) -> tuple[list[VM], Catalog, Policy]:
    """Many VMs on small hosts (so partitions split), some Windows, two zones and models."""
    specs = draw(
        st.lists(
            st.builds(
                dict,
                vcpus=st.integers(1, 8),
                memory_gib=st.sampled_from([1, 2, 4, 8, 16]),
                zone=st.sampled_from(["", "", "dmz"]),
                cluster=st.sampled_from(["A", "B"]),
                licences=st.sampled_from([(), (), ("windows",)]),
            ),
            min_size=1,
            max_size=40,
        )
    )
    c = catalog(host(), host("h16", cores=16, mem=32, price=1900.0), licences=(WIN_STD, WIN_DC))
    policy = PURE.model_copy(
        update={
            "ha_host_failures": draw(st.integers(0, 2)),
            "max_cluster_hosts": draw(st.integers(3, 6)),
            "clusters": draw(st.sampled_from(["keep", "merge"])),
            "objective": draw(st.sampled_from(["cost", "hosts"])),
        }
    )
    return [VM(name=f"vm{i}", **spec) for i, spec in enumerate(specs)], c, policy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crowded())
def test_clusters_stay_within_the_limit_keep_their_spares_and_the_bounds_hold(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """Whatever the inventory, no cluster exceeds the limit, each keeps its k spares, and a
    full plan stays at or above its lower bounds (spares per cluster counted)."""
    vm_list, c, policy = case
    k, limit = policy.ha_host_failures, policy.max_cluster_hosts
    _, plan = run(inventory(*vm_list), c, policy, SolverParams(time_limit_s=2.0))
    roles: dict[str, list[str]] = {}
    for h in plan.hosts:
        roles.setdefault(h.cluster, []).append(h.role)
    assert all(h.cluster for h in plan.hosts)
    assert all(len(r) <= (limit or 0) for r in roles.values())
    assert plan.status in ("optimal", "feasible")
    assert all(r.count("spare") == k for r in roles.values())
    assert len(plan.hosts) >= plan.lower_bound_hosts
    assert plan.cost.total >= plan.lower_bound_cost - 1e-6


# --------------------------------------------------------------------------- cluster sizes


@given(
    active=st.integers(min_value=0, max_value=5000),
    limit=st.integers(min_value=2, max_value=128),
    k=st.integers(min_value=0, max_value=4),
)
def test_cluster_sizes_respect_the_limit_with_their_spares(active: int, limit: int, k: int) -> None:
    """Clusters hold every active host, each with its k spares within the limit, and no
    fewer clusters would do."""
    if limit <= k:
        return
    sizes = cluster_sizes(active, limit, k)
    assert sum(sizes) == active
    assert all(s > 0 and s + k <= limit for s in sizes)
    assert max(sizes, default=0) - min(sizes, default=0) <= 1
    assert len(sizes) == cluster_count(active, limit, k)
    assert (len(sizes) - 1) * (limit - k) < active or active == 0
    assert spares_needed(active, limit, k) == k * len(sizes)


# --------------------------------------------------------------------------- benchmark


def test_sizing_workshop_merged_fits_fourteen_hosts_proven(bench: Path) -> None:
    """The SizingWorkshop RVTools export with the AHEAD sizer's defaults (2 x 24 cores,
    1,024 GB, 5 vCPU per core, 10 % buffer, N+1, one pool, no hypervisor overhead) places
    every VM on at most 14 hosts, proven optimal."""
    src = bench / "inventories" / "rvtools_nutanix_sizing_workshop" / "SizingWorkshop_vInfo.csv"
    inv = read_inventory(src)
    c = load_catalog().model_copy(
        update={
            "hosts": (
                HostModel(
                    model="AHEAD 2x24c 1024G", sockets=2, cores_per_socket=24, memory_gib=1024
                ),
            )
        }
    )
    policy = Policy(
        hypervisor="none",
        cpu_overcommit=5,
        max_utilization=0.9,
        ha_host_failures=1,
        clusters="merge",
        objective="hosts",
    )
    _, plan = run(inv, c, policy)
    assert plan.unplaced == ()
    assert len(plan.hosts) <= 14
    assert plan.status == "optimal"
