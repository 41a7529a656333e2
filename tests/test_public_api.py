"""The public surface: every module's ``__all__`` is complete and names what exists, in the
planner and in the app's ``ui`` package; Streamlit stays in the app's views."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import planner
import ui
from tests.conftest import REPO

MODULES = sorted(m.name for m in pkgutil.walk_packages(planner.__path__, "planner."))
UI_MODULES = sorted(m.name for m in pkgutil.walk_packages(ui.__path__, "ui."))


@pytest.mark.parametrize("name", MODULES + UI_MODULES)
def test_all_lists_every_public_function_and_class(name: str) -> None:
    """Each public function or class defined in a module is in its ``__all__``, and vice versa."""
    module = importlib.import_module(name)
    exported = set(getattr(module, "__all__", ()))
    assert exported, f"{name} has no __all__"
    defined = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == name
    }
    assert defined <= exported, f"{name}: not in __all__: {sorted(defined - exported)}"
    assert all(hasattr(module, n) for n in exported)


def test_the_package_never_imports_streamlit() -> None:
    """planner/ is UI-free: the app is the only place Streamlit is used."""
    for name in MODULES:
        source = inspect.getsource(importlib.import_module(name))
        assert "import streamlit" not in source and "from streamlit" not in source, name


def test_only_the_apps_views_import_streamlit() -> None:
    """Every ``ui`` module but ``ui.views`` imports (with the planner) without Streamlit, so
    the app's words, cards, charts and tables are plain Python."""
    pure = [name for name in UI_MODULES if name != "ui.views"]
    assert pure
    probe = f"import sys, {', '.join(pure)}; print('streamlit' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False", pure
