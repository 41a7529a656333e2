"""Where the tasks of a sweep run: local worker processes or Ray (a local instance or a cluster).

Both backends take the same call and give the same answers:

    for index, result in local_map(fn, shared, items, jobs):   # or ray_map(..., address)
        ...

``fn(*shared, *items[index])`` runs once per item; the results come back as they finish, each
with its item's index. ``shared`` (the inventory and the catalogs) goes to the workers once,
not with every item: to each local worker process when it starts, to Ray's object store with
``ray.put``. A task whose worker is lost (the process died, was killed, ran out of memory,
its node left the cluster) comes back as a ``Lost`` with the reason, and the other tasks go
on. Exceptions raised by ``fn`` itself are the caller's to turn into results (``fn`` should
not raise): they come back as ``Lost`` too, so that one bad item never stops the others.

Ray is optional (``pip install 'vm-capacity-planner[distributed]'``) and imported only when
``ray_map`` runs. Without an address it starts a local Ray instance sized by ``jobs`` (no
dashboard, a small object store, usage statistics off) and stops it at the end, also when
the caller stops early (an error, Ctrl-C): the tasks still running are cancelled first. With
an address it joins that cluster and leaves it running. A Ray connection the caller has
already made (``ray.init`` in a notebook) is used as it is and left open.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from pebble import ProcessExpired, ProcessPool

from planner.errors import PlannerError

__all__ = ["BACKENDS", "RAY_RETRIES", "Lost", "local_map", "ray_map"]

BACKENDS = ("local", "ray")
RAY_RETRIES = 1
"""Ray runs a task whose worker was lost once more (on a cluster, likely on another node)
before its item is reported lost; a task that kills its worker every time costs two tries."""

_MIB = 2**20
_STORE_MIN = 128 * _MIB  # Ray's own minimum is 75 MiB; the rows and catalogs are small
_INSTALL = "pip install 'vm-capacity-planner[distributed]'"


@dataclass(frozen=True)
class Lost:
    """An item whose task gave no result, and why (in words, one line)."""

    reason: str


# --------------------------------------------------------------------------- local

_SHARED: dict[str, Any] = {}  # in a local worker process: the function and the shared values


def _keep(fn: Callable[..., Any], shared: tuple[Any, ...]) -> None:
    """Worker start-up: keep what every task of this process needs."""
    _SHARED["fn"], _SHARED["shared"] = fn, shared


def _call(item: tuple[Any, ...]) -> Any:
    return _SHARED["fn"](*_SHARED["shared"], *item)


def local_map(
    fn: Callable[..., Any], shared: tuple[Any, ...], items: Sequence[tuple[Any, ...]], jobs: int
) -> Generator[tuple[int, Any]]:
    """``fn(*shared, *item)`` for each item, in ``jobs`` worker processes; ``(index, result)``
    pairs as they finish. With ``jobs == 1`` the items run in order in this process (no
    process start-up; a crash of ``fn`` then takes this process with it)."""
    if jobs <= 1:
        for index, item in enumerate(items):
            yield index, fn(*shared, *item)
        return
    # forkserver: workers start clean even when the caller runs threads (the app does).
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPool(max_workers=jobs, initializer=_keep, initargs=(fn, shared), context=context)
    finished = False
    try:
        futures: dict[Future[Any], int] = {
            pool.schedule(_call, args=(item,)): index for index, item in enumerate(items)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                yield futures[future], _local_result(future)
        finished = True
    finally:
        if finished:
            pool.close()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        else:  # an error or Ctrl-C in the caller: the solves still running are not waited for
            pool.stop()  # type: ignore[no-untyped-call]
        pool.join()


def _local_result(future: Future[Any]) -> Any:
    try:
        return future.result()
    except ProcessExpired as exc:
        return Lost(f"worker lost: the worker process {_exit_reason(exc.exitcode)}")
    except Exception as exc:  # fn's own error or an unpicklable result: that item only
        return Lost(f"{type(exc).__name__}: {exc}")


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


# --------------------------------------------------------------------------- Ray


def _ray() -> Any:
    """The ``ray`` module (typed loosely: Ray is optional and only partly typed)."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise PlannerError(f"the ray backend needs Ray: {_INSTALL}") from None


def ray_map(
    fn: Callable[..., Any],
    shared: tuple[Any, ...],
    items: Sequence[tuple[Any, ...]],
    jobs: int | None,
    address: str | None,
) -> Generator[tuple[int, Any]]:
    """``fn(*shared, *item)`` for each item, each a Ray task; ``(index, result)`` pairs as
    they finish.

    ``address``: a running cluster (``HOST:PORT``, ``auto``, ``ray://HOST:PORT``); None
    starts a local instance with ``jobs`` CPUs (default: this machine's) for the call.
    ``jobs`` also caps the tasks in flight (default: twice the cluster's CPUs).

    Raises:
        PlannerError: Ray is not installed, or the cluster cannot be reached.
    """
    ray = _ray()
    own = not ray.is_initialized()
    if own:
        _start(ray, address, jobs, shared)
    in_flight: dict[Any, int] = {}
    try:
        refs = [ray.put(value) for value in shared]  # once, whatever the number of items
        task = ray.remote(fn).options(num_cpus=1, max_retries=RAY_RETRIES)
        window = jobs or max(1, 2 * int(ray.cluster_resources().get("CPU", 1)))
        queue = iter(enumerate(items))
        for index, item in queue:
            in_flight[task.remote(*refs, *item)] = index
            if len(in_flight) >= window:
                break
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            index = in_flight.pop(ready[0])
            result = _ray_result(ray, ready[0])
            nxt = next(queue, None)
            if nxt is not None:
                in_flight[task.remote(*refs, *nxt[1])] = nxt[0]
            yield index, result
    finally:
        for ref in in_flight:  # stopped early: cancel what still runs (kills its worker)
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        if own:
            ray.shutdown()


def _start(ray: Any, address: str | None, jobs: int | None, shared: tuple[Any, ...]) -> None:
    """Connect to ``address``, or start a small local instance (quiet, no dashboard)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    local = address is None or address == "local"
    if local:
        payload = len(pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL))
        options.update(
            address="local",
            num_cpus=jobs or os.cpu_count() or 1,
            object_store_memory=max(_STORE_MIN, 4 * payload),
        )
    else:
        options["address"] = address
    # A new local instance checks a token (Ray's default) and says so at every start; the
    # sweep's own instance lives as long as the sweep, so that notice is kept quiet.
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        where = "start a local Ray instance" if local else f"connect to Ray at {address}"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            ""
            if local
            else " (is the cluster up? Ray clusters check a token by default: set "
            "RAY_AUTH_MODE=token, with the head's token in RAY_AUTH_TOKEN or ~/.ray/auth_token)"
        )
        raise PlannerError(f"cannot {where}: {first}{hint}") from None
    finally:
        notice.setLevel(level)


def _ray_result(ray: Any, ref: Any) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        return Lost(_ray_reason(ray, exc))


def _ray_reason(ray: Any, exc: Exception) -> str:
    """One line for a Ray task's failure."""
    errors = ray.exceptions
    if isinstance(exc, errors.OutOfMemoryError):
        return "worker lost: Ray's memory monitor killed the worker process (out of memory)"
    if isinstance(exc, errors.NodeDiedError):
        return "worker lost: the node running the task left the cluster"
    if isinstance(exc, errors.WorkerCrashedError):
        return "worker lost: the worker process died"
    if isinstance(exc, errors.TaskCancelledError):
        return "worker lost: the task was cancelled"
    cause = getattr(exc, "cause", None)
    if isinstance(exc, errors.RayTaskError) and cause is not None:  # fn raised: its error
        return f"{type(cause).__name__}: {cause}"
    lines = str(exc).strip().splitlines()
    return f"worker lost: {type(exc).__name__}" + (f": {lines[0]}" if lines else "")
