"""Clusters as users build them: a partition larger than the hypervisor allows is split.

A partition (an inventory cluster or the merged pool, per zone and licence island) is
planned as one pool; a hypervisor cluster holds at most ``limit`` hosts, its N+k spares
included (``sizing.cluster_limit``: the profile's maximum, or the policy's lower
``max_cluster_hosts``). So a partition with ``a`` active hosts becomes

    clusters = ceil(a / (limit - k))      each with k spares of its own
    spares   = k x clusters

clusters, as even in size as possible. Hosts running the same licence tags are kept
together, so that each cluster's spares carry as few licences as they can.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from planner.models import Problem
from planner.packing import HostBin, Packing
from planner.sizing import cluster_limit

__all__ = ["Cluster", "cluster_count", "cluster_sizes", "spares_needed", "split_clusters"]


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
    split into ``<key> #1``, ``#2`` ... Bins are ordered by the licence tags their VMs
    carry (then model and content, so the split is deterministic) and cut into clusters
    of the sizes ``cluster_sizes`` gives.
    """
    k = problem.policy.ha_host_failures
    limit = cluster_limit(problem.profile, problem.policy)
    by_part: dict[int, list[HostBin]] = defaultdict(list)
    for b in packing:
        if b.vms:
            by_part[b.partition].append(b)
    clusters: list[Cluster] = []
    for p_index in sorted(by_part):
        bins = sorted(by_part[p_index], key=lambda b: _order(problem, b))
        sizes = cluster_sizes(len(bins), limit, k)
        key = problem.partitions[p_index].key
        start = 0
        for n, size in enumerate(sizes, 1):
            name = key if len(sizes) == 1 else f"{key} #{n}"
            clusters.append(Cluster(name, p_index, tuple(bins[start : start + size])))
            start += size
    return clusters


def _order(problem: Problem, b: HostBin) -> tuple[Sequence[str], int, int, tuple[int, ...]]:
    tags = sorted({t for i in b.vms for t in problem.vms[i].tags})
    return (tags, b.type_index, -len(b.vms), b.vms)
