"""Size limits on what the planner reads, and bounds on the numbers an inventory may hold.

A file is refused early, with the limit named, rather than read until memory runs out:

    path  -> a regular file (not a directory, pipe or device), at most ``file_bytes``
    bytes -> an XLSX zip whose members unpack to at most ``xlsx_unpacked_bytes`` in all,
             none inflating more than ``xlsx_ratio`` times (a "zip bomb")
          -> at most ``rows`` rows and ``columns`` columns, no cell over ``cell_chars``

The defaults fit a 1,000,000-VM export (a 1M-row native CSV is about 75 MB; Excel's own
sheet holds at most 1,048,576 rows, 16,384 columns and 32,767 characters a cell); each can
be raised (``planner validate --limit rows=2000000``). The CLI and the app apply the same.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import InputError, InputIssue

__all__ = [
    "MAX_MEMORY_GIB",
    "MAX_STORAGE_GIB",
    "MAX_VCPUS",
    "Limits",
    "check_size",
    "check_xlsx",
    "parse_limits",
    "read_file",
]

# Bounds on one VM: well above any real VM (vSphere 8 allows 768 vCPUs and 24 TiB of
# memory; Hyper-V 2,048 vCPUs), well below where sums and integer scaling lose meaning.
MAX_VCPUS = 4_096
MAX_MEMORY_GIB = 65_536.0  # 64 TiB
MAX_STORAGE_GIB = 1_048_576.0  # 1 PiB, all disks of the VM together

_MIB = 1 << 20
_GIB = 1 << 30


class Limits(BaseModel):
    """How much one input file may hold; every refusal names the limit it hit."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    file_bytes: int = Field(default=1 * _GIB, ge=1)  # the file as stored (or uploaded)
    xlsx_unpacked_bytes: int = Field(default=1 * _GIB, ge=1)  # all zip members unpacked
    xlsx_ratio: float = Field(default=200.0, gt=1)  # unpacked / packed of a large member
    rows: int = Field(default=1_048_576, ge=1)  # spreadsheet rows, the header included
    columns: int = Field(default=16_384, ge=1)  # cells in a row
    cell_chars: int = Field(default=32_767, ge=1)  # characters in one cell
    policy_bytes: int = Field(default=1 * _MIB, ge=1)  # a policy TOML file


# Members smaller than this are not held to the ratio: tiny XML parts compress very well
# and cost nothing to unpack.
_RATIO_FLOOR = 16 * _MIB


def parse_limits(items: Iterable[str]) -> Limits:
    """``["rows=2000000", ...]`` (the CLI's ``--limit``) into ``Limits``.

    Raises:
        InputError: an item without ``=``, an unknown limit or a value that is not a
            positive number; each issue names the item and the rule.
    """
    values: dict[str, str] = {}
    issues: list[InputIssue] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            issues.append(InputIssue(file="--limit", value=item, rule="expected name=value"))
        values[key.strip()] = value.strip()
    if not issues:
        try:
            return Limits.model_validate(values)
        except ValidationError as exc:
            known = ", ".join(Limits.model_fields)
            for err in exc.errors():
                key = ".".join(map(str, err["loc"]))
                rule = (
                    f"unknown limit; known: {known}"
                    if err["type"] == "extra_forbidden"
                    else err["msg"]
                )
                issues.append(
                    InputIssue(file="--limit", column=key, value=values.get(key), rule=rule)
                )
    raise InputError(issues)


def read_file(
    path: Path, file: str, max_bytes: int, limit: str = "file_bytes", what: str = "file"
) -> bytes:
    """The bytes of the regular file at ``path``, refused when larger than ``max_bytes``.

    A directory, a pipe (which would block) or a device such as ``/dev/zero`` (which never
    ends) is refused before it is opened for reading.

    Raises:
        InputError: the file is missing, unreadable, not a regular file or too large; named
            ``file`` in the issue (and ``what`` it is: "cannot read the {what}"), with
            ``limit`` when that is what refused it.
    """
    cannot = f"cannot read the {what}"
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError.single(file, f"{cannot}: not found at {path}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise InputError.single(file, f"{cannot}: {_reason(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a pipe, socket or device"
        raise InputError.single(file, f"{cannot}: {path} is {kind}, not a file")
    check_size(info.st_size, file, max_bytes, limit)
    try:
        # O_NONBLOCK: should the path become a pipe after the check, opening it cannot hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as f:
            data = f.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        raise InputError.single(file, f"{cannot}: {_reason(exc)}") from None
    check_size(len(data), file, max_bytes, limit)
    return data


def check_size(size: int, file: str, max_bytes: int, limit: str = "file_bytes") -> None:
    """Refuse a file (or an upload) of ``size`` bytes above ``max_bytes``.

    Raises:
        InputError: naming the size and the limit.
    """
    if size > max_bytes:
        raise InputError.single(
            file,
            f"the file is {_bytes(size)}, above the limit {limit} = "
            f"{_bytes(max_bytes)}; raise it with --limit {limit}=N if the file is genuine",
        )


def check_xlsx(data: bytes, file: str, limits: Limits) -> None:
    """Refuse a workbook whose zip would unpack to too much, before anything is unpacked.

    The sizes are those the zip declares; Python's zip reader never returns more than the
    declared size of a member, so they bound what the workbook reader can inflate.

    Raises:
        InputError: the total unpacked size or one member's ratio is above its limit.
            A damaged zip passes: the workbook reader reports it.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        return  # NotImplementedError: a zip feature Python lacks ("zip file version 6.4")
    total = sum(m.file_size for m in members)
    if total > limits.xlsx_unpacked_bytes:
        raise InputError.single(
            file,
            f"the workbook unpacks to {_bytes(total)}, above the limit xlsx_unpacked_bytes = "
            f"{_bytes(limits.xlsx_unpacked_bytes)}",
        )
    for m in members:
        if m.file_size > _RATIO_FLOOR and m.file_size > limits.xlsx_ratio * max(m.compress_size, 1):
            ratio = m.file_size / max(m.compress_size, 1)
            raise InputError.single(
                file,
                f"part {m.filename} inflates {ratio:,.0f} times ({_bytes(m.compress_size)} to "
                f"{_bytes(m.file_size)}), above the limit xlsx_ratio = {limits.xlsx_ratio:g}: "
                "a zip bomb?",
            )


def _bytes(n: float) -> str:
    for unit, size in (("GiB", _GIB), ("MiB", _MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} bytes"


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc)
