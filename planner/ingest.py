"""Read a workload inventory (CSV or XLSX; native columns or a known export) into an Inventory.

    bytes or path -> Sheet (header + raw cells of a CSV file or one XLSX sheet; see sheets)
                  -> format (detected from the headers, or forced) -> columns per VM field
                  -> every row validated, every problem collected -> Inventory

Cells are read as raw text or raw spreadsheet values and converted here, never by pandas,
so that each problem can name its file, row, column and value. Rows are numbered as a
spreadsheet shows them: the header is row 1 in a CSV; in a sheet, the real sheet row.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Literal, TypeVar

from planner.errors import MAX_SHOWN, InputError, InputIssue
from planner.heap import paused
from planner.limits import MAX_MEMORY_GIB, MAX_STORAGE_GIB, MAX_VCPUS, Limits
from planner.models import VM, Inventory
from planner.sheets import Row, Sheet, cell_text, overflow_issue, read_sheet
from planner.units import mib_to_gib

__all__ = ["FORMATS", "detect_format", "infer_licence_tags", "read_inventory"]

FormatName = Literal["native", "rvtools", "azure_migrate", "liveoptics"]
FORMATS: tuple[FormatName, ...] = ("native", "rvtools", "azure_migrate", "liveoptics")

_REQUIRED = ("name", "vcpus", "memory_gib")


def _same(x: float) -> float:
    return x


@dataclass(frozen=True)
class _Col:
    """A file column that feeds one VM field (or a drop rule: template, srm_placeholder)."""

    field: str
    header: str  # as the export writes it; shown when the column is missing
    aliases: tuple[str, ...] = ()
    unit: Callable[[float], float] = _same  # to the VM field's unit
    pattern: str = ""  # regex over normalised headers: every matching column is summed

    @functools.cached_property
    def names(self) -> frozenset[str]:
        """The normalised headers this column is known by (computed once)."""
        return frozenset(map(_norm, (self.header, *self.aliases)))

    def matches(self, norm_header: str) -> bool:
        if self.pattern:
            return re.fullmatch(self.pattern, norm_header) is not None
        return norm_header in self.names


@dataclass(frozen=True)
class _Format:
    name: FormatName
    cols: tuple[_Col, ...]
    sheets: tuple[str, ...]  # preferred XLSX sheet names, lower-case


_NATIVE = _Format(
    "native",
    (
        _Col("name", "name", ("vm", "vm name", "vmname")),
        _Col("vcpus", "vcpus", ("vcpu", "cpus", "num cpus")),
        _Col("memory_gib", "memory_gib", ("memory gb", "memory (gib)", "mem gib", "ram gib")),
        # Memory counted in MiB/MB (RVTools habit) is accepted when the header says so.
        _Col("memory_gib", "memory_mib", ("memory mb", "memory (mib)", "mem mib"), mib_to_gib),
        _Col("cpu_util_pct", "cpu_util_pct", ("cpu util", "cpu utilization", "cpu util %")),
        _Col("mem_util_pct", "mem_util_pct", ("mem util", "memory utilization", "mem util %")),
        _Col("storage_gib", "storage_gib", ("storage gb", "disk gib", "disk gb")),
        _Col("storage_gib", "storage_mib", ("storage mb",), mib_to_gib),
        _Col("os", "os", ("guest os", "operating system")),
        _Col("licenses", "licenses", ("licences", "license", "licence", "license tags")),
        _Col("group", "group", ("anti affinity group",)),
        _Col("zone", "zone", ("security zone",)),
        _Col("cluster", "cluster"),
        _Col("powerstate", "powerstate", ("power state", "state")),
        _Col("host", "host", ("current host", "current_host")),
    ),
    ("inventory", "vms"),
)
_RVTOOLS = _Format(
    "rvtools",
    (
        _Col("name", "VM"),
        _Col("powerstate", "Powerstate"),
        _Col("vcpus", "CPUs"),
        _Col("memory_gib", "Memory", unit=mib_to_gib),
        # Older RVTools write "MB" for the same MiB figures.
        _Col("storage_gib", "Provisioned MiB", ("Provisioned MB",), mib_to_gib),
        # Per row, the first non-empty of the two OS columns wins.
        _Col("os", "OS according to the configuration file"),
        _Col("os", "OS according to the VMware Tools"),
        _Col("cluster", "Cluster"),
        _Col("template", "Template"),
        _Col("srm_placeholder", "SRM Placeholder"),
        _Col("host", "Host"),
    ),
    ("vinfo",),
)
_AZURE = _Format(
    "azure_migrate",
    (
        _Col("name", "Server name"),
        _Col("vcpus", "Cores"),
        # Azure's "MB" is the binary unit the hypervisor reports (MiB); disks likewise GB = GiB.
        _Col("memory_gib", "Memory (In MB)", unit=mib_to_gib),
        _Col("os", "OS name"),
        _Col("cpu_util_pct", "CPU utilization percentage"),
        _Col("mem_util_pct", "Memory utilization percentage"),
        _Col("storage_gib", "Disk N size (In GB)", pattern=r"disk \d+ size \(in gb\)"),
    ),
    ("inventory", "vms"),
)
_LIVEOPTICS = _Format(
    "liveoptics",
    (
        _Col("name", "VM Name"),
        _Col("powerstate", "Power State"),
        _Col("template", "Template"),
        _Col("vcpus", "Virtual CPU"),
        _Col("memory_gib", "Provisioned Memory (MiB)", unit=mib_to_gib),
        _Col("os", "VM OS"),
        _Col("cluster", "Cluster"),
        _Col("storage_gib", "Virtual Disk Size (MiB)", unit=mib_to_gib),
        _Col("host", "Host"),
    ),
    ("vms",),
)
# Most specific first: native's aliases ("vm", "cpus") overlap the exports' headers.
_DETECT_ORDER = (_RVTOOLS, _LIVEOPTICS, _AZURE, _NATIVE)
_SPECS = {f.name: f for f in _DETECT_ORDER}
# Drop rules each format applies; every one appears in Inventory.dropped, 0 when unused.
_DROP_RULES = {"rvtools": ("template", "srm_placeholder"), "liveoptics": ("template",)}
_DROP_WORDS = {"template": "template", "srm_placeholder": "SRM placeholder"}

_POWER_ON = {"on", "poweredon", "true", "yes", "1", "running", "up"}
_POWER_OFF = {"off", "poweredoff", "false", "no", "0", "stopped", "suspended", "saved", "down"}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_VM_FIELDS = set(VM.model_fields)
_CELLS = itemgetter(1)  # the cells of a Row
_MEMO_SIZE = 100_000  # distinct cell values of one column remembered once parsed
_DESKTOP_WINDOWS = re.compile(r"windows\s+(?:xp|vista|7|8|8\.1|10|11)\b")


# --------------------------------------------------------------------------- public API


def read_inventory(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    format: str | None = None,
    limits: Limits | None = None,
) -> Inventory:
    """Read an inventory file into an ``Inventory``.

    ``source`` is a path, or the raw bytes of an upload (``name`` is then the file name shown
    in errors; its extension helps tell XLSX from CSV). The container is CSV (``,`` ``;`` tab or
    ``|``; UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252; a decimal comma is read
    when the delimiter is ``;``) or XLSX/XLSM. ``format`` forces one of ``FORMATS``; ``None``
    detects it from the headers. Memory and storage come out in GiB whatever the file's unit
    (RVTools, Azure Migrate and Live Optics report MiB). RVTools/Live Optics templates and SRM
    placeholders are dropped and counted in ``Inventory.dropped``; suspended VMs count as
    powered off; licence tags missing from the file are inferred from the OS text (see
    ``infer_licence_tags``); ``Inventory.notes`` says what was assumed. In a workbook the sheet
    is the format's own (RVTools ``vInfo``, Live Optics ``VMs``), else ``inventory``/``vms``,
    else the first whose headers fit. ``limits`` bound the file's size and shape (default:
    ``Limits()``); a VM's vCPUs, memory and storage are bounded by ``planner.limits``.

    Raises:
        InputError: every problem found (unreadable file, unknown format, missing column,
            bad or duplicate values, a limit exceeded), each located by file, row, column and
            value; past ``MAX_SHOWN`` problems of one column, the rest are only counted.
        ValueError: ``format`` is not one of ``FORMATS`` (a caller's mistake, not the file's).
    """
    if format is not None and format not in _SPECS:
        raise ValueError(f"unknown inventory format {format!r}; expected one of {FORMATS}")
    with paused():
        return _read(source, name, _SPECS[format] if format is not None else None, limits)


def _read(
    source: str | Path | bytes, name: str | None, forced: _Format | None, limits: Limits | None
) -> Inventory:

    def fits(header: Sequence[str]) -> bool:
        return _has_required(forced, header) if forced else _detect_spec(header) is not None

    # In a workbook: the format's own sheet first, else the first whose headers fit.
    prefer = forced.sheets if forced else ("vinfo", "vms", "inventory")
    sheet = read_sheet(source, name, prefer=prefer, fits=fits, limits=limits)
    spec = forced or _detect_spec(sheet.header) or _closest_spec(sheet.header)
    if spec is None:
        raise InputError([_unknown_format_issue(sheet)])
    columns = _resolve(spec, sheet.header)
    missing = [f for f in _REQUIRED if f not in columns]
    if missing:
        found = ", ".join(h for h in sheet.header if h) or "none"
        fmt = f"the {spec.name} format" if forced else f"what looks like the {spec.name} format"
        raise InputError(
            InputIssue(
                file=sheet.label,
                column=_display_header(spec, f),
                rule=f"missing required column for {fmt} (found: {found})",
            )
            for f in missing
        )
    return _convert(sheet, spec, columns)


def detect_format(columns: Iterable[str]) -> str | None:
    """The inventory format whose required headers are all among ``columns``, or ``None``.

    Headers are compared ignoring case, surrounding spaces, underscores and a leading ``*``.
    """
    spec = _detect_spec(list(columns))
    return spec.name if spec else None


def infer_licence_tags(os_text: str) -> tuple[str, ...]:
    """Licence tags implied by an OS description: Windows Server -> ``("windows",)``, Red Hat
    Enterprise Linux -> ``("rhel",)``, anything else (desktop Windows included) -> ``()``.
    """
    text = " ".join(os_text.lower().split())
    if "windows" in text:
        # Desktop editions need no server licence, even when a year appears ("LTSC 2019").
        if _DESKTOP_WINDOWS.search(text):
            return ()
        # Server editions are named by year ("Windows 2012 R2" often omits "Server").
        if "server" in text or re.search(r"\b20\d\d\b", text):
            return ("windows",)
        return ()
    if "red hat enterprise linux" in text or re.search(r"\brhel\b", text):
        return ("rhel",)
    return ()


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class _Source:
    """One column of the file feeding a field."""

    index: int
    header: str  # as written in the file
    unit: Callable[[float], float]
    summed: bool  # one of several columns added up (Azure's disks)


def _norm(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lstrip("*").strip()).lower()


def _resolve(spec: _Format, header: Sequence[str]) -> dict[str, list[_Source]]:
    """For each field, the file columns that feed it, in the spec's order of preference."""
    normed, first = _normalised(tuple(header))
    columns: dict[str, list[_Source]] = {}
    for col in spec.cols:
        if col.pattern:  # every matching column, in the file's order, is summed
            found = [i for i, h in enumerate(normed) if h and col.matches(h)]
        else:  # a repeated header: the first one wins
            found = sorted(first[n] for n in col.names if n in first)[:1]
        for i in found:
            source = _Source(i, header[i], col.unit, bool(col.pattern))
            columns.setdefault(col.field, []).append(source)
    return columns


@functools.lru_cache(maxsize=4)
def _normalised(header: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    """The file's headers normalised, and the first column of each normalised header.

    Every header is normalised once, however many formats and rules look at it: a file of
    100,000 columns is resolved in well under a second.
    """
    normed = tuple(map(_norm, header))
    first: dict[str, int] = {}
    for i, h in enumerate(normed):
        if h:
            first.setdefault(h, i)
    return normed, first


def _detect_spec(header: Sequence[str]) -> _Format | None:
    return next((spec for spec in _DETECT_ORDER if _has_required(spec, header)), None)


def _has_required(spec: _Format, header: Sequence[str]) -> bool:
    columns = _resolve(spec, header)
    return all(f in columns for f in _REQUIRED)


def _closest_spec(header: Sequence[str]) -> _Format | None:
    """The format lacking a single required column, if any: worth naming that column."""
    for spec in _DETECT_ORDER:
        if sum(f in _resolve(spec, header) for f in _REQUIRED) == len(_REQUIRED) - 1:
            return spec
    return None


def _display_header(spec: _Format, field: str) -> str:
    return next(c.header for c in spec.cols if c.field == field)


def _unknown_format_issue(sheet: Sheet) -> InputIssue:
    found = ", ".join(h for h in sheet.header if h) or "none"
    needs = "; ".join(
        f"{s.name} needs " + ", ".join(_display_header(s, f) for f in _REQUIRED)
        for s in _DETECT_ORDER[::-1]
    )
    return InputIssue(
        file=sheet.label, rule=f"unknown inventory format: found columns {found}; {needs}"
    )


# --------------------------------------------------------------------------- rows


T = TypeVar("T")


class _Bad(Exception):
    """A cell that fails its rule; the message is the rule in words."""


def _number(value: object, decimal_comma: bool, *, percent: bool = False) -> float:
    if isinstance(value, bool):  # bool is an int to Python, not to a user
        raise _Bad("not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if percent:
            text = text.removesuffix("%").rstrip()
        if decimal_comma and text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not _NUMBER.fullmatch(text):
            raise _Bad("not a number")
        number = float(text)
    else:
        raise _Bad("not a number")
    if not math.isfinite(number):
        raise _Bad("not a number")
    return number


def _flag(value: object) -> bool:
    text = cell_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad("not true/false")


def _power(value: object) -> bool:
    text = re.sub(r"[\s_-]", "", cell_text(value).lower())
    if text in _POWER_ON:
        return True
    if text in _POWER_OFF:
        return False
    raise _Bad("not a power state (expected on/off, poweredOn/poweredOff, running/stopped)")


class _Columns:
    """The data rows of a sheet, read one field at a time down its column(s).

    Reading by column keeps the per-cell work small; every problem is recorded with its row,
    and a row with a problem makes no VM. One pass down a column meets its problems in row
    order, so keeping the first ``MAX_SHOWN`` of each pass keeps the first ``MAX_SHOWN`` of
    the file; the others are only counted (``omitted``), which bounds the memory a file of
    a million bad rows takes to report.
    """

    def __init__(self, sheet: Sheet, columns: dict[str, list[_Source]]) -> None:
        self.sheet, self.columns = sheet, columns
        self.rows: Sequence[Row] = sheet.rows
        self.text_cells = sheet.delimiter is not None  # CSV: every cell is str (or None)
        self.issues: list[InputIssue] = []
        self.omitted = 0
        self.bad_rows: set[int] = set()
        self._pass = 0  # which pass down the columns is running
        self._kept: Counter[tuple[int, str | None]] = Counter()

    def next_pass(self) -> None:
        """Start a new pass down the rows: its problems are kept apart from the others'."""
        self._pass += 1

    def bad(self, row: int, src: _Source | None, value: object, rule: str) -> None:
        column = src.header if src else None
        self.bad_rows.add(row)
        key = (self._pass, column)
        if self._kept[key] >= MAX_SHOWN:
            self.omitted += 1
            return
        self._kept[key] += 1
        shown = None if value is None else cell_text(value)
        self.issues.append(
            InputIssue(file=self.sheet.label, row=row, column=column, value=shown, rule=rule)
        )

    def keep(self, mask: list[bool]) -> None:
        """Forget the rows whose mask is False (dropped rows are not validated further)."""
        self.rows = [r for r, k in zip(self.rows, mask, strict=True) if k]

    def cells(self, sources: Sequence[_Source]) -> tuple[list[object], list[_Source | None]]:
        """Per row, the first non-empty cell among ``sources`` (``None`` if all are empty), and
        the column it came from.

        Two flat lists rather than a list of pairs: a million small tuples would keep the
        garbage collector busy for seconds on a large file.
        """
        n = len(self.rows)
        values: list[object] = []
        origins: list[_Source | None] = []
        if not sources:
            return [None] * n, [None] * n
        if len(sources) == 1:  # the usual case, kept quick
            i = sources[0].index
            if self.text_cells:  # no Python code per cell: a large CSV has millions
                column = list(map(itemgetter(i), map(_CELLS, self.rows)))
                # Scans in C first: most columns have no blank cell to replace by None.
                if None in column or "" in column or any(map(str.isspace, filter(None, column))):
                    column = [v if v and not v.isspace() else None for v in column]
                values = column
            else:
                values = [c[i] if cell_text(c[i]) else None for _, c in self.rows]
            return values, [sources[0]] * n
        for _, c in self.rows:
            value, origin = None, sources[0]
            for src in sources:
                if cell_text(c[src.index]):
                    value, origin = c[src.index], src
                    break
            values.append(value)
            origins.append(origin)
        return values, origins

    def text(self, field: str) -> list[str]:
        """Per row, the field's text; equal texts are one object (an OS name repeated on a
        million rows is stored once)."""
        values = self.cells(self.columns.get(field, []))[0]
        if self.text_cells:  # each distinct text stripped once, and shared by its rows
            stripped: dict[object, str] = {v: v.strip() for v in set(values) if type(v) is str}
            stripped[None] = ""
            return list(map(stripped.__getitem__, values))
        texts = [cell_text(v) for v in values]
        same: dict[str, str] = {}
        return [same.setdefault(t, t) for t in texts]

    def parse(self, field: str, parse: Callable[[object], T]) -> list[T | None]:
        """Per row, ``parse(cell)``; ``None`` where empty or bad (issue recorded)."""
        return self._parse(self.columns.get(field, []), lambda _, raw: parse(raw))

    def _parse(
        self, sources: Sequence[_Source], parse: Callable[[_Source, object], T]
    ) -> list[T | None]:
        self.next_pass()
        values, origins = self.cells(sources)
        if self.text_cells and len(sources) == 1:
            return self._parse_text(values, sources[0], parse)
        out: list[T | None] = [None] * len(values)
        # A column repeats a few values ("4", "poweredOn"): each is parsed once. The type is in
        # the key because 1, 1.0 and True are equal to Python but not to the rules.
        memo: dict[tuple[type, object, int], tuple[bool, T | str]] = {}
        for i, (raw, src) in enumerate(zip(values, origins, strict=True)):
            if raw is None or src is None:
                continue
            key = (type(raw), raw, src.index)
            hit = memo.get(key)
            if hit is None:
                try:
                    hit = (True, parse(src, raw))
                except _Bad as exc:
                    hit = (False, str(exc))
                if len(memo) < _MEMO_SIZE:
                    memo[key] = hit
            if hit[0]:
                out[i] = hit[1]  # type: ignore[assignment]  # hit[0] says it is a T
            else:
                self.bad(self.rows[i][0], src, raw, str(hit[1]))
        return out

    def _parse_text(
        self, values: list[object], src: _Source, parse: Callable[[_Source, object], T]
    ) -> list[T | None]:
        """``_parse`` of one column of text cells: each distinct text is parsed once."""
        parsed: dict[object, T] = {}
        broken: dict[object, str] = {}
        for raw in set(values):
            if raw is not None:
                try:
                    parsed[raw] = parse(src, raw)
                except _Bad as exc:
                    broken[raw] = str(exc)
        if broken:
            for i in [i for i, v in enumerate(values) if v in broken]:
                self.bad(self.rows[i][0], src, values[i], broken[values[i]])
        return list(map(parsed.get, values))

    def number(
        self, field: str, rule: str, ok: Callable[[float], bool], *, percent: bool = False
    ) -> list[float | None]:
        """Per row, the field in the VM's unit; columns matched by a pattern are summed."""

        def parse(src: _Source, raw: object) -> float:
            number = src.unit(_number(raw, self.sheet.decimal_comma, percent=percent))
            if not ok(number):
                raise _Bad(rule)
            return number

        sources = self.columns.get(field, [])
        if not any(s.summed for s in sources):
            return self._parse(sources, parse)
        totals: list[float | None] = [None] * len(self.rows)
        for src in sources:  # Azure's "Disk N size" columns
            for i, value in enumerate(self._parse([src], parse)):
                if value is not None:
                    totals[i] = (totals[i] or 0.0) + value
        self.next_pass()
        summed = f"{rule} (the sum of {', '.join(s.header for s in sources)})"
        for (row, _), total in zip(self.rows, totals, strict=True):
            if total is not None and not ok(total):  # each part fits, their sum does not
                self.bad(row, None, total, summed)
        return totals

    def require(self, field: str) -> None:
        self.next_pass()
        src = self.columns[field][0]
        values = self.cells(self.columns[field])[0]
        if None in values:
            for i in [i for i, v in enumerate(values) if v is None]:
                self.bad(self.rows[i][0], src, None, "required value is missing")


def _convert(sheet: Sheet, spec: _Format, columns: dict[str, list[_Source]]) -> Inventory:
    # The sheet's rows hold a value each and have a cell under every header column.
    data = _Columns(sheet, columns)
    width = len(sheet.header)
    for row, cells in sheet.rows:
        if len(cells) > width and (issue := overflow_issue(sheet.label, row, cells, width)):
            data.bad(row, None, issue.value, issue.rule)
    dropped: dict[str, int] = {}
    for rule in _DROP_RULES.get(spec.name, ()):
        flags = data.parse(rule, _flag)
        dropped[rule] = sum(f is True for f in flags)
        data.keep([f is not True for f in flags])

    for field in _REQUIRED:
        data.require(field)
    names = data.text("name")
    data.next_pass()
    seen: dict[str, int] = {}  # VM name -> row of its first occurrence
    for (row, _), name in zip(data.rows, names, strict=True):
        if name in seen:
            data.bad(
                row, columns["name"][0], name, f"duplicate VM name; first seen at row {seen[name]}"
            )
        elif name:
            seen[name] = row
    vcpus = data.number(
        "vcpus",
        f"must be a whole number of vCPUs, from 1 to {MAX_VCPUS:,}",
        lambda x: 1 <= x <= MAX_VCPUS and x.is_integer(),
    )
    memory = data.number(
        "memory_gib",
        f"must be a number of GiB greater than 0, at most {MAX_MEMORY_GIB:,.0f}",
        lambda x: 0 < x <= MAX_MEMORY_GIB,
    )
    pct = "must be a percentage from 0 to 100"
    cpu_util = data.number("cpu_util_pct", pct, lambda x: 0 <= x <= 100, percent=True)
    mem_util = data.number("mem_util_pct", pct, lambda x: 0 <= x <= 100, percent=True)
    storage = data.number(
        "storage_gib",
        f"must be a number of GiB from 0 to {MAX_STORAGE_GIB:,.0f}",
        lambda x: 0 <= x <= MAX_STORAGE_GIB,
    )
    power = data.parse("powerstate", _power)
    os_texts = data.text("os")
    licences = data.text("licenses")
    groups, zones, clusters = data.text("group"), data.text("zone"), data.text("cluster")
    hosts = data.text("host")
    suspended = sum(t.lower() == "suspended" for t in data.text("powerstate"))
    rows = [row for row, _ in data.rows]
    data.rows = ()  # every cell needed is read: the cells can go before the VMs are made
    if isinstance(sheet.rows, list):
        sheet.rows.clear()  # the sheet was read for this call alone

    vms: list[VM] = []
    # A file with a problem makes no inventory: its VMs are not built.
    for i, row in enumerate(() if data.bad_rows else rows):
        tags = _tags(licences[i]) if licences[i] else ()
        inferred = () if tags else _inferred(os_texts[i])
        vm = VM(
            name=names[i],
            vcpus=int(vcpus[i] or 0),
            memory_gib=memory[i] or 0.0,
            cpu_util_pct=cpu_util[i],
            mem_util_pct=mem_util[i],
            storage_gib=storage[i],
            os=os_texts[i],
            licences=tags or inferred,
            licences_inferred=bool(inferred),
            group=groups[i],
            zone=zones[i],
            cluster=clusters[i],
            powered_on=power[i] is not False,  # unknown power state: planned as on
            row=row,
            host=hosts[i],
        )
        # Every field is given, so every VM's set of given fields is the same: one set for
        # all rather than one each (0.7 KB a VM). pydantic copies it before any change.
        object.__setattr__(vm, "__pydantic_fields_set__", _VM_FIELDS)
        vms.append(vm)
    if not data.bad_rows and not vms:
        gone = sum(dropped.values())
        rule = (
            f"no VMs left after dropping {gone} templates or placeholders"
            if gone
            else "no data rows: the file has a header only"
        )
        data.issues.append(InputIssue(file=sheet.label, rule=rule))
    if data.issues:
        # Reading by column found them column by column; users read a file row by row.
        place = {h: i for i, h in reversed(list(enumerate(sheet.header)))}
        raise InputError(
            sorted(data.issues, key=lambda i: (i.row or 0, place.get(i.column or "", -1))),
            omitted=data.omitted,
        )
    return Inventory(
        source=sheet.file,
        format=spec.name,
        vms=tuple(vms),
        dropped=dropped,
        notes=_notes(sheet, vms, dropped, suspended),
    )


@functools.lru_cache(maxsize=4096)
def _tags(text: str) -> tuple[str, ...]:
    """The licence tags of a ``;``- or ``,``-separated cell, lower-case, each once."""
    return tuple(t for t in dict.fromkeys(t.strip().lower() for t in re.split(r"[;,]", text)) if t)


@functools.lru_cache(maxsize=4096)
def _inferred(os_text: str) -> tuple[str, ...]:
    """``infer_licence_tags``, once per distinct OS text (a large export repeats a few)."""
    return infer_licence_tags(os_text)


def _notes(sheet: Sheet, vms: list[VM], dropped: dict[str, int], suspended: int) -> tuple[str, ...]:
    """What the reader assumed or inferred, in words, for the user to check."""
    notes: list[str] = []
    if sheet.encoding == "cp1252":
        notes.append("the file was read as Windows-1252 text (it is not UTF-8)")
    if any(dropped.values()):
        what = " and ".join(_count(n, _DROP_WORDS[rule]) for rule, n in dropped.items() if n)
        notes.append(f"dropped {what}: they are not workloads")
    off = sum(not vm.powered_on for vm in vms)
    if off:
        line = f"powered off: {off} of {_count(len(vms), 'VM')}"
        if suspended:
            line += f" (suspended ones, {suspended}, count as powered off)"
        notes.append(line + "; they are planned unless the policy excludes powered-off VMs")
    for field, what in (("cpu_util_pct", "CPU"), ("mem_util_pct", "memory")):
        given = [u for vm in vms if (u := getattr(vm, field)) is not None]
        if given and 0 < max(given) <= 1:  # Excel percent cells hold 0.35 for 35 %
            notes.append(
                f"{what} utilization is at most 1 % on every VM: if the file holds fractions "
                "(0.35 for 35 %), convert them to percentages"
            )
    inferred = [vm for vm in vms if vm.licences_inferred]
    if inferred:
        per_tag = Counter(tag for vm in inferred for tag in vm.licences)
        ranked = sorted(per_tag.items(), key=lambda kv: (-kv[1], kv[0]))
        counts = ", ".join(f"{tag} {n}" for tag, n in ranked)
        notes.append(
            f"licence tags inferred from the OS text for {_count(len(inferred), 'VM')}: {counts}"
        )
    desktop = sum(not vm.licences and bool(_DESKTOP_WINDOWS.search(vm.os.lower())) for vm in vms)
    if desktop:
        vms_ = _count(desktop, "VM")
        notes.append(f"desktop Windows (e.g. Windows 10) on {vms_}: no server licence inferred")
    return tuple(notes)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
