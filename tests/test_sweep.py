"""What-if sweeps: one plan per combination of policy values, in worker processes or not."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.models import Policy
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
