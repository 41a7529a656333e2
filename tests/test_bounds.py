"""Lower bounds: valid for every packing, and tight on hand-checked cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.bounds import l2_bound, lower_bounds
from planner.pipeline import run
from planner.sizing import build_problem
from tests.conftest import PURE, WIN_STD, catalog, host, inventory, vms


def test_l2_counts_items_that_cannot_pair() -> None:
    """Three items of 60 in bins of 100 need three bins although the volume says two."""
    assert math.ceil(180 / 100) == 2
    assert l2_bound([60, 60, 60], 100) == 3


def test_l2_adds_small_items_that_do_not_fit_the_gaps() -> None:
    """Two items of 70 leave 30 free each; six items of 20 fill two gaps and need one more bin."""
    assert l2_bound([70, 70, 20, 20, 20, 20, 20, 20], 100) == 3


def test_l2_of_nothing_is_zero() -> None:
    """No items need no bins."""
    assert l2_bound([], 100) == 0


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=40))
def test_l2_never_exceeds_first_fit_decreasing(sizes: list[int]) -> None:
    """The bound is never above a real packing (first-fit decreasing)."""
    bins: list[int] = []
    for s in sorted(sizes, reverse=True):
        for i, used in enumerate(bins):
            if used + s <= 100:
                bins[i] += s
                break
        else:
            bins.append(s)
    assert math.ceil(sum(sizes) / 100) <= l2_bound(sizes, 100) <= len(bins)


def test_bound_takes_the_largest_model_and_adds_spares() -> None:
    """Volume against the largest model (32 vCPU), plus one spare for N+1."""
    cat = catalog(host("s", cores=8), host("l", cores=32, mem=64))
    p = build_problem(inventory(*vms(40)), cat, PURE.model_copy(update={"ha_host_failures": 1}))
    b = lower_bounds(p)
    assert b.partition_hosts == (3,)  # 80 vCPUs / 32
    assert b.partition_rule == ("cpu",)
    assert b.hosts == 4


def test_anti_affinity_group_bound() -> None:
    """Five members of one group need five hosts."""
    b = lower_bounds(build_problem(inventory(*vms(5, group="g")), catalog(), PURE))
    assert (b.hosts, b.partition_rule) == (5, ("anti-affinity group",))


def test_cost_bound_counts_a_licence_on_every_host_tagged_vms_need() -> None:
    """Three Windows VMs that each fill a host need three Windows licences, and the bound knows."""
    cat = catalog(host(cores=8, mem=16), licences=(WIN_STD,))
    p = build_problem(inventory(*vms(3, vcpus=6, mem=4, licences=("windows",))), cat, PURE)
    b = lower_bounds(p)
    licence = 16 * 73.5  # 8-core host, 16-core minimum
    fixed = p.host_types[0].fixed_cost
    assert b.cost == pytest.approx(3 * (fixed + licence), rel=1e-5)
    _, plan = run(inventory(*vms(3, vcpus=6, mem=4, licences=("windows",))), cat, PURE)
    assert plan.cost.total >= b.cost
