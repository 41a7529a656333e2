"""Why this many hosts: the rule that binds each partition, and the price of every rule.

Per partition (cheap, part of every plan): the host count against what proves it. The
capacity bound is the Martello–Toth L2 bound per dimension against the largest model
(``planner.bounds``); an anti-affinity group with more members than that bound, a model cap
that forces smaller hosts, a licence island and the N+k spares are named when they bind.

Per rule (``price_rules``, on demand): the plan is re-made without the rule, through the same
pipeline, and the difference in hosts and cost is the rule's price:

- N+k: the spares (the active hosts do not depend on k, so no re-plan is needed);
- cluster separation: every cluster planned as one pool;
- each security zone: its VMs may share hosts with the largest zone;
- each licence island: its VMs join their cluster and zone, and the licence covers every
  host there (every VM there is tagged, the licence counted per host);
- the utilisation ceiling: hosts filled to 100 %;
- the CPU overcommit ratio: its next slider step (+0.5 vCPU per core);
- each anti-affinity group that could cost anything: its members may share hosts.

A price is proven when both plans are proven optimal; otherwise it carries the larger gap.
``solve`` uses the partition reasons, so this module sits below it: the re-plan function is
passed in (``planner.pipeline.run``) rather than imported.
Groups are pruned: only a group larger than both its partition's capacity bound and every
other group there can move the bound, so only those are re-planned. Each re-plan gets an
equal share of the time budget, and there are at most ``MAX_RESOLVES`` of them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from planner.bounds import l2_bound
from planner.models import (
    Catalog,
    HostPlan,
    Inventory,
    PartitionReason,
    Plan,
    Policy,
    Problem,
    RulePrice,
    SizedVM,
    SolverParams,
)

__all__ = [
    "MAX_RESOLVES",
    "OVERCOMMIT_STEP",
    "RuleOptions",
    "capacity_hosts",
    "explain_plan",
    "partition_reasons",
    "price_rules",
]

MAX_RESOLVES = 12  # re-plans per explanation at most
OVERCOMMIT_STEP = 0.5  # the app's CPU overcommit slider step
MIN_SECONDS = 1.0  # the least time limit a re-plan gets (or the plan's own, if shorter)

RuleProgress = Callable[[int, int], None]
Replan = Callable[[Inventory, Catalog, Policy, SolverParams], tuple[Problem, Plan]]  # pipeline.run


class RuleOptions(TypedDict, total=False):
    """How ``price_rules`` may re-plan: its optional arguments, passed on by ``explain_plan``."""

    budget_s: float | None
    max_resolves: int
    progress: RuleProgress | None


# --------------------------------------------------------------------------- per partition


def capacity_hosts(problem: Problem, vms: Sequence[SizedVM]) -> tuple[int, str]:
    """Hosts that capacity alone needs (anti-affinity ignored) and the dimension that says so."""
    if not vms:
        return 0, "none"
    types = problem.host_types
    candidates = {
        "memory": l2_bound([v.mem_mib for v in vms], max(t.mem_cap_mib for t in types)),
        "cpu": l2_bound([v.cpu_m for v in vms], max(t.cpu_cap_m for t in types)),
        "vm count": math.ceil(len(vms) / max(t.vm_cap for t in types)),
    }
    dim = max(candidates, key=lambda k: candidates[k])
    return candidates[dim], dim


def _largest_group(vms: Sequence[SizedVM]) -> tuple[str, int, int]:
    """The largest anti-affinity group: name, size, and the size of the next largest."""
    sizes = Counter(v.group for v in vms if v.group).most_common()
    if not sizes:
        return "", 0, 0
    name, n = min(sizes, key=lambda g: (-g[1], g[0]))
    second = max((m for g, m in sizes if g != name), default=0)
    return name, n, second


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_DIMENSION = {"memory": "memory", "cpu": "CPU", "vm count": "the VM-count limit"}


def partition_reasons(
    problem: Problem, hosts: Sequence[HostPlan], optimal: bool = False
) -> tuple[PartitionReason, ...]:
    """For each partition with VMs, its host count and the rule that binds it, in words.

    ``hosts`` are the plan's hosts, active and spare: a partition's count is its own active
    hosts plus the spares the plan gave it (N+k asks for k; a max_count cap may leave fewer,
    which the text says). ``optimal`` says the packing is proven, so a count above every
    bound is the proven effect of the VMs' sizes (not a weak plan).
    """
    k = problem.policy.ha_host_failures
    active = [h for h in hosts if h.role == "active"]
    spare_count = Counter(h.partition for h in hosts if h.role == "spare")
    used = Counter(h.model for h in hosts)
    exhausted = sorted(
        t.model.model
        for t in problem.host_types
        if t.model.max_count is not None and used[t.model.model] >= t.model.max_count
    )
    per_partition = Counter(h.partition for h in active)
    out: list[PartitionReason] = []
    for part in problem.partitions:
        n = per_partition[part.key]
        if not part.vms or not n:
            continue
        vms = [problem.vms[i] for i in part.vms]
        cap, dim = capacity_hosts(problem, vms)
        group, size, _ = _largest_group(vms)
        if max(cap, size) > n:  # only when caps leave VMs unplaced
            binding = "model cap"
            why = (
                f"max_count allows no more ({', '.join(exhausted) or 'every model'} used up), "
                f"though {'group ' + group if size > cap else _DIMENSION[dim]} needs "
                f"{max(cap, size)}; VMs are left unplaced"
            )
        elif size > cap and size >= n:
            binding = f"anti-affinity group {group}"
            why = f"group {group} has {size} members"
        elif cap >= n:
            binding = dim
            why = f"{_DIMENSION[dim]} needs {_count(cap, 'host')} (L2 bound, largest model)"
        elif exhausted:
            binding = "model cap"
            why = (
                f"{', '.join(exhausted)} {'is' if len(exhausted) == 1 else 'are'} used up to "
                "its max_count, so smaller models make up the capacity"
            )
        elif problem.policy.objective == "cost":
            binding = "cost"
            why = f"the cheapest mix of models uses {n} hosts"
        else:
            binding = "packing"
            proof = "proven: " if optimal else ""
            why = f"{proof}the VMs' sizes do not pack into {_count(max(cap, size), 'host')}"
        cap_said = binding in _DIMENSION or max(cap, size) > n
        if part.island:
            binding = f"licence island {part.island}"
            why = (
                f"its {_count(len(vms), 'VM')} with the cluster-scoped licence "
                f"'{part.island}' {'runs' if len(vms) == 1 else 'run'} on hosts of their own, "
                f"and within them {why}"
            )
        s = spare_count[part.key]
        spares = f" ({n} active + {_count(s, 'spare')} for N+{k})" if k else ""
        text = f"{part.key}: {_count(n + s, 'host')}{spares} because {why}"
        if k and s < k:
            text += f"; N+{k} lacks {_count(k - s, 'spare')}: max_count allows no more hosts"
        if not cap_said:
            text += f"; capacity alone needs {cap}"
        out.append(
            PartitionReason(
                cluster=part.key, hosts=n + s, binding=binding, text=text, capacity_hosts=cap
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- price of rules


@dataclass
class _Variant:
    """One re-plan: the scenario without a rule."""

    kind: str
    name: str
    inventory: Inventory
    catalog: Catalog
    policy: Policy


def _relabel(inventory: Inventory, **update: Callable[[str], str]) -> Inventory:
    """The inventory with VM fields rewritten, e.g. ``group=lambda g: ''``."""
    vms = tuple(
        vm.model_copy(update={key: f(getattr(vm, key)) for key, f in update.items()})
        for vm in inventory.vms
    )
    return inventory.model_copy(update={"vms": vms})


def _swap(old: str, new: str) -> Callable[[str], str]:
    """A relabelling: ``old`` becomes ``new``, anything else stays."""
    return lambda value: new if value == old else value


def _group_candidates(problem: Problem) -> list[tuple[int, str]]:
    """Groups whose removal could lower their partition's bound, largest excess first."""
    excess: dict[str, int] = {}
    for part in problem.partitions:
        vms = [problem.vms[i] for i in part.vms]
        cap, _ = capacity_hosts(problem, vms)
        group, size, second = _largest_group(vms)
        if group and size > max(cap, second):
            excess[group] = max(excess.get(group, 0), size - max(cap, second))
    return sorted(((n, g) for g, n in excess.items()), key=lambda x: (-x[0], x[1]))


def _per_host(catalog: Catalog, tags: set[str]) -> bool:
    """Whether every licence for ``tags`` costs the same per host whatever VMs it covers."""
    return all(
        lic.unit != "vm" and lic.vms_per_grant == 0
        for lic in catalog.licences
        if lic.applies_to == "tagged" and lic.tag in tags
    )


def _variants(problem: Problem, skipped: list[str]) -> list[_Variant]:
    """Every rule the plan honours, as the scenario without it (groups last); rules that
    cannot be priced are added to ``skipped`` with the reason."""
    inv, cat, pol = problem.inventory, problem.catalog, problem.policy
    out: list[_Variant] = []
    clusters = {v.cluster for v in problem.vms}
    if len(clusters) > 1:
        out.append(
            _Variant(
                "cluster separation",
                f"{len(clusters)} clusters planned apart (vs one pool)",
                _relabel(inv, cluster=lambda _c: ""),
                cat,
                pol,
            )
        )
    zones = Counter(v.zone for v in problem.vms)
    if len(zones) > 1:
        home = min(zones, key=lambda z: (-zones[z], z))
        for zone in sorted(z for z in zones if z != home):
            out.append(
                _Variant(
                    "zone separation",
                    f"{zone or '(no zone)'} apart from {home or '(no zone)'}",
                    _relabel(inv, zone=_swap(zone, home)),
                    cat,
                    pol,
                )
            )
    for island in sorted({p.island for p in problem.partitions if p.island}):
        tags = set(island.split(","))
        if not _per_host(cat, tags):
            skipped.append(f"licence island {island}: priced per VM or stacked, not priced")
            continue
        # Without the island the licence covers every host where its VMs run: tag every VM
        # of their cluster and zone, and let the licence count per host.
        domains = {(p.cluster, p.zone) for p in problem.partitions if p.island == island}
        licences = tuple(
            lic.model_copy(update={"scope": "host"}) if lic.tag in tags else lic
            for lic in cat.licences
        )
        vms = tuple(
            vm.model_copy(update={"licences": tuple(dict.fromkeys((*vm.licences, *sorted(tags))))})
            if (vm.cluster, vm.zone) in domains
            else vm
            for vm in inv.vms
        )
        out.append(
            _Variant(
                "licence island",
                island,
                inv.model_copy(update={"vms": vms}),
                cat.model_copy(update={"licences": licences}),
                pol,
            )
        )
    if pol.max_utilization < 1.0:
        out.append(
            _Variant(
                "utilisation ceiling",
                f"{pol.max_utilization:.0%} (vs 100%)",
                inv,
                cat,
                pol.model_copy(update={"max_utilization": 1.0}),
            )
        )
    if pol.cpu_overcommit < problem.profile.max_vcpus_per_core:
        step = pol.cpu_overcommit + OVERCOMMIT_STEP
        out.append(
            _Variant(
                "CPU overcommit",
                f"{pol.cpu_overcommit:g} (vs {step:g}) vCPU per core",
                inv,
                cat,
                pol.model_copy(update={"cpu_overcommit": step}),
            )
        )
    for _, group in _group_candidates(problem):
        out.append(
            _Variant(
                "anti-affinity group",
                group,
                _relabel(inv, group=_swap(group, "")),
                cat,
                pol,
            )
        )
    return out


def _spare_price(plan: Plan, problem: Problem) -> RulePrice:
    """N+k: the spares. The active packing does not depend on k, so no re-plan is needed."""
    k = problem.policy.ha_host_failures
    return RulePrice(
        kind="N+k",
        name=f"N+{k}",
        hosts=len(plan.spare_hosts),
        cost=round(sum(h.cost.total for h in plan.spare_hosts), 2),
        proven=plan.status == "optimal",
        gap=round(plan.gap, 6),
    )


def price_rules(
    problem: Problem,
    plan: Plan,
    replan: Replan,
    params: SolverParams | None = None,
    budget_s: float | None = None,
    max_resolves: int = MAX_RESOLVES,
    progress: RuleProgress | None = None,
) -> tuple[tuple[RulePrice, ...], tuple[str, ...]]:
    """The price of each rule ``plan`` honours, and what was left out. The rules come most
    expensive first by the policy's objective (hosts, then cost; or cost, then hosts).

    ``replan`` makes a plan the way ``plan`` was made (``planner.pipeline.run``), with
    ``params`` (default: those ``plan`` was made with) but a share of the time limit:
    ``budget_s`` (default: the params' time limit) is shared equally by the re-plans, at
    least ``MIN_SECONDS`` (or the params' limit, if shorter) each; at most
    ``max_resolves`` re-plans are made. A work limit set in the params is shared alike.
    """
    policy = problem.policy
    params = params or plan.params or SolverParams()
    rules: list[RulePrice] = []
    if not problem.vms:
        return (), ()
    if policy.ha_host_failures and plan.spare_hosts:
        rules.append(_spare_price(plan, problem))
    notes: list[str] = []
    variants = _variants(problem, notes)
    if len(variants) > max_resolves:
        left = variants[max_resolves:]
        notes.append(
            f"{len(left)} rules not priced (at most {max_resolves} re-plans): "
            + ", ".join(f"{v.kind} {v.name}" for v in left)
        )
        variants = variants[:max_resolves]
    budget = params.time_limit_s if budget_s is None else budget_s
    seconds = max(budget / max(1, len(variants)), min(MIN_SECONDS, params.time_limit_s))
    share = {"time_limit_s": seconds}
    if params.work_limit_s is not None:
        share["work_limit_s"] = params.work_limit_s * seconds / params.time_limit_s
    alt_params = params.model_copy(update=share)
    for done, v in enumerate(variants):
        if progress:
            progress(done, len(variants))
        _, alt = replan(v.inventory, v.catalog, v.policy, alt_params)
        if len(alt.unplaced) != len(plan.unplaced):
            notes.append(
                f"{v.kind} {v.name}: not priced, the re-plan leaves {len(alt.unplaced)} VMs "
                f"unplaced against the plan's {len(plan.unplaced)}"
            )
            continue
        cost = plan.cost.total - alt.cost.total
        proven = plan.status == "optimal" and alt.status == "optimal"
        price = RulePrice(
            kind=v.kind,
            name=v.name,
            hosts=len(plan.hosts) - len(alt.hosts),
            cost=round(cost, 2),
            proven=proven,
            gap=0.0 if proven else round(max(plan.gap, alt.gap), 6),
        )
        if v.kind == "anti-affinity group" and price.hosts == 0 and abs(price.cost) < 0.5:
            continue  # costs nothing: not listed
        rules.append(price)
    if progress:
        progress(len(variants), len(variants))
    if policy.objective == "hosts" and rules:
        notes.append(
            "objective hosts: each cost is that of a plan with the fewest hosts, not the "
            "cheapest one, so costs compare plans rather than price the rules exactly"
        )
    if policy.objective == "hosts":
        rules.sort(key=lambda r: (-r.hosts, -r.cost, r.kind, r.name))
    else:
        rules.sort(key=lambda r: (-r.cost, -r.hosts, r.kind, r.name))
    return tuple(rules), tuple(notes)


def explain_plan(
    problem: Problem,
    plan: Plan,
    replan: Replan,
    params: SolverParams | None = None,
    **options: Unpack[RuleOptions],
) -> Plan:
    """``plan`` with its explanation's ``rules`` filled by ``price_rules`` (``options``: its
    optional arguments)."""
    rules, notes = price_rules(problem, plan, replan, params, **options)
    explanation = plan.explanation.model_copy(update={"rules": rules, "notes": notes})
    return plan.model_copy(update={"explanation": explanation})
