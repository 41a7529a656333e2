"""The planner's domain objects: frozen pydantic models, one per stage of the pipeline.

    ingest  -> Inventory (VMs as the user gave them)
    catalog -> Catalog (HostModel, Licence, HypervisorProfile)
    Policy  -> one scenario's settings (every what-if is a copied Policy)
    sizing  -> Problem (integer demands and capacities, partitions)
    SolverParams -> how long and how the solver searches (not what it plans)
    solve   -> Plan (hosts, placements, costs, bounds, failures, dedicated baseline)

Units are in the field names (``memory_gib``, ``cpu_m`` = milli-vCPU, ``mem_mib``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from planner.limits import MAX_MEMORY_GIB, MAX_STORAGE_GIB, MAX_VCPUS
from planner.tolerances import gap

__all__ = [
    "COST_CATEGORIES",
    "VM",
    "WORK_SHARE",
    "Catalog",
    "CostBreakdown",
    "DedicatedBaseline",
    "DedicatedServer",
    "Explanation",
    "FailureCheck",
    "HostModel",
    "HostPlan",
    "HostType",
    "HypervisorProfile",
    "Inventory",
    "KFailureCheck",
    "Licence",
    "LicenceUse",
    "Migration",
    "Move",
    "Partition",
    "PartitionReason",
    "Plan",
    "Policy",
    "Problem",
    "RulePrice",
    "SizedVM",
    "SolverParams",
    "Status",
    "Unplaced",
]


class _Frozen(BaseModel):
    """Base of every domain object: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- inputs


class VM(_Frozen):
    """One workload as the inventory describes it (before sizing)."""

    name: str = Field(min_length=1)
    vcpus: int = Field(ge=1, le=MAX_VCPUS)
    memory_gib: float = Field(gt=0, le=MAX_MEMORY_GIB)
    cpu_util_pct: float | None = Field(default=None, ge=0, le=100)
    mem_util_pct: float | None = Field(default=None, ge=0, le=100)
    storage_gib: float | None = Field(default=None, ge=0, le=MAX_STORAGE_GIB)
    os: str = ""
    licences: tuple[str, ...] = ()
    licences_inferred: bool = False  # True when the tags come from the OS text
    group: str = ""  # anti-affinity group: members never share a host
    zone: str = ""  # security zone: VMs of different zones never share a host
    cluster: str = ""  # placement domain: clusters are planned apart
    powered_on: bool = True
    row: int | None = None  # spreadsheet row of the source file (header = row 1)
    # The host it runs on today (RVTools vInfo ``Host``); once matched against the estate's
    # host list (``planner.estate``), that list's spelling of the name.
    host: str = ""


class Inventory(_Frozen):
    """The VMs of one input file, with what was dropped and why."""

    source: str  # file name as the user knows it
    format: Literal["native", "rvtools", "azure_migrate", "liveoptics"]
    vms: tuple[VM, ...]
    dropped: dict[str, int] = Field(default_factory=dict)  # reason -> count (templates ...)
    notes: tuple[str, ...] = ()  # what the reader inferred or assumed, in words


# Published per-core hardware cost regression of Azure Migrate's business case (on-premises
# defaults): cost per core = 16.232 x (hyperthreaded cores / memory GB) + 113.87. Used only
# when the catalog gives no price; see data/README.md.
_AZ_SLOPE, _AZ_INTERCEPT = 16.232, 113.87
_WATTS_PER_CORE_MAX = 18.0  # Azure Migrate: 0.009 kWh per core-hour x load factor 2.0
_IDLE_SHARE = 0.4  # idle draw as a share of maximum when only one of them is given


class HostModel(_Frozen):
    """A server model of the host catalog. Only the first four fields are required."""

    model: str = Field(min_length=1)
    sockets: int = Field(ge=1)
    cores_per_socket: int = Field(ge=1)
    memory_gib: float = Field(gt=0)
    threads_per_core: int = Field(default=2, ge=1)
    price: float = Field(default=-1.0)  # -1: estimate (see defaults)
    watts_idle: float = Field(default=-1.0)
    watts_max: float = Field(default=-1.0)
    rack_units: int = Field(default=0, ge=0)  # 0: 1U for one socket, 2U for two or more
    max_count: int | None = Field(default=None, ge=0)
    dedicated_only: bool = False  # offered to the dedicated baseline only, never as a host
    # A server of today's estate (``planner.estate``): ``model`` is its host name, its
    # purchase is already paid (``price`` is its estimated value, the base of its support).
    owned: bool = False
    cluster: str = ""  # an owned server's cluster today
    estimated: tuple[str, ...] = ()  # fields filled from published defaults

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        d = dict(data)
        est = list(d.get("estimated", ()))
        try:
            cores = int(d["sockets"]) * int(d["cores_per_socket"])
            mem = float(d["memory_gib"])
        except (KeyError, TypeError, ValueError):
            return d  # field validation reports the problem
        if d.get("price") in (None, -1, -1.0):
            ht = cores * int(d.get("threads_per_core") or 2)
            d["price"] = round(cores * (_AZ_SLOPE * ht / max(mem, 1.0) + _AZ_INTERCEPT), 2)
            est.append("price")
        idle, peak = d.get("watts_idle"), d.get("watts_max")
        if peak in (None, -1, -1.0):
            d["watts_max"] = (
                float(idle) / _IDLE_SHARE
                if idle not in (None, -1, -1.0)
                else cores * _WATTS_PER_CORE_MAX
            )
            est.append("watts_max")
        if idle in (None, -1, -1.0):
            d["watts_idle"] = round(float(d["watts_max"]) * _IDLE_SHARE, 1)
            est.append("watts_idle")
        if d.get("rack_units") in (None, 0):
            d["rack_units"] = 1 if int(d["sockets"]) == 1 else 2
            est.append("rack_units")
        d["estimated"] = tuple(dict.fromkeys(est))
        return d

    @model_validator(mode="after")
    def _check_watts(self) -> HostModel:
        if self.price < 0:
            raise ValueError("price must be >= 0")
        if self.watts_idle < 0 or self.watts_max < self.watts_idle:
            raise ValueError("watts must satisfy 0 <= watts_idle <= watts_max")
        return self

    @property
    def purchase_cost(self) -> float:
        """What buying it costs: its price, or nothing for a server already owned."""
        return 0.0 if self.owned else self.price

    @property
    def cores(self) -> int:
        """Physical cores of the server."""
        return self.sockets * self.cores_per_socket

    @property
    def logical_cpus(self) -> int:
        """Hardware threads: the widest VM the hypervisor can schedule."""
        return self.cores * self.threads_per_core


class Licence(_Frozen):
    """A licence rule of the licence catalog (design section 2.3).

    ``price`` is per ``unit`` (per core, per socket pair, per host or per VM) and per
    ``period``. A grant covers ``vms_per_grant`` tagged VMs (0 = unlimited); a host running
    more stacks grants (Windows Server Standard: 2 VMs per full licensing of the cores).
    ``support_pct`` is the yearly support of a ``once`` licence (Software Assurance, Oracle
    support) as a percentage of its price; subscriptions (``period = year``) include it.
    """

    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    tag: str = ""  # VMs with this tag need it; empty for applies_to = all_hosts
    unit: Literal["core", "socket", "socket_pair", "host", "vm"]
    price: float = Field(ge=0)
    period: Literal["once", "year"] = "once"
    min_cores_per_socket: int = Field(default=0, ge=0)
    min_cores_per_host: int = Field(default=0, ge=0)
    vms_per_grant: int = Field(default=0, ge=0)
    scope: Literal["host", "cluster"] = "host"
    applies_to: Literal["tagged", "all_hosts"] = "tagged"
    support_pct: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _check_tag(self) -> Licence:
        if self.applies_to == "tagged" and not self.tag:
            raise ValueError("a licence that applies to tagged VMs needs a tag")
        return self

    def billable_cores(self, host: HostModel) -> int:
        """Cores to pay for on ``host``, per-socket and per-host minimums applied."""
        per_socket = max(host.cores_per_socket, self.min_cores_per_socket)
        return max(per_socket * host.sockets, self.min_cores_per_host)

    def units(self, host: HostModel, tagged_vms: int) -> int:
        """How many priced units one grant of this licence needs on ``host``."""
        if self.unit == "core":
            return self.billable_cores(host)
        if self.unit == "socket":
            return host.sockets
        if self.unit == "socket_pair":
            return (host.sockets + 1) // 2
        if self.unit == "host":
            return 1
        return tagged_vms  # per VM

    def grants(self, tagged_vms: int) -> int:
        """Grants needed to cover ``tagged_vms`` VMs on one host (stacking)."""
        if self.unit == "vm" or self.vms_per_grant == 0:
            return 1 if tagged_vms > 0 or self.applies_to == "all_hosts" else 0
        return -(-tagged_vms // self.vms_per_grant)

    def licence_cost(self, host: HostModel, tagged_vms: int, years: float) -> float:
        """The licence itself over ``years`` (purchase, or subscription), support excluded."""
        per_period = self.price * self.units(host, tagged_vms) * self.grants(tagged_vms)
        return per_period * (years if self.period == "year" else 1.0)

    def support_cost(self, host: HostModel, tagged_vms: int, years: float) -> float:
        """Support over ``years``: ``support_pct`` of a ``once`` licence's price each year."""
        if self.period == "year":
            return 0.0
        return self.licence_cost(host, tagged_vms, years) * self.support_pct / 100.0 * years

    def cost(self, host: HostModel, tagged_vms: int, years: float) -> float:
        """Cost over ``years`` of ``tagged_vms`` tagged VMs on ``host``, support included."""
        return self.licence_cost(host, tagged_vms, years) + self.support_cost(
            host, tagged_vms, years
        )


class HypervisorProfile(_Frozen):
    """A hypervisor product (vSphere, Hyper-V, KVM ...): its overheads, limits and licence.

    ``licence_family`` names the licence rows (``licenses.csv``, column ``family``) the
    hypervisor itself needs on every host: rows with ``applies_to = all_hosts`` are paid per
    host (VMware VVF); rows that license tagged guests are the host's own operating system
    (Windows Server under Hyper-V): each host holds at least one grant, which also covers its
    guests of that tag. ``none`` or empty: no hypervisor licence. ``*`` (the default, and what a
    legacy ``pays_hypervisor_licence = true`` reads as): the cheapest ``all_hosts`` row.
    """

    name: str
    description: str = ""
    type: Literal[1, 2] = 1  # 1: bare metal, with HA clusters; 2: hosted, no HA
    reserved_cores: float = Field(default=0.0, ge=0)
    reserved_memory_gib: float = Field(default=0.0, ge=0)
    vm_memory_overhead_mib: float = Field(default=0.0, ge=0)
    vm_memory_overhead_pct: float = Field(default=0.0, ge=0)
    cpu_efficiency: float = Field(default=1.0, gt=0, le=1)
    max_vms_per_host: int = Field(default=1024, ge=1)
    max_vcpus_per_core: float = Field(default=32.0, gt=0)
    max_vcpus_per_vm: int = Field(default=768, ge=1)
    max_hosts_per_cluster: int = Field(default=100000, ge=1)
    licence_family: str = "*"

    @model_validator(mode="before")
    @classmethod
    def _legacy_boolean(cls, data: object) -> object:
        # Profiles written before licence_family said pays_hypervisor_licence = true/false.
        if not isinstance(data, dict):
            return data
        d = dict(data)
        if "pays_hypervisor_licence" in d:
            pays = d.pop("pays_hypervisor_licence")
            d.setdefault("licence_family", "*" if pays else "")
        if str(d.get("licence_family", "")).strip().lower() == "none":
            d["licence_family"] = ""  # the catalog's way of saying "no hypervisor licence"
        return d

    @property
    def pays_hypervisor_licence(self) -> bool:
        """Whether any hypervisor licence is paid per host."""
        return bool(self.licence_family)


class Catalog(_Frozen):
    """Everything the planner may buy: server models, licence rules, hypervisor profiles."""

    hosts: tuple[HostModel, ...]
    licences: tuple[Licence, ...]
    profiles: dict[str, HypervisorProfile]
    sources: dict[str, str] = Field(default_factory=dict)  # which file each part came from


class Policy(_Frozen):
    """One scenario (design section 2.5). A what-if is ``policy.model_copy(update=...)``.

    Every number has an upper bound far above any real scenario (the README's policy table
    lists them) and must be finite: an absurd value is an input error, not a long solve.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    hypervisor: str = "vsphere"  # a profile name; "type1" is read as "vsphere"
    cpu_overcommit: float = Field(default=4.0, gt=0, le=64)
    memory_overcommit: float = Field(default=1.0, gt=0, le=10)
    max_utilization: float = Field(default=0.8, gt=0, le=1)
    ha_host_failures: int = Field(default=1, ge=0, le=64)
    growth: float = Field(default=0.0, ge=0, le=100)
    sizing: Literal["allocated", "utilization"] = "allocated"
    util_floor_pct: float = Field(default=10.0, ge=0, le=100)
    include_powered_off: bool = True
    objective: Literal["cost", "hosts"] = "cost"
    horizon_years: float = Field(default=5.0, gt=0, le=100)
    electricity_per_kwh: float = Field(default=0.15, ge=0, le=100)
    pue: float = Field(default=1.58, ge=1, le=10)
    # Running costs (data/README.md names the source of every default). Percentages are
    # per year of a purchase price; "per year" amounts are paid every year of the horizon.
    hardware_support_pct: float = Field(
        default=10.0, ge=0, le=1000
    )  # server maintenance, % of price
    network_pct: float = Field(default=10.0, ge=0, le=1000)  # network gear, % of the server's price
    network_per_host: float = Field(
        default=0.0, ge=0, le=1e9
    )  # ports, NICs, optics: once per server
    network_support_pct: float = Field(default=15.0, ge=0, le=1000)  # network maintenance, % of it
    shared_storage_per_gib: float = Field(default=1.5, ge=0, le=1e9)  # consolidated: once per GiB
    local_storage_per_gib: float = Field(default=0.5, ge=0, le=1e9)  # dedicated servers' disks
    storage_support_pct: float = Field(default=10.0, ge=0, le=1000)  # storage maintenance
    colocation_per_kw_month: float = Field(default=163.44, ge=0, le=1e9)  # per kW of peak draw
    rack_unit_per_year: float = Field(default=0.0, ge=0, le=1e9)
    ops_per_host_year: float = Field(default=860.0, ge=0, le=1e9)  # each physical server
    ops_per_vm_year: float = Field(
        default=1690.0, ge=0, le=1e9
    )  # each workload (VM or OS instance)
    clusters: Literal["keep", "merge"] = "keep"  # merge: the inventory's clusters as one pool
    # cluster: VMs move freely within their cluster, so each host is licensed for the most
    # VMs of a stacking licence (Windows Standard) it could run; pinned: for those it runs.
    vm_mobility: Literal["cluster", "pinned"] = "cluster"
    max_cluster_hosts: int | None = Field(
        default=None, ge=1, le=100_000
    )  # None: the profile's maximum
    # Today's estate (planner.estate, planner.moves): size new hardware, plan onto the owned
    # hosts only, or keep owned hosts and buy catalog models beside them.
    estate: Literal["new", "existing", "mixed"] = "new"
    max_moves: int | None = Field(default=None, ge=0, le=10_000_000)  # VMs that may change host
    move_weight: Literal["vms", "memory"] = "vms"  # fewest moved VMs, or least moved memory
    retire_hosts: tuple[str, ...] = ()  # owned hosts that must go (names as the host list)

    @field_validator("retire_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        # --set retire_hosts=a,b arrives as one text
        if isinstance(value, str):
            return tuple(h.strip() for h in value.split(",") if h.strip())
        return value


WORK_SHARE = 0.75  # the default work budget: this share of the time limit (reference machine)


class SolverParams(_Frozen):
    """How the solver searches: its limits and seed, apart from the scenario (``Policy``).

    The same problem, ``seed`` and work budget give the same plan on any machine and under
    any load: every phase stops on work done, counted in seconds of the reference machine.
    ``time_limit_s`` caps the wall clock of the whole ``solve`` call (a safety cap; when it
    stops the search before its work budget, the plan says so). ``work_limit_s`` is the
    engine's work budget; by default ``WORK_SHARE`` of the time limit, which leaves the
    reference machine headroom below the cap. ``workers`` is kept for the settings files
    and the sweep: the engine's CP-SAT runs one worker, so that the plan does not depend on
    it. In a policy file and in ``--set`` these are keys like the policy's own.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    time_limit_s: float = Field(default=30.0, gt=0, le=86_400)
    workers: int = Field(default=2, ge=1, le=1024)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    work_limit_s: float | None = Field(default=None, gt=0, le=86_400)

    @property
    def work_s(self) -> float:
        """The engine's work budget, in seconds of the reference machine."""
        if self.work_limit_s is None:
            return WORK_SHARE * self.time_limit_s
        return self.work_limit_s


# --------------------------------------------------------------------------- sized problem


class SizedVM(_Frozen):
    """A VM's integer demand under one policy (milli-vCPU, MiB)."""

    index: int  # position in Inventory.vms
    name: str
    cpu_m: int
    mem_mib: int
    tags: tuple[str, ...]
    group: str
    zone: str
    cluster: str
    numa_span: bool = False  # wider than one socket of the model(s) it fits
    fits: tuple[int, ...] = ()  # indices into Problem.host_types that can hold it alone
    load_m: int = 0  # expected physical CPU load in milli-cores (for the power model)
    vcpus: int = 1  # configured vCPUs (for the dedicated baseline and reports)
    memory_gib: float = 0.0  # configured memory


class HostType(_Frozen):
    """A host model's integer capacity under one policy, and its licence-free costs."""

    index: int
    model: HostModel
    cpu_cap_m: int
    mem_cap_mib: int
    vm_cap: int
    hardware_cost: float  # purchase price
    running_cost: float  # maintenance, network, facilities, operations over the horizon
    energy_idle_cost: float  # over the horizon at idle draw
    energy_per_util_cost: float  # extra over the horizon per unit of CPU utilization (0..1)
    hypervisor_licence_cost: float  # all_hosts licences over the horizon, support included

    @property
    def fixed_cost(self) -> float:
        """Cost of the host whatever runs on it (idle energy and per-host costs included)."""
        return (
            self.hardware_cost
            + self.running_cost
            + self.energy_idle_cost
            + self.hypervisor_licence_cost
        )


class Partition(_Frozen):
    """VMs planned together: one cluster and security zone (and licence island, if any)."""

    key: str  # e.g. "Prod / dmz" — shown to users
    cluster: str
    zone: str
    island: str = ""  # tag of a cluster-scoped licence whose VMs are isolated here
    vms: tuple[int, ...]  # indices into Problem.vms


class Unplaced(_Frozen):
    """A VM that is in no host, with the reason in words.

    ``cause``: ``excluded`` by the policy (powered off), ``too_large`` for every model (no
    plan can place it), or ``no_room`` (the models that hold it are used up by max_count).
    """

    vm: str
    reason: str
    cause: Literal["excluded", "too_large", "no_room"] = "no_room"


class Problem(_Frozen):
    """Everything a solver needs, in integers; built by ``sizing.build_problem``."""

    inventory: Inventory
    policy: Policy
    catalog: Catalog
    profile: HypervisorProfile
    vms: tuple[SizedVM, ...]  # the VMs to place (unplaceable and excluded ones are not here)
    host_types: tuple[HostType, ...]
    partitions: tuple[Partition, ...]
    unplaced: tuple[Unplaced, ...]  # VMs that fit no model, or excluded by the policy
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- plan


COST_CATEGORIES = (
    "hardware",
    "support",
    "licences",
    "network",
    "storage",
    "energy",
    "facilities",
    "operations",
)
"""The categories of ``CostBreakdown``, in the order reports show them."""


class CostBreakdown(_Frozen):
    """Cost over the policy's horizon, by category (currency units).

    hardware: server purchase; support: hardware maintenance and software support (SA,
    Oracle support); licences: licences and subscriptions; network: network gear and its
    maintenance; storage: provisioned storage and its maintenance; energy: electricity at the
    wall times PUE; facilities: colocation power and rack space; operations: administration
    per server and per workload.
    """

    hardware: float = 0.0
    support: float = 0.0
    licences: float = 0.0
    network: float = 0.0
    storage: float = 0.0
    energy: float = 0.0
    facilities: float = 0.0
    operations: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the categories."""
        return (
            self.hardware
            + self.support
            + self.licences
            + self.network
            + self.storage
            + self.energy
            + self.facilities
            + self.operations
        )

    def __add__(self, other: CostBreakdown) -> CostBreakdown:
        # Field by field (no loop over the names): plans add tens of thousands of these.
        return CostBreakdown(
            hardware=self.hardware + other.hardware,
            support=self.support + other.support,
            licences=self.licences + other.licences,
            network=self.network + other.network,
            storage=self.storage + other.storage,
            energy=self.energy + other.energy,
            facilities=self.facilities + other.facilities,
            operations=self.operations + other.operations,
        )

    @staticmethod
    def total_of(parts: Iterable[CostBreakdown]) -> CostBreakdown:
        """The sum of ``parts``, category by category: the same numbers as adding them one
        after the other to ``CostBreakdown()``, without a new object per addition."""
        sums = [0.0] * len(COST_CATEGORIES)
        for c in parts:
            sums[0] += c.hardware
            sums[1] += c.support
            sums[2] += c.licences
            sums[3] += c.network
            sums[4] += c.storage
            sums[5] += c.energy
            sums[6] += c.facilities
            sums[7] += c.operations
        return CostBreakdown(**dict(zip(COST_CATEGORIES, sums, strict=True)))


class LicenceUse(_Frozen):
    """A licence held by one host: which rule, how many grants, at what cost."""

    name: str
    tag: str
    grants: int
    units: int  # priced units per grant (billable cores, socket pairs, hosts or VMs)
    covers_vms: int  # tagged VMs it may run (-1 = unlimited)
    cost: float  # over the horizon, support included
    support: float = 0.0  # the support part of ``cost``


class HostPlan(_Frozen):
    """One physical host of the plan and what runs on it."""

    id: str
    model: str
    type_index: int
    partition: str
    role: Literal["active", "spare", "retired"]
    cluster: str = ""  # the cluster the host is built into (a partition may need several)
    vms: tuple[str, ...]
    cpu_used_m: int
    cpu_cap_m: int
    mem_used_mib: int
    mem_cap_mib: int
    vm_count: int
    vm_cap: int
    licences: tuple[LicenceUse, ...] = ()
    cost: CostBreakdown = CostBreakdown()
    watts: float = 0.0  # expected draw at the wall before PUE (linear power model)
    limiting: str = ""  # cpu | memory | vm_count | none
    existing: bool = False  # a server of today's estate (its model is its host name)


class FailureCheck(_Frozen):
    """What happens when one host fails: can its VMs restart on the survivors?"""

    host: str
    restartable: bool
    vms: tuple[str, ...]  # VMs that were running on the failed host
    stranded: tuple[str, ...] = ()  # VMs that found no room


class KFailureCheck(_Frozen):
    """Whether every VM restarts when any ``k`` hosts of a partition fail together, and how
    that was established: every combination simulated (``exhaustive``), a sound argument
    covering all of them (``bound``), or a bounded seeded sample (``sample``)."""

    k: int = Field(ge=1)
    method: Literal["exhaustive", "bound", "sample"]
    scenarios: int = Field(ge=0)  # combinations simulated, or covered by the argument
    all_restartable: bool  # every VM restarted in every scenario counted
    counterexample: tuple[str, ...] = ()  # failed hosts of one scenario that strands VMs


class DedicatedServer(_Frozen):
    """One workload on its own physical server (the baseline)."""

    vm: str
    model: str
    cost: CostBreakdown


class DedicatedBaseline(_Frozen):
    """Every workload on the cheapest model that holds it alone, no hypervisor, no overcommit."""

    server_count: int
    cores: int
    memory_gib: float
    rack_units: int
    watts: float
    cost: CostBreakdown
    servers: tuple[DedicatedServer, ...]
    no_fit: tuple[str, ...] = ()  # VMs larger than every model


class PartitionReason(_Frozen):
    """Why one partition (cluster / zone) has its host count: the rule that binds, in words."""

    cluster: str  # the partition's key, e.g. "prod / dmz"
    hosts: int  # active hosts and spares
    binding: str  # e.g. "anti-affinity group dmz-web-farm", "memory", "model cap"
    text: str  # e.g. "prod / dmz: 5 hosts (4 active + 1 spare) because group ..."
    capacity_hosts: int = 0  # what capacity alone needs (the best L2 / VM-count bound)


class RulePrice(_Frozen):
    """What one rule of the plan costs: the plan against a re-plan without it."""

    kind: str  # N+k, zone separation, anti-affinity group, licence island, ...
    name: str
    hosts: int  # hosts the rule adds (negative: it saves hosts)
    cost: float  # cost it adds over the horizon (negative: it saves money)
    proven: bool  # both plans proven optimal, so the figures are exact
    gap: float = 0.0  # otherwise the larger relative gap of the two plans


class Explanation(_Frozen):
    """What drives the host count: a one-line summary, per partition, and the price of rules.

    ``rules`` stays empty until ``planner.explain.price_rules`` re-plans without each rule.
    """

    summary: str = ""
    partitions: tuple[PartitionReason, ...] = ()
    rules: tuple[RulePrice, ...] = ()
    notes: tuple[str, ...] = ()  # rules left unpriced and why


class Move(_Frozen):
    """One VM migration: from its host today (``""``: unknown, placed like a new VM) to its
    planned host, in migration wave ``wave`` (1 = first). ``swing``: a stop on a host that
    is not its destination, freeing room for a later wave; ``exception``: the wave lets its
    target exceed capacity for the time of the migration (said in words in the notes)."""

    vm: str
    source: str
    target: str
    wave: int = Field(ge=1)
    swing: bool = False
    exception: bool = False


class Migration(_Frozen):
    """From today's placement to the plan (``estate = existing | mixed``): the moves in waves.

    ``moved_vms`` VMs change host; among plans on the kept hosts none moves fewer than
    ``moves_bound`` (``moves_proven``: the count is proven minimal). ``retired``: owned hosts
    the plan switches off. ``unmatched``: host names of the inventory the host list does not
    name, with their VMs. ``violations``: with ``max_moves = 0``, every rule today's
    placement breaks. ``before``: each owned host's VMs today.
    """

    moves: tuple[Move, ...] = ()
    waves: int = 0
    moved_vms: int = 0
    moved_memory_gib: float = 0.0
    moves_bound: float = 0.0
    moves_proven: bool = False
    weight: Literal["vms", "memory"] = "vms"
    retired: tuple[HostPlan, ...] = ()
    unmatched: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    violations: tuple[str, ...] = ()
    before: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    notes: tuple[str, ...] = ()


Status = Literal["optimal", "feasible", "partial", "infeasible"]


class Plan(_Frozen):
    """A verified placement and everything reported about it.

    ``status``: ``optimal`` (every rule met, the objective meets a valid lower bound),
    ``feasible`` (every rule met, with a gap), ``partial`` (VMs left out or N+k spares
    missing, without proof that no plan can do better) or ``infeasible`` (proven: no plan
    places every VM).
    """

    status: Status
    engine: str
    hosts: tuple[HostPlan, ...]
    unplaced: tuple[Unplaced, ...]
    lower_bound_hosts: int
    lower_bound_cost: float
    cost: CostBreakdown
    solve_seconds: float
    failures: tuple[FailureCheck, ...] = ()
    failure_check: KFailureCheck | None = None
    dedicated: DedicatedBaseline | None = None
    explanation: Explanation = Explanation()
    notes: tuple[str, ...] = ()
    params: SolverParams | None = None  # the solver params it was made with (None: unknown)
    migration: Migration | None = None  # today's estate to the plan (existing estates only)

    @property
    def active_hosts(self) -> tuple[HostPlan, ...]:
        """Hosts that run VMs (spares excluded)."""
        return tuple(h for h in self.hosts if h.role == "active")

    @property
    def spare_hosts(self) -> tuple[HostPlan, ...]:
        """N+k failover hosts."""
        return tuple(h for h in self.hosts if h.role == "spare")

    @property
    def gap(self) -> float:
        """Relative gap of the objective to its lower bound (0 = proven optimal)."""
        return gap(self.objective_value, self.objective_bound)

    @property
    def objective_value(self) -> float:
        """The value the solver minimised: cost or host count."""
        return self.cost.total if self.objective == "cost" else float(len(self.hosts))

    @property
    def objective_bound(self) -> float:
        """The lower bound on that value."""
        return self.lower_bound_cost if self.objective == "cost" else float(self.lower_bound_hosts)

    objective: Literal["cost", "hosts"] = "cost"
