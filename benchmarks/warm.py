"""Imported by the benchmark forkserver: compiles the planner's Numba kernels once, so that
every instance's process inherits them compiled instead of compiling or loading them inside
its timed solve (a one-off cost of a few seconds per machine, or ~0.2 s per process)."""

from planner.exact import warm_up

warm_up()
