"""What-if sweeps: one plan per combination of policy (or solver) values, in worker processes
or not."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.models import Policy, SolverParams
from planner.sweep import combinations, parse_vary, sweep
from tests.conftest import PURE, catalog, host, inventory, vms


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
