"""Clusters as users build them: a partition larger than the hypervisor allows is split.

A partition (an inventory cluster or the merged pool, per zone and licence island) is
planned as one pool; a hypervisor cluster holds at most ``limit`` hosts, its N+k spares
included (``cluster_limit``: the profile's maximum, or the policy's lower
``max_cluster_hosts``). So a partition with ``a`` active hosts becomes

    clusters = ceil(a / (limit - k))      each with k spares of its own
    spares   = k x clusters

clusters, as even in size as possible. Hosts running the same licence tags are kept
together, so that each cluster's spares carry as few licences as they can.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from planner.costs import licence_cost
from planner.models import HostPlan, HypervisorProfile, Partition, Policy, Problem
from planner.packing import HostBin, Packing, host_priced_tags

__all__ = [
    "Cluster",
    "SparesRule",
    "cluster_count",
    "cluster_limit",
    "cluster_sizes",
    "plan_clusters",
    "spares_needed",
    "split_clusters",
]

SparesRule = Callable[[Problem, Packing, int], tuple[list[HostPlan], list[str]]]
"""How spares are chosen for a problem's partitions (``spares.spare_hosts``)."""


def cluster_limit(profile: HypervisorProfile, policy: Policy) -> int:
    """Most hosts, spares included, one cluster may have: the policy's or the profile's."""
    if policy.max_cluster_hosts is None:
        return profile.max_hosts_per_cluster
    return min(policy.max_cluster_hosts, profile.max_hosts_per_cluster)


@dataclass(frozen=True)
class Cluster:
    """One hypervisor cluster: the active hosts of one partition it is built from."""

    name: str
    partition: int  # index into Problem.partitions
    bins: tuple[HostBin, ...]  # its active hosts


def cluster_count(active: int, limit: int, k: int) -> int:
    """Clusters needed for ``active`` hosts when each holds at most ``limit`` with k spares."""
    if active <= 0:
        return 0
    return math.ceil(active / max(1, limit - k))


def spares_needed(active: int, limit: int, k: int) -> int:
    """N+k spares of a partition with ``active`` hosts: k in each of its clusters."""
    return k * cluster_count(active, limit, k)


def cluster_sizes(active: int, limit: int, k: int) -> list[int]:
    """Active hosts of each cluster, as even as possible (larger ones first)."""
    n = cluster_count(active, limit, k)
    if n == 0:
        return []
    base, extra = divmod(active, n)
    return [base + 1] * extra + [base] * (n - extra)


def split_clusters(problem: Problem, packing: Packing) -> list[Cluster]:
    """The packing's used hosts as clusters, partition by partition, in partition order.

    A partition that fits one cluster keeps its key as the cluster name; a larger one is
    split into ``<key> #1``, ``#2`` ... Bins are ordered by the licences their VMs make
    them pay, then the tags they carry (then model and content, so the split is
    deterministic) and cut into clusters of the sizes ``cluster_sizes`` gives.
    """
    k = problem.policy.ha_host_failures
    limit = cluster_limit(problem.profile, problem.policy)
    priced = host_priced_tags(problem)
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        if b.vms:
            by_part[b.partition].append(b)
    clusters: list[Cluster] = []
    for p_index in sorted(by_part):
        bins = sorted(by_part[p_index], key=lambda b: _order(problem, b, priced))
        sizes = cluster_sizes(len(bins), limit, k)
        key = problem.partitions[p_index].key
        start = 0
        for n, size in enumerate(sizes, 1):
            name = key if len(sizes) == 1 else f"{key} #{n}"
            clusters.append(Cluster(name, p_index, tuple(bins[start : start + size])))
            start += size
    return clusters


def _order(
    problem: Problem, b: HostBin, priced: frozenset[str]
) -> tuple[float, Sequence[str], Sequence[str], int, int, tuple[int, ...]]:
    """Hosts that pay the dearest licences for their VMs first, grouped by those licences,
    so that as few clusters as possible hold them (each cluster's spares must carry what
    its busiest host does); then by all tags, model and content."""
    members = map(problem.vms.__getitem__, b.vms)
    tags = sorted(set(itertools.chain.from_iterable(map(_TAGS, members))))
    paid = [t for t in tags if t in priced]
    model = problem.host_types[b.type_index].model
    years = problem.policy.horizon_years
    grants = sum(licence_cost(t, model, 1, problem.catalog.licences, years) for t in paid)
    return (-grants, paid, tags, b.type_index, -len(b.vms), b.vms)


_TAGS = attrgetter("tags")


def plan_clusters(
    problem: Problem, packing: Packing, active: Sequence[HostPlan], spares_rule: SparesRule
) -> tuple[list[HostPlan], list[HostPlan], list[str]]:
    """The active hosts named by cluster, and each cluster's own N+k spares.

    The spare rule runs on a copy of the problem whose partitions are the clusters, so
    whatever it does per partition (which model, which licences) it does per cluster. Every
    host keeps its partition and gains its ``cluster``.
    """
    clusters = split_clusters(problem, packing)
    # Each active host is one of the packing's bins: its first VM names its cluster.
    named = {problem.vms[b.vms[0]].name: c.name for c in clusters for b in c.bins}
    parts = tuple(
        Partition(
            key=c.name,
            cluster=problem.partitions[c.partition].cluster,
            zone=problem.partitions[c.partition].zone,
            island=problem.partitions[c.partition].island,
            vms=tuple(itertools.chain.from_iterable(b.vms for b in c.bins)),
        )
        for c in clusters
    )
    per_cluster = problem.model_copy(update={"partitions": parts})
    regrouped = tuple(
        HostBin(n, b.type_index, b.vms) for n, c in enumerate(clusters) for b in c.bins
    )
    spares, notes = spares_rule(per_cluster, regrouped, len(active))
    partition_of = {c.name: problem.partitions[c.partition].key for c in clusters}
    hosts = [h.model_copy(update={"cluster": named[h.vms[0]]}) if h.vms else h for h in active]
    spares = [
        s.model_copy(update={"cluster": s.partition, "partition": partition_of[s.partition]})
        for s in spares
    ]
    split = {c.partition for c in clusters if c.name != problem.partitions[c.partition].key}
    for p_index in sorted(split):
        mine = [c for c in clusters if c.partition == p_index]
        k = problem.policy.ha_host_failures
        notes.append(
            f"{problem.partitions[p_index].key}: {sum(len(c.bins) for c in mine)} active "
            f"hosts and N+{k} spares exceed the {cluster_limit(problem.profile, problem.policy)}"
            f" hosts a {problem.profile.name} cluster may have; planned as {len(mine)} "
            f"clusters, each with its own {k} spare(s)"
        )
    return hosts, spares, notes
