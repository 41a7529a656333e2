"""The catalog reader, the bundled catalog and sample data, and the frame round trip."""

from __future__ import annotations

import importlib.util
import inspect
import io
import math
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from types import ModuleType

import openpyxl
import pandas as pd
import pytest

from planner import catalog
from planner.catalog import (
    DATA_DIR,
    hosts_frame,
    hosts_from_frame,
    licences_frame,
    licences_from_frame,
    load_catalog,
    load_hosts,
    load_licences,
    load_profiles,
)
from planner.errors import InputError, InputIssue
from planner.models import HostModel, Licence, Policy

BAD = Path(__file__).parent / "data" / "catalogs"
ROOT = Path(__file__).resolve().parent.parent


def csv_bytes(text: str) -> bytes:
    return dedent(text).lstrip().encode()


def only_issue(exc: pytest.ExceptionInfo[InputError]) -> InputIssue:
    assert len(exc.value.issues) == 1, exc.value.issues
    return exc.value.issues[0]


@pytest.fixture(scope="module")
def bundled() -> catalog.Catalog:
    return load_catalog()


def by_name(licences: tuple[Licence, ...], name: str) -> Licence:
    return next(lic for lic in licences if lic.name == name)


# --------------------------------------------------------------------------- bundled catalog


def test_bundled_catalog_loads_with_its_sources(bundled: catalog.Catalog) -> None:
    """The bundled files load without error and the catalog says where each part came from."""
    assert DATA_DIR == ROOT / "data"
    assert len(bundled.hosts) == 9
    assert sum(h.dedicated_only for h in bundled.hosts) == 4
    assert {h.sockets for h in bundled.hosts} == {1, 2}
    assert len(bundled.licences) == 10
    assert set(bundled.profiles) == {
        "vsphere",
        "hyper-v",
        "kvm",
        "proxmox",
        "nutanix-ahv",
        "type2",
        "none",
    }
    assert bundled.sources == {
        "hosts": "hosts.csv (bundled)",
        "licences": "licenses.csv (bundled)",
        "profiles": "hypervisors.csv (bundled)",
    }


def test_bundled_hosts_give_every_figure(bundled: catalog.Catalog) -> None:
    """Each bundled model states its price, watts and rack units, so nothing is estimated."""
    for host in bundled.hosts:
        assert host.estimated == ()
        assert host.max_count is None
        assert 0 < host.watts_idle < host.watts_max


def test_bundled_host_figures_follow_the_documented_method(bundled: catalog.Catalog) -> None:
    """Prices and watts are the data/README.md formulas, so the file and its doc agree."""
    for h in bundled.hosts:
        cores = h.cores
        price = cores * (16.232 * 2 * cores / h.memory_gib + 113.87) + 4.0 * h.memory_gib
        watts_max = (80 if h.sockets == 1 else 120) + 7.5 * cores + 0.15 * h.memory_gib
        assert h.price == round(price), h.model
        assert h.watts_max == round(watts_max), h.model
        assert h.watts_idle == round(0.4 * h.watts_max), h.model


def test_bundled_profiles_hold_the_documented_values(bundled: catalog.Catalog) -> None:
    """vsphere carries the published limits, none is pure packing, type2 pays no licence."""
    t1, t2, none = (bundled.profiles[n] for n in ("vsphere", "type2", "none"))
    assert (t1.max_vms_per_host, t1.max_vcpus_per_core, t1.max_vcpus_per_vm) == (1024, 32, 768)
    assert (t1.max_hosts_per_cluster, t1.licence_family, t1.type) == (96, "vmware", 1)
    assert (t2.type, t2.licence_family) == (2, "")
    assert t2.cpu_efficiency < t1.cpu_efficiency < none.cpu_efficiency == 1
    assert t2.reserved_memory_gib > t1.reserved_memory_gib
    assert none.reserved_cores == none.reserved_memory_gib == 0
    assert none.vm_memory_overhead_mib == none.vm_memory_overhead_pct == 0
    assert not none.pays_hypervisor_licence


def test_type1_overhead_covers_the_published_vsphere_table(bundled: catalog.Catalog) -> None:
    """50 MiB + 1 % is at least the vSphere 6.5 per-VM overhead for each published size."""
    t1 = bundled.profiles["vsphere"]
    for memory_gib, published_mb in ((1, 25.9), (4, 60.7), (16, 168.6)):
        overhead = t1.vm_memory_overhead_mib + memory_gib * 1024 * t1.vm_memory_overhead_pct / 100
        assert overhead >= published_mb


# --------------------------------------------------------------------------- licence math


def test_windows_on_a_small_host_pays_sixteen_cores(bundled: catalog.Catalog) -> None:
    """A 1-socket 4-core host pays the Windows minimum of 16 cores, Standard or Datacenter."""
    host = HostModel(model="tiny", sockets=1, cores_per_socket=4, memory_gib=32)
    for name in ("Windows Server 2025 Standard", "Windows Server 2025 Datacenter"):
        assert by_name(bundled.licences, name).billable_cores(host) == 16


def test_windows_standard_stacks_and_datacenter_does_not(bundled: catalog.Catalog) -> None:
    """5 Windows VMs need 3 Standard grants (2 VMs each) but a single Datacenter grant."""
    std = by_name(bundled.licences, "Windows Server 2025 Standard")
    dc = by_name(bundled.licences, "Windows Server 2025 Datacenter")
    host = HostModel(model="tiny", sockets=1, cores_per_socket=4, memory_gib=32)
    assert std.grants(5) == 3
    assert dc.grants(5) == 1
    assert std.licence_cost(host, 5, years=5) == pytest.approx(3 * 16 * 1176 / 16)
    assert dc.licence_cost(host, 5, years=5) == pytest.approx(6771)
    assert std.tag == dc.tag == "windows" and std.family == dc.family


def test_other_bundled_licences_price_as_documented(bundled: catalog.Catalog) -> None:
    """SQL EE per 2-core pack, Oracle with the 0.5 core factor, RHEL VDC per socket pair, VVF."""
    host = HostModel(model="2x16", sockets=2, cores_per_socket=16, memory_gib=512)
    sql = by_name(bundled.licences, "SQL Server 2022 Enterprise")
    oracle = by_name(bundled.licences, "Oracle Database Enterprise Edition")
    rhel = by_name(bundled.licences, "RHEL for Virtual Datacenters")
    vvf = by_name(bundled.licences, "VMware vSphere Foundation")
    assert sql.licence_cost(host, 40, years=5) == pytest.approx(16 * 15123)  # 32 cores = 16 packs
    assert oracle.licence_cost(host, 3, years=5) == pytest.approx(16 * 47500)  # 32 x 0.5 processors
    assert oracle.scope == "cluster"
    assert rhel.cost(host, 30, years=3) == pytest.approx(3 * 2500)  # one socket pair, 3 years
    assert vvf.applies_to == "all_hosts" and vvf.tag == ""
    one_socket_8c = HostModel(model="1x8", sockets=1, cores_per_socket=8, memory_gib=64)
    assert vvf.cost(one_socket_8c, 0, years=1) == pytest.approx(16 * 135)


# --------------------------------------------------------------------------- reading files


def test_headers_forgive_case_spacing_and_delimiter() -> None:
    """Headers in any case and spacing, semicolons and a BOM are read like the canonical file."""
    data = "\ufeff Model ;Sockets; Cores per socket ;Memory GiB;Price\nR660;2;16;512;9000\n"
    (host,) = load_hosts(data.encode("utf-8"), "mine.csv")
    assert (host.model, host.cores, host.memory_gib, host.price) == ("R660", 32, 512, 9000)


def test_empty_optional_cells_take_the_model_defaults() -> None:
    """Empty price and watts cells are estimated by HostModel and marked as estimated."""
    data = csv_bytes(
        """
        model,sockets,cores_per_socket,memory_gib,threads_per_core,price,watts_idle,watts_max,rack_units,max_count
        R660,2,16,512,,,,,,
        """
    )
    (host,) = load_hosts(data)
    assert host.threads_per_core == 2 and host.max_count is None
    assert set(host.estimated) == {"price", "watts_max", "watts_idle", "rack_units"}
    assert host == HostModel(model="R660", sockets=2, cores_per_socket=16, memory_gib=512)


def test_numbers_may_carry_currency_and_thousands_separators() -> None:
    """'$17,270' is read as 17270; blank lines and a notes column are ignored."""
    data = csv_bytes(
        """
        model,sockets,cores_per_socket,memory_gib,price,notes
        big,2,48,"1,536","$17,270",quote from March

        small,1,16,256,2878.50,
        """
    )
    big, small = load_hosts(data)
    assert (big.memory_gib, big.price, small.price) == (1536, 17270, 2878.5)


def test_cp1252_text_from_excel_is_decoded() -> None:
    """A file saved by Excel on Western Windows (cp1252) keeps its accented names."""
    data = "model,sockets,cores_per_socket,memory_gib\nSérie 1S,1,8,64\n".encode("cp1252")
    (host,) = load_hosts(data)
    assert host.model == "Série 1S"


def test_excel_unicode_text_and_binary_files() -> None:
    """Excel's UTF-16 tab-separated export is read; a binary file is refused in words."""
    text = "model\tsockets\tcores_per_socket\tmemory_gib\nR660\t2\t16\t512\n"
    (host,) = load_hosts(text.encode("utf-16"))
    assert host.cores == 32
    with pytest.raises(InputError) as exc:
        load_hosts(b"\x00\x01\x02binary", "photo.csv")
    assert "binary" in only_issue(exc).rule


def test_xlsx_workbook_is_read_from_its_first_sheet(tmp_path: Path) -> None:
    """A catalog kept in Excel loads like its CSV, with spreadsheet row numbers in errors."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Model", "Sockets", "Cores per socket", "Memory GiB"])
    sheet.append(["R660", 2, 16, 512])
    sheet.append(["R760", 2, -32, 1024])
    path = tmp_path / "hosts.xlsx"
    book.save(path)
    with pytest.raises(InputError) as exc:
        load_hosts(path)
    issue = only_issue(exc)
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "hosts.xlsx",
        3,
        "Cores per socket",
        "-32",
    )

    sheet.delete_rows(3)
    book.save(path)
    (host,) = load_hosts(path)
    assert host.cores == 32


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """A path that does not exist is reported as an InputError naming the file, no traceback."""
    with pytest.raises(InputError) as exc:
        load_hosts(tmp_path / "nope.csv")
    issue = only_issue(exc)
    assert issue.file == "nope.csv" and "not found" in issue.rule


def test_every_bad_row_is_reported_at_once() -> None:
    """Three bad rows give three issues in one error, each with its own row and column."""
    data = csv_bytes(
        """
        model,sockets,cores_per_socket,memory_gib
        a,0,8,64
        b,1,8,64
        c,1,eight,64
        d,1,8,-1
        """
    )
    with pytest.raises(InputError) as exc:
        load_hosts(data, "hosts.csv")
    where = [(i.row, i.column) for i in exc.value.issues]
    assert where == [(2, "sockets"), (4, "cores_per_socket"), (5, "memory_gib")]
    assert "no traceback" not in str(exc.value) and "Traceback" not in str(exc.value)
    assert (
        str(exc.value.issues[0])
        == "hosts.csv, row 2, column 'sockets', value '0': must be at least 1"
    )


def test_load_catalog_collects_the_issues_of_every_file() -> None:
    """Problems in the host and the licence file come back together in one InputError."""
    with pytest.raises(InputError) as exc:
        load_catalog(hosts=BAD / "hosts_negative_cores.csv", licences=BAD / "licenses_bad_unit.csv")
    assert {i.file for i in exc.value.issues} == {
        "hosts_negative_cores.csv",
        "licenses_bad_unit.csv",
    }


def test_load_catalog_records_given_file_names() -> None:
    """A catalog built from a user's file records that file's name as the source."""
    cat = load_catalog(hosts=ROOT / "data" / "seed_example" / "hosts.csv")
    assert cat.sources["hosts"] == "hosts.csv"
    assert cat.sources["licences"] == "licenses.csv (bundled)"
    assert cat.hosts[0].threads_per_core == 1


Loader = Callable[..., object]

BAD_FILES: list[tuple[str, Loader, int | None, str | None, str]] = [
    ("hosts_missing_memory_column.csv", load_hosts, None, "memory_gib", "missing"),
    ("hosts_negative_cores.csv", load_hosts, 3, "cores_per_socket", "at least 1"),
    ("hosts_duplicate_model.csv", load_hosts, 4, "model", "also on row 2"),
    ("hosts_misspelt_price_column.csv", load_hosts, 1, "prise", "did you mean 'price'"),
    ("hosts_text_in_number.csv", load_hosts, 2, "sockets", "must be a number"),
    ("hosts_fractional_cores.csv", load_hosts, 2, "cores_per_socket", "whole number"),
    ("hosts_idle_above_max.csv", load_hosts, 2, "watts_max", "at least watts_idle"),
    ("hosts_empty_model_name.csv", load_hosts, 2, "model", "required"),
    ("hosts_header_only.csv", load_hosts, None, None, "no rows"),
    ("hosts_empty_file.csv", load_hosts, None, None, "empty"),
    ("licenses_bad_unit.csv", load_licences, 2, "unit", "must be one of"),
    ("licenses_tagged_without_tag.csv", load_licences, 2, "tag", "applies_to"),
    ("licenses_duplicate_name.csv", load_licences, 4, "name", "also on row 2"),
    ("licenses_negative_price.csv", load_licences, 2, "price", "must not be negative"),
    ("licenses_bad_period.csv", load_licences, 2, "period", "'once' or 'year'"),
    ("hypervisors_efficiency_above_one.csv", load_profiles, 2, "cpu_efficiency", "at most 1"),
    ("hypervisors_bad_boolean.csv", load_profiles, 2, "pays_hypervisor_licence", "true or false"),
]


@pytest.mark.parametrize(
    ("file", "loader", "row", "column", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_catalog_file_names_row_column_and_rule(
    file: str, loader: Loader, row: int | None, column: str | None, words: str
) -> None:
    """Each defective fixture raises one InputError issue at the defect's row and column."""
    with pytest.raises(InputError) as exc:
        loader(BAD / file)
    issue = only_issue(exc)
    assert issue.file == file
    assert (issue.row, issue.column) == (row, column)
    assert words in issue.rule


def test_bad_fixtures_are_all_exercised() -> None:
    """Every file in tests/data/catalogs is used by the parametrized test above."""
    assert {p.name for p in BAD.iterdir()} == {b[0] for b in BAD_FILES}


def test_duplicate_model_names_both_rows() -> None:
    """A repeated model name (in any case) names the row it repeats and keeps the value."""
    with pytest.raises(InputError) as exc:
        load_hosts(BAD / "hosts_duplicate_model.csv")
    assert str(only_issue(exc)) == (
        "hosts_duplicate_model.csv, row 4, column 'model', value 'r660': "
        "server model 'r660' is also on row 2: each model must be unique"
    )


def test_a_value_without_a_header_is_an_error_but_empty_trailing_columns_are_not() -> None:
    """Excel's empty trailing columns are ignored; a value under no header is reported."""
    fine = csv_bytes(
        """
        model,sockets,cores_per_socket,memory_gib,,
        R660,2,16,512,,
        """
    )
    assert len(load_hosts(fine)) == 1
    with pytest.raises(InputError) as exc:
        load_hosts(fine.replace(b"512,,", b"512,,oops"))
    assert only_issue(exc).column == "column 6"


def test_decimal_comma_gets_a_specific_hint() -> None:
    """'73,5' is refused with a hint to use a point, not silently read as 735."""
    data = b"name;family;tag;unit;price\nWS;windows-server;windows;core;73,5\n"
    with pytest.raises(InputError) as exc:
        load_licences(data)
    assert "point as decimal separator" in only_issue(exc).rule


def test_choice_values_forgive_case_and_spacing() -> None:
    """'Socket pair' and 'All hosts' read as socket_pair and all_hosts."""
    data = csv_bytes(
        """
        name,family,tag,unit,price,period,applies_to
        RHEL VDC,rhel,rhel,Socket pair,2500,Year,tagged
        VVF,vmware,,Core,135,year,All hosts
        """
    )
    rhel, vvf = load_licences(data)
    assert (rhel.unit, rhel.period, vvf.applies_to) == ("socket_pair", "year", "all_hosts")


def test_profiles_are_keyed_by_name() -> None:
    """Profiles come back as a dict by name; omitted fields take HypervisorProfile defaults."""
    profiles = load_profiles(b"name,reserved_cores\ntiny,0.5\n")
    assert profiles["tiny"].reserved_cores == 0.5
    assert profiles["tiny"].max_vms_per_host == 1024


def test_an_empty_licence_file_is_valid() -> None:
    """A licence file with a header and no rows means no licence rules, not an error."""
    assert load_licences(b"name,family,tag,unit,price\n") == ()


# --------------------------------------------------------------------------- frames


def test_host_frame_round_trip_keeps_estimates(bundled: catalog.Catalog) -> None:
    """hosts_from_frame(hosts_frame(h)) == h, estimated cells shown empty and re-estimated."""
    guessed = HostModel(model="guessed", sockets=1, cores_per_socket=8, memory_gib=64)
    hosts = (*bundled.hosts, guessed)
    frame = hosts_frame(hosts)
    assert list(frame.columns) == [
        "model", "sockets", "cores_per_socket", "memory_gib", "threads_per_core",
        "price", "watts_idle", "watts_max", "rack_units", "max_count", "dedicated_only",
    ]  # fmt: skip
    assert frame["price"].isna().tolist() == [False] * 9 + [True]
    assert hosts_from_frame(frame) == hosts


def test_edited_host_frame_reads_back_with_row_numbers() -> None:
    """An edit replaces an estimate, an empty added row is skipped, a bad cell names its row."""
    guessed = HostModel(model="guessed", sockets=1, cores_per_socket=8, memory_gib=64)
    frame = hosts_frame([guessed])
    frame.loc[0, "price"] = 1234.0
    frame.loc[1] = [None] * len(frame.columns)  # the editor's "add row" before it is typed in
    (edited,) = hosts_from_frame(frame)
    assert edited.price == 1234 and "price" not in edited.estimated

    frame.loc[2] = ["other", 2, 0, 128, 2, None, None, None, None, None, None]
    with pytest.raises(InputError) as exc:
        hosts_from_frame(frame, "host table")
    issue = only_issue(exc)
    assert (issue.file, issue.row, issue.column, issue.value) == (
        "host table",
        4,
        "cores_per_socket",
        "0",
    )


def test_licence_frame_round_trip(bundled: catalog.Catalog) -> None:
    """licences_from_frame(licences_frame(l)) == l for the bundled rules."""
    frame = licences_frame(bundled.licences)
    assert list(frame.columns)[:5] == ["name", "family", "tag", "unit", "price"]
    assert licences_from_frame(frame) == bundled.licences


def test_public_surface_is_listed_in_all() -> None:
    """Every public function and constant of planner.catalog is in __all__, and nothing else."""
    public = {
        name
        for name, obj in vars(catalog).items()
        if not name.startswith("_")
        and not isinstance(obj, ModuleType)
        and (getattr(obj, "__module__", None) == catalog.__name__ or name.isupper())
        and (inspect.isfunction(obj) or name.isupper())
    }
    assert public == set(catalog.__all__)


# --------------------------------------------------------------------------- sample data

INVENTORY = DATA_DIR / "sample_inventory.csv"
NATIVE = [
    "name", "vcpus", "memory_gib", "cpu_util_pct", "mem_util_pct", "storage_gib",
    "os", "licenses", "group", "zone", "cluster", "powerstate",
]  # fmt: skip


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return pd.read_csv(INVENTORY, keep_default_na=False, dtype={"licenses": str, "group": str})


def test_sample_inventory_is_well_formed(sample: pd.DataFrame) -> None:
    """About 500 rows, the native columns, unique names, sane sizes and utilization."""
    assert list(sample.columns) == NATIVE
    assert 450 <= len(sample) <= 550
    assert sample["name"].is_unique
    assert sample["vcpus"].isin([1, 2, 4, 8, 16, 32]).all()
    assert sample["memory_gib"].between(2, 256).all()
    assert sample["cpu_util_pct"].between(5, 70).all()
    assert sample["mem_util_pct"].between(30, 90).all()
    assert (sample["storage_gib"] > 0).all()
    assert set(sample["powerstate"]) == {"on", "off"}
    assert set(sample["cluster"]) == {"prod"}


def test_sample_inventory_has_the_listed_mix(sample: pd.DataFrame) -> None:
    """Windows/Linux split, SQL and Oracle VMs, the 2 vCPU majority, zones, groups, power."""
    windows = sample["os"].str.contains("Windows Server")
    assert 0.55 <= windows.mean() <= 0.65
    assert sample["os"].str.contains("Red Hat").any() and sample["os"].str.contains("Ubuntu").any()
    tags = sample["licenses"]
    assert (tags == "windows;sql-enterprise").sum() == 25
    assert (tags == "rhel;oracle").sum() == 6
    average = (sample["vcpus"] == 2) & sample["memory_gib"].between(4, 8)
    assert average.mean() > 0.5
    large_db = sample["vcpus"].between(16, 32) & sample["memory_gib"].between(128, 256)
    assert 2 <= large_db.sum() <= 15
    zones = sample["zone"].value_counts()
    assert set(zones.index) == {"internal", "dmz"} and 30 <= zones["dmz"] <= 50
    assert 1 <= (sample["powerstate"] == "off").sum() <= 15
    groups = sample.loc[sample["group"] != "", "group"].value_counts()
    assert groups["ad-dc"] == 4 and groups["dmz-web-farm"] == 4
    assert (groups.filter(like="sql-ag") == 2).sum() >= 2
    # some plain Windows and RHEL VMs leave the licence to be inferred from the OS text
    assert ((tags == "") & windows).sum() > 0
    assert ((tags == "") & sample["os"].str.contains("Red Hat")).sum() > 0


def test_every_group_stays_in_one_zone(sample: pd.DataFrame) -> None:
    """Anti-affinity groups never straddle security zones (they would constrain nothing)."""
    grouped = sample[sample["group"] != ""]
    assert (grouped.groupby("group")["zone"].nunique() == 1).all()


def test_every_sample_vm_fits_the_largest_bundled_host(
    sample: pd.DataFrame, bundled: catalog.Catalog
) -> None:
    """With type1 overheads, max_utilization 0.8 and no CPU overcommit, each VM fits alone."""
    t1, policy = bundled.profiles["vsphere"], Policy(max_utilization=0.8, cpu_overcommit=1.0)
    big = max(bundled.hosts, key=lambda h: (h.cores, h.memory_gib))
    cpu_cap = (big.cores - t1.reserved_cores) * policy.max_utilization
    mem_cap = (big.memory_gib - t1.reserved_memory_gib) * policy.max_utilization
    for vm in sample.itertuples():
        vcpus, memory = int(vm.vcpus), float(vm.memory_gib)
        overhead = t1.vm_memory_overhead_mib / 1024 + memory * t1.vm_memory_overhead_pct / 100
        assert vcpus / t1.cpu_efficiency <= cpu_cap, vm.name
        assert vcpus <= min(big.logical_cpus, t1.max_vcpus_per_vm), vm.name
        assert memory + overhead <= mem_cap, vm.name


def load_generator() -> ModuleType:
    path = ROOT / "scripts" / "make_sample_inventory.py"
    spec = importlib.util.spec_from_file_location("make_sample_inventory", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_sample_inventory_is_what_the_seeded_generator_writes() -> None:
    """Re-running scripts/make_sample_inventory.py reproduces the bundled file byte for byte."""
    generator = load_generator()
    assert generator.render(generator.generate()) == INVENTORY.read_text(encoding="utf-8")
    other = generator.render(generator.generate(seed=1))
    assert other != INVENTORY.read_text(encoding="utf-8")


def test_seed_example_is_a_ready_case() -> None:
    """The seed case's files parse, and its arithmetic gives exactly 3 hosts."""
    seed = DATA_DIR / "seed_example"
    with (seed / "policy.toml").open("rb") as fh:
        values = tomllib.load(fh)
    assert set(values) <= set(Policy.model_fields)
    policy = Policy(**values)
    assert (policy.hypervisor, policy.objective, policy.ha_host_failures) == ("none", "hosts", 0)
    (host,) = load_hosts(seed / "hosts.csv")
    assert (host.sockets, host.cores_per_socket, host.memory_gib, host.threads_per_core) == (
        1,
        8,
        16,
        1,
    )
    vms = pd.read_csv(seed / "inventory.csv")
    assert len(vms) == 10 and (vms["vcpus"] == 2).all() and (vms["memory_gib"] == 2).all()
    per_host = min(host.cores // 2, int(host.memory_gib // 2))
    assert per_host == 4 and math.ceil(len(vms) / per_host) == 3
    assert "exactly 3 hosts" in (seed / "README.md").read_text(encoding="utf-8")


def test_sample_inventory_reads_as_csv_text() -> None:
    """The file is plain UTF-8 with a single header line (no BOM), as the generator writes it."""
    head = io.StringIO(INVENTORY.read_text(encoding="utf-8")).readline().strip()
    assert head == ",".join(NATIVE)
