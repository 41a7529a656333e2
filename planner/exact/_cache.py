"""Where Numba keeps the compiled kernels: a writable place, or nowhere.

Numba caches a ``cache=True`` kernel next to its source (``__pycache__``), else in the
user's cache folder (``~/.cache/numba``), and fails at import when neither can be written: a
read-only install run by a user without a writable home. Importing this module before the
kernels are defined adds two fallbacks: a private folder in the system's temporary directory,
else no cache at all (the kernels are then compiled in every process, which costs seconds,
not correctness). ``NUMBA_CACHE_DIR``, when set and writable, is used as Numba documents.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from numba.core import config
from numba.core.dispatcher import Dispatcher
from numba.misc.appdirs import AppDirs

__all__ = ["CACHE_DIR", "choose", "writable"]


def writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and a file can be created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def choose(candidates: Iterable[Path]) -> Path | None:
    """The first of ``candidates`` that is writable, or ``None``."""
    return next((c for c in candidates if writable(c)), None)


def _private_temp() -> Path | None:
    """A folder of the system's temporary directory owned by this user alone, or ``None``."""
    try:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        folder = Path(tempfile.gettempdir()) / f"planner-numba-{uid}"
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:  # FileNotFoundError included: no temporary directory at all
        return None
    # Another user's folder (or a link) of that name must not hold code this process loads.
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != uid):
        return None
    return folder


def _configure() -> Path | None:
    given = str(getattr(config, "CACHE_DIR", "") or "")  # NUMBA_CACHE_DIR
    if given and writable(Path(given)):
        return Path(given)  # the user's choice, honoured by Numba itself
    user_wide = AppDirs(appname="numba", appauthor=False)  # type: ignore[no-untyped-call]
    numba_own = [Path(__file__).parent / "__pycache__", Path(str(user_wide.user_cache_dir))]
    found = choose(numba_own)
    if found is not None:
        return found  # Numba finds it on its own
    fallback = _private_temp()
    if fallback is not None and writable(fallback):
        setattr(config, "CACHE_DIR", str(fallback))  # noqa: B010  (untyped module)
        return fallback
    # Nowhere to write: the kernels compile in memory only. ``enable_caching`` is what
    # ``@njit(cache=True)`` calls; without it a kernel keeps Numba's no-op cache.
    with contextlib.suppress(AttributeError):
        setattr(Dispatcher, "enable_caching", lambda self: None)  # noqa: B010
    return None


CACHE_DIR: Path | None = _configure()
"""Where the kernels of this package are cached; ``None`` when they are not."""
