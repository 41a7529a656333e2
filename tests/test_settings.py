"""Policy and solver params from TOML and key=value overrides, every bad key reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from planner.errors import InputError
from planner.models import Policy, SolverParams
from planner.settings import load_settings


def test_defaults_match_the_design() -> None:
    """With no file and no override, the policy is design section 2.5's defaults."""
    p, params = load_settings(None)
    assert (p, params) == (Policy(), SolverParams())
    assert (p.cpu_overcommit, p.max_utilization, p.ha_host_failures, p.pue) == (4.0, 0.8, 1, 1.58)


def test_file_then_overrides(tmp_path: Path) -> None:
    """Overrides win over the file; values given as text are converted."""
    f = tmp_path / "p.toml"
    f.write_text('hypervisor = "type2"\ncpu_overcommit = 3\n[unused]\n', encoding="utf-8")
    f.write_text('[policy]\nhypervisor = "type2"\ncpu_overcommit = 3\n', encoding="utf-8")
    p, _ = load_settings(f, ["cpu_overcommit=5", "include_powered_off=false"])
    assert (p.hypervisor, p.cpu_overcommit, p.include_powered_off) == ("type2", 5.0, False)


def test_every_bad_key_and_value_is_reported(tmp_path: Path) -> None:
    """An unknown key, a negative growth and a bad objective come back as three issues."""
    with pytest.raises(InputError) as err:
        load_settings(None, ["cpu_overcomit=3", "growth=-0.1", "objective=cheapest"])
    columns = sorted(i.column or "" for i in err.value.issues)
    assert columns == ["cpu_overcomit", "growth", "objective"]
    assert "unknown policy key" in str(err.value)


def test_malformed_toml_and_override_without_equals(tmp_path: Path) -> None:
    """A broken file and an override without '=' are input errors, not tracebacks."""
    f = tmp_path / "bad.toml"
    f.write_text("cpu_overcommit = = 3", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid TOML file"):
        load_settings(f)
    with pytest.raises(InputError, match="expected key=value"):
        load_settings(None, ["growth"])
    with pytest.raises(InputError, match="cannot read the policy file"):
        load_settings(tmp_path / "missing.toml")


def test_solver_keys_go_to_the_solver_params_not_the_policy(tmp_path: Path) -> None:
    """``time_limit_s``, ``seed`` in a file and ``work_limit_s`` in ``--set`` build the
    SolverParams; the Policy holds the scenario only."""
    f = tmp_path / "p.toml"
    f.write_text("[policy]\ncpu_overcommit = 2\ntime_limit_s = 5\nseed = 3\n", encoding="utf-8")
    policy, params = load_settings(f, ["work_limit_s=2.5", "workers=4"])
    assert params == SolverParams(time_limit_s=5, seed=3, work_limit_s=2.5, workers=4)
    assert policy == Policy(cpu_overcommit=2)
    assert not {"time_limit_s", "work_limit_s", "workers", "seed"} & set(Policy.model_fields)


def test_bad_solver_values_are_reported_with_the_policy_ones() -> None:
    """A zero time limit, a negative work limit, a seed that is no number, no workers and a
    negative growth come back together, each naming its key, value and rule."""
    with pytest.raises(InputError) as err:
        load_settings(
            None,
            ["time_limit_s=0", "work_limit_s=-1", "seed=x", "workers=0", "growth=-1"],
        )
    issues = {i.column: i for i in err.value.issues}
    assert sorted(issues) == ["growth", "seed", "time_limit_s", "work_limit_s", "workers"]
    assert issues["time_limit_s"].value == "0"
    assert "greater than 0" in issues["time_limit_s"].rule
    assert issues["seed"].value == "x" and "valid integer" in issues["seed"].rule
    assert "greater than or equal to 1" in issues["workers"].rule


def test_solver_params_refuse_what_no_run_can_use() -> None:
    """Not finite, out of range or unknown: SolverParams refuses it itself too."""
    for bad in (
        {"time_limit_s": float("inf")},
        {"work_limit_s": float("nan")},
        {"seed": 2**31},
        {"time_limit": 5},
    ):
        with pytest.raises(ValidationError):
            SolverParams.model_validate(bad)


def test_work_budget_is_three_quarters_of_the_time_limit_unless_set() -> None:
    """Without a work limit the engine works 3/4 of the time limit (reference seconds)."""
    assert SolverParams(time_limit_s=10).work_s == 7.5
    assert SolverParams(time_limit_s=10, work_limit_s=20).work_s == 20
