"""What every benchmark script shares: data location, machine description, isolation, tables.

Isolation: every instance runs in a process of its own, so no instance inherits another's
memory (CP-SAT does not return freed memory to the OS) and a hang cannot block the run. The
parent waits with a hard timeout, kills the process when it expires, and reads the process's
peak resident set size (``VmHWM``) from the child's own report or, for a killed child, from
``/proc`` just before the kill.

Two ways to start that process:

* ``fresh=False`` (default): forked from a ``forkserver`` that has already imported the
  planner and OR-Tools, so hundreds of small instances do not each pay the ~1 s import. A
  forked child counts the library pages it shares with the server only once it touches
  them, so its peak RSS understates a standalone run by part of the import footprint
  (``import_footprint_mib`` measures that footprint once).
* ``fresh=True``: a new interpreter (``spawn``); its peak RSS is what a user's own
  ``planner`` process would show. Used for the large inventories, where memory matters.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import importlib
import json
import math
import multiprocessing as mp
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = [
    "REPO",
    "RESULTS",
    "CliRun",
    "Isolated",
    "bench_dir",
    "command_line",
    "fmt_seconds",
    "import_footprint_mib",
    "machine",
    "markdown_table",
    "median",
    "peak_rss_mib",
    "planner_sources",
    "read_csv",
    "read_meta",
    "run_cli",
    "run_isolated",
    "start_workers",
    "write_csv",
    "write_meta",
]

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

# Modules the forkserver imports once, before any instance is forked from it.
PRELOAD = (
    "ortools.sat.python.cp_model",
    "pandas",
    "planner.pipeline",
    "planner.heuristic",
    "planner.sizing",
    "benchmarks.common",
    "benchmarks.warm",
)


# --------------------------------------------------------------------------- CLI runs


@dataclass(frozen=True)
class CliRun:
    """One ``planner`` process as a user runs it: its exit code, wall seconds (process start
    included), CPU seconds and peak RSS (its own), stderr, and the load average at its start."""

    code: int
    seconds: float
    cpu_seconds: float
    rss_mib: float
    stderr: str
    load: float

    def error(self) -> str:
        """The last line of stderr, or the exit status."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit status {self.code}"


def run_cli(args: Sequence[str], timeout_s: float) -> CliRun:
    """``python -m planner.cli ARGS`` in a process of its own, killed after ``timeout_s``."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "planner.cli", *args]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    timer = threading.Timer(timeout_s, proc.kill)
    timer.start()
    try:
        _, code, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
    finally:
        timer.cancel()
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return CliRun(
        code=code,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
        stderr=err,
        load=load,
    )


# --------------------------------------------------------------------------- data


def bench_dir() -> Path:
    """The shared benchmark data folder (``<repo>/../shared/bench``); exits when absent.

    ``PLANNER_BENCH_DIR`` overrides the location. The data is read in place and never
    copied into the repository (some of it is licensed no-derivatives).
    """
    override = os.environ.get("PLANNER_BENCH_DIR")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "bench"
    if not path.is_dir():
        sys.exit(
            f"benchmark data not found at {path}: the benchmarks read ../shared/bench next to "
            "the repository (or the folder named by PLANNER_BENCH_DIR)"
        )
    return path


# --------------------------------------------------------------------------- machine


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key and key not in info:
                info[key] = value
    return info


def _mem_total_gib() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "planner"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (planner/ has uncommitted changes)" if dirty else head


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except (ImportError, AttributeError):
        return "not installed"


def machine() -> dict[str, str]:
    """The machine and software a result was measured on, as display strings."""
    cpu = _cpuinfo()
    model = cpu.get("model name", platform.processor() or "unknown")
    details = [
        f"family {cpu['cpu family']} model {cpu['model']}" if "cpu family" in cpu else "",
        f"{float(cpu['cpu MHz']):.0f} MHz" if "cpu MHz" in cpu else "",
    ]
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cpu": model + "".join(f", {d}" for d in details if d),
        "cores": f"{usable} logical CPUs usable ({os.cpu_count()} online)",
        "ram": f"{_mem_total_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ortools": _version("ortools"),
        "pandas": _version("pandas"),
        "pydantic": _version("pydantic"),
        "planner_commit": _git_commit(),
        "planner_sources": planner_sources(),
    }


def command_line() -> str:
    """The command that started this script, as one could retype it from the repo root."""
    return shlex.join([".venv/bin/python", *sys.orig_argv[1:]])


def planner_sources() -> str:
    """A fingerprint of the planner's source files (tells uncommitted states apart)."""
    digest = hashlib.sha1()
    for path in sorted((REPO / "planner").rglob("*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def write_meta(path: Path, options: Mapping[str, Any], started: Mapping[str, str]) -> None:
    """Write ``<results>.meta.json`` next to a result CSV: machine, date, command, options.

    ``started`` is ``machine()`` taken when the run began; the planner's source fingerprint
    is compared with the one at the end, because the planner may be edited during a run.
    """
    now = planner_sources()
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line(),
        "machine": dict(started),
        "planner_changed_during_run": now != started.get("planner_sources"),
        "options": dict(options),
    }
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def read_meta(csv_path: Path) -> dict[str, Any]:
    """The metadata written by ``write_meta`` for a result CSV ({} when missing)."""
    meta = csv_path.with_suffix(".meta.json")
    if not meta.exists():
        return {}
    data: dict[str, Any] = json.loads(meta.read_text())
    return data


# --------------------------------------------------------------------------- isolation


@dataclass(frozen=True)
class Isolated:
    """The outcome of one isolated run."""

    outcome: str  # ok | timeout | error
    value: dict[str, Any]  # what the target returned ({} unless ok)
    error: str  # last line of the traceback, or the timeout
    wall_s: float  # seconds from start to result, process start included
    peak_rss_mib: float  # VmHWM of the instance's process (nan when unknown)
    start_rss_mib: float  # VmRSS when the instance's process began (nan when unknown)


_FORKSERVER: Any = None


def start_workers() -> None:
    """Set up the forkserver with the planner and OR-Tools preloaded (call once, early)."""
    global _FORKSERVER  # noqa: PLW0603 - one process-wide forkserver
    if _FORKSERVER is None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _FORKSERVER = ctx


def _imports_only() -> dict[str, Any]:
    for module in PRELOAD:
        importlib.import_module(module)
    return {}


def import_footprint_mib() -> float:
    """Peak RSS of a fresh interpreter that only imports the planner, OR-Tools and pandas."""
    res = run_isolated("benchmarks.common:_imports_only", {}, 120, fresh=True)
    return res.peak_rss_mib


def _proc_status(pid: int | str, key: str) -> float:
    """A ``kB`` field of ``/proc/<pid>/status`` in MiB (nan when unavailable)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of the calling process so far, in MiB."""
    return _proc_status("self", "VmHWM")


def _child(target: str, kwargs: dict[str, Any], conn: Connection) -> None:
    start_rss = _proc_status("self", "VmRSS")
    try:
        module, _, name = target.partition(":")
        func: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), name)
        value = func(**kwargs)
        conn.send(("ok", value, "", start_rss, peak_rss_mib()))
    except BaseException as exc:  # report anything, the parent decides
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        conn.send(("error", {}, last, start_rss, peak_rss_mib()))
    finally:
        conn.close()


def run_isolated(
    target: str, kwargs: dict[str, Any], timeout_s: float, fresh: bool = False
) -> Isolated:
    """Run ``module:function(**kwargs)`` in a process of its own with a hard timeout.

    The process is forked from the preloaded forkserver, or with ``fresh`` a new interpreter.
    The function must return a picklable dict. When ``timeout_s`` expires the process is
    killed (SIGKILL) and the outcome is ``timeout``.
    """
    start_workers()
    ctx = mp.get_context("spawn") if fresh else _FORKSERVER
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(target, kwargs, send), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    send.close()
    try:
        if recv.poll(timeout_s):
            try:
                outcome, value, error, start_rss, peak = recv.recv()
            except EOFError:  # died without a word (segfault, OOM killer)
                proc.join(5)
                code = proc.exitcode
                return Isolated(
                    "error", {}, f"process died (exit code {code})", _since(t0), nan(), nan()
                )
            wall = _since(t0)
            proc.join(30)
            return Isolated(outcome, value, error, wall, peak, start_rss)
        peak = _proc_status(proc.pid, "VmHWM") if proc.pid else nan()
        proc.kill()
        proc.join(30)
        return Isolated(
            "timeout", {}, f"killed after {timeout_s:.0f} s", _since(t0), peak, float("nan")
        )
    finally:
        recv.close()
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def nan() -> float:
    """Not-a-number (an unknown measurement)."""
    return float("nan")


def _since(t0: float) -> float:
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- tables


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> None:
    """Write ``rows`` (only ``fields``, in that order) to ``path``; floats get 4 decimals."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in fields})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}".rstrip("0").rstrip(".")
    if value is None:
        return ""
    return value


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a result CSV as dicts of strings."""
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def median(values: Iterable[float]) -> float:
    """Median of ``values`` (nan for none)."""
    data = [v for v in values if not math.isnan(v)]
    return statistics.median(data) if data else float("nan")


def fmt_seconds(value: float) -> str:
    """Seconds for a table: 3 significant figures, '–' when unknown."""
    if math.isnan(value):
        return "–"
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], right: str = "") -> str:
    """A GitHub markdown table; ``right`` holds 'r' at the index of right-aligned columns."""
    align = ["---:" if i < len(right) and right[i] == "r" else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
