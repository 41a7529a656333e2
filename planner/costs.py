"""What a host costs over the horizon, by category (``CostBreakdown``).

One place for the cost rules, shared by the heuristic, the exact model, the dedicated
baseline and the verifier. Over ``policy.horizon_years`` (``Y``), for one physical server:

- hardware: the model's purchase price, once;
- support: hardware maintenance, ``hardware_support_pct`` of the price a year; plus the
  software support (Software Assurance, Oracle support) of its licences;
- licences: for every licence tag its VMs carry, the cheapest licence with that tag that
  covers them on this host (design section 2.3), support included in the choice; the
  hypervisor's own licences (``applies_to = all_hosts``) on every consolidation host;
- network: ``network_pct`` of the price plus ``network_per_host``, once, and
  ``network_support_pct`` of that a year;
- energy: ``watts = idle + (max - idle) x CPU utilization`` drawn all year, times PUE and the
  price per kWh;
- facilities: colocation of the peak draw (``watts_max`` / 1000 kW x
  ``colocation_per_kw_month`` x 12 a year) plus rack units x ``rack_unit_per_year``;
- operations: ``ops_per_host_year`` per physical server;

and for each workload it runs (a VM on a host, or the one workload of a dedicated server):

- storage: its provisioned ``storage_gib`` x the price per GiB (shared storage for
  consolidation hosts, local disks for dedicated servers), once, plus
  ``storage_support_pct`` a year;
- operations: ``ops_per_vm_year``.

``host_cost`` prices a server by category (the plan, its spares, the dedicated baseline and
the verifier use it). The optimizers (first-fit decreasing, the exact engine, the bounds) see
the same rule as one number, ``host_total``: a sized ``HostType``'s fixed cost (its price,
per-server costs, idle energy and per-host licences, ``sizing.host_type``), plus the licences
its VMs need, plus the energy their load draws above idle (linear, capped at full load). Per-
workload costs are the same whatever the packing, so the optimizers never need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from planner.models import VM, CostBreakdown, HostModel, HostType, Licence, LicenceUse, Policy
from planner.tolerances import COST_EPS
from planner.units import energy_kwh

__all__ = [
    "energy_cost",
    "facilities_cost",
    "host_cost",
    "host_total",
    "hypervisor_licences",
    "licence_cost",
    "licence_for_tag",
    "server_running_cost",
    "tag_licences",
    "watts",
    "workload_cost",
]

Storage = Literal["shared", "local"]


def watts(model: HostModel, utilization: float) -> float:
    """Draw of ``model`` at ``utilization`` (0..1) of its CPU: the linear power model."""
    u = min(max(utilization, 0.0), 1.0)
    return model.watts_idle + (model.watts_max - model.watts_idle) * u


def energy_cost(model: HostModel, utilization: float, policy: Policy) -> float:
    """Energy cost over the horizon of ``model`` running at ``utilization`` (0..1) of its CPU."""
    kwh = energy_kwh(watts(model, utilization), policy.horizon_years, policy.pue)
    return kwh * policy.electricity_per_kwh


def facilities_cost(model: HostModel, policy: Policy) -> float:
    """Colocation (kW of peak draw) and rack space over the horizon."""
    per_year = (
        model.watts_max / 1000.0 * policy.colocation_per_kw_month * 12.0
        + model.rack_units * policy.rack_unit_per_year
    )
    return per_year * policy.horizon_years


def server_running_cost(model: HostModel, policy: Policy) -> CostBreakdown:
    """Per-server costs besides hardware, licences and energy: the same whatever it runs."""
    years = policy.horizon_years
    network = model.price * policy.network_pct / 100.0 + policy.network_per_host
    return CostBreakdown(
        support=model.price * policy.hardware_support_pct / 100.0 * years,
        network=network * (1.0 + policy.network_support_pct / 100.0 * years),
        facilities=facilities_cost(model, policy),
        operations=policy.ops_per_host_year * years,
    )


def workload_cost(vms: Iterable[VM], policy: Policy, storage: Storage) -> CostBreakdown:
    """Per-workload costs: provisioned storage (shared or local) and administration."""
    years = policy.horizon_years
    per_gib = policy.shared_storage_per_gib if storage == "shared" else policy.local_storage_per_gib
    gib = 0.0
    count = 0
    for vm in vms:
        gib += vm.storage_gib or 0.0
        count += 1
    return CostBreakdown(
        storage=gib * per_gib * (1.0 + policy.storage_support_pct / 100.0 * years),
        operations=policy.ops_per_vm_year * years * count,
    )


def _use(lic: Licence, model: HostModel, tagged_vms: int, years: float) -> LicenceUse:
    covers = -1 if lic.unit == "vm" or lic.vms_per_grant == 0 else 0
    grants = lic.grants(tagged_vms)
    if covers == 0:
        covers = grants * lic.vms_per_grant
    return LicenceUse(
        name=lic.name,
        tag=lic.tag,
        grants=grants,
        units=lic.units(model, tagged_vms),
        covers_vms=covers,
        cost=lic.cost(model, tagged_vms, years),
        support=lic.support_cost(model, tagged_vms, years),
    )


def licence_for_tag(
    tag: str, model: HostModel, tagged_vms: int, licences: Iterable[Licence], years: float
) -> LicenceUse | None:
    """The cheapest licence with ``tag`` covering ``tagged_vms`` VMs on ``model``.

    Returns None when no licence carries the tag. Ties go to the licence listed first.
    """
    best: LicenceUse | None = None
    for lic in licences:
        if lic.applies_to != "tagged" or lic.tag != tag:
            continue
        use = _use(lic, model, tagged_vms, years)
        if best is None or use.cost < best.cost - COST_EPS:
            best = use
    return best


def licence_cost(
    tag: str, model: HostModel, tagged_vms: int, licences: Iterable[Licence], years: float
) -> float:
    """What ``licence_for_tag`` charges for ``tagged_vms`` VMs tagged ``tag`` on ``model``
    (support included): 0 when no licence carries the tag."""
    use = licence_for_tag(tag, model, tagged_vms, licences, years)
    return use.cost if use is not None else 0.0


def tag_licences(
    model: HostModel, tag_counts: Mapping[str, int], licences: Iterable[Licence], years: float
) -> tuple[LicenceUse, ...]:
    """Licences a host needs for the tagged VMs it runs (``tag -> VM count``), cheapest each."""
    lics = tuple(licences)
    uses = []
    for tag in sorted(tag_counts):
        if tag_counts[tag] <= 0:
            continue
        use = licence_for_tag(tag, model, tag_counts[tag], lics, years)
        if use is not None:
            uses.append(use)
    return tuple(uses)


def hypervisor_licences(
    model: HostModel,
    licences: Iterable[Licence],
    years: float,
    family: str = "*",
    tag_counts: Mapping[str, int] | None = None,
) -> tuple[LicenceUse, ...]:
    """The hypervisor's own licences for one host (the profile's ``licence_family``).

    ``all_hosts`` rows of the family: the cheapest, on every host. Rows of the family that
    license tagged guests are the host's operating system (Windows Server under Hyper-V):
    a host running guests of that tag already holds the grant that covers its own OS, so
    only a host without such guests (``tag_counts``) pays one grant for itself. ``*`` (a
    profile without a family, or a legacy ``pays_hypervisor_licence = true``): the cheapest
    ``all_hosts`` row of any family, one hypervisor per host; empty: none.
    """
    if not family:
        return ()
    rules = tuple(licences)
    best: dict[str, LicenceUse] = {}
    for lic in rules:
        if lic.applies_to != "all_hosts" or family not in ("*", lic.family):
            continue
        use = _use(lic, model, 0, years)
        if family not in best or use.cost < best[family].cost - COST_EPS:
            best[family] = use
    counts = tag_counts or {}
    host_os = sorted(
        {lic.tag for lic in rules if lic.applies_to == "tagged" and lic.family == family}
    )
    for tag in host_os:
        if counts.get(tag, 0) <= 0:
            own = licence_for_tag(tag, model, 1, rules, years)
            if own is not None:
                best[f"{family}:{tag}"] = own
    return tuple(best[f] for f in sorted(best))


def host_cost(
    model: HostModel,
    licences: Iterable[LicenceUse],
    utilization: float,
    policy: Policy,
    vms: Iterable[VM] = (),
    storage: Storage = "shared",
) -> CostBreakdown:
    """Total cost of one server over the horizon, by category.

    ``licences`` are the licences it holds, ``utilization`` (0..1) its expected CPU load,
    ``vms`` the workloads it runs (their storage on ``storage``: shared or local disks).
    """
    uses = tuple(licences)
    support = sum(u.support for u in uses)
    run = server_running_cost(model, policy)
    work = workload_cost(vms, policy, storage)
    # The server's own costs, then its running costs, then its workloads', in this order.
    return CostBreakdown(
        hardware=model.purchase_cost + run.hardware + work.hardware,  # 0 for an owned one
        support=support + run.support + work.support,
        licences=sum(u.cost for u in uses) - support + run.licences + work.licences,
        network=0.0 + run.network + work.network,
        storage=0.0 + run.storage + work.storage,
        energy=energy_cost(model, utilization, policy) + run.energy + work.energy,
        facilities=0.0 + run.facilities + work.facilities,
        operations=0.0 + run.operations + work.operations,
    )


def host_total(t: HostType, licences: float = 0.0, load_m: float = 0.0) -> float:
    """What a host of type ``t`` costs over the horizon, per-workload costs aside: the rule of
    ``host_cost`` as one number for the optimizers.

    ``licences``: what the licences for its VMs cost (``licence_cost`` per tag); ``load_m``:
    their expected load in milli-cores, which draws energy above idle up to full load.
    Without arguments: the host's fixed cost, whatever it runs.
    """
    return (
        t.fixed_cost
        + licences
        + t.energy_per_util_cost * min(1.0, load_m / (1000.0 * t.model.cores))
    )
