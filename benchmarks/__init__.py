"""Benchmarks of the planner (not part of the test run); see benchmarks/README.md."""
