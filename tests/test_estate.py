"""Today's estate: the host list, name matching, owned hosts as models, fewest moves."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main
from planner.errors import InputError
from planner.estate import Estate, estate_catalog, match_hosts, read_host_list
from planner.ingest import read_inventory
from planner.models import VM, Plan, Policy, Problem, SolverParams
from planner.pipeline import run
from planner.report import placement_frame, plan_to_dict
from planner.verify import verify
from tests.conftest import PURE, catalog, host, inventory

VHOST = dedent(
    """\
    Host,Cluster,# CPU,Cores per CPU,# Cores,# Memory,HT Active,in Maintenance Mode
    esx1.corp.example,Prod,2,8,16,262144,True,False
    ESX2.corp.example,Prod,1,8,8,131072,False,True
    esx3,Dev,2,4,8,65536,False,False
    """
).encode()


def _hosts(*rows: tuple[str, int, float], cluster: str = "") -> Estate:
    """An estate of one-socket hosts: (name, cores, GiB)."""
    lines = ["Host,Cluster,# CPU,Cores per CPU,# Memory,HT Active"]
    lines += [f"{n},{cluster},1,{c},{int(g * 1024)},False" for n, c, g in rows]
    return read_host_list(("\n".join(lines) + "\n").encode(), name="vHost.csv")


def _vm(name: str, vcpus: int, on: str, mem: float = 1.0) -> VM:
    return VM(name=name, vcpus=vcpus, memory_gib=mem, host=on)


def _plan(vms: list[VM], estate: Estate, **policy: object) -> tuple[Problem, Plan]:
    pol = Policy.model_validate({**PURE.model_dump(), "estate": "existing", **policy})
    params = SolverParams(time_limit_s=20)
    return run(inventory(*vms), catalog(host("catalog-model")), pol, params, estate=estate)


# --------------------------------------------------------------------------- host list


def test_vhost_csv_reads_sockets_cores_memory_threads_and_maintenance() -> None:
    """vHost rows become owned models: MiB to GiB, HT active -> 2 threads, max_count 1."""
    estate = read_host_list(VHOST, name="RVTools_tabvHost.csv")
    h1, h2, h3 = estate.hosts
    assert (h1.model, h1.sockets, h1.cores_per_socket, h1.memory_gib) == (
        "esx1.corp.example",
        2,
        8,
        256.0,
    )
    assert (h1.threads_per_core, h2.threads_per_core) == (2, 1)
    assert all(h.owned and h.max_count == 1 and h.purchase_cost == 0 for h in estate.hosts)
    assert h3.cluster == "Dev"
    assert estate.maintenance == ("ESX2.corp.example",)


def test_live_optics_esx_hosts_sheet_reads_kib_and_total_cores() -> None:
    """Live Optics gives total cores and KiB: cores per socket and GiB are derived."""
    data = b"Host Name,CPU Sockets,CPU Cores,CPU Threads,Memory (KiB)\nlo1,2,24,48,268435456\n"
    (h,) = read_host_list(data, name="hosts.csv").hosts
    assert (h.sockets, h.cores_per_socket, h.memory_gib, h.threads_per_core) == (2, 12, 256.0, 2)


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        (",,2,8,16,1024,True", "Host", "needs the host's name"),
        ("esx8,,2,8,17,1024,True", "# Cores", "disagrees with 2 sockets x 8"),
        ("esx9,,0,8,0,1024,True", "# CPU", "whole number"),
        ("esx9,,2,8,16,0,True", "# Memory", "greater than 0"),
        ("ESX1,,2,8,16,1024,True", "Host", "duplicate host name; first seen at row 2"),
    ],
    ids=["no-name", "cores-disagree", "zero-sockets", "zero-memory", "duplicate-name"],
)
def test_host_rows_that_make_no_sense_are_reported_with_row_and_column(
    row: str, column: str, rule: str
) -> None:
    """A senseless host row is an input error naming its row, column and the rule."""
    data = (
        "Host,Cluster,# CPU,Cores per CPU,# Cores,# Memory,HT Active\n"
        f"esx1,,2,8,16,1024,True\n{row}\n"
    ).encode()
    with pytest.raises(InputError) as err:
        read_host_list(data, name="vHost.csv")
    (issue,) = err.value.issues
    assert (issue.row, issue.column) == (3, column)
    assert rule in issue.rule


def test_a_file_without_host_columns_says_how_to_give_the_host_list() -> None:
    """An inventory CSV read as a host list: the error names --current-hosts."""
    with pytest.raises(InputError, match="--current-hosts"):
        read_host_list(b"name,vcpus,memory_gib\na,1,1\n", name="inv.csv")


# --------------------------------------------------------------------------- names


def test_host_names_match_up_to_case_and_domain_only() -> None:
    """FQDN, short name and case are forgiven; a prefix is not (reported with a hint)."""
    estate = read_host_list(VHOST, name="vHost.csv")
    vms = [
        _vm("a", 1, "ESX1.CORP.EXAMPLE"),
        _vm("b", 1, "esx2"),
        _vm("c", 1, "esx3.other.example"),
        _vm("d", 1, "boesx3"),
        _vm("e", 1, ""),
    ]
    matched, report = match_hosts(inventory(*vms), estate)
    assert [v.host for v in matched.vms] == [
        "esx1.corp.example",
        "ESX2.corp.example",
        "esx3",
        "boesx3",
        "",
    ]
    assert report.unmatched == {"": ("e",), "boesx3": ("d",)}
    assert any("boesx3" in n and "the list has esx3" in n for n in report.notes)


def test_a_short_name_shared_by_two_hosts_is_not_guessed() -> None:
    """Two listed hosts with one short name: the VM's short name matches neither."""
    estate = _hosts(("esx1.a.example", 4, 8), ("esx1.b.example", 4, 8))
    _, report = match_hosts(inventory(_vm("a", 1, "esx1")), estate)
    assert report.unmatched == {"esx1": ("a",)}


def test_existing_estate_offers_catalog_models_to_the_dedicated_baseline_only() -> None:
    """estate = existing: owned hosts to plan; catalog models dedicated-only; retire caps 0."""
    estate = _hosts(("h1", 4, 8), ("h2", 4, 8))
    policy = Policy(estate="existing", retire_hosts=("H2",))
    cat = estate_catalog(catalog(host("new")), estate, policy)
    by_name = {h.model: h for h in cat.hosts}
    assert by_name["new"].dedicated_only
    assert by_name["h1"].max_count == 1 and by_name["h2"].max_count == 0
    with pytest.raises(InputError, match="not a host of the host list"):
        estate_catalog(catalog(), estate, Policy(estate="existing", retire_hosts=("h9",)))


def test_rvtools_vinfo_host_column_is_each_vms_current_host(tmp_path: Path) -> None:
    """vInfo ``Host`` is read into ``VM.host``."""
    f = tmp_path / "RVTools_tabvInfo.csv"
    f.write_text("VM,Powerstate,CPUs,Memory,Host\nweb1,poweredOn,2,4096,esx1.corp.example\n")
    (vm,) = read_inventory(f).vms
    assert vm.host == "esx1.corp.example"


# --------------------------------------------------------------------------- plans


def test_fewest_hosts_then_fewest_moves_on_owned_hosts() -> None:
    """Two hosts suffice; keeping h2 and h3 needs one move (the 4-vCPU VM), fewer than any
    other pair: the plan keeps them, retires h1, and proves both numbers."""
    estate = _hosts(("h1", 8, 16), ("h2", 8, 16), ("h3", 8, 16))
    vms = [
        _vm("big", 4, "h1"),
        _vm("b1", 2, "h2"),
        _vm("b2", 2, "h2"),
        _vm("c1", 2, "h3"),
        _vm("c2", 2, "h3"),
        _vm("c3", 2, "h3"),
    ]
    problem, plan = _plan(vms, estate)
    assert plan.status == "optimal"
    assert sorted(h.id for h in plan.hosts) == ["h2", "h3"]
    assert plan.migration is not None
    assert [(m.vm, m.source, m.target) for m in plan.migration.moves] == [("big", "h1", "h2")]
    assert plan.migration.moves_proven and plan.migration.moves_bound == 1
    assert [h.id for h in plan.migration.retired] == ["h1"]
    data = plan_to_dict(plan, problem)
    assert data["summary"]["retired_host_count"] == 1
    assert data["summary"]["moved_vm_count"] == 1
    assert {h["id"]: (h["role"], h["existing"]) for h in data["hosts"]}["h1"] == ("retired", True)
    row = placement_frame(plan, problem).set_index("vm").loc["big"]
    assert (row["current_host"], row["moved"], row["wave"]) == ("h1", True, 1)


def test_max_moves_keeps_more_hosts_when_the_fewest_need_more_moves() -> None:
    """Two full hosts need two moves; with max_moves = 1 the plan keeps all three."""
    estate = _hosts(("h1", 8, 16), ("h2", 8, 16), ("h3", 8, 16))
    vms = [_vm("big", 6, "h1"), _vm("b1", 2, "h2"), _vm("b2", 2, "h2")]
    vms += [_vm(f"c{i}", 2, "h3") for i in range(3)]
    _, free = _plan(vms, estate)
    assert len(free.hosts) == 2 and free.migration and free.migration.moved_vms == 2
    _, capped = _plan(vms, estate, max_moves=1)
    assert len(capped.hosts) == 3
    assert capped.migration is not None and capped.migration.moved_vms <= 1


def test_max_moves_zero_is_todays_placement_with_every_violation_listed() -> None:
    """Nothing moves; an overloaded host and an unknown host are named, status partial."""
    estate = _hosts(("h1", 8, 16), ("h2", 8, 16))
    vms = [_vm("a", 6, "h1"), _vm("b", 4, "h1"), _vm("c", 2, "h2"), _vm("d", 1, "gone")]
    _, plan = _plan(vms, estate, max_moves=0)
    assert plan.migration is not None and not plan.migration.moves
    assert plan.status == "partial"
    assert any(
        "host h1: vCPU demand 10000 m > capacity 8000 m" in v for v in plan.migration.violations
    )
    assert [u.vm for u in plan.unplaced] == ["d"]
    assert plan.migration.unmatched == {"gone": ("d",)}


def test_unmatched_vm_is_planned_like_a_new_vm_and_counts_as_a_move() -> None:
    """A VM on a host the list lacks is placed, and its placement is a move."""
    estate = _hosts(("h1", 8, 16))
    _, plan = _plan([_vm("a", 1, "h1"), _vm("b", 1, "elsewhere")], estate)
    assert plan.migration is not None
    assert [(m.vm, m.source, m.target) for m in plan.migration.moves] == [("b", "", "h1")]
    assert plan.migration.moved_vms == 1


def test_existing_estate_without_a_host_list_is_an_input_error() -> None:
    """estate = existing with no host list says where to give one."""
    with pytest.raises(InputError, match="--current-hosts"):
        run(inventory(_vm("a", 1, "h1")), catalog(), PURE.model_copy(update={"estate": "existing"}))


def test_cli_current_hosts_with_a_new_estate_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--current-hosts with estate = new: exit 2 and one line saying what to set."""
    inv = tmp_path / "inv.csv"
    inv.write_text("name,vcpus,memory_gib,host\na,1,1,h1\n")
    hosts = tmp_path / "vhost.csv"
    hosts.write_bytes(VHOST)
    assert main(["plan", str(inv), "--current-hosts", str(hosts), "--quiet"]) == 2
    assert "set estate = existing or mixed" in capsys.readouterr().err


def test_cli_writes_the_migration_to_json(tmp_path: Path) -> None:
    """Through the CLI: owned hosts named, the moves in the JSON's migration."""
    inv = tmp_path / "inv.csv"
    inv.write_text("name,vcpus,memory_gib,host\na,2,2,h1\nb,2,2,h2\n")
    hosts = tmp_path / "vhost.csv"
    hosts.write_text("Host,# CPU,Cores per CPU,# Memory\nh1,1,8,16384\nh2,1,8,16384\n")
    out = tmp_path / "plan.json"
    sets = ["estate=existing", "objective=hosts", "hypervisor=none", "ha_host_failures=0"]
    args = ["plan", str(inv), "--current-hosts", str(hosts), "--quiet", "--json", str(out)]
    code = main([*args, *(x for s in sets for x in ("--set", s))])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["summary"]["host_count"] == 1 and data["summary"]["retired_host_count"] == 1
    assert len(data["migration"]["moves"]) == 1


# --------------------------------------------------------------------------- properties


def _brute_force(
    vms: list[VM], caps: dict[str, int], mem_caps: dict[str, float]
) -> tuple[int, int]:
    """(fewest hosts, then fewest moves) over every assignment of the VMs to the hosts."""
    names = list(caps)
    best = (len(names) + 1, len(vms) + 1)
    for combo in itertools.product(names, repeat=len(vms)):
        cpu = dict.fromkeys(names, 0)
        mem = dict.fromkeys(names, 0.0)
        for vm, h in zip(vms, combo, strict=True):
            cpu[h] += vm.vcpus
            mem[h] += vm.memory_gib
        if all(cpu[h] <= caps[h] and mem[h] <= mem_caps[h] for h in names):
            moves = sum(vm.host != h for vm, h in zip(vms, combo, strict=True))
            best = min(best, (len(set(combo)), moves))
    return best


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2)), min_size=1, max_size=6),
    st.lists(st.integers(4, 8), min_size=3, max_size=3),
)
def test_fewest_hosts_and_moves_match_brute_force(
    spec: list[tuple[int, int]], cores: list[int]
) -> None:
    """Every VM is accounted once; the kept host count and the moves equal an exhaustive
    search's; the moves are exactly the VMs whose host changed; the waves verify."""
    names = ["h0", "h1", "h2"]
    estate = _hosts(*((n, c, 64) for n, c in zip(names, cores, strict=True)))
    vms = [_vm(f"v{i}", cpus, names[on]) for i, (cpus, on) in enumerate(spec)]
    problem, plan = _plan(vms, estate)
    assert not verify(plan, problem)
    placed = [vm for h in plan.hosts for vm in h.vms] + [u.vm for u in plan.unplaced]
    assert sorted(placed) == sorted(v.name for v in vms)
    hosts, moves = _brute_force(vms, dict(zip(names, cores, strict=True)), dict.fromkeys(names, 64))
    if hosts > len(names):  # no assignment holds them: the plan says so
        assert plan.status in ("partial", "infeasible")
        return
    assert plan.migration is not None
    assert (len(plan.hosts), plan.migration.moved_vms) == (hosts, moves)
    where = {vm: h.id for h in plan.hosts for vm in h.vms}
    assert plan.migration.moved_vms == sum(where[v.name] != v.host for v in vms)
