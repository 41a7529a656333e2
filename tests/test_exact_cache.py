"""Where the exact engine's compiled kernels are cached: a writable place, else none."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from planner.exact import _cache
from tests.conftest import REPO


def test_cache_choice_skips_places_that_cannot_be_written(tmp_path: Path) -> None:
    """A folder under a regular file cannot be made; the next writable candidate is chosen."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert not _cache.writable(blocker / "cache")
    assert _cache.choose([blocker / "cache", tmp_path / "ok"]) == tmp_path / "ok"
    assert _cache.choose([blocker / "a", blocker / "b"]) is None


def test_kernels_import_where_no_numba_cache_folder_is_writable(tmp_path: Path) -> None:
    """A read-only install without a writable user cache still imports, caching in temp."""
    copy = tmp_path / "install"
    shutil.copytree(
        REPO / "planner", copy / "planner", ignore=shutil.ignore_patterns("__pycache__")
    )
    (copy / "planner" / "exact" / "__pycache__").write_text("")  # in-tree cache: unusable
    (tmp_path / "no_cache_home").write_text("")  # ~/.cache: unusable
    (tmp_path / "tmp").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PYTHONDONTWRITEBYTECODE": "1",
        "XDG_CACHE_HOME": str(tmp_path / "no_cache_home"),
        "MPLCONFIGDIR": str(tmp_path / "tmp"),
        "TMPDIR": str(tmp_path / "tmp"),
    }
    env.pop("NUMBA_CACHE_DIR", None)
    code = "import planner.exact.kernels; from planner.exact import _cache; print(_cache.CACHE_DIR)"
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "tmp" / f"planner-numba-{os.getuid()}")
