"""What-if sweeps: one plan per combination of policy (or solver) values, in worker processes
or not; failed combinations as error rows, rows kept as they finish, ``--resume``, and the Ray
backend giving the same rows as local worker processes (skipped where Ray is missing)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from planner.backends import local_map
from planner.errors import InputError, PlannerError
from planner.models import Catalog, Inventory, Policy, SolverParams
from planner.report.sweep_files import SweepFiles
from planner.sweep import (
    COLUMNS,
    ERROR,
    TIMING_COLUMNS,
    Setting,
    combinations,
    inputs_digest,
    parse_vary,
    resume_rows,
    solve_row,
    sweep,
)
from tests.conftest import PURE, REPO, catalog, host, inventory, vms

INV = inventory(*vms(12, vcpus=4, mem=2))
CAT = catalog(host(cores=8, mem=64))
VARY = {"cpu_overcommit": [1.0, 2.0, 3.0, 4.0]}
KEYS = ("cpu_overcommit",)
HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason="Ray is not installed (extra [distributed])")


def test_sweep_gives_one_row_per_combination_in_grid_order() -> None:
    """A 2 x 2 grid gives four rows; more vCPUs per core never needs more hosts."""
    inv = inventory(*vms(12, vcpus=4, mem=2))
    vary = {"cpu_overcommit": [1, 2], "ha_host_failures": [0, 1]}
    table = sweep(inv, catalog(host(cores=8, mem=64)), PURE, vary, jobs=1)
    assert list(table["cpu_overcommit"]) == [1.0, 1.0, 2.0, 2.0]
    assert list(table["ha_host_failures"]) == [0, 1, 0, 1]
    assert list(table["spare_hosts"]) == [0, 1, 0, 1]
    assert list(table["hosts"]) == [6, 7, 3, 4]  # 48 vCPUs on 8 or 16 vCPUs per host, + spare
    assert set(table["status"]) == {"optimal"}


def test_sweep_in_worker_processes_matches_the_sequential_run() -> None:
    """Two worker processes give the same table as one."""
    inv = inventory(*vms(10, vcpus=2, mem=6))
    vary = {"memory_overcommit": [1.0, 1.5, 2.0]}
    one = sweep(inv, catalog(), PURE, vary, jobs=1)
    two = sweep(inv, catalog(), PURE, vary, jobs=2)
    cols = ["memory_overcommit", "hosts", "status", "cost_total"]
    assert one[cols].equals(two[cols])


def test_sweep_rejects_bad_keys_and_values_before_solving() -> None:
    """An unknown key and an invalid value are input errors naming them."""
    with pytest.raises(InputError, match="unknown policy key"):
        parse_vary(["cpu_overcomit=2,3"])
    with pytest.raises(InputError, match="expected key=v1,v2"):
        parse_vary(["growth"])
    with pytest.raises(InputError) as err:
        combinations(Policy(), {"growth": ["-1", "0.1"], "objective": ["hosts", "cheap"]})
    assert {i.column for i in err.value.issues} == {"growth", "objective"}


def test_a_grid_may_vary_solver_keys_beside_policy_keys() -> None:
    """``time_limit_s`` varies the solver params, ``cpu_overcommit`` the policy; the rest of
    both come from the base."""
    base = SolverParams(seed=5)
    grid = combinations(PURE, {"time_limit_s": ["1", "2"], "cpu_overcommit": ["1", "2"]}, base)
    assert [(p.cpu_overcommit, s.time_limit_s) for p, s in grid] == [
        (1.0, 1.0),
        (2.0, 1.0),
        (1.0, 2.0),
        (2.0, 2.0),
    ]
    assert {s.seed for _, s in grid} == {5}
    assert {p.model_copy(update={"cpu_overcommit": 1.0}) for p, _ in grid} == {PURE}


def test_unknown_and_invalid_keys_are_refused_before_any_solve() -> None:
    """An unknown key is refused by name; a zero time limit as an invalid value."""
    with pytest.raises(InputError, match=r"unknown policy key; known: .*time_limit_s"):
        parse_vary(["time_limt_s=1,2"])
    with pytest.raises(InputError) as err:
        combinations(PURE, parse_vary(["time_limit_s=0,1"]))
    assert [i.column for i in err.value.issues] == ["time_limit_s"]


def test_sweep_rows_show_the_varied_solver_key() -> None:
    """A sweep over two time limits gives a row per limit, showing it."""
    table = sweep(inventory(*vms(6)), catalog(), PURE, {"time_limit_s": [1, 2]}, jobs=1)
    assert list(table["time_limit_s"]) == [1.0, 2.0]
    assert list(table["hosts"]) == [2, 2]  # 4 VMs of 2 vCPUs per 8-core host


def _raises_on_three(
    inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
) -> dict[str, Any]:
    """A solve that fails for cpu_overcommit = 3 and works for the others."""
    if setting[0].cpu_overcommit == 3:
        raise PlannerError("no plan for three")
    return solve_row(inventory, catalog, setting, keys)


def _dies_on_three(
    inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
) -> dict[str, Any]:
    """A solve whose worker process exits abruptly for cpu_overcommit = 3 (no exception)."""
    if setting[0].cpu_overcommit == 3:
        os._exit(1)
    return solve_row(inventory, catalog, setting, keys)


def _solved(table: pd.DataFrame) -> pd.DataFrame:
    """The rows without their timing columns."""
    return table.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The four-point grid solved in this process, every combination proven."""
    table = sweep(INV, CAT, PURE, VARY, jobs=1)
    assert set(table["status"]) == {"optimal"}
    return table


def test_a_combination_that_raises_becomes_an_error_row(reference: pd.DataFrame) -> None:
    """The failing combination's row says why; the other three are the usual rows."""
    table = sweep(INV, CAT, PURE, VARY, jobs=1, task=_raises_on_three)
    assert list(table["status"]) == ["optimal", "optimal", ERROR, "optimal"]
    assert table.loc[2, "error"] == "no plan for three"
    assert table.loc[2, "cpu_overcommit"] == 3.0 and pd.isna(table.loc[2, "hosts"])
    ok = table["status"] != ERROR
    assert _solved(table[ok]).equals(_solved(reference[ok]))


def test_a_worker_process_that_dies_becomes_an_error_row(reference: pd.DataFrame) -> None:
    """A local worker that exits mid-solve loses that combination only, named as lost."""
    table = sweep(INV, CAT, PURE, VARY, jobs=2, task=_dies_on_three)
    assert list(table["status"]) == ["optimal", "optimal", ERROR, "optimal"]
    assert table.loc[2, "error"] == "worker lost: the worker process exited with code 1"
    ok = table["status"] != ERROR
    assert _solved(table[ok]).equals(_solved(reference[ok]))


def test_rows_solved_before_are_kept_and_not_solved_again(reference: pd.DataFrame) -> None:
    """``done`` rows come back as they were; only the others reach the solve."""
    seen: list[float] = []

    def counting(
        inventory: Inventory, catalog: Catalog, setting: Setting, keys: tuple[str, ...]
    ) -> dict[str, Any]:
        seen.append(setting[0].cpu_overcommit)
        return solve_row(inventory, catalog, setting, keys)

    done = {i: reference.iloc[i].to_dict() for i in (0, 3)}
    rows: list[int] = []
    table = sweep(
        INV, CAT, PURE, VARY, jobs=1, task=counting, done=done, on_row=lambda i, _: rows.append(i)
    )
    assert seen == [2.0, 3.0] and rows == [1, 2]
    assert _solved(table).equals(_solved(reference))


def test_the_csv_holds_each_row_as_it_finishes_and_the_grid_order_at_the_end(
    tmp_path: Path, reference: pd.DataFrame
) -> None:
    """Rows are appended in the order they finish; ``close`` rewrites them in grid order."""
    out, book = tmp_path / "sweep.csv", tmp_path / "sweep.xlsx"
    files = SweepFiles(KEYS, csv=out, xlsx=book)
    assert out.read_text().splitlines() == [",".join([*KEYS, *COLUMNS])]
    files.add(2, reference.iloc[2].to_dict())
    files.add(0, reference.iloc[0].to_dict())
    assert [line.split(",")[0] for line in out.read_text().splitlines()[1:]] == ["3.0", "1.0"]
    files.close()
    assert pd.read_csv(out)["cpu_overcommit"].tolist() == [1.0, 3.0]
    assert openpyxl.load_workbook(book)["Sweep"].max_row == 3


def test_resume_reads_back_the_solved_rows_and_skips_the_failed(
    tmp_path: Path, reference: pd.DataFrame
) -> None:
    """From the CSV and from the XLSX: the solved rows by grid index, the error row left out."""
    grid = combinations(PURE, VARY)
    digest = inputs_digest(INV, CAT, PURE, None, KEYS)
    rows = {i: reference.iloc[i].to_dict() for i in (0, 1, 3)}
    rows[1] = {"cpu_overcommit": 2.0, "status": ERROR, "error": "worker lost", "inputs": digest}
    for name in ("s.csv", "s.xlsx"):
        path = tmp_path / name
        files = SweepFiles(KEYS, **{path.suffix[1:]: path}, rows=rows)
        files.close()
        back = resume_rows(path, grid, KEYS, digest)
        assert sorted(back) == [0, 3], name
        again = sweep(INV, CAT, PURE, VARY, jobs=1, done=back)
        assert _solved(again).equals(_solved(reference)), name


def test_resume_refuses_a_file_of_another_sweep(tmp_path: Path, reference: pd.DataFrame) -> None:
    """Other inputs, another varied key, or a value outside the grid: errors naming the row."""
    path = tmp_path / "s.csv"
    SweepFiles(KEYS, csv=path, rows={0: reference.iloc[0].to_dict()}).close()
    grid = combinations(PURE, VARY)
    with pytest.raises(InputError, match=r"row 2, column 'inputs'.*other inputs"):
        resume_rows(path, grid, KEYS, "0" * 16)
    growth = combinations(PURE, {"growth": [0.0]})
    with pytest.raises(InputError, match=r"sweep over cpu_overcommit.*varies growth"):
        resume_rows(path, growth, ("growth",), inputs_digest(INV, CAT, PURE, None, ("growth",)))
    narrow = combinations(PURE, {"cpu_overcommit": [2.0]})
    with pytest.raises(InputError, match=r"row 2.*cpu_overcommit=1\.0.*not a combination"):
        resume_rows(path, narrow, KEYS, inputs_digest(INV, CAT, PURE, None, KEYS))
    assert resume_rows(tmp_path / "missing.csv", grid, KEYS, "x") == {}


def test_text_that_looks_like_a_formula_is_neutralised_in_the_sweep_files(tmp_path: Path) -> None:
    """An error message starting with '=' is written inert in the CSV and the XLSX."""
    out, book = tmp_path / "s.csv", tmp_path / "s.xlsx"
    row = {"cpu_overcommit": 1.0, "status": ERROR, "error": "=cmd|' /C calc'!A0", "inputs": "x"}
    SweepFiles(KEYS, csv=out, xlsx=book, rows={0: row}).close()
    assert ",'=cmd" in out.read_text()
    sheet = openpyxl.load_workbook(book)["Sweep"]
    cells = dict(zip((c.value for c in sheet[1]), (c.value for c in sheet[2]), strict=True))
    assert cells["error"] == "'=cmd|' /C calc'!A0"


def test_sweep_usage_errors_exit_2_before_solving(tmp_path: Path) -> None:
    """``--resume`` without a file and ``--address`` without Ray's backend are usage errors."""
    args = ["sweep", str(REPO / "data" / "seed_example" / "inventory.csv"), "--vary", "growth=0"]
    for extra, words in (
        (["--resume"], "--resume: needs --csv or --xlsx"),
        (["--address", "auto"], "--address, value 'auto': needs --backend ray"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "planner.cli", *args, *extra],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert r.returncode == 2 and words in r.stderr, r.stderr


def test_a_bad_combination_is_an_error_row_and_exit_1(tmp_path: Path) -> None:
    """An unknown hypervisor in the grid fails its combination only: its row names the
    problem, the other row is solved, the CLI exits 1 and prints the failed combination."""
    seed = REPO / "data" / "seed_example"
    out = tmp_path / "s.csv"
    r = subprocess.run(
        [
            sys.executable, "-m", "planner.cli", "sweep", str(seed / "inventory.csv"),
            "--hosts", str(seed / "hosts.csv"), "--vary", "hypervisor=none,nosuch",
            "--jobs", "1", "--csv", str(out), "--quiet",
        ],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "error: hypervisor=nosuch: " in r.stderr and "unknown hypervisor profile" in r.stderr
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table["status"]) == ["optimal", ERROR]
    assert "unknown hypervisor profile" in table.loc[1, "error"] and table.loc[0, "error"] == ""


def test_the_ray_backend_without_ray_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where Ray cannot be imported, the ray backend is a PlannerError naming the extra."""
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(PlannerError, match=r"vm-capacity-planner\[distributed\]"):
        sweep(INV, CAT, PURE, VARY, backend="ray")


# --------------------------------------------------------------------------- Ray


def _cli_sweep(tmp_path: Path, backend: str) -> str:
    """The acceptance sweep through the CLI; the CSV it writes without the timing column."""
    seed = REPO / "data" / "seed_example"
    out = tmp_path / f"{backend}.csv"
    r = subprocess.run(
        [
            sys.executable, "-m", "planner.cli", "sweep", str(seed / "inventory.csv"),
            "--hosts", str(seed / "hosts.csv"), "--policy", str(seed / "policy.toml"),
            "--vary", "cpu_overcommit=1,2,3,4", "--backend", backend, "--jobs", "2",
            "--csv", str(out), "--quiet",
        ],
        capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return pd.read_csv(out).drop(columns=list(TIMING_COLUMNS)).to_csv(index=False)


@needs_ray
def test_a_sweep_on_a_local_ray_instance_writes_the_local_backends_rows(tmp_path: Path) -> None:
    """``planner sweep --backend ray`` (a local instance, started and stopped by the sweep)
    writes the same four rows as ``--backend local``, timing aside."""
    ray_rows = _cli_sweep(tmp_path, "ray")
    local_rows = _cli_sweep(tmp_path, "local")
    assert ray_rows == local_rows
    assert len(ray_rows.splitlines()) == 5 and "optimal" in ray_rows


@needs_ray
def test_a_ray_task_killed_mid_sweep_yields_an_error_row_and_the_other_rows(
    reference: pd.DataFrame,
) -> None:
    """A Ray worker that exits mid-solve (twice: Ray retries once) loses that combination
    only; the other rows are the usual ones, and the local instance is shut down after."""
    ray = importlib.import_module("ray")
    table = sweep(INV, CAT, PURE, VARY, jobs=2, backend="ray", task=_dies_on_three)
    assert list(table["status"]) == ["optimal", "optimal", ERROR, "optimal"]
    assert table.loc[2, "error"] == "worker lost: the worker process died"
    ok = table["status"] != ERROR
    assert _solved(table[ok]).equals(_solved(reference[ok]))
    assert not ray.is_initialized()


def test_the_sensitivity_tab_sweeps_on_ray_when_an_address_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With PLANNER_RAY_ADDRESS set, the Sensitivity tab's two sweeps go to the ray backend
    with that address (recorded here, then run in this process) and draw their charts."""
    addresses: list[str | None] = []

    def recorded(
        fn: Any, shared: tuple[Any, ...], items: Any, jobs: int | None, address: str | None
    ) -> Any:
        addresses.append(address)
        return local_map(fn, shared, items, 1)

    monkeypatch.setattr("planner.sweep.ray_map", recorded)
    monkeypatch.setenv("PLANNER_RAY_ADDRESS", "head.example:6379")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    small = "name,vcpus,memory_gib\n" + "".join(f"vm{i},2,4\n" for i in range(6))
    at.file_uploader(key="upload").set_value(("small.csv", small.encode(), "text/csv"))
    at.run()
    at.number_input(key="time_limit_s").set_value(0.2)
    at.session_state["view"] = "Sensitivity"
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert addresses == ["head.example:6379"] * 2
    assert len(at.get("vega_lite_chart")) == 4
