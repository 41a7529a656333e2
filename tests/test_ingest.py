"""Tests of planner.ingest: containers, formats, validation, and the real RVTools exports."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections import Counter
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import ingest
from planner.errors import InputError
from planner.ingest import FORMATS, detect_format, infer_licence_tags, read_inventory
from planner.models import Inventory
from tests.conftest import xlsx_bytes

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "data" / "inventories"
SAMPLES = HERE.parent / "data" / "samples"
# The public benchmark exports live next to the repository, not in it (absent on clones).
BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "inventories"


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """An inline CSV as the bytes an upload would carry."""
    return dedent(text).lstrip("\n").encode(encoding)


def issues_of(excinfo: pytest.ExceptionInfo[InputError]) -> list[tuple[int | None, str | None]]:
    """(row, column) of every issue, in order."""
    return [(i.row, i.column) for i in excinfo.value.issues]


# --------------------------------------------------------------------------- public surface


def test_all_lists_the_public_api() -> None:
    """``__all__`` names exactly the public functions and constants, and they exist."""
    assert sorted(ingest.__all__) == [
        "FORMATS",
        "detect_format",
        "infer_licence_tags",
        "read_inventory",
    ]
    for name in ingest.__all__:
        assert hasattr(ingest, name)
    assert FORMATS == ("native", "rvtools", "azure_migrate", "liveoptics")


def test_unknown_forced_format_is_a_caller_error() -> None:
    """Forcing a format that does not exist is a ValueError, not a problem of the file."""
    with pytest.raises(ValueError, match="rvtool"):
        read_inventory(csv_bytes("name,vcpus,memory_gib\na,1,1\n"), format="rvtool")


# --------------------------------------------------------------------------- malformed fixtures

MALFORMED = [
    # file, row, column, fragment of the rule
    ("negative_vcpus.csv", 3, "vcpus", "whole number of vCPUs"),
    ("zero_memory.csv", 2, "memory_gib", "greater than 0"),
    ("text_in_numbers.csv", 4, "vcpus", "not a number"),
    ("fractional_vcpus.csv", 2, "vcpus", "whole number of vCPUs"),
    ("missing_required_column.csv", None, "vcpus", "missing required column"),
    ("unknown_columns.csv", None, None, "unknown inventory format"),
    ("duplicate_names.csv", 4, "name", "duplicate VM name; first seen at row 2"),
    ("missing_name_value.csv", 3, "name", "required value is missing"),
    ("empty_file.csv", None, None, "empty"),
    ("header_only.csv", None, None, "header only"),
    ("binary_garbage.csv", None, None, "binary data"),
    ("wrong_encoding.csv", None, None, "not a text file in UTF-8 or Windows-1252"),
    ("util_out_of_range.csv", 3, "cpu_util_pct", "percentage from 0 to 100"),
    ("too_many_cells.csv", 3, None, "4 cells but the header has 3"),
    ("unknown_powerstate.csv", 3, "powerstate", "not a power state"),
    ("zip_not_xlsx.xlsx", None, None, "not a readable XLSX workbook"),
]


@pytest.mark.parametrize(("file", "row", "column", "fragment"), MALFORMED)
def test_malformed_fixture_is_reported_where_it_is(
    file: str, row: int | None, column: str | None, fragment: str
) -> None:
    """Each malformed fixture raises one InputError issue naming its file, row, column, rule."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(FIXTURES / file)
    (issue,) = excinfo.value.issues
    assert issue.file == file
    assert (issue.row, issue.column) == (row, column)
    assert fragment in issue.rule


def test_every_malformed_fixture_is_tested() -> None:
    """No fixture named after a defect is left out of the parametrized test."""
    good = {p.name for p in FIXTURES.iterdir() if p.name.startswith(("native_", "rvtools_"))}
    tested = {m[0] for m in MALFORMED}
    assert {p.name for p in FIXTURES.iterdir()} - good == tested


def test_unknown_format_lists_found_and_needed_columns() -> None:
    """The unknown-format error shows the headers found and what each format needs."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(FIXTURES / "unknown_columns.csv")
    rule = excinfo.value.issues[0].rule
    assert "host, ip address, owner" in rule
    assert "rvtools needs VM, CPUs, Memory" in rule
    assert "native needs name, vcpus, memory_gib" in rule


def test_missing_file_is_an_input_error() -> None:
    """A path that does not exist gives an InputError naming the file, not an OSError."""
    with pytest.raises(InputError, match="cannot read the file"):
        read_inventory(FIXTURES / "no_such_file.csv")


def test_old_excel_workbook_is_refused_clearly() -> None:
    """An Excel 97-2003 .xls upload is named as such, with what to do instead."""
    with pytest.raises(InputError, match=r"\.xls\) workbook is not supported"):
        read_inventory(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), name="old.xls")


def test_xlsx_name_with_text_content_is_refused() -> None:
    """A file called .xlsx that is not a zip archive says so."""
    with pytest.raises(InputError, match="not an XLSX workbook"):
        read_inventory(csv_bytes("name,vcpus,memory_gib\na,1,1\n"), name="renamed.xlsx")


def test_utf16_without_bom_is_called_binary_with_a_hint() -> None:
    """UTF-16 text without a BOM is binary to the reader, and the message says what to do."""
    with pytest.raises(InputError, match="save it as CSV UTF-8"):
        read_inventory("name,vcpus,memory_gib\na,1,1\n".encode("utf-16-le"), name="u.csv")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b))
def test_any_bytes_give_an_inventory_or_an_input_error(data: bytes) -> None:
    """Whatever the bytes, the reader returns an Inventory or raises InputError, never more."""
    try:
        assert isinstance(read_inventory(data, name="fuzz.csv"), Inventory)
    except InputError as exc:
        assert exc.issues


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(max_size=8), max_size=5), max_size=6))
def test_any_csv_text_under_native_headers_never_crashes(rows: list[list[str]]) -> None:
    """Arbitrary cells under the native headers are read or reported, never a traceback."""
    lines = ["name,vcpus,memory_gib,cpu_util_pct,powerstate,licenses"]
    lines += [",".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows]
    try:
        read_inventory("\n".join(lines).encode(), name="fuzz.csv")
    except InputError as exc:
        assert exc.issues


# --------------------------------------------------------------------------- native format


def test_native_csv_reads_every_column() -> None:
    """A native CSV fills every VM field, in GiB and percent, licences lower-cased."""
    inv = read_inventory(
        csv_bytes(
            """
            name,vcpus,memory_gib,cpu_util_pct,mem_util_pct,storage_gib,os,licenses,group,zone,cluster,powerstate
            sql01,8,64,35.5,80,500,Windows Server 2022,"Windows;SQL-Enterprise",db,core,prod,on
            web01,2,4,,,,Ubuntu Linux (64-bit),,web,dmz,prod,off
            """
        ),
        name="inv.csv",
    )
    assert (inv.source, inv.format, inv.dropped) == ("inv.csv", "native", {})
    sql, web = inv.vms
    assert (sql.name, sql.vcpus, sql.memory_gib, sql.storage_gib) == ("sql01", 8, 64.0, 500.0)
    assert (sql.cpu_util_pct, sql.mem_util_pct) == (35.5, 80.0)
    assert sql.licences == ("windows", "sql-enterprise")
    assert not sql.licences_inferred
    assert (sql.group, sql.zone, sql.cluster, sql.powered_on, sql.row) == (
        "db",
        "core",
        "prod",
        True,
        2,
    )
    assert (web.cpu_util_pct, web.storage_gib, web.powered_on, web.row) == (None, None, False, 3)


def test_headers_are_forgiving_and_mib_columns_are_converted() -> None:
    """Case, spaces, underscores, a leading ``*`` and aliases are forgiven; MiB becomes GiB."""
    inv = read_inventory(
        csv_bytes("  *VM_Name , CPUs ,Memory MiB,Power State\napp,2,3072,Running\n")
    )
    (vm,) = inv.vms
    assert (vm.name, vm.vcpus, vm.memory_gib, vm.powered_on) == ("app", 2, 3.0, True)


def test_plain_memory_column_is_not_guessed_as_gib() -> None:
    """A bare ``memory`` header is ambiguous for the native format, so it is not accepted."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(csv_bytes("name,vcpus,memory\napp,2,4\n"))
    assert issues_of(excinfo) == [(None, "memory_gib")]


@pytest.mark.parametrize(
    ("state", "on"),
    [("on", True), ("poweredOn", True), ("TRUE", True), ("running", True), ("off", False),
     ("poweredOff", False), ("false", False), ("stopped", False), ("suspended", False)],
)  # fmt: skip
def test_power_states_map_to_on_or_off(state: str, on: bool) -> None:
    """Every accepted power state word maps to on or off; suspended counts as off."""
    inv = read_inventory(csv_bytes(f"name,vcpus,memory_gib,powerstate\napp,1,1,{state}\n"))
    assert inv.vms[0].powered_on is on


def test_semicolon_csv_with_decimal_commas() -> None:
    """With ``;`` as delimiter, ``1,5`` is 1.5 and a quoted licence cell keeps its ``;``."""
    inv = read_inventory(FIXTURES / "native_semicolon_decimal_comma.csv")
    sql, app = inv.vms
    assert (sql.memory_gib, sql.cpu_util_pct, sql.storage_gib) == (1.5, 42.5, 120.25)
    assert sql.licences == ("windows", "sql-enterprise")
    assert app.licences == ()


def test_decimal_comma_is_an_error_in_a_comma_csv() -> None:
    """In a ``,`` CSV a quoted ``1,5`` is not a number (the comma is ambiguous there)."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(csv_bytes('name,vcpus,memory_gib\napp,1,"1,5"\n'))
    assert excinfo.value.issues[0].rule == "not a number"


def test_cp1252_file_is_read_and_noted() -> None:
    """A Windows-1252 file (Excel's default) is decoded and the note says so."""
    inv = read_inventory(FIXTURES / "native_cp1252.csv")
    assert [vm.name for vm in inv.vms] == ["serveur-café", "müller-db"]
    assert inv.vms[0].group == "équipe"
    assert any("Windows-1252" in n for n in inv.notes)


def test_bom_and_tab_delimiter() -> None:
    """A UTF-8 BOM does not pollute the first header, and tabs are detected as the delimiter."""
    inv = read_inventory(FIXTURES / "native_bom_tab.tsv")
    assert [(vm.name, vm.zone, vm.powered_on) for vm in inv.vms] == [
        ("web01", "dmz", True),
        ("web02", "dmz", False),
    ]


def test_utf16_with_bom_is_read() -> None:
    """Excel's "Unicode Text" export (UTF-16 with BOM, tab-separated) is read."""
    text = "name\tvcpus\tmemory_gib\nbüro\t2\t4\n"
    inv = read_inventory(text.encode("utf-16"), name="unicode.txt")
    assert inv.vms[0].name == "büro"


def test_delimiter_inside_quotes_does_not_fool_the_sniffer() -> None:
    """Semicolons inside a quoted header do not outvote the real comma delimiter."""
    inv = read_inventory(csv_bytes('name,vcpus,memory_gib,"licenses; tags;x"\napp,1,2,\n'))
    assert inv.vms[0].memory_gib == 2.0


def test_excel_sep_hint_line_sets_the_delimiter() -> None:
    """Excel's ``sep=;`` first line sets the delimiter and, hidden by Excel, is not a row."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(csv_bytes("sep=;\nname;vcpus;memory_gib\na;1;0,5\nb;1;0\n"))
    assert issues_of(excinfo) == [(3, "memory_gib")]


def test_fractional_utilization_is_flagged() -> None:
    """Utilization that never exceeds 1 looks like fractions from Excel percent cells: noted."""
    inv = read_inventory(csv_bytes("name,vcpus,memory_gib,cpu_util_pct\na,1,1,0.35\nb,1,1,0.5\n"))
    assert any(n.startswith("CPU utilization is at most 1 %") for n in inv.notes)


def test_csv_row_numbers_count_records_like_a_spreadsheet() -> None:
    """Blank lines count as rows and a quoted multi-line cell is one row, as Excel shows."""
    data = csv_bytes(
        """
        name,vcpus,memory_gib,os
        a,1,1,"two
        lines"

        b,0,1,
        """
    )
    with pytest.raises(InputError) as excinfo:
        read_inventory(data)
    assert issues_of(excinfo) == [(4, "vcpus")]


def test_all_problems_are_reported_at_once() -> None:
    """Three different bad rows give three issues, in row order, with their values."""
    data = csv_bytes(
        """
        name,vcpus,memory_gib,mem_util_pct
        ok,2,4,50
        bad1,x,4,50
        bad2,2,-1,50
        bad3,2,4,101
        """
    )
    with pytest.raises(InputError) as excinfo:
        read_inventory(data, name="three.csv")
    assert issues_of(excinfo) == [(3, "vcpus"), (4, "memory_gib"), (5, "mem_util_pct")]
    assert [i.value for i in excinfo.value.issues] == ["x", "-1", "101"]
    assert str(excinfo.value).count("three.csv") == 3


def test_one_row_can_have_several_problems() -> None:
    """Every bad cell of a row is reported, not only the first, in column order."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(csv_bytes("name,vcpus,memory_gib\n,0,\n"))
    assert issues_of(excinfo) == [(2, "name"), (2, "vcpus"), (2, "memory_gib")]


def test_duplicate_names_name_both_rows() -> None:
    """A repeated VM name is reported on its second row, naming the first."""
    with pytest.raises(InputError) as excinfo:
        read_inventory(FIXTURES / "duplicate_names.csv")
    issue = excinfo.value.issues[0]
    assert (issue.row, issue.value) == (4, "web01")
    assert "row 2" in issue.rule


def test_short_rows_and_blank_rows_are_fine() -> None:
    """Missing trailing optional cells are empty, and blank rows are skipped silently."""
    inv = read_inventory(csv_bytes("name,vcpus,memory_gib,os,cluster\na,1,1\n,,,,\n\nb,2,2,,c\n"))
    assert [(vm.name, vm.cluster, vm.row) for vm in inv.vms] == [("a", "", 2), ("b", "c", 5)]


# --------------------------------------------------------------------------- licences


@pytest.mark.parametrize(
    ("os_text", "tags"),
    [
        ("Microsoft Windows Server 2019 (64-bit)", ("windows",)),
        ("Microsoft Windows Server 2016 or later (64-bit)", ("windows",)),
        ("Microsoft Windows Server 2003 Standard (32-bit)", ("windows",)),
        ("Windows 2012 R2 Datacenter", ("windows",)),
        ("Microsoft Windows 10 (64-bit)", ()),
        ("Microsoft Windows 11 Enterprise", ()),
        ("Windows 10 Enterprise LTSC 2019", ()),
        ("Microsoft Windows XP Professional (32-bit)", ()),
        ("Red Hat Enterprise Linux 8 (64-bit)", ("rhel",)),
        ("RHEL 9.2", ("rhel",)),
        ("CentOS 7 (64-bit)", ()),
        ("Oracle Linux 4/5 or later (64-bit)", ()),
        ("Ubuntu Linux (64-bit)", ()),
        ("", ()),
    ],
)
def test_infer_licence_tags(os_text: str, tags: tuple[str, ...]) -> None:
    """Windows Server and RHEL imply a licence tag; desktop Windows and other OSes do not."""
    assert infer_licence_tags(os_text) == tags


def test_licences_are_inferred_only_where_missing() -> None:
    """Tags come from the OS text only for empty licence cells, flagged and noted."""
    inv = read_inventory(
        csv_bytes(
            """
            name,vcpus,memory_gib,os,licenses
            a,1,1,Microsoft Windows Server 2019 (64-bit),windows;sql-standard
            b,1,1,Microsoft Windows Server 2019 (64-bit),
            c,1,1,Red Hat Enterprise Linux 9 (64-bit),
            d,1,1,Microsoft Windows 10 (64-bit),
            """
        )
    )
    got = [(vm.licences, vm.licences_inferred) for vm in inv.vms]
    assert got == [
        (("windows", "sql-standard"), False),
        (("windows",), True),
        (("rhel",), True),
        ((), False),
    ]
    assert "licence tags inferred from the OS text for 2 VMs: rhel 1, windows 1" in inv.notes
    assert any("desktop Windows" in n and "1 VM:" in n for n in inv.notes)


# --------------------------------------------------------------------------- exports


def test_rvtools_csv_drops_templates_and_placeholders() -> None:
    """RVTools vInfo: MiB to GiB, templates and SRM placeholders dropped and counted."""
    inv = read_inventory(FIXTURES / "rvtools_vInfo.csv")
    assert inv.format == "rvtools"
    assert inv.dropped == {"template": 1, "srm_placeholder": 1}
    assert [vm.name for vm in inv.vms] == [
        "app-web-01",
        "app-db-01",
        "app-batch-01",
        "app-cache-01",
    ]
    db = inv.vms[1]
    assert (db.vcpus, db.memory_gib, db.storage_gib, db.cluster) == (8, 32.0, 508.0, "Prod")
    assert [vm.powered_on for vm in inv.vms] == [True, True, False, False]  # suspended = off
    # An empty configuration-file OS falls back to what VMware Tools reports.
    assert inv.vms[3].os == "Microsoft Windows Server 2022 Datacenter"
    assert inv.vms[3].licences == ("windows",)
    assert "dropped 1 template and 1 SRM placeholder: they are not workloads" in inv.notes
    assert any("powered off: 2 of 4 VMs (suspended ones, 1," in n for n in inv.notes)


def test_rvtools_old_export_with_mb_headers() -> None:
    """Older RVTools write ``Provisioned MB`` (still MiB) and have no SRM Placeholder column."""
    inv = read_inventory(FIXTURES / "rvtools_old_MB.csv")
    assert inv.format == "rvtools"
    assert inv.dropped == {"template": 1, "srm_placeholder": 0}
    fs01, legacy = inv.vms
    assert (fs01.memory_gib, fs01.storage_gib, fs01.licences) == (6.0, 200.0, ("windows",))
    assert legacy.licences == ()  # Windows 7: no server licence


def test_azure_migrate_template_with_starred_headers() -> None:
    """Azure Migrate import CSV: starred headers, MB memory, utilization, disks summed."""
    header = [
        "*Server Name", "IP addresses", "*Cores", "*Memory (In MB)", "*OS name",
        "CPU utilization percentage", "Memory utilization percentage", "Disk 1 size (In GB)",
        "Disk 1 read throughput (MB per second)", "Disk 2 size (In GB)",
    ]  # fmt: skip
    rows = [
        "srv1,10.0.0.1,4,16384,Windows Server 2019 Datacenter,35,70,128,50,500",
        "srv2,10.0.0.2,2,4096,Ubuntu 22.04,5,20,64,,",
    ]
    inv = read_inventory("\n".join([",".join(header), *rows]).encode(), name="az.csv")
    assert inv.format == "azure_migrate"
    srv1, srv2 = inv.vms
    assert (srv1.vcpus, srv1.memory_gib, srv1.storage_gib) == (4, 16.0, 628.0)
    assert (srv1.cpu_util_pct, srv1.mem_util_pct, srv1.licences) == (35.0, 70.0, ("windows",))
    assert srv2.storage_gib == 64.0


def test_liveoptics_workbook_uses_the_vms_sheet() -> None:
    """Live Optics: the VMs sheet is found behind Details; real boolean Template cells work."""
    data = xlsx_bytes(
        {
            "Details": [["Project", "Hosts"], ["x", 2]],
            "VMs": [
                ["VM Name", "Power State", "Template", "Virtual CPU", "Provisioned Memory (MiB)",
                 "VM OS", "Cluster", "Virtual Disk Size (MiB)"],
                ["lo1", "poweredOn", False, 2, 8192, "Red Hat Enterprise Linux 9", "A", 51200],
                ["lo2", "poweredOn", True, 2, 8192, "Windows Server 2019", "A", 0],
            ],
        }
    )  # fmt: skip
    inv = read_inventory(data, name="lo.xlsx")
    assert (inv.format, inv.dropped) == ("liveoptics", {"template": 1})
    (vm,) = inv.vms
    assert (vm.name, vm.memory_gib, vm.storage_gib, vm.licences) == ("lo1", 8.0, 50.0, ("rhel",))


def test_forced_format_overrides_detection() -> None:
    """Forcing native on RVTools-like headers asks for the native memory column by name."""
    data = csv_bytes("VM,CPUs,Memory\napp,2,4096\n")
    assert read_inventory(data).format == "rvtools"
    with pytest.raises(InputError) as excinfo:
        read_inventory(data, format="native")
    issue = excinfo.value.issues[0]
    assert issue.column == "memory_gib"
    assert "the native format" in issue.rule


def test_forced_format_reads_a_sheet_of_any_name() -> None:
    """A forced format takes the first sheet with its columns when the usual name is absent."""
    data = xlsx_bytes(
        {
            "Notes": [["text"], ["hello"]],
            "Export": [["VM", "CPUs", "Memory", "Template"], ["a", 1, 2048, "False"]],
        }
    )
    inv = read_inventory(data, name="x.xlsx", format="rvtools")
    assert (inv.format, inv.vms[0].memory_gib) == ("rvtools", 2.0)


# --------------------------------------------------------------------------- xlsx


def test_xlsx_rows_are_sheet_rows() -> None:
    """Issues in a workbook give the sheet's own row numbers and name the sheet."""
    data = xlsx_bytes(
        {
            "inventory": [
                [],
                ["name", "vcpus", "memory_gib"],  # the header on row 2
                ["a", 2, 4],
                [],
                ["b", "two", 4],
            ]
        }
    )
    with pytest.raises(InputError) as excinfo:
        read_inventory(data, name="inv.xlsx")
    issue = excinfo.value.issues[0]
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "inv.xlsx (sheet inventory)",
        5,
        "vcpus",
        "two",
    )


def test_xlsx_cells_keep_their_types() -> None:
    """Numeric names become text, float vCPUs that are whole are fine, booleans are not numbers."""
    ok = xlsx_bytes({"vms": [["name", "vcpus", "memory_gib"], [1001, 2.0, 1.5]]})
    (vm,) = read_inventory(ok, name="a.xlsx").vms
    assert (vm.name, vm.vcpus, vm.memory_gib, vm.row) == ("1001", 2, 1.5, 2)
    bad = xlsx_bytes({"vms": [["name", "vcpus", "memory_gib"], ["x", True, 1]]})
    with pytest.raises(InputError, match="not a number"):
        read_inventory(bad, name="b.xlsx")


def test_xlsx_without_stylesheet_warns_nothing() -> None:
    """openpyxl's warning about a missing stylesheet is kept inside the reader."""
    plain = xlsx_bytes({"vms": [["name", "vcpus", "memory_gib"], ["a", 1, 1]]})
    src = zipfile.ZipFile(io.BytesIO(plain))
    out = io.BytesIO()
    empty = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            z.writestr(item, empty if item.filename == "xl/styles.xml" else src.read(item))
    assert len(read_inventory(out.getvalue(), name="nostyle.xlsx").vms) == 1


def test_xlsx_without_any_data_is_reported() -> None:
    """A workbook whose sheets are all empty says so."""
    with pytest.raises(InputError, match="no sheet with data"):
        read_inventory(xlsx_bytes({"Sheet1": []}), name="empty.xlsx")


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["name", "vcpus", "memory_gib"], "native"),
        (["VM", "Powerstate", "CPUs", "Memory", "Provisioned MiB"], "rvtools"),
        (["*Server Name", "*Cores", "*Memory (In MB)", "*OS name"], "azure_migrate"),
        (["Server name", "Cores", "Memory (In MB)"], "azure_migrate"),
        (["VM Name", "Virtual CPU", "Provisioned Memory (MiB)"], "liveoptics"),
        (["host", "cpu", "ram"], None),
        ([], None),
    ],
)
def test_detect_format(columns: list[str], expected: str | None) -> None:
    """The format is the one whose required headers are all present."""
    assert detect_format(columns) == expected


# --------------------------------------------------------------------------- samples, speed


@pytest.mark.parametrize(
    ("file", "fmt", "vms", "dropped"),
    [
        ("rvtools_small.xlsx", "rvtools", 28, {"template": 2, "srm_placeholder": 0}),
        ("azure_migrate_small.csv", "azure_migrate", 25, {}),
        ("liveoptics_small.xlsx", "liveoptics", 20, {"template": 0}),
    ],
)
def test_bundled_samples_ingest(file: str, fmt: str, vms: int, dropped: dict[str, int]) -> None:
    """Each bundled sample reads without error, in its own format, with the expected VMs."""
    inv = read_inventory(SAMPLES / file)
    assert (inv.format, len(inv.vms), inv.dropped) == (fmt, vms, dropped)
    assert {tag for vm in inv.vms for tag in vm.licences} == {"windows", "rhel"}


def test_rvtools_sample_has_two_clusters_and_powered_off_vms() -> None:
    """The RVTools sample exercises clusters and power states as its docstring promises."""
    inv = read_inventory(SAMPLES / "rvtools_small.xlsx")
    assert {vm.cluster for vm in inv.vms} == {"Prod", "Dev"}
    assert sum(not vm.powered_on for vm in inv.vms) == 3


def test_ten_thousand_rows_read_quickly() -> None:
    """A 10,000-row inventory reads in well under the time a user would wait for it."""
    rows = "".join(
        f"vm{i},{1 + i % 8},{2 + i % 30},{i % 100},Ubuntu,c{i % 3},on\n" for i in range(10_000)
    )
    data = ("name,vcpus,memory_gib,cpu_util_pct,os,cluster,powerstate\n" + rows).encode()
    start = time.perf_counter()
    inv = read_inventory(data, name="big.csv")
    assert len(inv.vms) == 10_000
    assert time.perf_counter() - start < 5.0  # about 0.3 s on a laptop; generous for CI


# --------------------------------------------------------------------------- real exports


def _bench(relative: str) -> Path:
    path = BENCH / relative
    if not path.exists():
        pytest.skip(f"public benchmark export not present: {relative}")
    return path


@pytest.mark.parametrize(
    ("relative", "rows", "templates", "on", "off"),
    [
        # SizingWorkshop: 805 rows, 10 templates; 763 poweredOn / 42 poweredOff (the 10
        # templates are among the off ones). The workbook carries 2,698 empty trailing rows.
        ("rvtools_nutanix_sizing_workshop/SizingWorkshop-RVTools.xlsx", 805, 10, 763, 32),
        ("rvtools_nutanix_sizing_workshop/SizingWorkshop_vInfo.csv", 805, 10, 763, 32),
        ("rvtools_nutanix_sizing_workshop/BillSampleNextRvtoolsFinal.xlsx", 131, 2, 109, 20),
        ("rvtools_nutanix_sizing_workshop/BillSampleNext_vInfo.csv", 131, 2, 109, 20),
        # Analyzer sample: 354 rows, 6 templates (all poweredOff); 316 poweredOn, 28
        # poweredOff, 10 suspended: suspended VMs count as off.
        ("rvtools_analyzer_sample/RVTools_tabvInfo.csv", 354, 6, 316, 22 + 10),
    ],
)
def test_real_rvtools_exports(relative: str, rows: int, templates: int, on: int, off: int) -> None:
    """Public RVTools exports read without error, with their real row and power-state counts."""
    inv = read_inventory(_bench(relative))
    assert inv.format == "rvtools"
    assert inv.dropped == {"template": templates, "srm_placeholder": 0}
    assert len(inv.vms) + templates == rows
    assert Counter(vm.powered_on for vm in inv.vms) == {True: on, False: off}
    assert all(vm.memory_gib > 0 and vm.vcpus >= 1 and vm.storage_gib for vm in inv.vms)
    assert all(vm.os for vm in inv.vms)  # the configuration-file OS is never empty here


def test_real_analyzer_sample_details() -> None:
    """The analyzer sample's odd values: standalone DMZ VMs without a cluster, desktop Windows."""
    inv = read_inventory(_bench("rvtools_analyzer_sample/RVTools_tabvInfo.csv"))
    no_cluster = sorted(vm.name for vm in inv.vms if not vm.cluster)
    assert no_cluster == [f"DMZ-WEB-0{i}" for i in range(1, 9)]
    desktop = [vm for vm in inv.vms if re.search(r"Windows 10", vm.os)]
    assert len(desktop) == 3 and all(vm.licences == () for vm in desktop)
    assert any("suspended ones, 10," in n for n in inv.notes)
    assert "licence tags inferred from the OS text for 289 VMs: windows 251, rhel 38" in inv.notes


def test_real_workshop_workbook_matches_its_csv() -> None:
    """The SizingWorkshop workbook and its CSV export give the same VMs, row for row."""
    xlsx = read_inventory(_bench("rvtools_nutanix_sizing_workshop/SizingWorkshop-RVTools.xlsx"))
    csv = read_inventory(_bench("rvtools_nutanix_sizing_workshop/SizingWorkshop_vInfo.csv"))
    assert xlsx.vms == csv.vms


# --------------------------------------------------------------------------- text and typed cells

_CELL = st.one_of(
    st.none(),
    st.sampled_from(["4", " 2 ", "0", "-1", "1e30", "x", "  ", "on", "off", "windows"]),
    st.integers(-2, 5000).map(str),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=5, max_size=5), min_size=1, max_size=8))
def test_csv_text_cells_and_workbook_cells_read_alike(rows: list[list[str | None]]) -> None:
    """The same cells read from CSV (text fast path) and from a workbook (typed path) give
    the same VMs, or the same problems."""
    header = ["name", "vcpus", "memory_gib", "powerstate", "licenses"]
    named = [[f"vm{i}", *row[1:]] if row[0] is None else row for i, row in enumerate(rows)]
    csv_text = "\n".join(
        ",".join("" if c is None else '"' + c + '"' for c in row) for row in [header, *named]
    )

    def outcome(data: bytes, name: str) -> object:
        try:
            inv = read_inventory(data, name=name)
        except InputError as exc:
            return sorted((i.row, i.column, i.rule) for i in exc.issues)
        return [vm.model_dump() for vm in inv.vms]

    as_csv = outcome(csv_text.encode(), "inv.csv")
    as_xlsx = outcome(xlsx_bytes({"inventory": [header, *named]}), "inv.xlsx")
    assert as_csv == as_xlsx
