"""Policy from TOML and key=value overrides, with every bad key reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.models import Policy
from planner.settings import load_policy


def test_defaults_match_the_design() -> None:
    """With no file and no override, the policy is design section 2.5's defaults."""
    p = load_policy(None)
    assert p == Policy()
    assert (p.cpu_overcommit, p.max_utilization, p.ha_host_failures, p.pue) == (4.0, 0.8, 1, 1.58)


def test_file_then_overrides(tmp_path: Path) -> None:
    """Overrides win over the file; values given as text are converted."""
    f = tmp_path / "p.toml"
    f.write_text('hypervisor = "type2"\ncpu_overcommit = 3\n[unused]\n', encoding="utf-8")
    f.write_text('[policy]\nhypervisor = "type2"\ncpu_overcommit = 3\n', encoding="utf-8")
    p = load_policy(f, ["cpu_overcommit=5", "include_powered_off=false"])
    assert (p.hypervisor, p.cpu_overcommit, p.include_powered_off) == ("type2", 5.0, False)


def test_every_bad_key_and_value_is_reported(tmp_path: Path) -> None:
    """An unknown key, a negative growth and a bad objective come back as three issues."""
    with pytest.raises(InputError) as err:
        load_policy(None, ["cpu_overcomit=3", "growth=-0.1", "objective=cheapest"])
    columns = sorted(i.column or "" for i in err.value.issues)
    assert columns == ["cpu_overcomit", "growth", "objective"]
    assert "unknown policy key" in str(err.value)


def test_malformed_toml_and_override_without_equals(tmp_path: Path) -> None:
    """A broken file and an override without '=' are input errors, not tracebacks."""
    f = tmp_path / "bad.toml"
    f.write_text("cpu_overcommit = = 3", encoding="utf-8")
    with pytest.raises(InputError, match="not a valid TOML file"):
        load_policy(f)
    with pytest.raises(InputError, match="expected key=value"):
        load_policy(None, ["growth"])
    with pytest.raises(InputError, match="cannot read the policy file"):
        load_policy(tmp_path / "missing.toml")
