"""Input limits: what a file may hold, checked before it is parsed, and the problems kept."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from planner.errors import MAX_SHOWN, InputError
from planner.ingest import read_inventory
from planner.limits import Limits, check_xlsx, parse_limits, read_file


def test_inventory_keeps_the_first_problems_by_row_and_counts_the_rest() -> None:
    """Two columns of 200 bad rows each keep the first MAX_SHOWN of the file, in row order."""
    data = "name,vcpus,memory_gib\n" + "".join(f"vm{i},x,-1\n" for i in range(200))
    with pytest.raises(InputError) as err:
        read_inventory(data.encode(), name="f.csv")
    assert err.value.total == 400
    first = err.value.issues[:MAX_SHOWN]
    assert [i.row for i in first] == [r for r in range(2, 27) for _ in range(2)]


def test_parse_limits_reads_names_and_refuses_bad_ones() -> None:
    """Known limits are read as numbers; an unknown name or a zero is refused by name."""
    assert parse_limits(["rows=10", "xlsx_ratio=50"]) == Limits(rows=10, xlsx_ratio=50)
    with pytest.raises(InputError) as err:
        parse_limits(["rows=0", "columns"])
    assert str(err.value) == "--limit, value 'columns': expected name=value"


def test_parse_limits_names_every_bad_value() -> None:
    """A zero and an unknown limit are two issues, each naming its limit."""
    with pytest.raises(InputError) as err:
        parse_limits(["rows=0", "speed=3"])
    assert sorted(i.column or "" for i in err.value.issues) == ["rows", "speed"]


def test_read_file_refuses_a_file_that_grew_past_the_limit(tmp_path: Path) -> None:
    """Exactly ``max_bytes`` is read; one byte more is refused with the limit named."""
    f = tmp_path / "f.csv"
    f.write_bytes(b"x" * 10)
    assert read_file(f, "f.csv", 10) == b"x" * 10
    with pytest.raises(
        InputError, match="the file is 10 bytes, above the limit rows_bytes = 9 bytes"
    ):
        read_file(f, "f.csv", 9, "rows_bytes")


def _zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_small_parts_are_not_held_to_the_ratio() -> None:
    """A 1 MiB part of zeros inflates 1,000 times yet passes: only large parts can be bombs."""
    check_xlsx(_zip(**{"a.xml": bytes(1 << 20)}), "f.xlsx", Limits())
    with pytest.raises(InputError, match=r"part b\.xml inflates"):
        check_xlsx(_zip(**{"b.xml": bytes(20 << 20)}), "f.xlsx", Limits())


def test_damaged_zip_is_left_to_the_workbook_reader() -> None:
    """Bytes that are no zip pass the size check: the reader names the damage."""
    check_xlsx(b"PK\x03\x04 not a zip", "f.xlsx", Limits())


def test_zip_of_a_version_python_cannot_read_is_an_input_error() -> None:
    """A workbook whose directory asks for zip version 6.4 (which Python's reader refuses with
    NotImplementedError, found by fuzzing) is refused as input, not a crash."""
    data = bytearray(_zip(**{"a.xml": b"<a/>"}))
    central = data.index(b"PK\x01\x02")
    data[central + 6 : central + 8] = (64).to_bytes(2, "little")  # version needed: 6.4
    check_xlsx(bytes(data), "f.xlsx", Limits())
    with pytest.raises(InputError, match=r"f\.xlsx"):
        read_inventory(bytes(data), name="f.xlsx")
