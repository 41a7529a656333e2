"""The run's deadline: the time limit plus a documented allowance, counted from the process
start (README, "Time and memory").

``time_limit_s`` caps the wall clock of the search; everything around it (interpreter start,
imports, reading the inventory, sizing, building and checking the plan, writing the
reports) is near-linear in the number of VMs and gets the allowance, ``allowance(vms)``. The
CLI makes a ``Deadline`` once it knows the VM count and hands it to the solve, which then
stops its search early enough for the rest of the run to end in time:

    started = time.perf_counter() - process_age()  # the process start
    deadline = Deadline.for_run(started, params.time_limit_s, len(inventory.vms))
    deadline.left()              # wall seconds until the run must end
    deadline.reserve(cpu_s)      # wall seconds ``cpu_s`` of CPU work will take at this pace

The search still stops on work done (deterministic); the deadline is a safety cap like the
time limit, and cuts only on a busy or slow machine, where the plan's notes say so.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ALLOWANCE_BASE_S",
    "ALLOWANCE_PER_VM_S",
    "TAIL_CPU_BASE_S",
    "TAIL_CPU_PER_VM_S",
    "Deadline",
    "allowance",
    "process_age",
    "tail_cpu",
]

ALLOWANCE_BASE_S = 2.0  # interpreter start and imports (about 1.3 s of CPU), reading small files
ALLOWANCE_PER_VM_S = 12.0 / 100_000  # reading, sizing, first fit, the plan and its checks
# CPU seconds, on the reference machine, of what follows the search: building the plan
# (hosts, spares), failure simulation, the dedicated baseline, verification, the summary and
# the interpreter's exit; per VM (measured: 7e-5 s at 20,001 triplet VMs, one host per 2.6
# VMs, the most hosts per VM of the benchmarks; an estate of small VMs needs less) and once.
TAIL_CPU_PER_VM_S = 8e-5
TAIL_CPU_BASE_S = 0.3
MIN_PACE = 0.05  # the share of a core assumed at worst when the pace is estimated
_IMPORTED = time.perf_counter()  # the fallback for the process start where /proc is absent


def allowance(vms: int) -> float:
    """Wall seconds a run of ``vms`` VMs may take beyond ``time_limit_s`` on the reference
    machine: 2 s + 12 s per 100,000 VMs."""
    return ALLOWANCE_BASE_S + ALLOWANCE_PER_VM_S * max(0, vms)


def tail_cpu(vms: int, per_vm_s: float = 0.0) -> float:
    """CPU seconds (reference machine) of what follows the search for ``vms`` VMs, with
    ``per_vm_s`` more per VM (the reports asked for)."""
    return TAIL_CPU_BASE_S + (TAIL_CPU_PER_VM_S + per_vm_s) * max(0, vms)


def process_age() -> float:
    """Wall seconds since this process started (Linux: ``/proc``; elsewhere since the planner
    was imported, which misses the interpreter's own start)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path("/proc/self/stat").read_text()
        # Field 22 (starttime, clock ticks after boot); the name (field 2) may hold spaces.
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
        if age >= 0.0:
            return age
    return time.perf_counter() - _IMPORTED


@dataclass(frozen=True)
class Deadline:
    """When the run must end, as ``time.perf_counter()`` readings of this process.

    ``started``: the process start; ``at``: the end of the run; ``tail_cpu_s``: CPU seconds
    (reference machine) of what follows the search, kept back by ``search_left``.
    """

    started: float
    at: float
    tail_cpu_s: float = 0.0

    @classmethod
    def for_run(
        cls, started: float, time_limit_s: float, vms: int, tail_cpu_s: float | None = None
    ) -> Deadline:
        """The deadline of a run of ``vms`` VMs begun at ``started`` (a ``perf_counter``
        reading; ``time.perf_counter() - process_age()`` for the process start):
        ``time_limit_s`` + ``allowance(vms)`` later. ``tail_cpu_s`` defaults to
        ``tail_cpu(vms)``."""
        tail = tail_cpu(vms) if tail_cpu_s is None else tail_cpu_s
        return cls(started, started + time_limit_s + allowance(vms), tail)

    def left(self) -> float:
        """Wall seconds until the deadline (negative once past it)."""
        return self.at - time.perf_counter()

    def pace(self) -> float:
        """The share of a core this process has had since it started (its CPU time over its
        wall time, between ``MIN_PACE`` and 1): below 1 on a busy machine."""
        wall = time.perf_counter() - self.started
        if wall <= 0.0:
            return 1.0
        return min(1.0, max(MIN_PACE, time.process_time() / wall))

    def reserve(self, cpu_s: float) -> float:
        """Wall seconds ``cpu_s`` seconds of single-threaded work take at the current pace."""
        return cpu_s / self.pace()

    def search_left(self) -> float:
        """Wall seconds the search may still take so that what follows it (``tail_cpu_s``)
        ends by the deadline at the current pace."""
        return self.left() - self.reserve(self.tail_cpu_s)
