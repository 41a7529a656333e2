"""Hostile and broken input, run through the CLI as a user runs it: exit 2, the problem named, no
traceback. The files of tests/data/hostile/ are named after their defect; the large or special
ones (a FIFO, a zip bomb, a file of 16,385 columns) are made at test time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openpyxl import Workbook

from planner.cli import main
from planner.errors import MAX_SHOWN
from tests.conftest import REPO, zip_bomb

HOSTILE = REPO / "tests" / "data" / "hostile"
SEED = REPO / "data" / "seed_example"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run ``planner`` in-process; its exit code, stdout and stderr."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    """Run the CLI, check it refused the input (exit 2, no traceback); its stderr."""
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    assert err.startswith("error: ")
    return err


# --------------------------------------------------------------------------- policy files

POLICY_CASES = [
    ("policy_not_a_table.toml", ["'policy' entry must be a table", "not a number"]),
    ("policy_is_a_string.toml", ["'policy' entry must be a table", "not a string"]),
    ("policy_is_a_list.toml", ["'policy' entry must be a table", "not a list"]),
    ("policy_seed_above_int32.toml", ["column 'seed'", "2147483648", "less than or equal"]),
    ("policy_seed_negative.toml", ["column 'seed'", "value '-1'", "greater than or equal to 0"]),
    ("policy_growth_1e300.toml", ["column 'growth'", "1e+300", "less than or equal to 100"]),
    ("policy_cpu_overcommit_inf.toml", ["column 'cpu_overcommit'", "inf", "finite number"]),
    ("policy_time_limit_inf.toml", ["column 'time_limit_s'", "inf", "finite number"]),
    ("policy_time_limit_nan.toml", ["column 'time_limit_s'", "nan", "finite number"]),
    ("policy_cpu_overcommit_text.toml", ["column 'cpu_overcommit'", "lots", "valid number"]),
    ("policy_workers_fraction.toml", ["column 'workers'", "2.5", "valid integer"]),
    ("policy_integer_of_5001_digits.toml", ["not a valid TOML file", "5001 digits"]),
]


@pytest.mark.parametrize(("name", "words"), POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
def test_bad_policy_file_is_refused_naming_key_value_and_rule(
    capsys: pytest.CaptureFixture[str], name: str, words: list[str]
) -> None:
    """A policy entry of the wrong type, out of range or not finite is one exit-2 line."""
    err = refused(capsys, "plan", SEED / "inventory.csv", "--policy", HOSTILE / name)
    assert name in err
    for word in words:
        assert word in err
    assert len(err.splitlines()) == 1


def test_override_of_seed_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``--set seed=-5`` is refused like the same value in a file."""
    err = refused(capsys, "plan", SEED / "inventory.csv", "--set", "seed=-5")
    assert "column 'seed'" in err and "value '-5'" in err


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("network_pct=1e300", "network_pct"),
        ("ops_per_vm_year=1e30", "ops_per_vm_year"),
        ("max_cluster_hosts=1000000000", "max_cluster_hosts"),
    ],
)
def test_override_of_a_cost_key_beyond_its_range_is_refused(
    capsys: pytest.CaptureFixture[str], setting: str, key: str
) -> None:
    """An absurd cost or cluster value is an input error naming the key, not a solver crash."""
    err = refused(capsys, "plan", SEED / "inventory.csv", "--set", setting)
    assert f"column '{key}'" in err and "less than or equal to" in err


# --------------------------------------------------------------------------- inventory values

VALUE_CASES = [
    ("vcpus_1e30.csv", "column 'vcpus', value '1e30'", "from 1 to 4,096"),
    ("memory_1e30.csv", "column 'memory_gib', value '1e30'", "at most 65,536"),
    ("storage_inf.csv", "column 'storage_gib', value 'inf'", "not a number"),
    ("disks_1e308.csv", "column 'Disk 1 size (In GB)', value '1e308'", "from 0 to 1,048,576"),
    ("disks_sum_above_bound.csv", "value '1200000'", "(the sum of Disk 1 size (In GB), Disk 2"),
]


@pytest.mark.parametrize(("name", "where", "rule"), VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_absurd_inventory_numbers_are_refused_with_their_bound(
    capsys: pytest.CaptureFixture[str], name: str, where: str, rule: str
) -> None:
    """vCPUs, memory and storage beyond any real VM (or not finite) are named with the bound."""
    err = refused(capsys, "validate", HOSTILE / name)
    assert f"{name}, row 2, {where}" in err
    assert rule in err


def test_escape_sequences_in_a_cell_reach_the_terminal_as_text(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An ANSI colour and an OSC title in a cell are printed escaped, never raw."""
    err = refused(capsys, "validate", HOSTILE / "ansi_escape_in_cell.csv")
    assert "\x1b" not in err and "\x07" not in err
    assert "value '\\x1b[31m\\x1b]0;owned\\x074'" in err


def test_newline_in_a_name_cannot_forge_an_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A quoted newline in a VM name stays on its problem's line, shown as ``\\n``."""
    err = refused(capsys, "validate", HOSTILE / "newline_in_name.csv")
    assert err.splitlines() == [
        "error: newline_in_name.csv, row 2, column 'vcpus', value 'x': not a number"
    ]
    (issue_line,) = err.splitlines()
    assert "forged" not in issue_line


def test_newline_in_a_name_is_escaped_in_the_plan_summary(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The summary lists an unplaceable VM whose name holds a newline on one line."""
    inventory = tmp_path / "inv.csv"
    inventory.write_text('name,vcpus,memory_gib\n"huge\nerror: forged",64,4\nsmall,1,1\n')
    code, out, err = run_cli(
        capsys, "plan", inventory, "--hosts", SEED / "hosts.csv", "--policy", SEED / "policy.toml"
    )
    assert code == 3, err
    assert "huge\\nerror: forged" in out
    assert not any(line.startswith("error: forged") for line in out.splitlines())


def test_problems_printed_are_capped_with_a_count_of_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """300 bad rows of three problems each print 50 lines and a count of the other 850."""
    inventory = tmp_path / "many_bad_rows.csv"
    inventory.write_text("name,vcpus,memory_gib\n" + "".join(f",x{i},-1\n" for i in range(300)))
    err = refused(capsys, "validate", inventory)
    lines = err.splitlines()
    assert len(lines) == MAX_SHOWN + 1
    assert lines[0].startswith("error: many_bad_rows.csv, row 2, column 'name'")
    assert lines[-1] == f"error: ... and {900 - MAX_SHOWN:,} more problems"


# --------------------------------------------------------------------------- file limits


def test_fifo_is_refused_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A named pipe is refused without being opened (opening would block)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    err = refused(capsys, "validate", fifo)
    assert "is a pipe, socket or device, not a file" in err


def test_dev_zero_is_refused_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    """A device that never ends is refused before a byte is read."""
    err = refused(capsys, "validate", "/dev/zero")
    assert "error: zero: cannot read the file: /dev/zero is a pipe, socket or device" in err


def test_directory_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A directory given as the inventory is named as such."""
    err = refused(capsys, "validate", tmp_path)
    assert "is a directory, not a file" in err


def test_file_above_the_size_limit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A file larger than ``file_bytes`` is refused, naming the limit and how to raise it."""
    err = refused(capsys, "validate", SEED / "inventory.csv", "--limit", "file_bytes=50")
    size = (SEED / "inventory.csv").stat().st_size
    assert f"the file is {size:,} bytes, above the limit file_bytes = 50 bytes" in err
    assert "--limit file_bytes=N" in err


def test_rows_above_the_limit_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """The first row beyond ``rows`` is named with the limit."""
    err = refused(capsys, "validate", HOSTILE / "rows_above_limit_3.csv", "--limit", "rows=3")
    assert err == "error: rows_above_limit_3.csv, row 4: more rows than the limit rows = 3\n"


def test_workbook_rows_and_cells_are_held_to_the_same_limits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A sheet's row beyond ``rows`` and its cell beyond ``cell_chars`` are named with the sheet."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "VMs"
    ws.append(["name", "vcpus", "memory_gib"])
    for i in range(4):
        ws.append([f"web{i}", 2, 4])
    ws.append(["w" * 200, 2, 4])
    path = tmp_path / "rows_above_limit.xlsx"
    book.save(path)
    err = refused(capsys, "validate", path, "--limit", "rows=3")
    assert (
        err
        == "error: rows_above_limit.xlsx (sheet VMs), row 4: more rows than the limit rows = 3\n"
    )
    err = refused(capsys, "validate", path, "--limit", "cell_chars=100")
    assert "(sheet VMs), row 6, column '#1': a cell of 200 characters" in err


def test_columns_above_excels_limit_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A header of 16,385 cells (one more than Excel allows) is refused by default."""
    wide = tmp_path / "columns_16385.csv"
    wide.write_text(",".join(["name", "vcpus", "memory_gib", *("x" * 16_382)]) + "\n")
    err = refused(capsys, "validate", wide)
    assert "row 1: the row has 16,385 cells, above the limit columns = 16,384" in err


def test_cell_above_excels_length_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A cell of 32,768 characters is refused, naming its row and column number."""
    long_cell = tmp_path / "cell_32768_chars.csv"
    long_cell.write_text("name,vcpus,memory_gib\nweb01,2,4\n" + "w" * 32_768 + ",2,4\n")
    err = refused(capsys, "validate", long_cell)
    assert "row 3, column '#1': a cell of 32,768 characters, above the limit cell_chars" in err


def test_unknown_limit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``--limit`` names a known limit with a positive value."""
    err = refused(capsys, "validate", SEED / "inventory.csv", "--limit", "rowz=5")
    assert "--limit, column 'rowz', value '5': unknown limit; known: file_bytes" in err


def test_xlsx_zip_bomb_is_refused_before_it_is_unpacked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A sheet that inflates hundreds of times is refused by the ratio limit, unread."""
    bomb = tmp_path / "xlsx_zip_bomb.xlsx"
    bomb.write_bytes(zip_bomb())
    err = refused(capsys, "validate", bomb)
    assert "part xl/worksheets/sheet1.xml inflates" in err
    assert "above the limit xlsx_ratio = 200: a zip bomb?" in err


def test_xlsx_above_the_unpacked_limit_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A workbook whose parts unpack beyond ``xlsx_unpacked_bytes`` is refused, naming it."""
    sample = REPO / "data" / "samples" / "rvtools_small.xlsx"
    err = refused(capsys, "validate", sample, "--limit", "xlsx_unpacked_bytes=1000")
    assert "above the limit xlsx_unpacked_bytes = 1,000 bytes" in err


# --------------------------------------------------------------------------- output paths

PLAN = ["plan", SEED / "inventory.csv", "--hosts", SEED / "hosts.csv"]
PLAN += ["--policy", SEED / "policy.toml", "--quiet"]


@pytest.mark.parametrize("option", ["--json", "--csv", "--xlsx", "--html"])
def test_output_into_a_missing_folder_is_refused_before_the_solve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str
) -> None:
    """Each output option names a missing folder, and nothing is planned (no summary)."""
    target = tmp_path / "no_such_folder" / "out.file"
    code, out, err = run_cli(capsys, *PLAN, option, target)
    assert code == 2 and "Traceback" not in err
    assert (
        err
        == f"error: {target}: cannot write {option}: the folder {target.parent} does not exist\n"
    )
    assert out == ""  # refused before the solve: no summary


def test_output_onto_a_directory_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An output path that is a directory is refused, every bad output named at once."""
    code, out, err = run_cli(capsys, *PLAN, "--json", tmp_path, "--html", tmp_path / "x" / "r.html")
    assert code == 2 and out == ""
    assert f"error: {tmp_path}: cannot write --json: is a directory; give a file name" in err
    assert "--html" in err and "does not exist" in err


def test_output_into_an_unwritable_folder_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder this user may not write to is named before the solve."""
    # The tests may run as root, whom no permission stops: the folder is made to deny access.
    monkeypatch.setattr("planner.cli.os.access", lambda path, mode: Path(path) != tmp_path)
    code, out, err = run_cli(capsys, *PLAN, "--csv", tmp_path / "p.csv")
    assert code == 2 and out == ""
    assert err.endswith(
        f"cannot write --csv: cannot create a file in {tmp_path} (permission denied)\n"
    )


def test_sweep_outputs_are_checked_before_any_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``sweep --csv`` into a missing folder is refused before the grid is solved."""
    target = tmp_path / "missing" / "grid.csv"
    args = ["sweep", SEED / "inventory.csv", "--vary", "cpu_overcommit=1,2", "--csv", target]
    code, out, err = run_cli(capsys, *args, "--quiet")
    assert code == 2 and out == ""
    assert (
        err == f"error: {target}: cannot write --csv: the folder {target.parent} does not exist\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_write_failure_on_a_full_disk_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Writing to a full disk (``/dev/full``) ends with exit 2 and the reason."""
    code, _, err = run_cli(capsys, *PLAN, "--json", "/dev/full")
    assert code == 2 and "Traceback" not in err
    assert err == "error: /dev/full: cannot write --json: No space left on device\n"


def test_catalogs_and_policy_are_held_to_the_limits_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--limit`` binds the host catalog, the licence catalog and the policy file as it binds
    the inventory: each file above a limit is named, all in one run."""
    licences = REPO / "data" / "licenses.csv"
    err = refused(
        capsys,
        "plan",
        SEED / "inventory.csv",
        "--hosts",
        REPO / "data" / "hosts.csv",
        "--licenses",
        licences,
        "--policy",
        SEED / "policy.toml",
        "--limit",
        "rows=6",
        "--limit",
        "policy_bytes=100",
    )
    assert "error: hosts.csv, row 7: more rows than the limit rows = 6\n" in err
    assert "error: licenses.csv, row 7: more rows than the limit rows = 6\n" in err
    assert "above the limit policy_bytes = 100 bytes" in err
    # The inventory and the bundled hypervisor profiles are read under the same limit.
    assert "inventory.csv, row 7: more rows than the limit rows = 6" in err
    assert "hypervisors.csv, row 7: more rows than the limit rows = 6" in err
    err = refused(
        capsys,
        "validate",
        SEED / "inventory.csv",
        "--licenses",
        licences,
        "--limit",
        "file_bytes=900",
    )
    assert "licenses.csv: the file is" in err and "above the limit file_bytes = 900 bytes" in err
