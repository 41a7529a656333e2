"""Today's estate: the hosts a user owns, which VM runs where, and the owned hosts as models.

    estate = read_host_list("export.xlsx")          # RVTools vHost, Live Optics ESX Hosts
    inventory, catalog, notes = prepare(inventory, catalog, policy, estate)

RVTools writes a host's name in vHost as vCenter knows it, and each VM's host in vInfo the
same way; real exports still disagree (an FQDN on one sheet, the short name on the other,
another case). A VM's host is matched to the host list when the two names are equal up to
case, or when one is the other's short name (the part before the first dot) and only one
host of the list has that short name. Nothing looser is guessed: a VM whose host is not
matched is planned like a new VM (its placement counts as a move) and every unmatched name
is reported with its VMs, with the list's nearest spelling where one contains the other.

Each owned host becomes a host model of its own (``HostModel.owned``, ``max_count = 1``,
``model`` = its host name): its purchase is already paid (hardware costs nothing), while its
support (on an estimated value, the catalog's price regression), energy, licences, network,
facilities and operations still count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from planner.errors import InputError, InputIssue
from planner.limits import Limits
from planner.models import Catalog, HostModel, Inventory, Policy, Problem
from planner.sheets import Sheet, cell_text, read_sheet

__all__ = [
    "Estate",
    "EstateMatch",
    "estate_catalog",
    "match_hosts",
    "prepare",
    "read_host_list",
    "restrict_to_clusters",
]

_MIB_PER_GIB = 1024.0


class Estate(BaseModel):
    """The hosts of today's estate, as the host list describes them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str  # the file (and sheet) the list was read from
    hosts: tuple[HostModel, ...]  # owned=True, max_count=1, model = host name
    maintenance: tuple[str, ...] = ()  # hosts in maintenance mode today
    notes: tuple[str, ...] = ()


class EstateMatch(BaseModel):
    """How the inventory's host names met the host list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matched: dict[str, str]  # the inventory's spelling -> the host list's
    unmatched: dict[str, tuple[str, ...]]  # the inventory's spelling -> its VMs
    notes: tuple[str, ...] = ()


# Each host-list format: field -> the headers it may have (normalised: lower case, spaces).
_FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "RVTools vHost": {
        "name": ("host",),
        "cluster": ("cluster",),
        "sockets": ("# cpu",),
        "cores_per_socket": ("cores per cpu",),
        "cores": ("# cores",),
        "memory_mib": ("# memory",),
        "ht": ("ht active",),
        "maintenance": ("in maintenance mode",),
        "cpu_model": ("cpu model",),
    },
    "Live Optics ESX Hosts": {
        "name": ("host name",),
        "cluster": ("cluster",),
        "sockets": ("cpu sockets",),
        "cores": ("cpu cores",),
        "threads": ("cpu threads",),
        "memory_kib": ("memory (kib)",),
        "cpu_model": ("cpu description",),
    },
}
_SHEETS = ("vhost", "esx hosts", "hosts")


def _norm(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lower())


def _layout(header: Sequence[str]) -> tuple[str, dict[str, int]] | None:
    """The host-list format a header belongs to, and the column of each field it has."""
    names = {_norm(h): i for i, h in reversed(list(enumerate(header)))}
    for fmt, fields in _FORMATS.items():
        cols = {f: names[h] for f, hs in fields.items() for h in hs if h in names}
        if "name" in cols and "sockets" in cols and ("memory_mib" in cols or "memory_kib" in cols):
            return fmt, cols
    return None


def read_host_list(
    source: str | Path | bytes, name: str | None = None, limits: Limits | None = None
) -> Estate:
    """Read today's hosts: RVTools ``vHost`` (the workbook's sheet or
    ``RVTools_tabvHost.csv``) or Live Optics ``ESX Hosts``.

    Memory comes in MiB (RVTools ``# Memory``) or KiB (Live Optics). Hyper-threading active
    gives 2 threads per core, else 1.

    Raises:
        InputError: the file is unreadable or holds no host list; or rows that make no
            sense (no name, a duplicate name, sockets or cores not whole numbers >= 1, cores
            that disagree with sockets x cores per socket, memory not > 0), each named by
            file, row, column and value.
    """

    def fits(header: Sequence[str]) -> bool:
        return _layout(header) is not None

    sheet = read_sheet(source, name, prefer=_SHEETS, fits=fits, limits=limits)
    layout = _layout(sheet.header)
    if layout is None:
        raise InputError.single(
            sheet.label,
            "no host list found: expected the RVTools vHost sheet (columns Host, # CPU, "
            "Cores per CPU, # Memory) or Live Optics ESX Hosts; give it with --current-hosts",
        )
    return _convert(sheet, *layout)


def _convert(sheet: Sheet, fmt: str, cols: dict[str, int]) -> Estate:
    issues: list[InputIssue] = []
    hosts: list[HostModel] = []
    maintenance: list[str] = []
    seen: dict[str, int] = {}

    def cell(cells: Sequence[object], field: str) -> str:
        i = cols.get(field)
        return cell_text(cells[i]) if i is not None and i < len(cells) else ""

    def bad(row: int, field: str, value: str, rule: str) -> None:
        issues.append(
            InputIssue(
                file=sheet.label,
                row=row,
                column=sheet.header[cols[field]] if field in cols else field,
                value=value,
                rule=rule,
            )
        )

    def whole(row: int, cells: Sequence[object], field: str) -> int | None:
        text = cell(cells, field)
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            value = -1.0
        if not value.is_integer() or value < 1 or value > 100_000:
            bad(row, field, text, "must be a whole number from 1 to 100,000")
            return None
        return int(value)

    for row, cells in sheet.rows:
        host = cell(cells, "name")
        if not host:
            bad(row, "name", "", "a host row needs the host's name")
            continue
        key = host.lower()
        if key in seen:
            bad(row, "name", host, f"duplicate host name; first seen at row {seen[key]}")
            continue
        seen[key] = row
        sockets = whole(row, cells, "sockets")
        if "cores_per_socket" in cols:
            per_socket = whole(row, cells, "cores_per_socket")
            if sockets and per_socket and "cores" in cols and cell(cells, "cores"):
                total = whole(row, cells, "cores")
                if total is not None and total != sockets * per_socket:
                    bad(
                        row,
                        "cores",
                        cell(cells, "cores"),
                        f"disagrees with {sockets} sockets x {per_socket} cores per socket",
                    )
                    continue
        else:
            total = whole(row, cells, "cores")
            per_socket = None
            if sockets and total:
                if total % sockets:
                    bad(row, "cores", str(total), f"not a multiple of its {sockets} sockets")
                    continue
                per_socket = total // sockets
        field, unit = ("memory_mib", 1.0) if "memory_mib" in cols else ("memory_kib", 1024.0)
        text = cell(cells, field)
        try:
            memory = float(text.replace(",", "")) / unit / _MIB_PER_GIB
        except ValueError:
            memory = -1.0
        if not 0 < memory <= 1_048_576:
            bad(row, field, text, "must be the host's memory, a number greater than 0")
            continue
        if sockets is None or per_socket is None:
            continue
        threads = 1
        if "ht" in cols:
            threads = 2 if cell(cells, "ht").lower() in ("true", "yes", "1") else 1
        elif "threads" in cols:
            t = cell(cells, "threads")
            threads = 2 if t.isdigit() and int(t) >= 2 * sockets * per_socket else 1
        if cell(cells, "maintenance").lower() in ("true", "yes", "1"):
            maintenance.append(host)
        hosts.append(
            HostModel(
                model=host,
                sockets=sockets,
                cores_per_socket=per_socket,
                memory_gib=round(memory, 3),
                threads_per_core=threads,
                max_count=1,
                owned=True,
                cluster=cell(cells, "cluster"),
            )
        )
    if not issues and not hosts:
        issues.append(InputIssue(file=sheet.label, rule="the host list has no host rows"))
    if issues:
        raise InputError(issues)
    notes = [f"{len(hosts)} owned hosts read from {sheet.label} ({fmt})"]
    if maintenance:
        notes.append(f"in maintenance mode today: {', '.join(maintenance)}")
    return Estate(
        source=sheet.label, hosts=tuple(hosts), maintenance=tuple(maintenance), notes=tuple(notes)
    )


def _short(name: str) -> str:
    return name.lower().split(".", 1)[0]


def match_hosts(inventory: Inventory, estate: Estate) -> tuple[Inventory, EstateMatch]:
    """Each VM's host spelled as the host list spells it, where it matches (see the module).

    Returns the inventory with matched ``VM.host`` rewritten, and the match report.
    """
    exact = {h.model.lower(): h.model for h in estate.hosts}
    shorts: dict[str, list[str]] = defaultdict(list)
    for h in estate.hosts:
        shorts[_short(h.model)].append(h.model)
    matched: dict[str, str] = {}
    unmatched: dict[str, list[str]] = defaultdict(list)
    vms = []
    for vm in inventory.vms:
        name = vm.host
        found = exact.get(name.lower())
        if found is None and name:
            same = shorts.get(_short(name), [])
            found = same[0] if len(same) == 1 else None
        if found is None:
            unmatched[name].append(vm.name)
            vms.append(vm)
            continue
        matched[name] = found
        vms.append(vm if vm.host == found else vm.model_copy(update={"host": found}))
    notes = []
    for name, members in sorted(unmatched.items()):
        shown = name or "(no host given)"
        line = (
            f"host {shown} of {len(members)} VMs is not in the host list: they are planned "
            "like new VMs (each placement counts as a move)"
        )
        near = sorted(
            h.model
            for h in estate.hosts
            if name and (_short(h.model) in _short(name) or _short(name) in _short(h.model))
        )
        if near:
            line += f"; the list has {', '.join(near[:3])} (names must agree up to case and domain)"
        notes.append(line)
    report = EstateMatch(
        matched=matched,
        unmatched={k: tuple(v) for k, v in sorted(unmatched.items())},
        notes=tuple(notes),
    )
    return inventory.model_copy(update={"vms": tuple(vms)}), report


def estate_catalog(catalog: Catalog, estate: Estate, policy: Policy) -> Catalog:
    """The catalog the planner may use under ``policy.estate``.

    ``existing``: the owned hosts only (the catalog's models stay for the dedicated baseline);
    ``mixed``: the owned hosts and the catalog's models. Hosts named in
    ``policy.retire_hosts`` are kept with ``max_count = 0``: known, but planned empty.

    Raises:
        InputError: ``retire_hosts`` names a host the host list does not have.
    """
    names = {h.model.lower(): h.model for h in estate.hosts}
    unknown = [n for n in policy.retire_hosts if n.lower() not in names]
    if unknown:
        raise InputError(
            InputIssue(
                file="policy",
                column="retire_hosts",
                value=n,
                rule=f"not a host of the host list {estate.source}",
            )
            for n in unknown
        )
    # Hosts that must go stay known (their VMs leave them) but may hold nothing.
    retire = {n.lower() for n in policy.retire_hosts}
    owned = tuple(
        h.model_copy(update={"max_count": 0}) if h.model.lower() in retire else h
        for h in estate.hosts
    )
    bought = catalog.hosts
    if policy.estate == "existing":
        bought = tuple(m.model_copy(update={"dedicated_only": True}) for m in catalog.hosts)
    return catalog.model_copy(
        update={
            "hosts": owned + bought,
            "sources": {**catalog.sources, "estate": estate.source},
        }
    )


def prepare(
    inventory: Inventory, catalog: Catalog, policy: Policy, estate: Estate | None
) -> tuple[Inventory, Catalog, tuple[str, ...]]:
    """The inventory with matched hosts, the catalog of ``estate_catalog``, and the notes.

    Raises:
        InputError: an existing estate without a host list; ``max_moves`` without one.
    """
    if policy.estate == "new":
        if policy.max_moves is not None:
            raise InputError.single(
                "policy",
                "max_moves applies to today's estate: set estate = existing or mixed",
                column="max_moves",
                value=str(policy.max_moves),
            )
        return inventory, catalog, ()
    if estate is None and any(h.owned for h in catalog.hosts):
        return inventory, catalog, ()  # prepared already (a re-plan of the same problem)
    if estate is None:
        raise InputError.single(
            "policy",
            f"estate = {policy.estate} needs today's hosts: the RVTools vHost sheet of the "
            "workbook, or the host list given with --current-hosts",
            column="estate",
            value=policy.estate,
        )
    matched, report = match_hosts(inventory, estate)
    return matched, estate_catalog(catalog, estate, policy), (*estate.notes, *report.notes)


def restrict_to_clusters(problem: Problem) -> Problem:
    """Owned hosts run only VMs of their own cluster (``clusters = keep``).

    A VM may go to an owned host of its cluster or to any bought model. Where no owned host
    of its cluster can hold it (the cluster has none in the host list), it may go to any
    owned host, and the note says so.
    """
    if problem.policy.clusters == "merge" or problem.policy.estate == "new":
        return problem
    types = problem.host_types
    lost: dict[str, int] = defaultdict(int)
    vms = []
    for v in problem.vms:
        keep = tuple(
            t for t in v.fits if not types[t].model.owned or types[t].model.cluster == v.cluster
        )
        if not any(types[t].model.owned for t in keep) and any(
            types[t].model.owned for t in v.fits
        ):
            lost[v.cluster] += 1
            keep = v.fits
        vms.append(v if keep == v.fits else v.model_copy(update={"fits": keep}))
    notes = [
        f"cluster {c or '(none)'}: no owned host of that cluster holds {n} of its VMs; they "
        "may go to any owned host"
        for c, n in sorted(lost.items())
    ]
    return problem.model_copy(update={"vms": tuple(vms), "notes": (*problem.notes, *notes)})
