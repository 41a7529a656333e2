"""The one way the planner runs CP-SAT: reproducibly, whatever the machine's load."""

from __future__ import annotations

from ortools.sat.python import cp_model

__all__ = ["reproducible_solver"]


def reproducible_solver(
    deterministic_s: float, seed: int, wall_s: float | None = None
) -> cp_model.CpSolver:
    """A CP-SAT solver that gives the same answer under any load: one worker, seeded, stopped
    by deterministic time; ``wall_s`` is only a safety cap."""
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = deterministic_s
    if wall_s is not None:
        solver.parameters.max_time_in_seconds = wall_s
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    return solver
