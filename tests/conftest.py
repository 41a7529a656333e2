"""Shared fixtures: tiny hand-checkable catalogs and inventories, built inline."""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections import Counter
from multiprocessing import popen_spawn_posix
from pathlib import Path
from typing import IO, Any

import pytest
from openpyxl import Workbook

from planner.exact.classes import State, build_classes, set_cheap_bounds
from planner.models import (
    VM,
    Catalog,
    HostModel,
    HypervisorProfile,
    Inventory,
    Licence,
    Policy,
    Problem,
)
from planner.packing import Packing

REPO = Path(__file__).resolve().parents[1]
# The shared benchmark folder beside the repository (PLANNER_BENCH_DIR: elsewhere).
BENCH = Path(os.environ.get("PLANNER_BENCH_DIR", REPO.parent / "shared" / "bench"))

NONE = HypervisorProfile(name="none", pays_hypervisor_licence=False)
TYPE1 = HypervisorProfile(
    name="type1",
    reserved_cores=1,
    reserved_memory_gib=4,
    vm_memory_overhead_mib=50,
    vm_memory_overhead_pct=1,
    cpu_efficiency=0.95,
)

WIN_STD = Licence(
    name="Windows Server Standard",
    family="windows-server",
    tag="windows",
    unit="core",
    price=73.5,
    min_cores_per_socket=8,
    min_cores_per_host=16,
    vms_per_grant=2,
)
WIN_DC = Licence(
    name="Windows Server Datacenter",
    family="windows-server",
    tag="windows",
    unit="core",
    price=423.19,
    min_cores_per_socket=8,
    min_cores_per_host=16,
)
HYPERVISOR = Licence(
    name="Hypervisor per core",
    family="hypervisor",
    unit="core",
    price=135,
    period="year",
    min_cores_per_socket=16,
    applies_to="all_hosts",
)

#: The seed example: no overhead, no overcommit, no headroom, no spares; licences priced for
#: the VMs each host runs (VMs pinned), so a test's licence arithmetic is that of its hosts.
PURE = Policy(
    hypervisor="none",
    cpu_overcommit=1,
    memory_overcommit=1,
    max_utilization=1,
    ha_host_failures=0,
    objective="hosts",
    vm_mobility="pinned",
)


def host(model: str = "h8", cores: int = 8, mem: float = 16, **kw: object) -> HostModel:
    """A one-socket host model, one thread per core unless told otherwise."""
    params: dict[str, object] = {
        "model": model,
        "sockets": 1,
        "cores_per_socket": cores,
        "memory_gib": mem,
        "threads_per_core": 1,
        "price": 1000.0,
        "watts_idle": 100.0,
        "watts_max": 300.0,
        "rack_units": 1,
    }
    params.update(kw)
    return HostModel.model_validate(params)


def catalog(*hosts: HostModel, licences: tuple[Licence, ...] = ()) -> Catalog:
    """A catalog of the given hosts (default: one 8-core/16 GiB host) and licences."""
    return Catalog(
        hosts=hosts or (host(),),
        licences=licences,
        profiles={"none": NONE, "type1": TYPE1},
    )


def inventory(*vms: VM, name: str = "test.csv") -> Inventory:
    """An inventory of the given VMs."""
    return Inventory(source=name, format="native", vms=vms)


def vms(n: int, vcpus: int = 2, mem: float = 2, prefix: str = "vm", **kw: object) -> list[VM]:
    """``n`` identical VMs named prefix0, prefix1, ..."""
    return [
        VM.model_validate({"name": f"{prefix}{i}", "vcpus": vcpus, "memory_gib": mem, **kw})
        for i in range(n)
    ]


@pytest.fixture
def bench() -> Path:
    """The shared benchmark folder; tests using it skip where it is absent (a user's clone)."""
    if not BENCH.is_dir():
        pytest.skip(f"benchmark data not found at {BENCH}")
    return BENCH


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook with the given sheets (rows as lists; ``None`` is an empty cell)."""
    wb = Workbook()
    default = wb.active
    assert default is not None
    wb.remove(default)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def check_packing(problem: Problem, packing: Packing) -> None:
    """Every VM exactly once, no host over capacity, anti-affinity kept."""
    placed = Counter(i for b in packing for i in b.vms)
    assert sorted(placed) == list(range(len(problem.vms)))
    assert set(placed.values()) == {1}
    for b in packing:
        t = problem.host_types[b.type_index]
        members = [problem.vms[i] for i in b.vms]
        assert sum(v.cpu_m for v in members) <= t.cpu_cap_m
        assert sum(v.mem_mib for v in members) <= t.mem_cap_mib
        assert len(members) <= t.vm_cap
        groups = [v.group for v in members if v.group]
        assert len(groups) == len(set(groups))


def engine_state(problem: Problem, packing: Packing) -> State:
    """The exact engine's state for ``problem`` with ``packing`` as the incumbent, cheap
    bounds set."""
    classes, by_partition = build_classes(problem)
    state = State(problem, classes, by_partition, time.perf_counter() + 60.0)
    for p_index in by_partition:
        bins = [b for b in packing if b.partition == p_index and b.vms]
        state.bins[p_index] = bins
        state.value[p_index] = float(len(bins))
    set_cheap_bounds(state)
    return state


def zip_bomb() -> bytes:
    """A workbook whose sheet (25 MiB: one row repeated) packs to 75 KiB, 340 times smaller."""
    book = io.BytesIO()
    Workbook().save(book)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(book) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                row = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'
                data = data.replace(b"<sheetData>", b"<sheetData>" + row * (1 << 19))
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


@pytest.fixture
def spawn_pipe_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size in bytes of each object sent through a spawned process's start-up pipe
    (the background plan's), recorded while the test runs."""
    sent: list[int] = []
    dump = popen_spawn_posix.reduction.dump

    def counting_dump(obj: Any, file: IO[bytes], protocol: int | None = None) -> None:
        start = file.tell()
        dump(obj, file, protocol)
        sent.append(file.tell() - start)

    monkeypatch.setattr(popen_spawn_posix.reduction, "dump", counting_dump)
    return sent
