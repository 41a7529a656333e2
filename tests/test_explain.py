"""Why this many hosts: the binding reason per partition and the price of each rule."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from markupsafe import escape
from openpyxl import load_workbook

from planner.catalog import load_catalog
from planner.cli import main
from planner.explain import explain_plan, price_rules
from planner.ingest import read_inventory
from planner.models import (
    VM,
    Catalog,
    HypervisorProfile,
    Inventory,
    Licence,
    Plan,
    Policy,
    Problem,
    RulePrice,
    SolverParams,
)
from planner.pipeline import run
from planner.report import html_report, plan_to_dict, workbook_bytes
from tests.conftest import PURE, catalog, host, inventory, vms
from tests.test_properties import scenarios

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_inventory.csv"

ORACLE = Licence(
    name="Oracle EE per core",
    family="oracle",
    tag="oracle",
    unit="core",
    price=1000.0,
    scope="cluster",
)

#: Hosts filled to 80 %, 2 vCPU per core, N+1: every rule family has something to price.
RULED = Policy(
    hypervisor="none",
    cpu_overcommit=2,
    memory_overcommit=1,
    max_utilization=0.8,
    ha_host_failures=1,
    objective="hosts",
)
RULED_PARAMS = SolverParams(time_limit_s=10)


def _ruled_inventory() -> Inventory:
    """Two clusters, a DMZ, an anti-affinity group wider than capacity, an Oracle island."""
    return inventory(
        *vms(6, vcpus=2, mem=4, prefix="app", cluster="a", zone="int"),
        *vms(3, vcpus=1, mem=1, prefix="web", cluster="a", zone="dmz", group="web"),
        *vms(3, vcpus=2, mem=3, prefix="b", cluster="b", zone="int"),
        VM(name="ora", vcpus=2, memory_gib=2, cluster="a", zone="int", licences=("oracle",)),
    )


def _ruled_catalog() -> Catalog:
    return catalog(host(), licences=(ORACLE,))


def _without(
    rule: RulePrice, inv: Inventory, cat: Catalog, pol: Policy
) -> tuple[Inventory, Catalog, Policy]:
    """The scenario without ``rule``, rebuilt here independently of planner.explain."""

    def relabel(f: Callable[[VM], dict[str, object]]) -> Inventory:
        return inv.model_copy(update={"vms": tuple(vm.model_copy(update=f(vm)) for vm in inv.vms)})

    if rule.kind == "N+k":
        return inv, cat, pol.model_copy(update={"ha_host_failures": 0})
    if rule.kind == "cluster separation":
        return relabel(lambda vm: {"cluster": ""}), cat, pol
    if rule.kind == "zone separation":
        return relabel(lambda vm: {"zone": "int"}), cat, pol
    if rule.kind == "anti-affinity group":
        return relabel(lambda vm: {"group": "" if vm.group == rule.name else vm.group}), cat, pol
    if rule.kind == "licence island":  # every VM of cluster a / int needs the licence
        host_scoped = tuple(lic.model_copy(update={"scope": "host"}) for lic in cat.licences)
        tagged = relabel(
            lambda vm: {"licences": ("oracle",)} if (vm.cluster, vm.zone) == ("a", "int") else {}
        )
        return tagged, cat.model_copy(update={"licences": host_scoped}), pol
    if rule.kind == "utilisation ceiling":
        return inv, cat, pol.model_copy(update={"max_utilization": 1.0})
    if rule.kind == "CPU overcommit":
        return inv, cat, pol.model_copy(update={"cpu_overcommit": pol.cpu_overcommit + 0.5})
    raise AssertionError(f"unexpected rule kind {rule.kind}")


@pytest.fixture(scope="module")
def ruled() -> tuple[Problem, Plan]:
    """The small ruled scenario, planned and explained (every plan here is proven)."""
    problem, plan = run(_ruled_inventory(), _ruled_catalog(), RULED, RULED_PARAMS)
    return problem, explain_plan(problem, plan, run)


@pytest.fixture(scope="module")
def sample() -> tuple[Problem, Plan]:
    """The bundled sample with objective hosts, planned and explained."""
    problem, plan = run(read_inventory(SAMPLE), load_catalog(), Policy(objective="hosts"))
    return problem, explain_plan(problem, plan, run)


def test_sample_dmz_partition_is_bound_by_the_dmz_web_farm_group(
    sample: tuple[Problem, Plan],
) -> None:
    """On the sample, prod / dmz's host count is explained by the group dmz-web-farm."""
    _, plan = sample
    dmz = next(p for p in plan.explanation.partitions if p.cluster == "prod / dmz")
    assert dmz.binding == "anti-affinity group dmz-web-farm"
    assert "group dmz-web-farm has 4 members" in dmz.text
    assert dmz.capacity_hosts < 4
    assert dmz.hosts == sum(1 for h in plan.hosts if h.partition == "prod / dmz")


def test_sample_price_of_dmz_web_farm_is_confirmed_by_replanning_without_it(
    sample: tuple[Problem, Plan],
) -> None:
    """The hosts the dmz-web-farm entry says it adds are the hosts a re-plan without it saves."""
    problem, plan = sample
    rule = next(r for r in plan.explanation.rules if r.name == "dmz-web-farm")
    inv, cat, pol = _without(rule, problem.inventory, problem.catalog, problem.policy)
    _, alt = run(inv, cat, pol)
    assert plan.status == alt.status == "optimal"
    assert rule.proven
    assert rule.hosts > 0
    assert rule.hosts == len(plan.hosts) - len(alt.hosts)


def test_every_rule_price_is_reproduced_by_replanning_without_the_rule(
    ruled: tuple[Problem, Plan],
) -> None:
    """Each rules entry's hosts (and, where exact, cost) equals plan minus a re-plan without it."""
    problem, plan = ruled
    kinds = {r.kind for r in plan.explanation.rules}
    assert kinds == {
        "N+k",
        "cluster separation",
        "zone separation",
        "anti-affinity group",
        "licence island",
        "utilisation ceiling",
        "CPU overcommit",
    }
    for rule in plan.explanation.rules:
        _, alt = run(*_without(rule, problem.inventory, problem.catalog, problem.policy))
        assert plan.status == alt.status == "optimal", rule
        assert rule.proven, rule
        assert rule.hosts == len(plan.hosts) - len(alt.hosts), rule
        assert rule.cost == pytest.approx(plan.cost.total - alt.cost.total, abs=0.01), rule


def test_ruled_scenario_prices_match_the_hand_count(ruled: tuple[Problem, Plan]) -> None:
    """Hand count: N+1 adds 4 spares, the group 2 hosts, the DMZ 3, separate clusters 1."""
    _, plan = ruled
    hosts = {r.kind: r.hosts for r in plan.explanation.rules}
    assert len(plan.hosts) == 11
    assert hosts["N+k"] == 4
    assert hosts["anti-affinity group"] == 2
    assert hosts["zone separation"] == 3
    assert hosts["cluster separation"] == 1
    assert hosts["licence island"] == 1


def test_island_alternative_licenses_every_host_of_its_cluster(
    ruled: tuple[Problem, Plan],
) -> None:
    """Without the island, every host of cluster a / int, spares included, pays for Oracle."""
    problem, plan = ruled
    rule = next(r for r in plan.explanation.rules if r.kind == "licence island")
    _, alt = run(*_without(rule, problem.inventory, problem.catalog, problem.policy))
    merged = [h for h in alt.hosts if h.partition == "a / int"]
    assert len(merged) == 4  # 3 active (26 GiB on 12.8 GiB hosts) + 1 spare
    assert all(any(u.tag == "oracle" for u in h.licences) for h in merged)
    assert rule.cost < 0  # the island saves the licence on the other hosts


def test_rules_are_sorted_by_the_objective_most_expensive_first(
    ruled: tuple[Problem, Plan],
) -> None:
    """With objective hosts the rules come by hosts added, ties by cost, highest first."""
    keys = [(r.hosts, r.cost) for r in ruled[1].explanation.rules]
    assert keys == sorted(keys, reverse=True)
    assert keys[0][0] == 4  # N+1: one spare in each of the four partitions


def _counting(
    calls: list[tuple[Inventory, Catalog, Policy, SolverParams]],
) -> Callable[..., tuple[Problem, Plan]]:
    def replan(
        inv: Inventory, cat: Catalog, pol: Policy, params: SolverParams
    ) -> tuple[Problem, Plan]:
        calls.append((inv, cat, pol, params))
        return run(inv, cat, pol, params)

    return replan


def test_group_within_capacity_is_not_replanned() -> None:
    """A group smaller than what capacity needs anyway cannot move the bound: no re-plan."""
    inv = inventory(*vms(8, vcpus=4, mem=4), *vms(2, vcpus=1, mem=1, prefix="g", group="small"))
    problem, plan = run(inv, catalog(), RULED, RULED_PARAMS)
    calls: list[tuple[Inventory, Catalog, Policy, SolverParams]] = []
    rules, _ = price_rules(problem, plan, _counting(calls))
    assert all(r.kind != "anti-affinity group" for r in rules)
    assert all(all(vm.group == "small" for vm in c[0].vms if vm.name[0] == "g") for c in calls)


def test_replans_are_capped_and_share_the_budget(ruled: tuple[Problem, Plan]) -> None:
    """With a cap of two re-plans, two are made, each with half the budget, the rest noted."""
    problem, plan = ruled
    calls: list[tuple[Inventory, Catalog, Policy, SolverParams]] = []
    rules, notes = price_rules(problem, plan, _counting(calls), budget_s=6.0, max_resolves=2)
    assert len(calls) == 2
    assert {c[3].time_limit_s for c in calls} == {3.0}
    assert [r.kind for r in rules].count("N+k") == 1  # N+k needs no re-plan
    assert any("not priced (at most 2 re-plans)" in n for n in notes)


def test_partition_bound_by_memory_says_so() -> None:
    """Ten 6 GiB VMs on hosts with 12.8 usable GiB: memory binds and the text says so."""
    _, plan = run(inventory(*vms(10, vcpus=1, mem=6)), catalog(), RULED, RULED_PARAMS)
    (reason,) = plan.explanation.partitions
    assert reason.binding == "memory"
    assert reason.hosts == len(plan.hosts)
    assert "memory needs" in reason.text


def test_partition_bound_by_a_model_cap_names_the_model() -> None:
    """With the large model capped at one host, small hosts make up and the cap is named."""
    cat = catalog(host("big", cores=32, mem=64, max_count=1), host("small", cores=8, mem=16))
    _, plan = run(inventory(*vms(12, vcpus=2, mem=8)), cat, RULED, RULED_PARAMS)
    (reason,) = plan.explanation.partitions
    assert reason.binding == "model cap"
    assert "big" in reason.text


def test_partition_count_is_the_plans_when_a_cap_leaves_spares_missing() -> None:
    """N+2 with the only model capped at two hosts: one active host and one spare, and the
    partition's text counts those two and names the missing spare (it said 1 + 2 = 3)."""
    cat = catalog(host("m0", cores=4, mem=16, max_count=2))
    pol = RULED.model_copy(update={"ha_host_failures": 2})
    _, plan = run(inventory(*vms(1, vcpus=1, mem=0.5)), cat, pol, RULED_PARAMS)
    assert plan.status == "partial"
    (reason,) = plan.explanation.partitions
    assert reason.hosts == len(plan.hosts) == 2
    assert "(1 active + 1 spare for N+2)" in reason.text
    assert "lacks 1 spare" in reason.text


def test_plan_json_carries_partitions_always_and_rules_when_explained(
    ruled: tuple[Problem, Plan],
) -> None:
    """The JSON 'explanation' has partitions on every plan; rules only once priced."""
    problem, explained = ruled
    _, plain = run(_ruled_inventory(), _ruled_catalog(), RULED, RULED_PARAMS)
    data = plan_to_dict(plain, problem)["explanation"]
    assert [p["cluster"] for p in data["partitions"]] == [
        p.cluster for p in explained.explanation.partitions
    ]
    assert data["rules"] == []
    rules = plan_to_dict(explained, problem)["explanation"]["rules"]
    assert {"kind", "name", "hosts", "cost", "proven"} <= set(rules[0])


def test_cli_explain_flag_fills_the_rules(tmp_path: Path) -> None:
    """`planner plan --explain` writes priced rules into the JSON; without it they are empty."""
    src = tmp_path / "inv.csv"
    src.write_text(
        "name,vcpus,memory_gib,group\n" + "".join(f"w{i},1,1,farm\n" for i in range(3)),
        encoding="utf-8",
    )
    for flag, expected in (([], 0), (["--explain"], 1)):
        out = tmp_path / f"plan{len(flag)}.json"
        code = main(["plan", str(src), "--json", str(out), "--quiet", *flag])
        assert code == 0
        rules = json.loads(out.read_text(encoding="utf-8"))["explanation"]["rules"]
        assert len([r for r in rules if r["kind"] == "N+k"]) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_partition_reasons_account_for_every_host(
    scenario: tuple[list[VM], Catalog, Policy],
) -> None:
    """The partitions' host counts add up to the plan's; a reason short of capacity is a cap."""
    vm_list, cat, pol = scenario
    _, plan = run(inventory(*vm_list), cat, pol)
    reasons = plan.explanation.partitions
    if plan.status != "infeasible":
        assert sum(r.hosts for r in reasons) == len(plan.hosts)
    for r in reasons:
        assert r.text.startswith(f"{r.cluster}: {r.hosts} host")
        assert r.capacity_hosts <= r.hosts or r.binding == "model cap"


def test_html_summary_shows_the_three_most_expensive_rules(ruled: tuple[Problem, Plan]) -> None:
    """The executive summary lists the top three rules by cost and every partition's reason."""
    problem, plan = ruled
    page = html_report(plan, problem)
    summary = page[page.index('id="summary"') : page.index('id="comparison"')]
    top, rest = plan.explanation.rules[:3], plan.explanation.rules[3:]
    for r in top:
        assert f"{r.kind} {r.name}:" in summary
    assert all(f"{r.kind} {r.name}:" not in summary for r in rest)
    for p in plan.explanation.partitions:
        assert str(escape(p.text)) in summary


def test_workbook_explanation_sheet_lists_partitions_and_rules(
    ruled: tuple[Problem, Plan],
) -> None:
    """The 'Explanation' sheet holds each partition's binding rule and each rule's price."""
    problem, plan = ruled
    wb = load_workbook(io.BytesIO(workbook_bytes(plan, problem)))
    cells = [c for row in wb["Explanation"].iter_rows(values_only=True) for c in row if c]
    assert {p.binding for p in plan.explanation.partitions} <= set(cells)
    assert {r.name for r in plan.explanation.rules} <= set(cells)
    assert len(wb["Explanation"]._charts) == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_dropping_a_rule_never_needs_more_hosts_when_both_plans_are_proven(
    scenario: tuple[list[VM], Catalog, Policy],
) -> None:
    """Each priced rule but the island only constrains, so proven prices are never negative."""
    vm_list, cat, pol = scenario
    pol = pol.model_copy(update={"objective": "hosts"})
    problem, plan = run(inventory(*vm_list), cat, pol, SolverParams(time_limit_s=2.0))
    rules, _ = price_rules(problem, plan, run)
    for rule in rules:
        if rule.proven and rule.kind != "licence island":
            assert rule.hosts >= 0, rule


def test_group_binding_in_two_zones_is_priced_once() -> None:
    """A group that binds both of its zones is one rule: re-planned once, listed once."""
    inv = inventory(
        *vms(3, vcpus=1, mem=1, prefix="d", zone="dmz", group="g"),
        *vms(3, vcpus=1, mem=1, prefix="i", zone="int", group="g"),
    )
    problem, plan = run(inv, catalog(), RULED, RULED_PARAMS)
    calls: list[tuple[Inventory, Catalog, Policy, SolverParams]] = []
    rules, _ = price_rules(problem, plan, _counting(calls))
    groups = [r for r in rules if r.kind == "anti-affinity group"]
    assert [(r.name, r.hosts) for r in groups] == [("g", 4)]  # 3 + 3 hosts become 1 + 1
    assert sum(1 for c in calls if all(vm.group == "" for vm in c[0].vms)) == 1


def test_nothing_to_place_prices_nothing() -> None:
    """When no VM fits any host there is no rule to price and no re-plan is made."""
    problem, plan = run(inventory(*vms(2, vcpus=64, mem=1)), catalog(), RULED, RULED_PARAMS)
    calls: list[tuple[Inventory, Catalog, Policy, SolverParams]] = []
    assert price_rules(problem, plan, _counting(calls)) == ((), ())
    assert calls == []
    assert plan.explanation.partitions == ()


def test_partition_bound_by_the_vm_count_limit_says_so() -> None:
    """Six tiny VMs under a profile that allows two VMs per host: the VM-count limit binds."""
    narrow = HypervisorProfile(name="none", pays_hypervisor_licence=False, max_vms_per_host=2)
    cat = catalog().model_copy(update={"profiles": {"none": narrow}})
    _, plan = run(inventory(*vms(6, vcpus=1, mem=1)), cat, RULED, RULED_PARAMS)
    (reason,) = plan.explanation.partitions
    assert reason.binding == "vm count"
    assert "the VM-count limit needs 3 hosts" in reason.text
    assert reason.hosts == 4  # 3 active + 1 spare


def test_partition_above_every_bound_is_explained_by_packing() -> None:
    """(6, 5), (5, 6), (5, 5) on 10-core 10 GiB hosts: no two share, though each bound says 2."""
    pure = RULED.model_copy(
        update={"max_utilization": 1.0, "cpu_overcommit": 1, "ha_host_failures": 0}
    )
    inv = inventory(
        VM(name="a", vcpus=6, memory_gib=5),
        VM(name="b", vcpus=5, memory_gib=6),
        VM(name="c", vcpus=5, memory_gib=5),
    )
    _, plan = run(inv, catalog(host(cores=10, mem=10)), pure)
    (reason,) = plan.explanation.partitions
    assert plan.status == "optimal"
    assert (reason.hosts, reason.capacity_hosts, reason.binding) == (3, 2, "packing")
    assert "proven: the VMs' sizes do not pack into 2 hosts" in reason.text


def test_partition_reasons_count_the_spares_the_plan_has() -> None:
    """The reasons count the spares the plan really has: one of N+2 where max_count leaves
    room for one, and one per planned cluster where a partition is split into clusters."""
    capped = host("m0", cores=4, mem=16, max_count=2)
    policy = PURE.model_copy(update={"ha_host_failures": 2, "objective": "cost"})
    _, plan = run(inventory(*vms(1, vcpus=1, mem=0.5)), catalog(capped), policy)
    (reason,) = plan.explanation.partitions
    assert reason.hosts == len(plan.hosts) == 2
    assert "(1 active + 1 spare for N+2)" in reason.text
    split = PURE.model_copy(update={"ha_host_failures": 1, "max_cluster_hosts": 3})
    _, plan = run(inventory(*vms(8, vcpus=4, mem=4)), catalog(host(cores=8, mem=16)), split)
    (reason,) = plan.explanation.partitions
    assert len(plan.spare_hosts) == 2
    assert reason.hosts == len(plan.hosts) == 6
