"""What a solve did: its phases (wall time, work done) and the incumbent and bound over time.

``solve`` returns these with the plan (``solve.SolveResult``); the exact engine records its
own phases with the same types. Work is counted in seconds of the reference machine (the
unit of ``SolverParams.work_limit_s``), so it does not depend on the machine or its load;
the wall-clock seconds do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Phase", "Recorder", "SolveStatistics", "TracePoint"]


@dataclass(frozen=True)
class Phase:
    """One phase of the search.

    ``work``: work done, in seconds of the reference machine; None for a phase that counts
    none (first fit, the bounds) or whose CP-SAT model stops on its own deterministic limit.
    """

    name: str
    seconds: float  # wall clock
    work: float | None = None


@dataclass(frozen=True)
class TracePoint:
    """The incumbent and the lower bound at the end of a phase.

    Both are the objective (cost, or host count) of the *active* hosts: the N+k spares and
    the per-VM costs, which the plan adds afterwards, are left out of both.
    """

    stage: str
    seconds: float  # since the solve started
    work: float  # the engine's work done so far (reference-machine seconds)
    incumbent: float
    bound: float


@dataclass(frozen=True)
class SolveStatistics:
    """The run's statistics: phases in order, the trace, and the engine's counters."""

    phases: tuple[Phase, ...] = ()
    trace: tuple[TracePoint, ...] = ()
    iterations: int = 0  # column-generation iterations
    columns: int = 0  # host patterns generated
    capped: bool = False  # the wall-clock safety cap stopped the search before its budget

    @property
    def work(self) -> float:
        """Work done by the phases that count it (reference-machine seconds)."""
        return sum(p.work or 0.0 for p in self.phases)


@dataclass
class Recorder:
    """Collects phases and trace points as a search runs.

    ``start`` is the wall-clock reading (``time.perf_counter()``) the search started at,
    ``work`` reads the work done so far (reference-machine seconds); ``mark`` closes the
    phase since the last mark.
    """

    start: float
    work: Callable[[], float]
    phases: list[Phase] = field(default_factory=list)
    trace: list[TracePoint] = field(default_factory=list)
    _last: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        self._last = (self.start, self.work())

    def mark(self, name: str, incumbent: float, bound: float) -> None:
        """Close the phase ``name`` and add a trace point after it."""
        now, work = time.perf_counter(), self.work()
        self.phases.append(Phase(name, now - self._last[0], work - self._last[1]))
        self._last = (now, work)
        self.trace.append(TracePoint(name, now - self.start, work, incumbent, bound))
