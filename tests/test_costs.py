"""Cost rules: categories, per-server and per-workload costs, and licences against vendor examples.

Each licence test reproduces a worked example the vendor (or the source data/README.md cites
for that rule) publishes, named in its docstring.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.catalog import DATA_DIR, load_catalog
from planner.costs import (
    facilities_cost,
    host_cost,
    host_total,
    hypervisor_licences,
    licence_cost,
    licence_for_tag,
    server_running_cost,
    workload_cost,
)
from planner.dedicated import dedicated_baseline
from planner.heuristic import first_fit_decreasing
from planner.ingest import read_inventory
from planner.models import (
    COST_CATEGORIES,
    Catalog,
    CostBreakdown,
    HostModel,
    Licence,
    Plan,
    Policy,
    Problem,
    SolverParams,
)
from planner.packing import bin_cost, bin_licences
from planner.pipeline import run
from planner.report import plan_summary
from planner.report.plan_json import plan_to_dict
from planner.sizing import build_problem
from planner.sweep import COLUMNS
from tests.conftest import HYPERVISOR, catalog, host, inventory, vms

# A policy with no running costs: isolates one rule at a time.
BARE = Policy(
    hardware_support_pct=0,
    storage_support_pct=0,
    network_pct=0,
    network_support_pct=0,
    shared_storage_per_gib=0,
    local_storage_per_gib=0,
    colocation_per_kw_month=0,
    ops_per_host_year=0,
    ops_per_vm_year=0,
    electricity_per_kwh=0,
)


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    """The bundled catalog."""
    return load_catalog()


def lic(cat: Catalog, name: str) -> Licence:
    """The bundled licence called ``name``."""
    return next(x for x in cat.licences if x.name == name)


def server(sockets: int, cores: int, mem: float = 256) -> HostModel:
    """A server of ``sockets`` x ``cores`` cores."""
    return HostModel(
        model=f"{sockets}x{cores}", sockets=sockets, cores_per_socket=cores, memory_gib=mem
    )


# --------------------------------------------------------------------------- vendor examples


def test_windows_server_two_4_core_processors_pay_16_cores(bundled: Catalog) -> None:
    """Microsoft's Windows Server 2022/2025 licensing datasheet: a 2-processor server with 4 cores
    each needs 16 core licences (8 per processor and 16 per server minimum); a 1-processor
    8-core server also needs 16 (https://www.microsoft.com/en-us/windows-server/pricing)."""
    std = lic(bundled, "Windows Server 2025 Standard")
    assert std.billable_cores(server(2, 4)) == 16
    assert std.billable_cores(server(1, 8)) == 16
    assert std.billable_cores(server(2, 24)) == 48


def test_windows_standard_stacks_two_vms_per_licensing_of_every_core(bundled: Catalog) -> None:
    """Microsoft's example of Standard stacking: on a 16-core server, 2 VMs need 16 core
    licences and 4 VMs need 32 (every core licensed again for each further 2 OSEs), at the
    list price of $1,176 per 16 cores (https://www.microsoft.com/en-us/windows-server/pricing)."""
    std = lic(bundled, "Windows Server 2025 Standard")
    host16 = server(2, 8)
    assert std.licence_cost(host16, 2, years=5) == pytest.approx(1176)
    assert std.licence_cost(host16, 4, years=5) == pytest.approx(2 * 1176)
    assert std.licence_cost(host16, 5, years=5) == pytest.approx(3 * 1176)
    # Datacenter ($6,771 per 16 cores) covers any number; Standard is cheaper up to 10 VMs.
    dc = lic(bundled, "Windows Server 2025 Datacenter")
    assert dc.licence_cost(host16, 40, years=5) == pytest.approx(6771)
    cheapest = [licence_for_tag("windows", host16, n, bundled.licences, 5.0) for n in (10, 12)]
    assert [u.name if u else "" for u in cheapest] == [
        "Windows Server 2025 Standard",
        "Windows Server 2025 Datacenter",
    ]


def test_sql_server_pays_4_cores_per_processor(bundled: Catalog) -> None:
    """Microsoft SQL Server 2022 licensing guide: each physical processor needs at least 4 core
    licences, so 2 processors of 2 cores need 8 (4 two-core packs at $15,123 list)
    (https://redresscompliance.com/sql-server-2022-licensing-article.html)."""
    sql = lic(bundled, "SQL Server 2022 Enterprise")
    assert sql.billable_cores(server(2, 2)) == 8
    assert sql.licence_cost(server(2, 2), 1, years=5) == pytest.approx(4 * 15123)
    assert sql.billable_cores(server(1, 6)) == 6


def test_sql_software_assurance_is_25_percent_a_year_in_support(bundled: Catalog) -> None:
    """Software Assurance at about 25 % of the licence price a year: $3,564 per core a year on
    a $14,256 core (https://redresscompliance.com/software-assurance-benefits-for-sql-server-licensing.html),
    so 8 cores over 5 years pay 1.25 x the licence in support."""
    sql = lic(bundled, "SQL Server 2022 Enterprise")
    assert sql.support_pct == 25
    licence = sql.licence_cost(server(2, 4), 1, years=5)
    assert sql.support_cost(server(2, 4), 1, years=5) == pytest.approx(licence * 0.25 * 5)
    assert sql.cost(server(2, 4), 1, years=5) == pytest.approx(licence * 2.25)


def test_oracle_core_factor_half_for_intel_and_support_22_percent(bundled: Catalog) -> None:
    """Oracle Processor Core Factor Table: an 8-core Intel Xeon server needs 8 x 0.5 = 4
    processor licences ($47,500 each), and support is 22 % of the licence a year
    (https://www.oracle.com/assets/processor-core-factor-table-070634.pdf;
    https://www.redresscompliance.com/oracle-technology-price-list.html)."""
    oracle = lic(bundled, "Oracle Database Enterprise Edition")
    eight = server(1, 8)
    assert oracle.licence_cost(eight, 1, years=3) == pytest.approx(4 * 47500)
    assert oracle.support_cost(eight, 1, years=3) == pytest.approx(4 * 47500 * 0.22 * 3)
    assert oracle.licence_cost(server(2, 16), 1, years=1) == pytest.approx(16 * 47500)


def test_vvf_counts_16_cores_per_cpu_at_least(bundled: Catalog) -> None:
    """Broadcom KB 313548: VVF/VCF count the greater of the host's cores and 16 per CPU, so one
    8-core CPU pays 16, two 8-core CPUs pay 32, two 24-core CPUs pay 48
    (https://knowledge.broadcom.com/external/article/313548)."""
    vvf = lic(bundled, "VMware vSphere Foundation")
    assert [vvf.billable_cores(server(s, c)) for s, c in ((1, 8), (2, 8), (2, 24))] == [16, 32, 48]
    assert vvf.licence_cost(server(2, 8), 0, years=5) == pytest.approx(32 * 135 * 5)
    assert vvf.support_cost(server(2, 8), 0, years=5) == 0  # a subscription includes support


def test_rhel_socket_pairs_and_two_vms_per_server_subscription(bundled: Catalog) -> None:
    """Red Hat socket-pair rule as the Flexera and ServiceNow guides state it: 1 or 2 sockets are
    one pair, 4 sockets two; a RHEL Server subscription covers 2 VMs and stacks; RHEL for
    Virtual Datacenters covers unlimited guests per pair (docs.flexera.com RN-new-RHELSubsReport;
    servicenow.com rh-socket-pair-licensing)."""
    rhel = lic(bundled, "RHEL Server")
    vdc = lic(bundled, "RHEL for Virtual Datacenters")
    assert [rhel.units(server(s, 8), 1) for s in (1, 2, 4)] == [1, 1, 2]
    assert [rhel.grants(n) for n in (1, 2, 3, 5)] == [1, 1, 2, 3]
    assert vdc.grants(50) == 1
    assert rhel.licence_cost(server(2, 16), 5, years=1) == pytest.approx(3 * 800)


def test_rhel_takes_the_cheaper_of_server_and_vdc_per_host(bundled: Catalog) -> None:
    """ServiceNow's density rule: RHEL Server while it is cheaper (up to 6 guests per socket pair
    at 800 vs 2,500), Virtual Datacenters above; one OS on bare metal takes RHEL Server."""
    two = server(2, 16)
    names = [licence_for_tag("rhel", two, n, bundled.licences, 5.0) for n in (1, 6, 7)]
    assert [u.name if u else "" for u in names] == [
        "RHEL Server",
        "RHEL Server",
        "RHEL for Virtual Datacenters",
    ]


# --------------------------------------------------------------------------- categories


def test_licence_support_is_split_from_the_licence_in_the_host_cost() -> None:
    """A bought licence's support lands in `support`, the licence itself in `licences`."""
    sa = Licence(name="x", family="x", tag="x", unit="host", price=1000, support_pct=20)
    use = licence_for_tag("x", host(), 1, (sa,), 5.0)
    assert use is not None and use.support == pytest.approx(1000)
    cost = host_cost(host(price=0.0), [use], 0.0, BARE)
    assert cost.licences == pytest.approx(1000)
    assert cost.support == pytest.approx(1000)


def test_each_running_cost_follows_its_policy_key() -> None:
    """Maintenance, network, colocation, rack space and operations per server, over 5 years."""
    model = host(price=10_000.0, watts_max=500.0, rack_units=2)
    policy = BARE.model_copy(
        update={
            "hardware_support_pct": 10,
            "network_pct": 10,
            "network_per_host": 500,
            "network_support_pct": 20,
            "colocation_per_kw_month": 100,
            "rack_unit_per_year": 30,
            "ops_per_host_year": 800,
        }
    )
    run_ = server_running_cost(model, policy)
    assert run_.support == pytest.approx(10_000 * 0.10 * 5)
    assert run_.network == pytest.approx((1000 + 500) * (1 + 0.20 * 5))
    assert run_.facilities == pytest.approx((0.5 * 100 * 12 + 2 * 30) * 5)
    assert run_.operations == pytest.approx(800 * 5)
    assert run_.hardware == run_.licences == run_.storage == run_.energy == 0


def test_workload_storage_is_priced_shared_or_local_per_provisioned_gib() -> None:
    """Shared and local storage have their own price per GiB; a VM without storage adds none."""
    policy = BARE.model_copy(
        update={"shared_storage_per_gib": 2, "local_storage_per_gib": 0.5, "ops_per_vm_year": 100}
    )
    workloads = [*vms(1, storage_gib=100), *vms(1, prefix="bare")]
    shared = workload_cost(workloads, policy, "shared")
    local = workload_cost(workloads, policy, "local")
    assert shared.storage == pytest.approx(200)
    assert local.storage == pytest.approx(50)
    assert shared.operations == local.operations == pytest.approx(2 * 100 * 5)


def test_old_rack_unit_key_still_prices_rack_space_in_facilities() -> None:
    """A policy file with `rack_unit_per_year` keeps working: its cost is part of facilities."""
    policy = BARE.model_copy(update={"rack_unit_per_year": 50})
    assert facilities_cost(host(rack_units=2), policy) == pytest.approx(2 * 50 * 5)


@given(
    price=st.floats(0, 1e5),
    util=st.floats(0, 1),
    pct=st.floats(0, 50),
    ops=st.floats(0, 5000),
    gib=st.floats(0, 1e4),
)
def test_host_cost_total_is_the_sum_of_its_categories(
    price: float, util: float, pct: float, ops: float, gib: float
) -> None:
    """Whatever the figures, every category is >= 0 and the total is their sum."""
    policy = Policy(hardware_support_pct=pct, ops_per_vm_year=ops, ops_per_host_year=ops)
    cost = host_cost(host(price=price), (), util, policy, vms(1, storage_gib=gib))
    values = [getattr(cost, c) for c in COST_CATEGORIES]
    assert all(v >= 0 for v in values)
    assert cost.total == pytest.approx(sum(values))
    assert (cost + cost).total == pytest.approx(2 * cost.total)


def test_host_type_fixed_cost_is_the_host_cost_of_an_idle_host() -> None:
    """The optimizer's fixed cost per host is what `host_cost` charges an empty host."""
    cat = catalog(host(cores=16, mem=64), licences=(HYPERVISOR,))
    problem = build_problem(inventory(*vms(2)), cat, Policy(hypervisor="type1"))
    t = problem.host_types[0]
    years = problem.policy.horizon_years
    idle = host_cost(
        t.model, hypervisor_licences(t.model, cat.licences, years), 0.0, problem.policy
    )
    assert t.fixed_cost == pytest.approx(idle.total)
    assert t.running_cost > 0


@pytest.mark.parametrize("hypervisor", ["vsphere", "hyper-v", "none"])
def test_the_optimizers_host_total_is_the_cost_rule_on_every_host(
    bundled: Catalog, hypervisor: str
) -> None:
    """``host_total`` (fixed cost + tagged licences + energy by load, what the optimizers
    minimise) gives every host of a packing what ``host_cost`` charges it, per-VM costs aside:
    with per-core hypervisor licences (vSphere), the Windows host OS of Hyper-V, and none."""
    mix = [
        *vms(12, vcpus=4, mem=16, prefix="win", licences=("windows",), cpu_util_pct=35),
        *vms(5, vcpus=8, mem=64, prefix="sql", licences=("windows", "sql-enterprise")),
        *vms(9, vcpus=2, mem=8, prefix="lin", cpu_util_pct=80),
    ]
    problem = build_problem(inventory(*mix), bundled, Policy(hypervisor=hypervisor))
    packing, _ = first_fit_decreasing(problem)
    assert len(packing) >= 2
    for b in packing:
        t = problem.host_types[b.type_index]
        tagged = sum(u.cost for u in bin_licences(problem, b) if u.tag)
        load = sum(problem.vms[i].load_m for i in b.vms)
        assert host_total(t, tagged, load) == pytest.approx(bin_cost(problem, b).total, rel=1e-12)
    t = problem.host_types[0]
    assert host_total(t) == t.fixed_cost  # no licences, no load: the fixed cost exactly


def test_licence_cost_is_the_cheapest_licence_for_the_count_or_nothing(bundled: Catalog) -> None:
    """Three Windows VMs: two Standard grants (2 VMs each) cost less than Datacenter on a
    16-core host; a tag no licence carries costs nothing."""
    model = host(cores=16)
    years = 5.0
    use = licence_for_tag("windows", model, 3, bundled.licences, years)
    assert use is not None and "Standard" in use.name and use.grants == 2
    assert licence_cost("windows", model, 3, bundled.licences, years) == use.cost
    assert licence_cost("no-such-tag", model, 3, bundled.licences, years) == 0.0


def test_plan_bound_and_cost_carry_the_per_vm_costs() -> None:
    """Storage and per-VM operations are in the plan's cost and in its lower bound alike."""
    cat = catalog(host(cores=8, mem=32))
    inv = inventory(*vms(6, storage_gib=100))
    policy = Policy(hypervisor="none", ha_host_failures=0, electricity_per_kwh=0)
    problem, plan = run(inv, cat, policy)
    per_vm = workload_cost(inv.vms, problem.policy, "shared").total
    assert len(plan.hosts) == 1
    assert plan.cost.storage == pytest.approx(6 * 100 * 1.5 * 1.5)
    assert per_vm < plan.lower_bound_cost <= plan.cost.total
    assert plan.gap < 1e-5  # one host is optimal: the bound meets the cost
    assert plan.cost.total == pytest.approx(sum(h.cost.total for h in plan.hosts))


# --------------------------------------------------------------------------- dedicated baseline


def test_entry_servers_serve_the_baseline_and_never_become_hosts() -> None:
    """A `dedicated_only` model is not a host type, but the baseline may choose it."""
    entry = host("entry", cores=4, mem=16, price=500.0, dedicated_only=True)
    big = host("big", cores=16, mem=128, price=3000.0)
    problem = build_problem(inventory(*vms(3)), catalog(entry, big), Policy(hypervisor="none"))
    assert [t.model.model for t in problem.host_types] == ["big"]
    assert {s.model for s in dedicated_baseline(problem).servers} == {"entry"}


@pytest.fixture(scope="module")
def sample() -> tuple[Problem, Plan]:
    """The bundled sample planned with the bundled catalog (a short time limit)."""
    inv = read_inventory(DATA_DIR / "sample_inventory.csv")
    return run(inv, load_catalog(), Policy(), SolverParams(time_limit_s=3))


def test_sample_has_every_category_on_both_sides(sample: tuple[Problem, Plan]) -> None:
    """Acceptance: on the sample, every cost category is non-zero, consolidated and dedicated,
    in the plan JSON as in the text summary."""
    problem, plan = sample
    doc = json.loads(json.dumps(plan_to_dict(plan, problem)))
    for side in (doc["summary"]["cost"], doc["dedicated"]["cost"]):
        assert set(side) == {*COST_CATEGORIES, "total"}
        assert all(side[c] > 0 for c in COST_CATEGORIES), side
        assert side["total"] == pytest.approx(sum(side[c] for c in COST_CATEGORIES), abs=0.1)
    text = plan_summary(plan, problem)
    assert text.count("facilities ") == 2 and text.count("operations ") == 2


def test_sample_small_workloads_get_servers_of_at_most_8_cores(
    sample: tuple[Problem, Plan],
) -> None:
    """Acceptance: every workload of <= 2 vCPU and <= 8 GiB gets a dedicated server of <= 8 cores,
    and RHEL on bare metal is RHEL Server, not Virtual Datacenters."""
    problem, plan = sample
    assert plan.dedicated is not None
    inv = {v.name: v for v in problem.inventory.vms}
    models = {m.model: m for m in problem.catalog.hosts}
    small = [
        s for s in plan.dedicated.servers if inv[s.vm].vcpus <= 2 and inv[s.vm].memory_gib <= 8
    ]
    assert len(small) > 100
    assert max(models[s.model].cores for s in small) <= 8
    rhel_vm = next(v for v in problem.vms if "rhel" in v.tags and v.vcpus <= 2)
    server_ = next(s for s in plan.dedicated.servers if s.vm == rhel_vm.name)
    vdc = lic(problem.catalog, "RHEL for Virtual Datacenters")
    years = problem.policy.horizon_years
    assert server_.cost.licences < vdc.cost(models[server_.model], 1, years)


def test_sweep_rows_carry_every_category_for_both_sides() -> None:
    """The sweep's columns name each category for the plan and for the dedicated baseline."""
    for cat in COST_CATEGORIES:
        assert f"cost_{cat}" in COLUMNS and f"dedicated_cost_{cat}" in COLUMNS


def test_cost_breakdown_adds_category_by_category() -> None:
    """Adding two breakdowns adds each category; nothing is dropped or mixed up."""
    a = CostBreakdown(**{c: float(i + 1) for i, c in enumerate(COST_CATEGORIES)})
    b = CostBreakdown(storage=10.0)
    total = a + b
    assert total.storage == a.storage + 10 and total.hardware == a.hardware
    assert total.total == pytest.approx(a.total + 10)
