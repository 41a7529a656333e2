"""Units and the integer scaling used by the solvers, in one place.

All solver arithmetic is in integers: CPU in milli-vCPU, memory in MiB. Conversions from
the user's units (vCPUs, GiB, MiB, MB) happen here and nowhere else.
"""

from __future__ import annotations

import math

from planner.tolerances import ROUNDING_SLACK

__all__ = [
    "HOURS_PER_YEAR",
    "MAX_SAFE_INT",
    "MIB_PER_GIB",
    "MILLI",
    "cap_milli",
    "energy_kwh",
    "gib_to_mib_ceil",
    "gib_to_mib_floor",
    "mib_to_gib",
    "milli_to_vcpu",
    "vcpu_to_milli",
]

MIB_PER_GIB = 1024
MILLI = 1000  # milli-vCPU per vCPU
HOURS_PER_YEAR = 8760

# CP-SAT works on 64-bit integers; sums of demands beyond this are refused rather than risk
# an overflow inside a linear expression.
MAX_SAFE_INT = 2**53


def vcpu_to_milli(vcpus: float) -> int:
    """vCPUs (possibly fractional after growth or efficiency) to milli-vCPU, rounded up."""
    return _ceil(vcpus * MILLI)


def milli_to_vcpu(milli: int) -> float:
    """milli-vCPU back to vCPUs."""
    return milli / MILLI


def gib_to_mib_ceil(gib: float) -> int:
    """GiB to whole MiB, rounded up (a demand never shrinks by rounding)."""
    return _ceil(gib * MIB_PER_GIB)


def gib_to_mib_floor(gib: float) -> int:
    """GiB to whole MiB, rounded down (a capacity never grows by rounding)."""
    return math.floor(gib * MIB_PER_GIB + ROUNDING_SLACK)


def mib_to_gib(mib: float) -> float:
    """MiB to GiB."""
    return mib / MIB_PER_GIB


def cap_milli(vcpus: float) -> int:
    """A capacity in vCPUs to milli-vCPU, rounded down."""
    return math.floor(vcpus * MILLI + ROUNDING_SLACK)


def _ceil(x: float) -> int:
    # Guard against 2.0000000001 from float noise turning into 3.
    return math.ceil(x - ROUNDING_SLACK)


def energy_kwh(watts: float, years: float, pue: float) -> float:
    """Energy drawn at the wall over ``years`` by a constant load of ``watts``, PUE included."""
    return watts * HOURS_PER_YEAR * years * pue / 1000.0
