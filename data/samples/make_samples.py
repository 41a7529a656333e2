"""Write the small sample inventories of this folder, in the layouts real tools export.

    rvtools_small.xlsx        RVTools workbook: sheets vInfo (30 VMs, 2 of them templates) and vHost
    azure_migrate_small.csv   Azure Migrate "Import using CSV" template, 25 servers, utilization
    liveoptics_small.xlsx     Live Optics (Optical Prime) VMware workbook: sheets Details and VMs

The VMs are invented (a seeded random generator, names under example.test), so the files may
be shared freely. Run from anywhere: ``python data/samples/make_samples.py``.
"""

from __future__ import annotations

import csv
import io
import random
import re
import uuid
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FIXED_TIME = datetime(2026, 9, 1, 9, 30)  # every timestamp in the workbooks: reruns are identical

WINDOWS = (
    "Microsoft Windows Server 2019 (64-bit)",
    "Microsoft Windows Server 2022 (64-bit)",
    "Microsoft Windows Server 2016 or later (64-bit)",
)
RHEL = ("Red Hat Enterprise Linux 8 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)")
OTHER = ("Ubuntu Linux (64-bit)", "SUSE Linux Enterprise 15 (64-bit)")
SIZES = ((1, 2), (2, 4), (2, 8), (4, 8), (4, 16), (8, 32), (16, 64))  # (vCPUs, GiB)


def _os(rng: random.Random) -> str:
    pool = rng.choices((WINDOWS, RHEL, OTHER), weights=(6, 3, 2))[0]
    return rng.choice(pool)


def _workbook() -> Workbook:
    wb = Workbook()
    wb.properties.created = FIXED_TIME
    wb.properties.creator = "make_samples.py"
    return wb


def _save(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps, so that rerunning the script changes no byte."""
    raw = io.BytesIO()
    wb.save(raw)  # openpyxl stamps "modified" with the current time, and so does zipfile
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(item.filename, FIXED_TIME.timetuple()[:6])
            out.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)


def rvtools(path: Path, rng: random.Random) -> None:
    """An RVTools 4.x export: vInfo with MiB columns and SRM Placeholder, plus vHost."""
    wb = _workbook()
    info = wb.active
    assert info is not None
    info.title = "vInfo"
    info.append(
        [
            "VM", "Powerstate", "Template", "SRM Placeholder", "Config status", "DNS Name",
            "CPUs", "Memory", "NICs", "Disks", "Total disk capacity MiB", "Provisioned MiB",
            "In Use MiB", "Primary IP Address", "Firmware", "HW version", "Datacenter",
            "Cluster", "Host", "OS according to the configuration file",
            "OS according to the VMware Tools", "VM ID", "VM UUID", "VI SDK Server",
        ]
    )  # fmt: skip
    clusters = {"Prod": ("esx01", "esx02", "esx03"), "Dev": ("esx11", "esx12")}
    for i in range(30):
        cluster = "Prod" if i < 20 else "Dev"
        template = i in (18, 29)
        vcpus, gib = rng.choice(SIZES)
        disk_mib = rng.choice((40, 60, 100, 250, 500)) * 1024
        os_name = _os(rng)
        name = f"tpl-{cluster.lower()}-{i:02d}" if template else f"{cluster.lower()}-vm{i:02d}"
        off = template or i in (7, 15, 24)
        info.append(
            [
                name,
                "poweredOff" if off else "poweredOn",
                str(template),  # RVTools writes the words True/False, not Excel booleans
                "False",
                "green",
                "" if template else f"{name}.example.test",
                vcpus,
                gib * 1024,
                1,
                1,
                disk_mib,
                disk_mib + gib * 1024,  # provisioned includes the swap file
                0 if off else disk_mib // 2,
                "" if off else f"10.0.{i // 10}.{10 + i}",
                "efi",
                19,
                "DC1",
                cluster,
                f"{rng.choice(clusters[cluster])}.example.test",
                os_name,
                "" if off else os_name.replace(" (64-bit)", ""),
                f"vm-{1000 + i}",
                str(uuid.UUID(int=rng.getrandbits(128))),
                "vcsa01.example.test",
            ]
        )
    hosts = wb.create_sheet("vHost")
    hosts.append(
        [
            "Host", "Datacenter", "Cluster", "# CPU", "Cores per CPU", "# Cores", "HT Available",
            "HT Active", "# Memory", "# VMs", "ESX Version", "Vendor", "Model",
        ]
    )  # fmt: skip
    for cluster, names in clusters.items():
        for host in names:
            hosts.append(
                [
                    f"{host}.example.test", "DC1", cluster, 2, 16, 32, "True", "True", 524288,
                    0, "VMware ESXi 8.0.2", "Example Systems", "EX-2U-2S",
                ]
            )  # fmt: skip
    _save(wb, path)


def azure_migrate(path: Path, rng: random.Random) -> None:
    """Azure Migrate's import template: mandatory headers starred, two disks per server."""
    disk = ("size (In GB)", "read throughput (MB per second)", "write throughput (MB per second)",
            "read ops (operations per second)", "write ops (operations per second)")  # fmt: skip
    header = [
        "*Server Name", "IP addresses", "*Cores", "*Memory (In MB)", "*OS name", "OS version",
        "OS architecture", "CPU utilization percentage", "Memory utilization percentage",
        "Network adapters", "Network In throughput", "Network Out throughput", "Boot type",
        "Number of disks", *[f"Disk {n} {what}" for n in (1, 2) for what in disk],
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i in range(25):
            vcpus, gib = rng.choice(SIZES)
            os_name = _os(rng).replace("Microsoft ", "").replace(" (64-bit)", "")
            disks = [rng.choice((64, 128, 256))] + ([rng.choice((100, 500))] if i % 3 == 0 else [])
            row = [
                f"srv{i:02d}.example.test", f"10.1.0.{20 + i}", vcpus, gib * 1024, os_name, "",
                "x64", rng.randint(3, 85), rng.randint(20, 95), 1, "", "",
                "UEFI" if i % 2 else "BIOS", len(disks),
            ]  # fmt: skip
            for n in range(2):
                row += [disks[n], "", "", "", ""] if n < len(disks) else ["", "", "", "", ""]
            out.writerow(row)


def liveoptics(path: Path, rng: random.Random) -> None:
    """A Live Optics VMware workbook: a Details sheet first, then VMs (memory and disks in MiB)."""
    wb = _workbook()
    details = wb.active
    assert details is not None
    details.title = "Details"
    details.append(["Project", "Collector", "Collection Start", "Hosts", "VMs"])
    details.append(["Sample", "Optical Prime", FIXED_TIME, 4, 20])
    vms = wb.create_sheet("VMs")
    vms.append(
        [
            "VM Name", "Power State", "Template", "Virtual CPU", "Provisioned Memory (MiB)",
            "Consumed Memory (MiB)", "Virtual Disk Size (MiB)", "Virtual Disk Used (MiB)",
            "VM OS", "Datacenter", "Cluster", "Host", "MOB ID", "InstanceUUID", "Guest IP1",
        ]
    )  # fmt: skip
    for i in range(20):
        vcpus, gib = rng.choice(SIZES)
        disk_mib = rng.choice((50, 80, 200)) * 1024
        off = i in (4, 13)
        vms.append(
            [
                f"lo-vm{i:02d}", "poweredOff" if off else "poweredOn", False, vcpus, gib * 1024,
                0 if off else gib * 1024 * rng.randint(30, 90) // 100, disk_mib,
                disk_mib // 3, _os(rng), "DC1", "Cluster-A" if i < 12 else "Cluster-B",
                f"esx{i % 4 + 1:02d}.example.test", f"vm-{2000 + i}",
                str(uuid.UUID(int=rng.getrandbits(128))), f"10.2.0.{30 + i}",
            ]
        )  # fmt: skip
    _save(wb, path)


def main() -> None:
    rvtools(HERE / "rvtools_small.xlsx", random.Random(1))
    azure_migrate(HERE / "azure_migrate_small.csv", random.Random(2))
    liveoptics(HERE / "liveoptics_small.xlsx", random.Random(3))


if __name__ == "__main__":
    main()
