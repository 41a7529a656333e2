"""What "equal" means when the planner compares numbers: each tolerance defined once.

A plan is ``optimal`` exactly when its objective meets a valid lower bound (``meets_bound``).
Lower bounds that come from a floating-point LP are lowered by ``LP_SAFETY`` first, so that
the solver's own tolerances cannot lift them above the true optimum; the proof test then
allows ``BOUND_REL_TOL``, which is larger, so a plan at the true optimum is always proven.
Both are relative (to the magnitude of the bound, at least 1): on a 5-year cost of a few
million they amount to a few currency units, far below any price in the catalogs.

The other names say which numbers they compare: costs (``COST_EPS``, ``COST_REL_TOL``,
``COST_SAVING_MIN``), objective values of two plans (``IMPROVEMENT_TOL``), LP values and
bounds against whole numbers (``INTEGRAL_TOL``), dual values and reduced costs in column
generation (``DUAL_EPS``, ``REDUCED_COST_TOL``, ``PRICING_REL_TOL``), float scores inside the
knapsack searches (``SCORE_EPS``) and unit conversions to whole units (``ROUNDING_SLACK``).
"""

from __future__ import annotations

import math

__all__ = [
    "BOUND_REL_TOL",
    "COST_EPS",
    "COST_REL_TOL",
    "COST_SAVING_MIN",
    "DUAL_EPS",
    "IMPROVEMENT_TOL",
    "INTEGRAL_TOL",
    "LP_SAFETY",
    "PRICING_REL_TOL",
    "REDUCED_COST_TOL",
    "ROUNDING_SLACK",
    "SCORE_EPS",
    "gap",
    "gap_text",
    "host_count_bound",
    "lp_bound",
    "meets_bound",
]

BOUND_REL_TOL = 1e-6  # a value within this share of its bound meets it (the proof test)
LP_SAFETY = 1e-7  # share by which an LP optimum is lowered before it serves as a bound
COST_EPS = 1e-9  # two costs closer than this are equal (ties go to the first listed)
COST_REL_TOL = 1e-9  # a cost as stated and as priced again agree within this share
COST_SAVING_MIN = 1e-6  # a host is right-sized to another model only when it saves more
IMPROVEMENT_TOL = 1e-9  # a plan improves on another when its objective is lower by more
INTEGRAL_TOL = 1e-6  # an LP value (or fractional host bound) this close to a whole number is it
DUAL_EPS = 1e-9  # a dual value (or a pattern's gain at the duals) above this is positive
REDUCED_COST_TOL = 1e-9  # a column prices out when its reduced cost is below -this (relative)
PRICING_REL_TOL = 1e-6  # CP-SAT pricing looks for reduced costs below -this (relative)
SCORE_EPS = 1e-12  # two float scores of a search (dual-value sums, spreads) closer are equal
ROUNDING_SLACK = 1e-9  # float noise allowed when a quantity is rounded to whole units


def meets_bound(value: float, bound: float) -> bool:
    """True when ``value`` is no more than ``bound`` (a valid lower bound), up to the tolerance."""
    return value <= bound + BOUND_REL_TOL * max(1.0, abs(bound))


def lp_bound(lp_value: float) -> float:
    """A valid lower bound from an LP optimum: lowered by the LP's safety margin."""
    return lp_value - LP_SAFETY * max(1.0, abs(lp_value))


def host_count_bound(x: float) -> int:
    """The least whole number of hosts at least ``x`` (a fractional bound), tolerance allowed."""
    return math.ceil(x - BOUND_REL_TOL * max(1.0, abs(x)))


def gap_text(gap: float) -> str:
    """A gap as shown to a user: one decimal, and "<0.1%" for a gap that rounds to zero but
    is not one (a plan not proven never reads "gap 0.0%")."""
    return "<0.1%" if 0 < gap < 0.0005 else f"{gap:.1%}"


def gap(value: float, bound: float) -> float:
    """Relative gap of ``value`` above ``bound`` (0 when the value meets it)."""
    if value <= 0 or meets_bound(value, bound):
        return 0.0
    return max(0.0, (value - bound) / value)
