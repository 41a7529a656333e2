"""Tolerances live in one module: no other module of planner/ writes one as a literal."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from planner.tolerances import gap_text, host_count_bound

PLANNER = Path(__file__).resolve().parents[1] / "planner"
TOLERANCE = re.compile(r"^1(\.0*)?e-\d+$", re.IGNORECASE)  # 1e-9, 1.0e-6: the usual spelling


def literal_tolerances(source: str) -> list[str]:
    """The number literals of ``source`` written as a tolerance (a power of ten below 1)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.NUMBER and TOLERANCE.match(t.string)]


def test_no_module_but_tolerances_writes_a_literal_tolerance() -> None:
    """Every 1e-N in planner/ is a named constant of planner/tolerances.py."""
    found = {
        str(path.relative_to(PLANNER)): literal_tolerances(path.read_text())
        for path in sorted(PLANNER.rglob("*.py"))
        if path.name != "tolerances.py"
    }
    assert {name: lits for name, lits in found.items() if lits} == {}


def test_the_literal_check_sees_tolerances_but_not_other_numbers() -> None:
    """The check finds ``1e-9`` and ``1.0e-6`` in code, not in strings, nor other numbers."""
    source = 'x = a < b - 1e-9\ny = math.ceil(z - 1.0e-6)\ns = "1e-9"\nw = 5e-5 + 1e3 + 0.1\n'
    assert literal_tolerances(source) == ["1e-9", "1.0e-6"]


def test_host_count_bound_rounds_up_past_float_noise_only() -> None:
    """A fractional bound becomes the least whole number of hosts at least it; LP noise just
    above a whole number does not add a host."""
    assert host_count_bound(11.2) == 12
    assert host_count_bound(12.0 + 1e-9) == 12


def test_a_gap_that_rounds_to_zero_is_not_shown_as_zero() -> None:
    """An unproven plan 0.00076 % above its bound reads "<0.1%", never "0.0%"."""
    assert gap_text(7.6e-6) == "<0.1%"
    assert gap_text(0.0) == "0.0%"
    assert gap_text(0.0251) == "2.5%"
