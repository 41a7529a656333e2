"""The shared spreadsheet reader: CSV/XLSX bytes -> header + rows with spreadsheet row numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from planner.catalog import load_hosts
from planner.errors import InputError
from planner.ingest import read_inventory
from planner.sheets import Sheet, cell_text, overflow_issue, read_sheet
from tests.conftest import xlsx_bytes


def rule_of(data: bytes, name: str = "f.csv") -> str:
    """The single rule of the InputError that reading ``data`` raises."""
    with pytest.raises(InputError) as excinfo:
        read_sheet(data, name)
    (issue,) = excinfo.value.issues
    assert issue.file == name
    return issue.rule


# --------------------------------------------------------------------------- CSV


def test_csv_rows_keep_their_numbers_skip_blanks_and_pad_short_rows() -> None:
    """Blank rows are left out but still counted; a short row gets ``None`` cells."""
    sheet = read_sheet(b"\n a , b ,c\n1,2,3\n,,\n4\n", "t.csv")
    assert sheet.header == ("a", "b", "c")
    assert list(sheet.rows) == [(3, ["1", "2", "3"]), (5, ("4", None, None))]
    assert (sheet.file, sheet.label, sheet.sheet_name) == ("t.csv", "t.csv", None)
    assert (sheet.delimiter, sheet.encoding, sheet.decimal_comma) == (",", "utf-8", False)


@pytest.mark.parametrize(("delimiter", "decimal_comma"), [(";", True), ("\t", False), ("|", False)])
def test_delimiter_is_counted_on_the_header_line(delimiter: str, decimal_comma: bool) -> None:
    """``;``, tab and ``|`` are found from the header; only ``;`` implies decimal commas."""
    text = delimiter.join(["a", "b"]) + "\n" + delimiter.join(["1,5", "x"]) + "\n"
    sheet = read_sheet(text.encode(), "t.csv")
    assert (sheet.header, list(sheet.rows)) == (("a", "b"), [(2, ["1,5", "x"])])
    assert (sheet.delimiter, sheet.decimal_comma) == (delimiter, decimal_comma)


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row() -> None:
    """``sep=|`` wins over the commas of the header, and the header stays row 1."""
    sheet = read_sheet(b"sep=|\na,b|c\n1|2\n", "t.csv")
    assert (sheet.header, list(sheet.rows)) == (("a,b", "c"), [(2, ["1", "2"])])


@pytest.mark.parametrize(
    ("encoding", "read_as"),
    [("utf-8-sig", "utf-8"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_encodings_excel_writes_are_decoded_and_named(encoding: str, read_as: str) -> None:
    """UTF-8 with BOM, UTF-16 with BOM and Windows-1252 give the same cells."""
    sheet = read_sheet("name\tcity\nmüller\tSão Paulo\n".encode(encoding), "t.txt")
    assert (sheet.header, list(sheet.rows)) == (("name", "city"), [(2, ["müller", "São Paulo"])])
    assert sheet.encoding == read_as


def test_empty_and_blank_files_are_refused() -> None:
    """No bytes, only spaces, or only empty cells: each is an empty file."""
    assert rule_of(b"") == "the file is empty"
    assert rule_of(b" \r\n") == "the file is empty"
    assert rule_of(b",,\n\t,\n").startswith("the file is empty")


def test_binary_and_undecodable_bytes_are_refused_in_words() -> None:
    """A NUL byte anywhere is binary; a byte Windows-1252 does not define is named."""
    assert "binary data" in rule_of(b"a,b\n" + b"1,2\n" * 5000 + b"\x00")
    assert "byte 0x81 at offset 4" in rule_of(b"a,b\n\x81\xff\n")


def test_workbook_names_that_hold_no_workbook_are_refused() -> None:
    """An .xls (or OLE) file and a text file called .xlsx say what they are."""
    assert "(.xls) workbook is not supported" in rule_of(b"a,b\n1,2\n", "old.xls")
    assert "not a zip archive" in rule_of(b"a,b\n1,2\n", "renamed.xlsx")
    assert "not a readable XLSX workbook" in rule_of(b"PK\x03\x04garbage", "broken.xlsx")


def test_missing_path_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    """A path that does not exist says it cannot be read and was not found."""
    with pytest.raises(InputError) as excinfo:
        read_sheet(tmp_path / "nope.csv")
    (issue,) = excinfo.value.issues
    assert issue.file == "nope.csv"
    assert "cannot read the file" in issue.rule and "not found" in issue.rule


def test_bytes_take_the_upload_name_unless_named() -> None:
    """Bytes without a name are called ``upload_name`` in issues."""
    assert read_sheet(b"a\n1\n").file == "uploaded file"
    assert read_sheet(b"a\n1\n", upload_name="hosts.csv").file == "hosts.csv"


# --------------------------------------------------------------------------- XLSX


def test_xlsx_cells_keep_types_and_sheet_row_numbers() -> None:
    """Workbook cells are not converted; rows are the sheet's, blank rows left out."""
    data = xlsx_bytes({"Data": [[], ["name", "n"], [1001.0, 2], [], ["b", True]]})
    sheet = read_sheet(data, "w.xlsx")
    assert sheet.header == ("name", "n")
    assert list(sheet.rows) == [(3, (1001.0, 2)), (5, ("b", True))]
    assert (sheet.sheet_name, sheet.label) == ("Data", "w.xlsx (sheet Data)")
    assert (sheet.delimiter, sheet.encoding) == (None, None)


def test_xlsx_sheet_is_chosen_by_preferred_name_and_fit() -> None:
    """Preferred titles come first; a sheet must fit; without a fit, the first with data."""
    data = xlsx_bytes(
        {"Empty": [], "Notes": [["text"], ["hi"]], "VMs": [["vm"], ["a"]], "vInfo": [["vm"], ["b"]]}
    )

    def has_vm(header: Sequence[str]) -> bool:
        return "vm" in header

    assert read_sheet(data, "w.xlsx").sheet_name == "Notes"  # first sheet with a value
    assert read_sheet(data, "w.xlsx", fits=has_vm).sheet_name == "VMs"
    assert read_sheet(data, "w.xlsx", prefer=("VINFO",), fits=has_vm).sheet_name == "vInfo"
    fallback = read_sheet(data, "w.xlsx", fits=lambda header: False)
    assert (fallback.sheet_name, list(fallback.rows)) == ("Notes", [(2, ("hi",))])


def test_workbook_without_data_is_refused() -> None:
    """A workbook whose every sheet is empty says so."""
    assert rule_of(xlsx_bytes({"A": [], "B": [[None]]}), "e.xlsx") == (
        "the workbook has no sheet with data"
    )


# --------------------------------------------------------------------------- cells


def test_cell_text_shows_cells_as_a_spreadsheet_does() -> None:
    """Text is trimmed, empty is ``""``, whole floats lose their ``.0``."""
    assert [cell_text(v) for v in (" a ", None, 1001.0, 2.5, 7, True)] == [
        "a", "", "1001", "2.5", "7", "True",
    ]  # fmt: skip


def test_overflow_issue_names_the_first_extra_value() -> None:
    """A value beyond the header is an issue; empty trailing cells are not."""
    issue = overflow_issue("f.csv", 3, ["a", "b", "", "x"], 2)
    assert issue is not None
    assert (issue.file, issue.row, issue.column, issue.value) == ("f.csv", 3, None, "x")
    assert "4 cells but the header has 2" in issue.rule
    assert overflow_issue("f.csv", 3, ["a", "b", " ", None], 2) is None
    assert overflow_issue("f.csv", 3, ["a"], 2) is None


# --------------------------------------------------------------------------- both readers


def test_inventory_and_catalog_read_the_same_file_the_same_way() -> None:
    """A pipe-delimited file behind Excel's ``sep=`` line reads in both readers."""
    hosts = b"sep=|\nmodel|sockets|cores_per_socket|memory_gib\nR660|2|16|512\n"
    (host,) = load_hosts(hosts, "hosts.csv")
    assert (host.model, host.cores) == ("R660", 32)
    inventory = b"sep=|\nname|vcpus|memory_gib\napp|2|4\n"
    (vm,) = read_inventory(inventory, name="inv.csv").vms
    assert (vm.name, vm.vcpus, vm.row) == ("app", 2, 2)


def test_sheet_is_a_value() -> None:
    """A Sheet is frozen: readers downstream cannot change what was read."""
    sheet = read_sheet(b"a\n1\n", "t.csv")
    assert isinstance(sheet, Sheet)
    with pytest.raises(AttributeError):
        sheet.file = "other.csv"  # type: ignore[misc]
