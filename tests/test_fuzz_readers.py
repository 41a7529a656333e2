"""Fuzzing the readers: whatever the bytes, reading gives a result or an ``InputError``, never
another exception (random bytes, and valid CSV, XLSX and TOML files with bytes changed)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from planner.catalog import load_hosts
from planner.errors import InputError
from planner.ingest import read_inventory
from planner.models import Inventory, Policy
from planner.settings import load_settings
from planner.sheets import Sheet, read_sheet
from tests.conftest import REPO

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

VALID_CSV = (
    b"name,vcpus,memory_gib,cpu_util_pct,storage_gib,os,licenses,powerstate\n"
    b"web01,2,4,35,100,Microsoft Windows Server 2019,windows,poweredOn\n"
    b'"db, primary",8,64,80.5,2048,Red Hat Enterprise Linux 8,,off\n'
    b"app03,4,16,,,Ubuntu,,on\n"
)


def _valid_xlsx() -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["name", "vcpus", "memory_gib", "os"])
    ws.append(["web01", 2, 4.0, "Windows Server 2022"])
    ws.append(["db01", 8, 64, "RHEL 9"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


VALID_XLSX = _valid_xlsx()
VALID_TOML = (REPO / "data" / "seed_example" / "policy.toml").read_bytes()
VALID_HOSTS = (REPO / "data" / "hosts.csv").read_bytes()


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few bytes replaced, inserted or deleted, or cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        byte = draw(st.integers(0, 255))
        if action == "replace" and data:
            data[at] = byte
        elif action == "insert":
            data.insert(at, byte)
        elif action == "delete" and data:
            del data[at]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


def read_or_refuse(data: bytes, name: str) -> Inventory | InputError:
    """The inventory read from ``data``, or the InputError it raised (anything else escapes)."""
    try:
        return read_inventory(data, name=name)
    except InputError as exc:
        assert exc.issues and all(i.rule for i in exc.issues)
        return exc


@FUZZ
@given(data=st.binary(max_size=2048), name=st.sampled_from(["f.csv", "f.xlsx", "f.txt", "f"]))
def test_random_bytes_give_an_inventory_or_an_input_error(data: bytes, name: str) -> None:
    """Random bytes, under any file name, never raise anything but an InputError."""
    assert isinstance(read_or_refuse(data, name), Inventory | InputError)


@FUZZ
@given(data=mutated(VALID_CSV))
def test_mutated_csv_gives_an_inventory_or_an_input_error(data: bytes) -> None:
    """A valid CSV with bytes changed is read or refused, never crashes."""
    outcome = read_or_refuse(data, "inventory.csv")
    if isinstance(outcome, Inventory):
        assert all(vm.vcpus >= 1 and vm.memory_gib > 0 for vm in outcome.vms)


@FUZZ
@given(data=mutated(VALID_XLSX))
def test_mutated_xlsx_gives_an_inventory_or_an_input_error(data: bytes) -> None:
    """A valid workbook with bytes changed (a damaged zip or XML) is read or refused."""
    assert isinstance(read_or_refuse(data, "inventory.xlsx"), Inventory | InputError)


def _with_part(book: bytes, part: str, data: bytes) -> bytes:
    """The workbook ``book`` with ``part`` replaced by ``data`` (a valid zip, damaged XML)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, data if item.filename == part else src.read(item.filename))
    return out.getvalue()


SHEET_XML = "xl/worksheets/sheet1.xml"
with zipfile.ZipFile(io.BytesIO(VALID_XLSX)) as _book:
    VALID_SHEET_XML = _book.read(SHEET_XML)


@FUZZ
@given(xml=mutated(VALID_SHEET_XML))
def test_workbook_with_damaged_sheet_xml_gives_an_inventory_or_an_input_error(
    xml: bytes,
) -> None:
    """A sound zip holding a damaged sheet (broken XML, odd cell types) is read or refused."""
    data = _with_part(VALID_XLSX, SHEET_XML, xml)
    assert isinstance(read_or_refuse(data, "inventory.xlsx"), Inventory | InputError)


@FUZZ
@given(data=mutated(VALID_CSV))
def test_mutated_csv_read_as_a_sheet_keeps_its_shape(data: bytes) -> None:
    """Whatever a sheet reads, every data row is at least as wide as the header."""
    try:
        sheet = read_sheet(data, "f.csv")
    except InputError:
        return
    assert isinstance(sheet, Sheet)
    assert all(len(cells) >= len(sheet.header) for _, cells in sheet.rows)


@FUZZ
@given(data=mutated(VALID_HOSTS))
def test_mutated_host_catalog_gives_models_or_an_input_error(data: bytes) -> None:
    """The host catalog reader shares the sheet reader and refuses the same way."""
    try:
        hosts = load_hosts(data)
    except InputError as exc:
        assert exc.issues
    else:
        assert all(h.cores >= 1 for h in hosts)


@FUZZ
@given(data=st.one_of(mutated(VALID_TOML), st.binary(max_size=512)))
def test_mutated_policy_file_gives_a_policy_or_an_input_error(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A damaged policy TOML is read into a Policy or refused, never crashes."""
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_bytes(data)
    try:
        assert isinstance(load_settings(path)[0], Policy)
    except InputError as exc:
        assert all(i.file == str(path) for i in exc.issues)
