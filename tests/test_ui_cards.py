"""The headline numbers of a plan (``ui.cards``): values, units, comparisons and colours."""

from __future__ import annotations

import re

import pytest

from planner.dedicated import compare
from planner.models import VM, Plan, Problem
from planner.pipeline import run
from tests.conftest import PURE, catalog, inventory, vms
from ui.cards import kpi_rows, quality, search_note
from ui.text import money


@pytest.fixture(scope="module")
def planned() -> tuple[Problem, Plan]:
    """Eight 2-vCPU VMs on 8-core hosts with N+1 (2 active + 1 spare), and one VM too big
    for any host."""
    policy = PURE.model_copy(update={"ha_host_failures": 1, "objective": "cost"})
    too_big = VM(name="huge", vcpus=64, memory_gib=2)
    return run(inventory(*vms(8), too_big), catalog(), policy)


def test_the_cards_come_in_two_rows_of_four_in_reading_order(
    planned: tuple[Problem, Plan],
) -> None:
    """Hosts, baseline, consolidation, quality; then cost, saving, power, rack space."""
    problem, plan = planned
    row1, row2 = kpi_rows(plan, problem)
    assert [c.label for c in row1] == [
        "Hosts needed",
        "Dedicated servers instead",
        "Consolidation ratio",
        "Plan quality",
    ]
    assert [c.label for c in row2] == [
        "Total cost, 5 years",
        "Saving vs dedicated",
        "Power draw",
        "Rack space",
    ]


def test_the_host_cards_count_active_and_spare_hosts_and_unplaced_vms(
    planned: tuple[Problem, Plan],
) -> None:
    """3 hosts = 2 active + 1 spare; 8 of 9 VMs placed: 4 per active host, 1 unplaced (red)."""
    problem, plan = planned
    hosts, dedicated, ratio, _ = kpi_rows(plan, problem)[0]
    assert (hosts.value, hosts.delta) == ("3 hosts", "2 active + 1 spare (N+1)")
    assert dedicated.value.endswith(" servers")
    assert (ratio.value, ratio.delta, ratio.delta_color) == ("4.0 : 1", "1 VM unplaced", "inverse")
    assert all(c.delta_arrow == "off" for c in kpi_rows(plan, problem)[0])


def test_a_fully_placed_plan_shows_vms_per_host_uncoloured() -> None:
    """Without unplaced VMs the ratio's comparison line is its unit, not a warning."""
    problem, plan = run(inventory(*vms(8)), catalog(), PURE)
    ratio = kpi_rows(plan, problem)[0][2]
    assert (ratio.value, ratio.delta, ratio.delta_color) == (
        "4.0 : 1",
        "VMs per active host",
        "off",
    )


def test_the_money_cards_compare_with_the_dedicated_servers(
    planned: tuple[Problem, Plan],
) -> None:
    """Cost and saving in compact money; power and rack space as signed differences."""
    problem, plan = planned
    cost, saving, power, rack = kpi_rows(plan, problem)[1]
    assert cost.value.startswith("$") and cost.delta.endswith(" vs dedicated")
    assert cost.delta_color == "inverse" and saving.delta_color == "normal"
    c = compare(plan, problem)
    assert saving.value == money(c["cost_saving"])
    assert re.fullmatch(r"-?\d+% of \$[\d.,]+( [kM])?", saving.delta), saving.delta
    assert saving.delta.endswith(money(c["dedicated_cost_total"]))
    assert power.value.endswith(" kW") and power.delta[0] in "+-"
    assert rack.value == "3 U"  # three 1 U hosts, the spare included
    assert rack.delta.startswith(("+", "-")) and rack.delta.endswith(" U vs dedicated")


def test_a_plan_dearer_than_dedicated_shows_the_extra_cost_with_a_plus() -> None:
    """A negative saving is written as a cost added: ``+$…`` against dedicated."""
    problem, plan = run(inventory(*vms(1)), catalog(), PURE)
    dearer = plan.model_copy(update={"cost": plan.cost.model_copy(update={"hardware": 1e7})})
    cost = kpi_rows(dearer, problem)[1][0]
    assert cost.delta.startswith("+$") and cost.delta.endswith(" vs dedicated")


@pytest.mark.parametrize(
    ("status", "objective", "settled", "value", "note"),
    [
        ("optimal", "cost", True, "Proven optimal", "no cheaper plan exists"),
        ("optimal", "hosts", True, "Proven optimal", "no plan needs fewer hosts"),
        ("infeasible", "cost", True, "Infeasible", "proven: no plan places every VM"),
        ("partial", "hosts", True, "Partial", "VMs left out or spares missing"),
        ("feasible", "hosts", True, "Gap 25.0%", "to the host count lower bound"),
        ("feasible", "hosts", False, "Improving… gap 25.0%", "to the host count lower bound"),
    ],
)
def test_plan_quality_says_what_the_status_claims(
    status: str, objective: str, settled: bool, value: str, note: str
) -> None:
    """Proven, infeasible and partial plans say so; a feasible one shows its gap, 'Improving'
    while the full plan is still being made."""
    _, plan = run(inventory(*vms(16)), catalog(), PURE)  # 4 hosts; a bound of 3: gap 1/4
    shown = plan.model_copy(
        update={"status": status, "objective": objective, "lower_bound_hosts": 3}
    )
    assert quality(shown, settled) == (value, note)


def test_only_a_settled_plan_with_a_gap_suggests_searching_longer() -> None:
    """The hint names the solver limit; a proven plan, or one still improving, gets none."""
    problem, plan = run(inventory(*vms(4)), catalog(), PURE)
    gapped = plan.model_copy(update={"status": "feasible"})
    note = search_note(gapped, problem)
    assert note is not None
    assert plan.params is not None
    assert f"solver limit of {plan.params.time_limit_s:g} s" in note
    assert search_note(gapped, problem, settled=False) is None
    assert search_note(plan, problem) is None
