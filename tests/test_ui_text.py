"""The app's words and numbers (``ui.text``): money, counts, the policy line, summaries."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.models import FailureCheck, Policy
from planner.pipeline import run
from tests.conftest import PURE, catalog, host, inventory, vms
from ui import text


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (4_890_000, "$4.89 M"),
        (1_000_000, "$1.00 M"),
        (532_400, "$532 k"),
        (10_000, "$10 k"),
        (9_999, "$9,999"),
        (980.4, "$980"),
        (0, "$0"),
        (-12_000, "-$12 k"),
        (-2_500_000, "-$2.50 M"),
    ],
)
def test_money_is_compact_with_its_unit_and_sign(amount: float, shown: str) -> None:
    """Millions as ``M`` with two decimals, from ten thousand as ``k``, below that in full."""
    assert text.money(amount) == shown


def test_counts_and_differences_carry_their_unit() -> None:
    """One VM, not one VMs; a difference always has its ASCII sign, zero counted as gain."""
    assert text.count(1, "VM") == "1 VM"
    assert text.count(1200, "problem") == "1,200 problems"
    assert text.signed(12, "U") == "+12 U"
    assert text.signed(-3.44, "kW", ",.1f") == "-3.4 kW"
    assert text.signed(0, "U") == "+0 U"


def test_the_policy_line_names_each_main_assumption() -> None:
    """The line under the title shows the what-if settings as the sidebar sets them."""
    policy = Policy(
        hypervisor="kvm",
        cpu_overcommit=2.5,
        memory_overcommit=1.25,
        max_utilization=0.85,
        ha_host_failures=2,
        growth=0.1,
        sizing="utilization",
        objective="hosts",
        horizon_years=3,
    )
    line = text.policy_line(policy)
    for part in (
        "hypervisor **kvm**",
        "CPU **2.5 vCPU/core**",
        "memory **1.25 : 1**",
        "hosts ≤ **85%** used",
        "**N+2**",
        "growth **10%**",
        "sized by **observed utilization**",
        "objective **host count**",
        "**3-year** TCO",
    ):
        assert part in line
    assert "sized by **allocated size**" in text.policy_line(Policy())
    assert "objective **total cost**" in text.policy_line(Policy())


def test_the_problems_line_counts_and_agrees_in_number() -> None:
    """One problem: fix it; several: fix them; the file's title comes first, in bold."""
    assert text.problems_found("a.csv", 1) == (
        "**a.csv**: 1 problem found; nothing was planned. Fix it and try again."
    )
    assert text.problems_found("b.csv", 120).startswith("**b.csv**: 120 problems found;")
    assert text.problems_found("b.csv", 120).endswith("Fix them and try again.")


def test_the_failure_summary_counts_the_hosts_that_strand_vms() -> None:
    """All restartable, one host, none, or the count of hosts whose failure strands VMs."""
    _, plan = run(inventory(*vms(6)), catalog(), PURE.model_copy(update={"ha_host_failures": 1}))
    assert len(plan.failures) == 2
    assert text.failure_summary(plan).startswith("each of the 2 active hosts can fail")
    one = plan.model_copy(update={"failures": plan.failures[:1]})
    assert text.failure_summary(one).startswith("the only active host can fail")
    stranding = FailureCheck(host="h-1", restartable=False, vms=("vm0",), stranded=("vm0",))
    broken = plan.model_copy(update={"failures": (stranding, *plan.failures[1:])})
    assert text.failure_summary(broken) == "1 of 2 active hosts cannot fail without stranding VMs."
    assert text.failure_summary(plan.model_copy(update={"failures": ()})) == (
        "no active host to fail."
    )


def test_host_models_lists_the_most_used_model_first() -> None:
    """Three small hosts and one large: ``3 × small, 1 × large``; no host: ``none``."""
    small, large = host("small", cores=4, mem=8), host("large", cores=16, mem=64, price=1e6)
    _, plan = run(
        inventory(*vms(3, vcpus=4, mem=8), *vms(1, vcpus=16, mem=64, prefix="big")),
        catalog(small, large),
        PURE.model_copy(update={"objective": "cost"}),
    )
    assert text.host_models(plan) == "3 × small, 1 × large"
    assert text.host_models(plan.model_copy(update={"hosts": ()})) == "none"


def test_the_assumptions_intro_quotes_the_policys_prices() -> None:
    """Horizon, electricity, PUE and the ops prices appear as the policy sets them."""
    policy = Policy(horizon_years=7, electricity_per_kwh=0.31, pue=1.4, ops_per_vm_year=55)
    intro = text.assumptions_intro(policy)
    for part in ("**7 years**", "**$0.31/kWh**", "PUE **1.4**", "**$55** per VM a year"):
        assert part in intro


def test_the_sweep_caption_counts_proven_points_and_the_worst_gap() -> None:
    """All proven: a full stop; otherwise the largest gap of the others."""
    proven = pd.DataFrame({"status": ["optimal", "optimal"], "gap": [0.0, 0.0]})
    assert text.sweep_caption(proven) == "2 of 2 points are proven optimal."
    mixed = pd.DataFrame({"status": ["optimal", "feasible", "feasible"], "gap": [0, 0.02, 0.125]})
    assert text.sweep_caption(mixed) == (
        "1 of 3 points are proven optimal; the others are within 12.5% of a bound."
    )
