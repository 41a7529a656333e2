"""Write ``data/sample_inventory.csv``: a realistic, reproducible inventory of 500 VMs.

    python scripts/make_sample_inventory.py            # rewrites the bundled sample
    python scripts/make_sample_inventory.py --seed 8 --out /tmp/other.csv

The mix follows what a mid-sized estate looks like: most VMs are the "average" 2 vCPU /
4-8 GiB VM (VMware's VCF design guide calls 2 vCPU / 4 GB average), ~60 % Windows Server and
~40 % Linux (RHEL, Ubuntu), 25 SQL Server Enterprise VMs (5 availability-group pairs),
6 Oracle Database VMs, anti-affinity groups for HA pairs and farms, a DMZ security zone of
40 VMs, a few powered-off VMs, and p95 utilization figures. Some Windows and RHEL VMs have no
``licenses`` cell so that the planner's inference from the OS text shows.

The same seed always writes the same bytes (tests/test_catalog.py checks the bundled file).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

SEED = 20250601
OUT = Path(__file__).resolve().parent.parent / "data" / "sample_inventory.csv"
COLUMNS = (
    "name",
    "vcpus",
    "memory_gib",
    "cpu_util_pct",
    "mem_util_pct",
    "storage_gib",
    "os",
    "licenses",
    "group",
    "zone",
    "cluster",
    "powerstate",
)
CLUSTER = "prod"  # one cluster: the sample plans as one partition per security zone
POWERED_OFF = 8

# OS text as vCenter reports it, with how often each version appears in its family.
OS_TEXT = {
    "windows": (
        ("Microsoft Windows Server 2022 (64-bit)", 0.6),
        ("Microsoft Windows Server 2019 (64-bit)", 0.3),
        ("Microsoft Windows Server 2016 (64-bit)", 0.1),
    ),
    "rhel": (
        ("Red Hat Enterprise Linux 9 (64-bit)", 0.6),
        ("Red Hat Enterprise Linux 8 (64-bit)", 0.4),
    ),
    "ubuntu": (("Ubuntu Linux (64-bit)", 1.0),),
}
# Licence tags written for each family; None = the tag is left for inference, sometimes.
TAGS = {"windows": "windows", "rhel": "rhel", "ubuntu": ""}
UNTAGGED_SHARE = {"windows": 0.13, "rhel": 0.2, "ubuntu": 0.0}

Size = tuple[int, int, float]  # vCPUs, memory GiB, weight

AVERAGE: tuple[Size, ...] = ((2, 4, 0.45), (2, 8, 0.35), (4, 8, 0.1), (4, 16, 0.07), (8, 32, 0.03))


@dataclass(frozen=True)
class Role:
    """A kind of VM in the estate: how many, which OS, which sizes, where."""

    prefix: str
    count: int
    family: str  # windows | rhel | ubuntu
    sizes: tuple[Size, ...]
    zone: str = "internal"
    group: str = ""  # anti-affinity group name
    group_size: int = 0  # 0: none; k < count: numbered groups of k; k >= count: one group
    extra_tags: str = ""  # application licence tags, e.g. sql-enterprise
    data_gib: tuple[int, int] = (0, 200)  # data disks beyond the OS disk
    may_be_off: bool = False
    always_tagged: bool = False


ROLES: tuple[Role, ...] = (
    # ---- Windows, internal
    Role("infra-dc", 4, "windows", ((2, 8, 1),), group="ad-dc", group_size=4, always_tagged=True),
    Role("infra-file", 6, "windows", ((2, 8, 0.5), (4, 16, 0.5)), data_gib=(1000, 4000)),
    Role("infra-rds", 10, "windows", ((4, 16, 0.6), (8, 32, 0.4))),
    Role("infra-mgmt", 12, "windows", ((2, 4, 0.3), (2, 8, 0.4), (4, 8, 0.3))),
    Role(
        "db-sqlag",
        10,
        "windows",
        ((8, 64, 0.4), (16, 128, 0.4), (32, 256, 0.2)),
        group="sql-ag",
        group_size=2,
        extra_tags="sql-enterprise",
        data_gib=(500, 2000),
        always_tagged=True,
    ),
    Role(
        "db-sql",
        15,
        "windows",
        ((4, 16, 0.3), (4, 32, 0.3), (8, 64, 0.3), (16, 128, 0.1)),
        extra_tags="sql-enterprise",
        data_gib=(200, 1500),
        always_tagged=True,
    ),
    Role("app-web", 40, "windows", ((2, 4, 0.5), (2, 8, 0.4), (4, 8, 0.1))),
    Role("app-app", 130, "windows", ((1, 2, 0.05), *AVERAGE), may_be_off=True),
    Role("app-svc", 59, "windows", AVERAGE, may_be_off=True),
    # ---- Windows, DMZ
    Role("dmz-web", 4, "windows", ((4, 8, 1),), zone="dmz", group="dmz-web-farm", group_size=4),
    Role("dmz-wap", 2, "windows", ((2, 4, 1),), zone="dmz", group="dmz-wap", group_size=2),
    Role("dmz-iis", 8, "windows", ((2, 4, 0.6), (2, 8, 0.4)), zone="dmz"),
    # ---- RHEL, internal
    Role(
        "db-ora",
        6,
        "rhel",
        ((8, 64, 0.4), (16, 128, 0.4), (16, 192, 0.2)),
        group="ora",
        group_size=2,
        extra_tags="oracle",
        data_gib=(500, 2000),
        always_tagged=True,
    ),
    Role("app-api", 50, "rhel", AVERAGE, may_be_off=True),
    Role("app-batch", 20, "rhel", ((4, 16, 0.5), (8, 32, 0.4), (16, 64, 0.1))),
    Role("db-pg", 8, "rhel", ((4, 32, 0.5), (8, 64, 0.5)), group="pg", group_size=2),
    Role("app-mq", 4, "rhel", ((2, 8, 1),), group="mq", group_size=2),
    Role("app-jboss", 5, "rhel", ((2, 8, 0.6), (4, 16, 0.4))),
    Role("infra-idm", 2, "rhel", ((2, 4, 1),), group="idm", group_size=2),
    Role("infra-sat", 1, "rhel", ((4, 16, 1),), data_gib=(300, 600)),
    Role("infra-log", 4, "rhel", ((8, 32, 0.5), (8, 64, 0.5)), data_gib=(500, 2000)),
    # ---- RHEL, DMZ
    Role("dmz-proxy", 4, "rhel", ((2, 4, 1),), zone="dmz", group="dmz-proxy", group_size=2),
    Role("dmz-apigw", 6, "rhel", ((2, 8, 0.5), (4, 8, 0.5)), zone="dmz"),
    # ---- Ubuntu, internal
    Role("k8s-node", 24, "ubuntu", ((8, 32, 0.8), (16, 64, 0.2)), data_gib=(100, 300)),
    Role("k8s-cp", 3, "ubuntu", ((4, 8, 1),), group="k8s-cp", group_size=3),
    Role("infra-mon", 6, "ubuntu", ((4, 16, 0.5), (8, 32, 0.5))),
    Role("infra-ci", 10, "ubuntu", ((4, 8, 0.6), (8, 16, 0.4)), may_be_off=True),
    Role("app-node", 25, "ubuntu", ((1, 2, 0.2), (2, 4, 0.5), (2, 8, 0.3)), may_be_off=True),
    Role("infra-git", 2, "ubuntu", ((4, 16, 1),), group="git", group_size=2),
    Role("infra-ntp", 2, "ubuntu", ((1, 2, 1),), group="ntp", group_size=2),
    Role("infra-vault", 2, "ubuntu", ((2, 4, 1),), group="vault", group_size=2),
    # ---- Ubuntu, DMZ
    Role("dmz-mail", 2, "ubuntu", ((2, 4, 1),), zone="dmz", group="dmz-mail", group_size=2),
    Role("dmz-dns", 2, "ubuntu", ((1, 2, 1),), zone="dmz", group="dmz-dns", group_size=2),
    Role("dmz-nginx", 10, "ubuntu", ((2, 4, 0.7), (4, 8, 0.3)), zone="dmz"),
    Role("dmz-bastion", 2, "ubuntu", ((1, 2, 1),), zone="dmz"),
)


def generate(seed: int = SEED) -> list[dict[str, str]]:
    """The inventory rows (cells as text, in ``COLUMNS`` order), the same for the same seed."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    may_be_off: list[int] = []
    for role in ROLES:
        for i in range(role.count):
            if role.may_be_off:
                may_be_off.append(len(rows))
            rows.append(_vm(rng, role, i))
    for index in rng.sample(may_be_off, POWERED_OFF):
        rows[index]["powerstate"] = "off"
    return rows


def _vm(rng: random.Random, role: Role, i: int) -> dict[str, str]:
    vcpus, memory = rng.choices([s[:2] for s in role.sizes], [s[2] for s in role.sizes])[0]
    versions = OS_TEXT[role.family]
    os_text = rng.choices([v[0] for v in versions], [v[1] for v in versions])[0]
    tags = [TAGS[role.family]]
    if not role.always_tagged and rng.random() < UNTAGGED_SHARE[role.family]:
        tags = []  # left for the planner to infer from the OS text
    if role.extra_tags:
        tags = [TAGS[role.family], role.extra_tags]
    if role.group_size == 0:
        group = ""
    elif role.group_size >= role.count:
        group = role.group
    else:
        group = f"{role.group}-{i // role.group_size + 1:02d}"
    os_disk = 100 if role.family == "windows" else 60
    storage = os_disk + 10 * round(rng.uniform(*role.data_gib) / 10)
    busy = role.prefix.startswith("db-")  # databases run hotter and fill their memory
    cpu = rng.triangular(5, 70, 35 if busy else 15)
    mem = rng.triangular(30, 90, 80 if busy else 55)
    return {
        "name": f"{role.prefix}-{i + 1:02d}",
        "vcpus": str(vcpus),
        "memory_gib": str(memory),
        "cpu_util_pct": f"{cpu:.1f}",
        "mem_util_pct": f"{mem:.1f}",
        "storage_gib": str(storage),
        "os": os_text,
        "licenses": ";".join(t for t in tags if t),
        "group": group,
        "zone": role.zone,
        "cluster": CLUSTER,
        "powerstate": "on",
    }


def render(rows: list[dict[str, str]]) -> str:
    """The rows as CSV text with a header and ``\\n`` line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write the sample inventory; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rows = generate(args.seed)
    args.out.write_text(render(rows), encoding="utf-8", newline="")
    print(f"wrote {len(rows)} VMs to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
