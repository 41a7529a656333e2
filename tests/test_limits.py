"""Input limits, message escaping and the compiled-kernel cache fallback, each on its own."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.errors import MAX_SHOWN, InputError, InputIssue, printable
from planner.exact import _cache
from planner.ingest import read_inventory
from planner.limits import Limits, check_xlsx, parse_limits, read_file
from tests.conftest import REPO


@given(st.text())
def test_printable_text_holds_no_control_character(text: str) -> None:
    """Whatever the text, its printable form has no control character and keeps the rest."""
    shown = printable(text)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in shown)
    if text.isprintable():
        assert shown == text


def test_printable_names_the_common_controls() -> None:
    """A newline, a tab and an escape are shown as a user would type them."""
    assert printable("a\nb\tc\x1b[31m\u2028") == "a\\nb\\tc\\x1b[31m\\u2028"


def test_issue_line_is_escaped_and_clips_long_values() -> None:
    """An issue's column and value are clipped to 60 characters and escaped."""
    issue = InputIssue(file="f.csv", row=2, column="a\nb", value="x" * 100, rule="bad")
    assert str(issue) == "f.csv, row 2, column 'a\\nb', value '" + "x" * 57 + "...': bad"


def test_input_error_message_lists_the_first_problems_and_counts_the_rest() -> None:
    """An error of many problems says how many more there are, the omitted ones included."""
    issues = [InputIssue(file="f.csv", row=r, rule="bad") for r in range(2, 2 + MAX_SHOWN + 5)]
    exc = InputError(issues, omitted=10)
    assert exc.total == MAX_SHOWN + 15
    lines = str(exc).splitlines()
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == "... and 15 more problems"


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


def test_cache_choice_skips_places_that_cannot_be_written(tmp_path: Path) -> None:
    """A folder under a regular file cannot be made; the next writable candidate is chosen."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert not _cache.writable(blocker / "cache")
    assert _cache.choose([blocker / "cache", tmp_path / "ok"]) == tmp_path / "ok"
    assert _cache.choose([blocker / "a", blocker / "b"]) is None


def test_kernels_import_where_no_numba_cache_folder_is_writable(tmp_path: Path) -> None:
    """A read-only install without a writable user cache still imports, caching in temp."""
    copy = tmp_path / "install"
    shutil.copytree(
        REPO / "planner", copy / "planner", ignore=shutil.ignore_patterns("__pycache__")
    )
    (copy / "planner" / "exact" / "__pycache__").write_text("")  # in-tree cache: unusable
    (tmp_path / "no_cache_home").write_text("")  # ~/.cache: unusable
    (tmp_path / "tmp").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONDONTWRITEBYTECODE": "1",
        "XDG_CACHE_HOME": str(tmp_path / "no_cache_home"),
        "MPLCONFIGDIR": str(tmp_path / "tmp"),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    env.pop("NUMBA_CACHE_DIR", None)
    code = (
        "import planner.exact.enumerate; from planner.exact import _cache; print(_cache.CACHE_DIR)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "tmp" / f"planner-numba-{os.getuid()}")
