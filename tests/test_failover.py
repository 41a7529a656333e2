"""Failure simulation: one failure per host, and k simultaneous failures against brute force;
the tree of free room it (and first fit) searches."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import failover
from planner.failover import simulate_failures
from planner.heuristic import RoomTree
from planner.models import VM, Catalog, HostPlan, Policy, Problem, SizedVM, SolverParams
from planner.pipeline import run
from planner.report import html_report, plan_json_bytes, plan_summary
from tests.conftest import NONE, PURE, WIN_STD, catalog, host, inventory, vms


def _restartable(problem: Problem, hosts: Sequence[HostPlan], failed: set[int]) -> bool:
    """Brute force: can every VM of the ``failed`` hosts go to some survivor of its partition
    (capacity, model, anti-affinity, licence coverage), trying every assignment?"""
    by_name = {v.name: v for v in problem.vms}
    part = hosts[next(iter(failed))].partition
    survivors = [h for i, h in enumerate(hosts) if i not in failed and h.partition == part]
    free = [
        [h.cpu_cap_m - h.cpu_used_m, h.mem_cap_mib - h.mem_used_mib, h.vm_cap - h.vm_count]
        for h in survivors
    ]
    groups = [Counter(by_name[n].group for n in h.vms if by_name[n].group) for h in survivors]
    tags = [Counter(t for n in h.vms for t in by_name[n].tags) for h in survivors]
    cover = [{u.tag: u.covers_vms for u in h.licences if u.tag} for h in survivors]
    todo: list[SizedVM] = sorted(
        (by_name[n] for i in failed for n in hosts[i].vms), key=lambda v: -v.mem_mib
    )

    def fits(s: int, v: SizedVM) -> bool:
        if survivors[s].type_index not in v.fits or min(free[s]) < 0:
            return False
        if v.cpu_m > free[s][0] or v.mem_mib > free[s][1] or free[s][2] < 1:
            return False
        if v.group and groups[s][v.group]:
            return False
        return all(t in cover[s] and (cover[s][t] < 0 or tags[s][t] < cover[s][t]) for t in v.tags)

    def place(j: int) -> bool:
        if j == len(todo):
            return True
        v = todo[j]
        for s in range(len(survivors)):
            if fits(s, v):
                free[s][0] -= v.cpu_m
                free[s][1] -= v.mem_mib
                free[s][2] -= 1
                groups[s][v.group] += bool(v.group)
                tags[s].update(v.tags)
                ok = place(j + 1)
                free[s][0] += v.cpu_m
                free[s][1] += v.mem_mib
                free[s][2] += 1
                groups[s][v.group] -= bool(v.group)
                tags[s].subtract(v.tags)
                if ok:
                    return True
        return False

    return place(0)


def _all_restartable(problem: Problem, hosts: Sequence[HostPlan], k: int) -> bool:
    """Brute force over every combination of k failed hosts within each partition."""
    parts: dict[str, list[int]] = {}
    for i, h in enumerate(hosts):
        parts.setdefault(h.partition, []).append(i)
    for members in parts.values():
        for combo in itertools.combinations(members, min(k, len(members))):
            if any(hosts[i].vms for i in combo) and not _restartable(problem, hosts, set(combo)):
                return False
    return True


vm_st = st.builds(
    dict,
    vcpus=st.integers(1, 6),
    memory_gib=st.sampled_from([1, 2, 3, 4, 6, 8]),
    group=st.sampled_from(["", "", "", "g1"]),
    zone=st.sampled_from(["", "", "dmz"]),
    licences=st.sampled_from([(), (), ("windows",)]),
)


@st.composite
def small_plans(draw: st.DrawFn) -> tuple[list[VM], Catalog, Policy]:
    """Up to 10 VMs on small hosts (often full, so restarts are tight), N+0 to N+3."""
    specs = draw(st.lists(vm_st, min_size=1, max_size=10))
    machines = draw(
        st.lists(
            st.builds(
                lambda i, cores, mem: host(f"m{i}", cores=cores, mem=mem),
                st.integers(0, 3),
                st.sampled_from([6, 8, 12]),
                st.sampled_from([8, 12, 16]),
            ),
            min_size=1,
            max_size=2,
            unique_by=lambda h: h.model,
        )
    )
    cat = Catalog(hosts=tuple(machines), licences=(WIN_STD,), profiles={"none": NONE})
    policy = PURE.model_copy(update={"ha_host_failures": draw(st.integers(0, 3))})
    return [VM(name=f"vm{i}", **s) for i, s in enumerate(specs)], cat, policy


FAST = SolverParams(time_limit_s=0.5)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(small_plans(), st.sampled_from([0, 1, 2000]))
def test_k_failure_check_never_claims_a_restart_that_brute_force_refutes(
    case: tuple[list[VM], Catalog, Policy], limit: int
) -> None:
    """Whatever the method, an all-restartable verdict from an exhaustive or bound check
    holds for every combination of k failed hosts, and scenarios count them all."""
    specs, cat, policy = case
    problem, plan = run(inventory(*specs), cat, policy, FAST)
    k = max(1, policy.ha_host_failures)
    with mock.patch.object(failover, "EXHAUSTIVE_LIMIT", limit):
        _, check = simulate_failures(problem, plan.hosts)
    assert check.k == k
    truth = _all_restartable(problem, plan.hosts, k)
    if check.method in ("exhaustive", "bound") and check.all_restartable:
        assert truth
    if check.method == "exhaustive" and k >= 2:
        sizes = Counter(h.partition for h in plan.hosts)
        assert check.scenarios == sum(math.comb(n, min(k, n)) for n in sizes.values())
    if not truth:
        assert not check.all_restartable
        assert check.counterexample


@SETTINGS
@given(small_plans())
def test_single_failures_marked_restartable_restart_under_brute_force(
    case: tuple[list[VM], Catalog, Policy],
) -> None:
    """Every host the per-host simulation marks restartable really is, and a host whose VMs
    brute force cannot restart is never marked restartable."""
    specs, cat, policy = case
    problem, plan = run(inventory(*specs), cat, policy, FAST)
    checks, _ = simulate_failures(problem, plan.hosts)
    index = {h.id: i for i, h in enumerate(plan.hosts)}
    assert [c.host for c in checks] == [h.id for h in plan.active_hosts]
    for c in checks:
        truth = _restartable(problem, plan.hosts, {index[c.host]})
        assert c.restartable <= truth
        assert c.restartable == (not c.stranded)


def test_full_hosts_strand_every_vm_without_a_scan() -> None:
    """N+0 on exactly full hosts: every VM of a failed host is stranded, at a cost of a
    few work units per VM (the largest free room rules each one out at once)."""
    cat = catalog(host(cores=8, mem=16))
    problem, plan = run(inventory(*vms(40, vcpus=4, mem=8)), cat, PURE)
    spent: list[int] = []
    real = failover._Simulation.restart

    def counting(self: failover._Simulation, failed: Sequence[int]) -> list[str]:
        out = real(self, failed)
        spent.append(self.work)
        return out

    with mock.patch.object(failover._Simulation, "restart", counting):
        checks, check = simulate_failures(problem, plan.hosts)
    assert len(checks) == 20
    assert all(c.stranded == c.vms for c in checks)
    assert not check.all_restartable and check.counterexample == ("host-01",)
    assert spent[-1] <= 6 * 40  # a handful of units per VM, not one per survivor


def test_two_failures_on_n_plus_2_are_checked_and_on_n_plus_1_are_not_all_restartable() -> None:
    """N+2 leaves every VM restartable when any two hosts fail; N+1 on full hosts does not."""
    cat = catalog(host(cores=8, mem=16))
    two = PURE.model_copy(update={"ha_host_failures": 2})
    problem, plan = run(inventory(*vms(8, vcpus=4, mem=8)), cat, two)
    assert plan.failure_check is not None
    assert plan.failure_check.k == 2
    assert plan.failure_check.method == "exhaustive"
    assert plan.failure_check.all_restartable
    assert plan.failure_check.scenarios == 15  # 4 active + 2 spares, choose 2
    one = PURE.model_copy(update={"ha_host_failures": 1})
    problem, plan = run(inventory(*vms(8, vcpus=4, mem=8)), cat, one)
    _, check = simulate_failures(problem.model_copy(update={"policy": two}), plan.hosts)
    assert not check.all_restartable
    assert len(check.counterexample) == 2


def test_many_combinations_are_covered_by_the_spare_argument() -> None:
    """Above the exhaustive limit, k spares that each hold any active host whole prove
    every combination restartable ('bound'), counting all of them, even with no budget left."""
    cat = catalog(host(cores=8, mem=16))
    three = PURE.model_copy(update={"ha_host_failures": 3})
    problem, plan = run(inventory(*vms(60, vcpus=4, mem=8)), cat, three)
    assert plan.failure_check is not None
    assert plan.failure_check.method == "bound"
    assert plan.failure_check.all_restartable
    assert plan.failure_check.scenarios == 5456  # 30 active + 3 spares, choose 3
    with mock.patch.object(failover, "work_budget", lambda n: 1):  # argument needs no budget
        assert simulate_failures(problem, plan.hosts)[1] == plan.failure_check


def test_without_enough_spares_a_seeded_sample_is_simulated() -> None:
    """Above the exhaustive limit and without k spares, a bounded sample is simulated and
    the same seed gives the same verdict and counterexample."""
    cat = catalog(host(cores=8, mem=16, max_count=32))
    three = PURE.model_copy(update={"ha_host_failures": 3})
    problem, plan = run(inventory(*vms(60, vcpus=4, mem=8)), cat, three)
    assert plan.failure_check is not None
    assert plan.failure_check.method == "sample"
    assert 0 < plan.failure_check.scenarios <= failover.SAMPLE_LIMIT
    assert not plan.failure_check.all_restartable
    again = simulate_failures(problem, plan.hosts)[1]
    assert again == plan.failure_check


def test_a_spent_work_budget_leaves_hosts_out_and_says_sample() -> None:
    """When the work budget runs out, unsimulated hosts are left out of the per-host list
    and the check is reported as a sample, never as exhaustive."""
    cat = catalog(host(cores=8, mem=16))
    problem, plan = run(inventory(*vms(40, vcpus=4, mem=8)), cat, PURE)
    with mock.patch.object(failover, "work_budget", lambda n: 30):
        checks, check = simulate_failures(problem, plan.hosts)
    assert 0 < len(checks) < len(plan.active_hosts)
    assert check.method == "sample"
    assert check.scenarios == len(checks)
    assert not check.all_restartable  # the hosts left out are not shown restartable


def test_a_spent_budget_never_reports_unchecked_k_failures_as_restartable() -> None:
    """With k = 2 and no budget left, no pair is simulated: the check is a sample of no
    scenarios and does not claim every VM restartable (a sample that ran says so only for
    the scenarios it ran)."""
    cat = catalog(host(cores=8, mem=16))
    two = PURE.model_copy(update={"ha_host_failures": 2})
    problem, plan = run(inventory(*vms(40, vcpus=2, mem=4)), cat, two)
    assert plan.failure_check is not None and plan.failure_check.all_restartable
    with (
        mock.patch.object(failover, "work_budget", lambda n: 1),
        mock.patch.object(failover, "_covered_by_spares", lambda *a: False),
    ):
        checks, check = simulate_failures(problem, plan.hosts)
    assert checks == ()
    assert (check.method, check.scenarios, check.all_restartable) == ("sample", 0, False)


def test_failure_check_is_in_the_plan_json_and_the_summary() -> None:
    """The plan JSON carries failure_check with k, method, scenarios and the verdict, and
    the text summary says it in one line."""
    cat = catalog(host(cores=8, mem=16))
    two = PURE.model_copy(update={"ha_host_failures": 2})
    problem, plan = run(inventory(*vms(8, vcpus=4, mem=8)), cat, two)
    data = json.loads(plan_json_bytes(plan, problem))
    assert data["failure_check"] == {
        "k": 2,
        "method": "exhaustive",
        "scenarios": 15,
        "all_restartable": True,
        "counterexample": [],
    }
    assert "N+k check  any 2 hosts of one cluster and zone failing: every VM restarts" in (
        plan_summary(plan, problem)
    )
    assert "N+2 check: any 2 hosts of one cluster and zone failing" in html_report(plan, problem)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 9), st.integers(-1, 9), st.integers(-1, 3)), max_size=40),
    st.lists(
        st.tuples(st.integers(0, 39), st.integers(-1, 9), st.integers(-1, 9), st.integers(-1, 3))
    ),
    st.integers(0, 9),
    st.integers(0, 9),
    st.sets(st.integers(0, 39)),
)
def test_room_tree_finds_what_a_scan_of_every_host_finds(
    leaves: list[tuple[int, int, int]],
    updates: list[tuple[int, int, int, int]],
    cpu: int,
    mem: int,
    refused: set[int],
) -> None:
    """After any leaf updates (growing the tree too), the leftmost host with room that the
    caller accepts is the one a scan of every host in order finds."""
    tree = RoomTree(1)
    tree.fill(leaves)
    row = list(leaves)
    for leaf, *value in updates:
        tree.set(leaf, *value)
        row += [(-1, -1, -1)] * (leaf + 1 - len(row))
        row[leaf] = (value[0], value[1], value[2])
    found, _ = tree.leftmost(cpu, mem, lambda n: n not in refused)
    scan = next(
        (
            n
            for n, (c, m, k) in enumerate(row)
            if c >= cpu and m >= mem and k >= 1 and n not in refused
        ),
        -1,
    )
    assert found == scan
