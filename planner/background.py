"""Plans made in another process: one at a time, the latest request wins.

The app answers a what-if at once with a quick plan and asks a ``Refiner`` for the full one;
the full plan is made by ``pipeline.run`` in a spawned process, which writes its result to a
file (``run_to_file``). A newer request cancels an older one, so a user moving a slider never
waits for settings they have left.

``submit`` never waits for the process: the inputs go to a file the process reads once it has
started, and only the two file paths go through the start-up pipe. (Pickled through the pipe,
an inventory and a plan of a few hundred VMs pass the pipe's 64 KiB buffer, and the write
then blocks until the new interpreter has imported the planner, seconds in which the app
could not draw the quick plan.)

    refiner = Refiner()
    refiner.submit(key, inventory, catalog, policy, params, warm=quick_plan)
    ...
    refiner.interim(key)  # a first plan of INTERIM_S while the full one is made, or None
    refiner.result(key)  # None until the full plan is ready, then (problem, plan)
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import pickle
import tempfile
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

from planner.estate import Estate
from planner.models import Catalog, Inventory, Plan, Policy, Problem, SolverParams
from planner.pipeline import run

__all__ = ["INTERIM_S", "Refiner", "interim_path", "run_from_file", "run_to_file"]

LOG = logging.getLogger("planner.background")


def run_to_file(
    path: Path,
    inventory: Inventory,
    catalog: Catalog,
    policy: Policy,
    params: SolverParams | None = None,
    warm: Plan | None = None,
    estate: Estate | None = None,
) -> None:
    """``pipeline.run``, for a plan made in another process: pickles ``(problem, plan)`` to
    ``path``. ``estate``: today's hosts, for an existing or mixed estate.

    Where the time limit is longer than ``INTERIM_S``, a plan of that limit comes first, to
    ``interim_path(path)``, and the full plan starts from it: the app shows it meanwhile.
    Files appear whole (written aside, then renamed), so a reader never sees half of one.
    """
    params = params or SolverParams()
    if params.time_limit_s > INTERIM_S:
        short = params.model_copy(update={"time_limit_s": INTERIM_S})
        first = run(inventory, catalog, policy, short, warm=warm, estate=estate)
        _write(interim_path(path), first)
        warm = first[1]
    _write(path, run(inventory, catalog, policy, params, warm=warm, estate=estate))
    interim_path(path).unlink(missing_ok=True)  # the full plan supersedes it


INTERIM_S = 1.5  # the time limit of the plan a background run shows first


def interim_path(path: Path) -> Path:
    """Where the background run at ``path`` writes its interim plan."""
    return path.with_suffix(".interim")


def _write(path: Path, result: tuple[Problem, Plan]) -> None:
    part = path.with_suffix(".part")
    part.write_bytes(pickle.dumps(result))
    part.replace(path)


def run_from_file(inputs: Path, path: Path) -> None:
    """``run_to_file(path, ...)`` with its other arguments read from ``inputs`` (pickled, as
    ``Refiner.submit`` writes them); ``inputs`` is removed once read."""
    args = pickle.loads(inputs.read_bytes())
    inputs.unlink()
    run_to_file(path, *args)


class Refiner:
    """Full plans made in a background process: one process at a time, for the latest key.

    Results are kept as pickled bytes (the ``keep`` latest) and unpickled on every read, so a
    reader whose classes were re-imported meanwhile (Streamlit's module reloader) always gets
    objects of its current classes.
    """

    def __init__(self, keep: int = 16) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._dir = Path(tempfile.mkdtemp(prefix="planner-refine-"))
        self._keep = keep
        self._job: tuple[str, BaseProcess, Path, float] | None = None
        self._done: dict[str, bytes] = {}

    def result(self, key: str) -> tuple[Problem, Plan] | None:
        """The full plan for ``key`` when it is ready, else None."""
        self._collect()
        data = self._done.get(key)
        if data is None:
            return None
        result: tuple[Problem, Plan] = pickle.loads(data)
        return result

    def interim(self, key: str) -> tuple[Problem, Plan] | None:
        """The interim plan of the background run for ``key``, while it makes the full
        one (``run_to_file``), else None."""
        self._collect()
        if self._job is None or self._job[0] != key:
            return None
        try:
            data = interim_path(self._job[2]).read_bytes()
        except FileNotFoundError:
            return None
        result: tuple[Problem, Plan] = pickle.loads(data)
        return result

    def running(self, key: str) -> float | None:
        """Seconds the background plan for ``key`` has been running, or None."""
        self._collect()
        if self._job is None or self._job[0] != key:
            return None
        return time.monotonic() - self._job[3]

    def submit(
        self,
        key: str,
        inventory: Inventory,
        catalog: Catalog,
        policy: Policy,
        params: SolverParams | None = None,
        warm: Plan | None = None,
        estate: Estate | None = None,
    ) -> None:
        """Start the full plan for ``key`` with ``params`` (default: ``SolverParams()``),
        cancelling any other one; nothing when that plan is running or done already.
        ``warm``: the plan to start its search from; ``estate``: today's hosts."""
        self._collect()
        if key in self._done or (self._job is not None and self._job[0] == key):
            return
        self.cancel()
        stem = hashlib.sha256(key.encode()).hexdigest()
        path, inputs = self._dir / f"{stem}.pickle", self._dir / f"{stem}.inputs"
        inputs.write_bytes(pickle.dumps((inventory, catalog, policy, params, warm, estate)))
        proc = self._ctx.Process(target=run_from_file, args=(inputs, path), daemon=True)
        proc.start()
        self._job = (key, proc, path, time.monotonic())

    def cancel(self) -> None:
        """Stop the running background plan, if any."""
        if self._job is not None:
            self._job[1].terminate()
            self._job[1].join(timeout=5)
            self._job[2].with_suffix(".inputs").unlink(missing_ok=True)  # never read
            interim_path(self._job[2]).unlink(missing_ok=True)
            self._job = None

    def _collect(self) -> None:
        """Take the finished process's result, if any; keep the ``keep`` latest results."""
        if self._job is None:
            return
        key, proc, path, _ = self._job
        if proc.is_alive():
            return
        proc.join()
        path.with_suffix(".inputs").unlink(missing_ok=True)  # a process that died early
        interim_path(path).unlink(missing_ok=True)
        if path.exists():
            self._done[key] = path.read_bytes()
            path.unlink()
            while len(self._done) > self._keep:
                self._done.pop(next(iter(self._done)))
        else:
            LOG.warning("the background plan ended without a result (exit code %s)", proc.exitcode)
        self._job = None
