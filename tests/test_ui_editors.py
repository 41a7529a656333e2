"""The catalog as the app edits it (``ui.editors``): edited tables back into a ``Catalog``."""

from __future__ import annotations

import pytest

from planner.catalog import hosts_frame, licences_frame, load_catalog
from planner.errors import InputError
from planner.models import Catalog
from ui.editors import edited_catalog


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    """The bundled catalog, as the app starts with it."""
    return load_catalog()


def test_unedited_tables_give_the_bundled_catalog_back(bundled: Catalog) -> None:
    """The round trip through the editors' tables changes nothing, sources included."""
    same = edited_catalog(bundled, hosts_frame(bundled.hosts), licences_frame(bundled.licences))
    assert same == bundled


def test_an_edited_host_table_is_named_as_the_hosts_source(bundled: Catalog) -> None:
    """A new price reaches the catalog; the sources say the host table was edited, not the
    licences; the hypervisor profiles stay."""
    hosts = hosts_frame(bundled.hosts)
    hosts.loc[0, "price"] = 12_345.0
    edited = edited_catalog(bundled, hosts, licences_frame(bundled.licences))
    assert edited.hosts[0].price == 12_345.0
    assert edited.sources["hosts"] == "host table (edited in the app)"
    assert edited.sources["licences"] == bundled.sources["licences"]
    assert edited.profiles == bundled.profiles


def test_problems_in_both_tables_are_reported_together(bundled: Catalog) -> None:
    """A negative core count and a licence without a price: one error naming both tables,
    each at the row a spreadsheet shows (the header is row 1)."""
    hosts = hosts_frame(bundled.hosts)
    hosts.loc[0, "cores_per_socket"] = -4
    licences = licences_frame(bundled.licences)
    licences.loc[1, "price"] = None
    with pytest.raises(InputError) as caught:
        edited_catalog(bundled, hosts, licences)
    where = {(i.file, i.row) for i in caught.value.issues}
    assert ("host table", 2) in where
    assert ("licence table", 3) in where
