"""Sizing: an Inventory, a Catalog and a Policy become a Problem in integers (design section 3).

Per VM (v vCPUs, m GiB, growth g, profile efficiency e, overcommit o_cpu / o_mem):

    vCPU demand   = v x (1 + g) / e                                  (allocated)
                  = v x max(cpu_util, floor) / 100 x (1 + g) / e     (utilization)
    memory demand = (m' x (1 + g) + overhead_mib / 1024 + m x overhead_pct / 100) / o_mem
                    where m' = m (allocated) or m x max(mem_util, floor) / 100

Per host model (profile reservations r, ceiling u = max_utilization):

    usable cores  = (cores - r_cores) x u
    vCPU capacity = usable cores x min(o_cpu, profile.max_vcpus_per_core)
    memory cap.   = (memory_gib - r_mem) x u
    VM capacity   = profile.max_vms_per_host

A VM that fits no model, or that the policy excludes, is kept as ``Unplaced`` with the
reason; nothing is dropped.

Clusters: ``clusters = keep`` plans each inventory cluster apart; ``merge`` plans the
estate as one pool (zones, anti-affinity groups and licence islands still apply). A type-2
profile has no HA, so the problem carries ``ha_host_failures = 0`` and a note says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from planner.catalog import find_profile
from planner.clusters import cluster_limit
from planner.costs import energy_cost, hypervisor_licences, server_running_cost
from planner.errors import InputError, InputIssue
from planner.heap import paused
from planner.models import (
    VM,
    Catalog,
    HostModel,
    HostType,
    HypervisorProfile,
    Inventory,
    Partition,
    Policy,
    Problem,
    SizedVM,
    Unplaced,
)
from planner.units import (
    MILLI,
    cap_milli,
    gib_to_mib_ceil,
    gib_to_mib_floor,
    mib_to_gib,
    milli_to_vcpu,
    vcpu_to_milli,
)

__all__ = ["build_problem", "check_licence_tags", "host_type", "size_vm"]


@paused()  # a million sized VMs or servers: none of them garbage
def build_problem(inventory: Inventory, catalog: Catalog, policy: Policy) -> Problem:
    """Size every VM and host model under ``policy``.

    Raises:
        InputError: the policy names an unknown hypervisor profile or a cluster size the
            profile does not allow, the profile names a licence family the catalog lacks,
            a VM carries a licence tag that no licence in the catalog has, or the catalog
            has no usable host model.
    """
    profile = find_profile(catalog.profiles, policy.hypervisor)
    if profile is None:
        raise InputError.single(
            "policy",
            f"unknown hypervisor profile; known: {', '.join(sorted(catalog.profiles))}",
            column="hypervisor",
            value=policy.hypervisor,
        )
    _check_profile(profile, policy, catalog)
    notes: list[str] = []
    if profile.type == 2 and policy.ha_host_failures:
        notes.append(
            f"{profile.name} is a type-2 (hosted) hypervisor: it has no HA and restarts "
            f"nothing when a host fails, so no N+{policy.ha_host_failures} spare hosts are "
            "planned (ha_host_failures taken as 0)"
        )
        policy = policy.model_copy(update={"ha_host_failures": 0})
    vms_tags, tag_notes = check_licence_tags(inventory, catalog)
    notes += tag_notes

    types: list[HostType] = []
    for model in catalog.hosts:
        if model.dedicated_only:
            continue  # an entry server for the dedicated baseline, not a host to buy
        ht = host_type(len(types), model, profile, policy, catalog)
        if ht.cpu_cap_m <= 0 or ht.mem_cap_mib <= 0:
            notes.append(
                f"host model {model.model} has no usable capacity under the "
                f"{profile.name} profile (reservations exceed the hardware); not used"
            )
            continue
        types.append(ht)
    if not types:
        raise InputError.single(
            catalog.sources.get("hosts", "hosts.csv"), "no host model has usable capacity"
        )

    sized: list[SizedVM] = []
    unplaced: list[Unplaced] = []
    no_util = 0
    sized_as: dict[
        tuple[int, float, float | None, float | None, tuple[str, ...]], tuple[SizedVM, str]
    ]
    sized_as = {}
    for i, vm in enumerate(inventory.vms):
        if not vm.powered_on and not policy.include_powered_off:
            unplaced.append(
                Unplaced(
                    vm=vm.name,
                    reason="powered off; excluded by include_powered_off=false",
                    cause="excluded",
                )
            )
            continue
        if policy.sizing == "utilization" and (vm.cpu_util_pct is None or vm.mem_util_pct is None):
            no_util += 1
        # VMs of the same size, utilization and tags size alike: compute each kind once and
        # copy it (an export of 1,000,000 VMs has a few hundred kinds).
        kind = (vm.vcpus, vm.memory_gib, vm.cpu_util_pct, vm.mem_util_pct, vms_tags[i])
        done = sized_as.get(kind)
        if done is None:
            svm, reason = sized_as[kind] = size_vm(i, vm, vms_tags[i], types, profile, policy)
        else:
            update = {"index": i, "name": vm.name, "group": vm.group, "zone": vm.zone}
            svm, reason = done[0].model_copy(update={**update, "cluster": vm.cluster}), done[1]
        if reason:
            unplaced.append(Unplaced(vm=vm.name, reason=reason, cause="too_large"))
        else:
            sized.append(svm)
    if no_util:
        notes.append(
            f"{no_util} VMs have no utilization figures; they are sized by their allocation"
        )

    if policy.clusters == "merge":
        sources = len({vm.cluster for vm in sized})
        sized = [vm.model_copy(update={"cluster": ""}) for vm in sized]
        if sources > 1:
            notes.append(
                f"clusters = merge: the VMs of {sources} inventory clusters are planned as "
                "one pool (zones, anti-affinity groups and licence islands still apply)"
            )
    partitions, part_notes = _partitions(sized, catalog, policy.clusters == "merge")
    return Problem(
        inventory=inventory,
        policy=policy,
        catalog=catalog,
        profile=profile,
        vms=tuple(sized),
        host_types=tuple(types),
        partitions=partitions,
        unplaced=tuple(unplaced),
        notes=tuple(notes + part_notes),
    )


def _check_profile(profile: HypervisorProfile, policy: Policy, catalog: Catalog) -> None:
    """The profile's licence family exists; the cluster size leaves room beside the spares.

    Raises:
        InputError: naming the file, the column and the value.
    """
    family = profile.licence_family
    if family not in ("", "*") and not any(lic.family == family for lic in catalog.licences):
        known = ", ".join(sorted({lic.family for lic in catalog.licences})) or "none"
        raise InputError.single(
            catalog.sources.get("profiles", "hypervisors.csv"),
            f"profile '{profile.name}' names a licence family that no row of the licence "
            f"catalog has (families: {known}); write none to price no hypervisor licence",
            column="licence_family",
            value=family,
        )
    cap = policy.max_cluster_hosts
    if cap is not None and cap > profile.max_hosts_per_cluster:
        raise InputError.single(
            "policy",
            f"exceeds the {profile.name} profile's maximum of {profile.max_hosts_per_cluster} "
            "hosts per cluster; max_cluster_hosts may only lower it",
            column="max_cluster_hosts",
            value=str(cap),
        )
    k = policy.ha_host_failures if profile.type == 1 else 0
    if cluster_limit(profile, policy) <= k:
        raise InputError.single(
            "policy",
            f"a cluster of at most {cluster_limit(profile, policy)} hosts has no room for a "
            f"VM host beside its N+{k} spares; raise max_cluster_hosts or lower "
            "ha_host_failures",
            column="max_cluster_hosts",
            value=str(cluster_limit(profile, policy)),
        )


def check_licence_tags(
    inventory: Inventory, catalog: Catalog
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Each VM's licence tags, checked against the catalog.

    A tag the user wrote that no licence carries is an error (a typo would otherwise
    go unlicensed). A tag inferred from the OS text with no licence in the catalog is
    dropped with a note: the user chose not to price it.

    Raises:
        InputError: naming every row with an unknown tag.
    """
    known = {lic.tag for lic in catalog.licences if lic.applies_to == "tagged"}
    issues: list[InputIssue] = []
    dropped: Counter[str] = Counter()
    tags: list[tuple[str, ...]] = []
    for vm in inventory.vms:
        kept = []
        for tag in vm.licences:
            if tag in known:
                kept.append(tag)
            elif vm.licences_inferred:
                dropped[tag] += 1
            else:
                issues.append(
                    InputIssue(
                        file=inventory.source,
                        row=vm.row,
                        column="licenses",
                        value=tag,
                        rule="unknown licence tag; the licence catalog has: "
                        + (", ".join(sorted(known)) or "no tagged licences"),
                    )
                )
        tags.append(tuple(dict.fromkeys(kept)))
    if issues:
        raise InputError(issues)
    notes = [
        f"licence tag '{t}' inferred for {n} VMs has no licence in the catalog; not priced"
        for t, n in sorted(dropped.items())
    ]
    return tags, notes


def host_type(
    index: int, model: HostModel, profile: HypervisorProfile, policy: Policy, catalog: Catalog
) -> HostType:
    """A host model's integer capacity and licence-free costs under ``policy``."""
    usable_cores = max(0.0, model.cores - profile.reserved_cores) * policy.max_utilization
    ratio = min(policy.cpu_overcommit, profile.max_vcpus_per_core)
    usable_mem = max(0.0, model.memory_gib - profile.reserved_memory_gib) * policy.max_utilization
    # Only the per-host rows are fixed: a host-OS grant (Hyper-V's Windows Server) is owed
    # only where no guest of its tag runs, and is priced with the host's VMs.
    hyp = sum(
        u.cost
        for u in hypervisor_licences(
            model, catalog.licences, policy.horizon_years, profile.licence_family
        )
        if not u.tag
    )
    idle = energy_cost(model, 0.0, policy)
    return HostType(
        index=index,
        model=model,
        cpu_cap_m=cap_milli(usable_cores * ratio),
        mem_cap_mib=gib_to_mib_floor(usable_mem),
        vm_cap=profile.max_vms_per_host,
        hardware_cost=model.purchase_cost,
        running_cost=server_running_cost(model, policy).total,
        energy_idle_cost=idle,
        energy_per_util_cost=energy_cost(model, 1.0, policy) - idle,
        hypervisor_licence_cost=hyp,
    )


def size_vm(
    index: int,
    vm: VM,
    tags: tuple[str, ...],
    types: list[HostType],
    profile: HypervisorProfile,
    policy: Policy,
) -> tuple[SizedVM, str]:
    """A VM's integer demand and the host types that can hold it.

    Returns the sized VM and an empty string, or a reason why no model can hold it.
    """
    g = 1.0 + policy.growth
    floor = policy.util_floor_pct
    use_util = policy.sizing == "utilization"
    cpu_share = 1.0
    if use_util and vm.cpu_util_pct is not None:
        cpu_share = max(vm.cpu_util_pct, floor) / 100.0
    mem_share = 1.0
    if use_util and vm.mem_util_pct is not None:
        mem_share = max(vm.mem_util_pct, floor) / 100.0
    cpu_m = vcpu_to_milli(vm.vcpus * cpu_share * g / profile.cpu_efficiency)
    overhead_gib = (
        profile.vm_memory_overhead_mib / 1024.0
        + vm.memory_gib * profile.vm_memory_overhead_pct / 100.0
    )
    mem_mib = gib_to_mib_ceil(
        (vm.memory_gib * mem_share * g + overhead_gib) / policy.memory_overcommit
    )
    # Expected physical load for the power model: observed utilization where known, else
    # the policy's own assumption that a vCPU keeps 1/overcommit of a core busy.
    busy = (
        vm.cpu_util_pct / 100.0
        if vm.cpu_util_pct is not None
        else 1.0 / max(policy.cpu_overcommit, 1.0)
    )
    load_m = round(vm.vcpus * busy * g * MILLI)

    fits = tuple(
        t.index
        for t in types
        if cpu_m <= t.cpu_cap_m
        and mem_mib <= t.mem_cap_mib
        and vm.vcpus <= t.model.logical_cpus
        and vm.vcpus <= profile.max_vcpus_per_vm
        and t.vm_cap >= 1
    )
    numa = bool(fits) and all(
        vm.vcpus > types[i].model.cores_per_socket
        or vm.memory_gib > types[i].model.memory_gib / types[i].model.sockets
        for i in fits
    )
    svm = SizedVM(
        index=index,
        name=vm.name,
        cpu_m=cpu_m,
        mem_mib=mem_mib,
        tags=tags,
        group=vm.group,
        zone=vm.zone,
        cluster=vm.cluster,
        numa_span=numa,
        fits=fits,
        load_m=load_m,
        vcpus=vm.vcpus,
        memory_gib=vm.memory_gib,
    )
    return svm, ("" if fits else _why_unfit(vm, cpu_m, mem_mib, types, profile))


def _why_unfit(
    vm: VM, cpu_m: int, mem_mib: int, types: list[HostType], profile: HypervisorProfile
) -> str:
    """The reason in words: which dimension, how much over, the largest capacity."""
    reasons = []
    if vm.vcpus > profile.max_vcpus_per_vm:
        reasons.append(
            f"{vm.vcpus} vCPUs exceed the {profile.name} profile's maximum of "
            f"{profile.max_vcpus_per_vm} per VM"
        )
    max_lcpu = max(t.model.logical_cpus for t in types)
    if vm.vcpus > max_lcpu:
        reasons.append(f"{vm.vcpus} vCPUs exceed the largest model's {max_lcpu} logical processors")
    max_cpu = max(t.cpu_cap_m for t in types)
    if cpu_m > max_cpu:
        reasons.append(
            f"CPU demand {milli_to_vcpu(cpu_m):.2f} vCPU exceeds the largest usable vCPU "
            f"capacity {milli_to_vcpu(max_cpu):.2f} (by {milli_to_vcpu(cpu_m - max_cpu):.2f})"
        )
    max_mem = max(t.mem_cap_mib for t in types)
    if mem_mib > max_mem:
        reasons.append(
            f"memory demand {mib_to_gib(mem_mib):.1f} GiB exceeds the largest usable memory "
            f"{mib_to_gib(max_mem):.1f} GiB (by {mib_to_gib(mem_mib - max_mem):.1f} GiB)"
        )
    if not reasons:  # each dimension fits some model, but no single model fits all
        reasons.append(
            f"no single host model holds both {milli_to_vcpu(cpu_m):.2f} vCPU and "
            f"{mib_to_gib(mem_mib):.1f} GiB"
        )
    return "; ".join(reasons)


def _partitions(
    vms: list[SizedVM], catalog: Catalog, merged: bool = False
) -> tuple[tuple[Partition, ...], list[str]]:
    """Group VMs that may share hosts: same cluster, same zone, same licence island.

    ``merged``: the inventory's clusters are one pool (their VMs carry no cluster name).

    A VM whose licence is cluster-scoped (Oracle on soft partitioning) makes every host of
    its cluster billable; planning such VMs on hosts of their own keeps that licence off
    the rest of the cluster, which is the cheaper design whenever they do not fill it.
    """
    scoped = {
        lic.tag for lic in catalog.licences if lic.applies_to == "tagged" and lic.scope == "cluster"
    }
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for pos, vm in enumerate(vms):
        island = ",".join(sorted(t for t in vm.tags if t in scoped))
        groups[(vm.cluster, vm.zone, island)].append(pos)
    notes = []
    parts = []
    for (cluster, zone, island), members in sorted(groups.items()):
        pool = "all clusters" if merged else (cluster or "(no cluster)")
        label = " / ".join(x for x in (pool, zone or "(no zone)") if x)
        if island:
            label += f" / {island} island"
            notes.append(
                f"{len(members)} VMs with the cluster-scoped licence '{island}' in "
                f"{pool} are planned on dedicated licensed hosts, so "
                "the licence does not extend to the rest of the cluster"
            )
        parts.append(
            Partition(key=label, cluster=cluster, zone=zone, island=island, vms=tuple(members))
        )
    return tuple(parts), notes
