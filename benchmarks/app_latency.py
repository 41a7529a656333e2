"""The app as a user meets it: ``streamlit run app.py`` in a real browser, a what-if slider
moved, the time until the KPIs answer and the total cost they show, against the CLI's plan.

The app is started as the README starts it (``streamlit run app.py``, headless, on a free
loopback port) and driven by Playwright through Debian's Chromium (``/usr/bin/chromium``, as
``tests/test_browser.py`` launches it). One run:

1. open the page on the bundled sample and wait for its first plan, then until it settles
   (the Plan quality card no longer says "Improving…" and the script is idle);
2. ``--moves`` times: press the arrow key once on the slider (``--slider``: growth by 5 %
   or CPU overcommit by 0.5), and time from the key press (the browser's own clock, a
   ``keydown`` listener) until the KPI cards show the answer for the new setting (their text
   changed, all eight cards drawn, the policy line names the new value); read the total
   cost shown at ``--read-at`` seconds after the press (and the CPU time the server process
   used until the answer: what the answer costs whatever the machine's load), then wait
   until the page settles and read it again.

The run is repeated ``--runs`` times, each with a fresh server (no cache carried over).
Every setting visited is planned once by the CLI as a user runs it
(``python -m planner.cli plan data/sample_inventory.csv --set KEY=VALUE``, its default 30 s
limit), and the figures shown are compared with that plan's total cost. The total cost is
read as the card shows it (``$14.03 M``: three significant figures, 0.1 % resolution).

Usage (from the repository root; needs ``/usr/bin/chromium`` and the ``playwright`` package):
    .venv/bin/python -m benchmarks.app_latency
    .venv/bin/python -m benchmarks.app_latency --slider cpu_overcommit --moves 3 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from benchmarks.common import REPO, RESULTS, machine, median, run_cli, write_csv, write_meta

__all__ = ["FIELDS", "SLIDERS", "main"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLE = REPO / "data" / "sample_inventory.csv"
CAP_NOTE = "stopped the search before its work budget"
COST_LABEL = "Total cost"
QUALITY_LABEL = "Plan quality"
CARDS = 8  # the KPI cards of a drawn plan


@dataclass(frozen=True)
class Slider:
    """A what-if slider: its label on the page, its policy key, its start and one step, and
    how the policy line under the title shows a value."""

    label: str
    key: str
    start: float
    step: float
    shown: str  # format of the value in the policy line (rendered text, no Markdown)

    def value(self, moves: int) -> float:
        """The policy value after ``moves`` presses of the right arrow."""
        return round(self.start + moves * self.step, 6)


SLIDERS = {
    # The growth slider is in percent (step 5 %); the policy key is a fraction.
    "growth": Slider("Demand growth", "growth", 0.0, 0.05, "growth {:.0%}"),
    "cpu_overcommit": Slider("CPU overcommit", "cpu_overcommit", 4.0, 0.5, "CPU {:g} vCPU/core"),
}

RUN_FIELDS = (
    "run",
    "move",
    "value",
    "answer_s",
    "answer_cpu_s",
    "answer_cost",
    "answer_quality",
    "read_cost",
    "read_quality",
    "read_error_pct",
    "settle_s",
    "settled_cost",
    "settled_quality",
    "settled_error_pct",
    "cli_cost",
    "cli_gap",
    "cli_capped",
    "load",
)
FIELDS = RUN_FIELDS

# The KPI cards as [label, value] pairs, in page order (stale ones included: the user sees
# them until they are replaced).
METRICS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(m => [
  (m.querySelector('[data-testid="stMetricLabel"]') || {}).innerText || '',
  (m.querySelector('[data-testid="stMetricValue"]') || {}).innerText || ''])"""
# The page shows a plan: all its KPI cards are drawn.
DRAWN_JS = """(cards) => document.querySelectorAll('[data-testid="stMetric"]').length >= cards"""
# The time of the last key press on the page, by the browser's clock.
KEYDOWN_JS = """() => { window.__pressed = null;
  document.addEventListener('keydown', () => { window.__pressed = performance.now(); },
                            {capture: true}); }"""
# The browser's clock when the cards answer: their text differs from ``before``, all of them
# are drawn and the policy line names the new value.
ANSWER_JS = """([before, cards, shown]) => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(e => [
    (e.querySelector('[data-testid="stMetricLabel"]') || {}).innerText || '',
    (e.querySelector('[data-testid="stMetricValue"]') || {}).innerText || '']);
  if (m.length < cards || m.some(([, v]) => !v) || JSON.stringify(m) === before) return false;
  const line = Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
    .some(e => e.innerText.includes(shown));
  return line ? performance.now() : false; }"""
# The page has settled: the script is idle and Plan quality no longer says "Improving".
SETTLED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning') return false;
  const q = Array.from(document.querySelectorAll('[data-testid="stMetric"]')).find(e =>
    ((e.querySelector('[data-testid="stMetricLabel"]') || {}).innerText || '')
      .startsWith('Plan quality'));
  if (!q) return false;
  const v = (q.querySelector('[data-testid="stMetricValue"]') || {}).innerText || '';
  return v !== '' && !v.startsWith('Improving'); }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


@contextmanager
def _server(log_path: Path) -> Iterator[tuple[str, int]]:
    """``streamlit run app.py`` headless on a free loopback port (the README's command, with
    the venv's interpreter); its URL and process id. Stopped on exit."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [
        str(streamlit) if streamlit.exists() else sys.executable,
        *([] if streamlit.exists() else ["-m", "streamlit"]),
        "run",
        "app.py",
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not _healthy(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"streamlit did not start; see {log_path}")
                time.sleep(0.3)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def money(text: str) -> float:
    """A card's amount as a number: ``$14.03 M`` -> 14030000.0 (nan when not an amount)."""
    m = re.fullmatch(r"(-?)\$([\d,.]+)\s*([kM]?)", text.strip())
    if not m:
        return float("nan")
    scale = {"": 1.0, "k": 1e3, "M": 1e6}[m.group(3)]
    return (-1 if m.group(1) else 1) * float(m.group(2).replace(",", "")) * scale


def _cards(page: Any) -> dict[str, str]:
    return {label: value for label, value in page.evaluate(METRICS_JS)}


def _card(cards: dict[str, str], prefix: str) -> str:
    return next((v for k, v in cards.items() if k.startswith(prefix)), "")


def _error_pct(shown: float, reference: float) -> float:
    return 100 * (shown - reference) / reference


def _one_run(
    run: int, slider: Slider, moves: int, read_at: float, timeout_s: float
) -> dict[str, Any]:
    """One fresh server and browser: the first plan, then ``moves`` presses; per press the
    answer time and the costs shown. Returns the rows and the first plan's times."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="app-latency-") as tmp:
        log_path = Path(tmp) / "server.log"
        with _server(log_path) as (url, pid), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(timeout_s * 1000)
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_function(DRAWN_JS, arg=CARDS, polling="raf")
                first_s = time.perf_counter() - t0
                page.wait_for_function(SETTLED_JS, polling=100)
                first_settle_s = time.perf_counter() - t0
                page.evaluate(KEYDOWN_JS)
                thumb = page.get_by_role("slider", name=slider.label)
                for move in range(1, moves + 1):
                    value = slider.value(move)
                    before = json.dumps(page.evaluate(METRICS_JS), separators=(",", ":"))
                    load = os.getloadavg()[0]
                    thumb.focus()
                    cpu = cpu_seconds(pid)
                    pressed = time.perf_counter()
                    thumb.press("ArrowRight")
                    answered = page.wait_for_function(
                        ANSWER_JS,
                        arg=[before, CARDS, slider.shown.format(value)],
                        polling="raf",
                    ).json_value()
                    cpu = cpu_seconds(pid) - cpu
                    answer_s = (answered - page.evaluate("() => window.__pressed")) / 1000
                    answer = _cards(page)
                    time.sleep(max(0.0, pressed + read_at - time.perf_counter()))
                    read = _cards(page)
                    page.wait_for_function(SETTLED_JS, polling=100)
                    settle_s = time.perf_counter() - pressed
                    settled = _cards(page)
                    row = {
                        "run": run,
                        "move": move,
                        "value": value,
                        "answer_s": round(answer_s, 3),
                        "answer_cpu_s": round(cpu, 2),
                        "answer_cost": money(_card(answer, COST_LABEL)),
                        "answer_quality": _card(answer, QUALITY_LABEL),
                        "read_cost": money(_card(read, COST_LABEL)),
                        "read_quality": _card(read, QUALITY_LABEL),
                        "settle_s": round(settle_s, 2),
                        "settled_cost": money(_card(settled, COST_LABEL)),
                        "settled_quality": _card(settled, QUALITY_LABEL),
                        "load": round(load, 2),
                    }
                    rows.append(row)
                    print(row, flush=True)
            finally:
                browser.close()
        errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line]
    return {
        "rows": rows,
        "first_s": round(first_s, 2),
        "first_settle_s": round(first_settle_s, 2),
        "server_errors": len(errors),
    }


def _cli_plan(key: str, value: float) -> dict[str, Any]:
    """The CLI's plan of the sample with ``key = value`` (its defaults otherwise)."""
    with tempfile.TemporaryDirectory(prefix="app-latency-cli-") as tmp:
        out = Path(tmp) / "plan.json"
        res = run_cli(
            ["plan", str(SAMPLE), "--quiet", "--set", f"{key}={value:g}", "--json", str(out)],
            timeout_s=180,
        )
        if res.code != 0 or not out.exists():
            sys.exit(f"the CLI failed for {key}={value:g}: {res.error()}")
        plan = json.loads(out.read_text())
    return {
        "cost": plan["summary"]["cost_total"],
        "gap": plan["summary"]["gap"],
        "capped": int(any(CAP_NOTE in note for note in plan.get("notes", []))),
        "seconds": res.seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: drive the app in a browser, then plan every setting through the CLI."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--slider", choices=sorted(SLIDERS), default="growth")
    ap.add_argument("--moves", type=int, default=5, help="key presses per run")
    ap.add_argument("--runs", type=int, default=2, help="runs, each with a fresh server")
    ap.add_argument("--read-at", type=float, default=6.0, help="seconds after the press")
    ap.add_argument("--timeout", type=float, default=180.0, help="per wait, seconds")
    ap.add_argument("--out", type=Path, default=RESULTS / "app_latency.csv")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI plans (a trial)")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    slider = SLIDERS[args.slider]
    started = machine()
    t_all = time.perf_counter()
    runs = [
        _one_run(r, slider, args.moves, args.read_at, args.timeout) for r in range(1, args.runs + 1)
    ]
    nothing = {"cost": float("nan"), "gap": float("nan"), "capped": "", "seconds": float("nan")}
    cli = {
        m: nothing if args.no_cli else _cli_plan(slider.key, slider.value(m))
        for m in range(1, args.moves + 1)
    }
    rows = []
    for res in runs:
        for row in res["rows"]:
            ref = cli[row["move"]]
            row["cli_cost"] = ref["cost"]
            row["cli_gap"] = ref["gap"]
            row["cli_capped"] = ref["capped"]
            row["read_error_pct"] = _error_pct(row["read_cost"], ref["cost"])
            row["settled_error_pct"] = _error_pct(row["settled_cost"], ref["cost"])
            rows.append(row)
    write_csv(args.out, rows, FIELDS)
    write_meta(
        args.out,
        {
            "benchmark": "the app in a browser: slider answer time and the cost shown",
            "slider": args.slider,
            "moves": args.moves,
            "runs": args.runs,
            "read_at_s": args.read_at,
            "instances": len(rows),
            "first_plan_s": [r["first_s"] for r in runs],
            "first_settle_s": [r["first_settle_s"] for r in runs],
            "server_errors": sum(r["server_errors"] for r in runs),
            "cli_seconds": {str(m): round(c["seconds"], 1) for m, c in cli.items()},
            "chromium": _chromium_version(),
            "streamlit": _streamlit_version(),
            "median_answer_s": median(float(r["answer_s"]) for r in rows),
            "total_wall_s": round(time.perf_counter() - t_all, 1),
        },
        started,
    )
    print(f"wrote {args.out}")
    return 0


def _chromium_version() -> str:
    try:
        out = subprocess.run(
            [str(CHROMIUM), "--version"], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _streamlit_version() -> str:
    try:
        return metadata.version("streamlit")
    except metadata.PackageNotFoundError:
        return "not installed"


if __name__ == "__main__":
    raise SystemExit(main())
