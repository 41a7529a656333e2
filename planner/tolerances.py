"""What "equal" means when the planner compares numbers: each tolerance defined once.

A plan is ``optimal`` exactly when its objective meets a valid lower bound (``meets_bound``).
Lower bounds that come from a floating-point LP are lowered by ``LP_SAFETY`` first, so that
the solver's own tolerances cannot lift them above the true optimum; the proof test then
allows ``BOUND_REL_TOL``, which is larger, so a plan at the true optimum is always proven.
Both are relative (to the magnitude of the bound, at least 1): on a 5-year cost of a few
million they amount to a few currency units, far below any price in the catalogs.
"""

from __future__ import annotations

import math

__all__ = [
    "BOUND_REL_TOL",
    "COST_EPS",
    "LP_SAFETY",
    "gap",
    "host_count_bound",
    "lp_bound",
    "meets_bound",
]

BOUND_REL_TOL = 1e-6  # a value within this share of its bound meets it (the proof test)
LP_SAFETY = 1e-7  # share by which an LP optimum is lowered before it serves as a bound
COST_EPS = 1e-9  # two costs closer than this are equal (ties go to the first listed)


def meets_bound(value: float, bound: float) -> bool:
    """True when ``value`` is no more than ``bound`` (a valid lower bound), up to the tolerance."""
    return value <= bound + BOUND_REL_TOL * max(1.0, abs(bound))


def lp_bound(lp_value: float) -> float:
    """A valid lower bound from an LP optimum: lowered by the LP's safety margin."""
    return lp_value - LP_SAFETY * max(1.0, abs(lp_value))


def host_count_bound(x: float) -> int:
    """The least whole number of hosts at least ``x`` (a fractional bound), tolerance allowed."""
    return math.ceil(x - BOUND_REL_TOL * max(1.0, abs(x)))


def gap(value: float, bound: float) -> float:
    """Relative gap of ``value`` above ``bound`` (0 when the value meets it)."""
    if value <= 0 or meets_bound(value, bound):
        return 0.0
    return max(0.0, (value - bound) / value)
