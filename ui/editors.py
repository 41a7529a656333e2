"""The catalog as the app edits it: the host and licence tables back into a ``Catalog``.
No Streamlit: ``app.py`` draws the editors and passes their tables here."""

from __future__ import annotations

import pandas as pd

from planner.catalog import hosts_from_frame, licences_from_frame
from planner.errors import InputError, InputIssue
from planner.models import Catalog

__all__ = ["HOSTS_FILE", "LICENCES_FILE", "edited_catalog"]

HOSTS_FILE = "host table"  # the "file" the problems of an edited table name
LICENCES_FILE = "licence table"


def edited_catalog(bundled: Catalog, hosts: pd.DataFrame, licences: pd.DataFrame) -> Catalog:
    """``bundled`` with the edited host models and licence rules; its sources name the
    tables that differ from the bundled ones. The hypervisor profiles are kept.

    Raises:
        InputError: every problem of both tables at once (row numbers as a spreadsheet
            shows them).
    """
    issues: list[InputIssue] = []
    omitted = 0
    models = bundled.hosts
    rules = bundled.licences
    try:
        models = hosts_from_frame(hosts, HOSTS_FILE)
    except InputError as exc:
        issues += exc.issues
        omitted += exc.omitted
    try:
        rules = licences_from_frame(licences, LICENCES_FILE)
    except InputError as exc:
        issues += exc.issues
        omitted += exc.omitted
    if issues:
        raise InputError(issues, omitted)
    sources = dict(bundled.sources)
    if models != bundled.hosts:
        sources["hosts"] = f"{HOSTS_FILE} (edited in the app)"
    if rules != bundled.licences:
        sources["licences"] = f"{LICENCES_FILE} (edited in the app)"
    return Catalog(hosts=models, licences=rules, profiles=bundled.profiles, sources=sources)
