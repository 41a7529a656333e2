"""The catalog: server models, licence rules and hypervisor profiles, read from files.

    load_hosts       hosts.csv        -> tuple[HostModel, ...]
    load_licences    licenses.csv     -> tuple[Licence, ...]
    load_profiles    hypervisors.csv  -> dict[str, HypervisorProfile]
    find_profile     a profile by name, old names (``type1`` = ``vsphere``) included
    load_catalog     the three at once (the bundled files in ``data/`` by default) -> Catalog

    hosts_frame / hosts_from_frame, licences_frame / licences_from_frame
                     a pandas round trip for the app's editable tables

Files are CSV or an XLSX workbook (its first sheet holding a value), read by
``planner.sheets``: any of ``, ; TAB |`` as delimiter; UTF-8 with or without BOM, cp1252 or
UTF-16 "Unicode text" from Excel. Headers forgive case, spacing and punctuation
(``Cores per socket`` is ``cores_per_socket``). Empty optional cells take the model's default.

Every problem of a file is collected and raised at once as an ``InputError`` whose issues
name the file, the spreadsheet row (header = row 1), the column, the value and the rule.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from planner.errors import InputError, InputIssue
from planner.limits import Limits
from planner.models import Catalog, HostModel, HypervisorProfile, Licence
from planner.sheets import Row, Source, cell_text, overflow_issue, read_sheet

__all__ = [
    "DATA_DIR",
    "PROFILE_ALIASES",
    "find_profile",
    "hosts_frame",
    "hosts_from_frame",
    "licences_frame",
    "licences_from_frame",
    "load_catalog",
    "load_hosts",
    "load_licences",
    "load_profiles",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The repository's ``data/`` folder: bundled catalog files and the sample inventory."""

_Kind = Literal["text", "choice", "int", "float", "bool"]
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class _Col:
    field: str
    kind: _Kind
    required: bool = False


@dataclass(frozen=True)
class _Table:
    """How one catalog file maps onto a model."""

    what: str  # what one row is, in words: "server model"
    default_file: str
    columns: tuple[_Col, ...]
    key: str  # the field whose values must be unique
    may_be_empty: bool
    aliases: Mapping[str, str]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.columns)


# Free-text columns people add to keep their own notes; read and ignored.
_NOTE_COLUMNS = frozenset({"note", "notes", "comment", "comments", "source", "sources"})

_HOSTS = _Table(
    what="server model",
    default_file="hosts.csv",
    columns=(
        _Col("model", "text", required=True),
        _Col("sockets", "int", required=True),
        _Col("cores_per_socket", "int", required=True),
        _Col("memory_gib", "float", required=True),
        _Col("threads_per_core", "int"),
        _Col("price", "float"),
        _Col("watts_idle", "float"),
        _Col("watts_max", "float"),
        _Col("rack_units", "int"),
        _Col("max_count", "int"),
        _Col("dedicated_only", "bool"),
    ),
    key="model",
    may_be_empty=False,
    # Server memory is sold in binary units whatever the label says: "512 GB" is 512 GiB.
    aliases={"memory_gb": "memory_gib", "ram_gb": "memory_gib", "ram_gib": "memory_gib"},
)

_LICENCES = _Table(
    what="licence",
    default_file="licenses.csv",
    columns=(
        _Col("name", "text", required=True),
        _Col("family", "text", required=True),
        _Col("tag", "text"),
        _Col("unit", "choice", required=True),
        _Col("price", "float", required=True),
        _Col("period", "choice"),
        _Col("min_cores_per_socket", "int"),
        _Col("min_cores_per_host", "int"),
        _Col("vms_per_grant", "int"),
        _Col("scope", "choice"),
        _Col("applies_to", "choice"),
        _Col("support_pct", "float"),
    ),
    key="name",
    may_be_empty=True,  # no licence rules at all is a valid (if optimistic) catalog
    aliases={},
)

_PROFILES = _Table(
    what="hypervisor profile",
    default_file="hypervisors.csv",
    columns=(
        _Col("name", "text", required=True),
        _Col("description", "text"),
        _Col("type", "int"),
        _Col("reserved_cores", "float"),
        _Col("reserved_memory_gib", "float"),
        _Col("vm_memory_overhead_mib", "float"),
        _Col("vm_memory_overhead_pct", "float"),
        _Col("cpu_efficiency", "float"),
        _Col("max_vms_per_host", "int"),
        _Col("max_vcpus_per_core", "float"),
        _Col("max_vcpus_per_vm", "int"),
        _Col("max_hosts_per_cluster", "int"),
        _Col("licence_family", "text"),
        _Col("pays_hypervisor_licence", "bool"),  # legacy: true = every all_hosts licence
    ),
    key="name",
    may_be_empty=False,
    aliases={
        "pays_hypervisor_license": "pays_hypervisor_licence",
        "license_family": "licence_family",
        "max_cluster_hosts": "max_hosts_per_cluster",
    },
)

PROFILE_ALIASES: Mapping[str, str] = {"type1": "vsphere"}
"""Old profile names still accepted in a policy: ``type1`` was the bundled bare-metal profile."""


def find_profile(profiles: Mapping[str, HypervisorProfile], name: str) -> HypervisorProfile | None:
    """The profile called ``name``, or None; ``type1`` and ``vsphere`` stand for each other,
    so old policies run on the new catalog and the new default on an old catalog."""
    if name in profiles:
        return profiles[name]
    for old, new in PROFILE_ALIASES.items():
        if name in (old, new):
            return profiles.get(new if name == old else old)
    return None


# --------------------------------------------------------------------------- public API


def load_hosts(
    path: Source, name: str | None = None, limits: Limits | None = None
) -> tuple[HostModel, ...]:
    """Read a host catalog (server models) from a CSV/XLSX path or its bytes.

    Only ``model, sockets, cores_per_socket, memory_gib`` are required; an empty ``price``
    or ``watts_*`` cell is estimated by ``HostModel`` (and listed in its ``estimated``).
    ``name`` is the file name shown in errors (default: the path's name, or ``hosts.csv``).
    ``limits`` bound what is read, as for an inventory (default: ``Limits()``).

    Raises:
        InputError: every problem of the file, each with row, column, value and rule.
    """
    return _raise_on_issues(_load_hosts(path, name, limits))


def load_licences(
    path: Source, name: str | None = None, limits: Limits | None = None
) -> tuple[Licence, ...]:
    """Read licence rules from a CSV/XLSX path or its bytes (see ``load_hosts``).

    Raises:
        InputError: every problem of the file, each with row, column, value and rule.
    """
    return _raise_on_issues(_load_licences(path, name, limits))


def load_profiles(
    path: Source, name: str | None = None, limits: Limits | None = None
) -> dict[str, HypervisorProfile]:
    """Read hypervisor profiles from a CSV/XLSX path or its bytes, keyed by profile name.

    Raises:
        InputError: every problem of the file, each with row, column, value and rule.
    """
    return _raise_on_issues(_load_profiles(path, name, limits))


def load_catalog(
    hosts: Source | None = None,
    licences: Source | None = None,
    profiles: Source | None = None,
    limits: Limits | None = None,
) -> Catalog:
    """Read the three catalog files; ``None`` takes the bundled file from ``DATA_DIR``.

    ``limits`` bound what each file may hold (size, unpacked XLSX, rows, columns, cell
    length), the same as for an inventory (``planner plan --limit``; default ``Limits()``).

    ``Catalog.sources`` records where each part came from (``"hosts"``, ``"licences"``,
    ``"profiles"`` -> file name, with ``(bundled)`` for the shipped defaults).

    Raises:
        InputError: the problems of all three files together.
    """
    sources: dict[str, str] = {}

    def pick(part: str, given: Source | None, table: _Table) -> tuple[Source, str]:
        if given is None:
            sources[part] = f"{table.default_file} (bundled)"
            return DATA_DIR / table.default_file, table.default_file
        shown = table.default_file if isinstance(given, bytes) else Path(given).name
        sources[part] = shown
        return given, shown

    host_models, host_issues = _load_hosts(*pick("hosts", hosts, _HOSTS), limits)
    licence_rules, licence_issues = _load_licences(*pick("licences", licences, _LICENCES), limits)
    profile_map, profile_issues = _load_profiles(*pick("profiles", profiles, _PROFILES), limits)
    issues = [*host_issues, *licence_issues, *profile_issues]
    if issues:
        raise InputError(issues)
    return Catalog(hosts=host_models, licences=licence_rules, profiles=profile_map, sources=sources)


def hosts_frame(hosts: Iterable[HostModel]) -> pd.DataFrame:
    """The host models as a table with the columns of ``hosts.csv``.

    Cells that ``HostModel`` estimated (see ``HostModel.estimated``) are left empty, so that
    ``hosts_from_frame`` estimates them again from the row as edited (a changed memory size
    changes the estimated price) and a typed value replaces the estimate.
    """
    records = []
    for h in hosts:
        row: dict[str, object] = {}
        for field in _HOSTS.fields:
            value = getattr(h, field)
            row[field] = None if field in h.estimated else value
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=list(_HOSTS.fields))
    return _typed(frame, _HOSTS)


def hosts_from_frame(df: pd.DataFrame, name: str = "host table") -> tuple[HostModel, ...]:
    """Host models from a table such as ``hosts_frame`` returns (after edits in the app).

    Rows are numbered as in the CSV the table would export to (header = row 1); fully empty
    rows are skipped.

    Raises:
        InputError: every problem of the table, each with row, column, value and rule.
    """
    return _raise_on_issues(_build(_frame_cells(df), name, _HOSTS, HostModel))


def licences_frame(licences: Iterable[Licence]) -> pd.DataFrame:
    """The licence rules as a table with the columns of ``licenses.csv``."""
    records = [{field: getattr(lic, field) for field in _LICENCES.fields} for lic in licences]
    frame = pd.DataFrame.from_records(records, columns=list(_LICENCES.fields))
    return _typed(frame, _LICENCES)


def licences_from_frame(df: pd.DataFrame, name: str = "licence table") -> tuple[Licence, ...]:
    """Licence rules from a table such as ``licences_frame`` returns (see ``hosts_from_frame``).

    Raises:
        InputError: every problem of the table, each with row, column, value and rule.
    """
    return _raise_on_issues(_build(_frame_cells(df), name, _LICENCES, Licence))


# --------------------------------------------------------------------------- loaders

# A file read into cells: the header and the data rows, each with its spreadsheet row number.
_Cells = tuple[Sequence[object], Sequence[Row]]


def _raise_on_issues(result: tuple[_T, list[InputIssue]]) -> _T:
    value, issues = result
    if issues:
        raise InputError(issues)
    return value


def _load(
    path: Source, name: str | None, table: _Table, model: type[_M], limits: Limits | None
) -> tuple[tuple[_M, ...], list[InputIssue]]:
    """The file's rows as models, or the reason the file cannot be read."""
    try:
        sheet = read_sheet(path, name, upload_name=table.default_file, limits=limits)
    except InputError as exc:
        return (), list(exc.issues)
    return _build((sheet.header, sheet.rows), sheet.file, table, model)


def _load_hosts(
    path: Source, name: str | None, limits: Limits | None = None
) -> tuple[tuple[HostModel, ...], list[InputIssue]]:
    return _load(path, name, _HOSTS, HostModel, limits)


def _load_licences(
    path: Source, name: str | None, limits: Limits | None = None
) -> tuple[tuple[Licence, ...], list[InputIssue]]:
    return _load(path, name, _LICENCES, Licence, limits)


def _load_profiles(
    path: Source, name: str | None, limits: Limits | None = None
) -> tuple[dict[str, HypervisorProfile], list[InputIssue]]:
    profiles, issues = _load(path, name, _PROFILES, HypervisorProfile, limits)
    return {p.name: p for p in profiles}, issues


# --------------------------------------------------------------------------- frames


def _frame_cells(df: pd.DataFrame) -> _Cells:
    header: list[object] = [str(c) for c in df.columns]
    rows = [(i, list(r)) for i, r in enumerate(df.itertuples(index=False, name=None), start=2)]
    return header, [(n, cells) for n, cells in rows if not all(_blank(c) for c in cells)]


# --------------------------------------------------------------------------- building models


def _build(
    cells: _Cells, file: str, table: _Table, model: type[_M]
) -> tuple[tuple[_M, ...], list[InputIssue]]:
    """Validate every row into ``model``; collect every problem instead of stopping."""
    header, rows = cells
    columns, issues = _map_columns(header, rows, file, table)
    if issues:
        return (), issues  # without the right columns every row would repeat the problem
    if not rows and not table.may_be_empty:
        rule = f"the file has a header but no rows: at least one {table.what} is needed"
        return (), [InputIssue(file=file, rule=rule)]

    headers = {field: str(header[i]).strip() for field, i in columns.items()}
    built: list[_M] = []
    first_row: dict[str, int] = {}
    for row, raw in rows:
        record, row_issues = _parse_row(raw, row, len(header), columns, headers, file, table)
        if row_issues:
            issues.extend(row_issues)
            continue
        try:
            obj = model.model_validate(record)
        except ValidationError as exc:
            issues.extend(_explain(exc, record, raw, row, columns, headers, file))
            continue
        key = str(getattr(obj, table.key))
        folded = key.strip().casefold()
        if folded in first_row:
            rule = (
                f"{table.what} '{key}' is also on row {first_row[folded]}: "
                f"each {table.key} must be unique"
            )
            issues.append(_issue(file, row, headers[table.key], key, rule))
            continue
        first_row[folded] = row
        built.append(obj)
    return tuple(built), issues


def _map_columns(
    header: Sequence[object], rows: Sequence[Row], file: str, table: _Table
) -> tuple[dict[str, int], list[InputIssue]]:
    """Field -> column index, with every missing, unknown or repeated column reported."""
    if not header:
        names = ", ".join(table.fields)
        return {}, [
            InputIssue(file=file, rule=f"the file is empty; expected a header row: {names}")
        ]
    issues: list[InputIssue] = []
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for i, cell in enumerate(header):
        shown = "" if _blank(cell) else str(cell).strip()
        key = _normalise(shown)
        key = table.aliases.get(key, key)
        if not shown:
            # Excel often saves empty trailing columns; only one that holds values is wrong.
            if any(i < len(r) and not _blank(r[i]) for _, r in rows):
                rule = "this column has values but no header"
                issues.append(InputIssue(file=file, row=1, column=f"column {i + 1}", rule=rule))
            continue
        if key in columns:
            first = str(header[columns[key]]).strip()
            also = "" if first == shown else f" (also as '{shown}')"
            rule = f"the column '{first}' appears twice{also}"
            issues.append(InputIssue(file=file, row=1, column=shown, rule=rule))
        elif key in table.fields:
            columns[key] = i
        elif key not in _NOTE_COLUMNS:
            unknown.append(shown)
    # An unknown column is an error, not a note: a misspelt optional column ('prize') would
    # otherwise be ignored without a word and its values replaced by estimates, which is how
    # a plan gets silently wrong. Free text is still welcome in a 'notes' column.
    for shown in unknown:
        close = difflib.get_close_matches(_normalise(shown), table.fields, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        rule = (
            f"unknown column; {hint}the columns are {', '.join(table.fields)} "
            "(put free text in a 'notes' column)"
        )
        issues.append(InputIssue(file=file, row=1, column=shown, rule=rule))
    for col in table.columns:
        if col.required and col.field not in columns:
            rule = f"required column '{col.field}' is missing"
            issues.append(InputIssue(file=file, column=col.field, rule=rule))
    return columns, issues


def _normalise(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


def _parse_row(
    raw: Sequence[object],
    row: int,
    width: int,
    columns: Mapping[str, int],
    headers: Mapping[str, str],
    file: str,
    table: _Table,
) -> tuple[dict[str, object], list[InputIssue]]:
    """One row's cells as typed values; empty optional cells are left out (model default)."""
    record: dict[str, object] = {}
    issues: list[InputIssue] = []
    overflow = overflow_issue(file, row, raw, width)
    if overflow:
        issues.append(overflow)
    for col in table.columns:
        if col.field not in columns:
            continue
        i = columns[col.field]
        cell = raw[i] if i < len(raw) else None
        if _blank(cell):
            if col.required:
                issues.append(_issue(file, row, headers[col.field], None, "a value is required"))
            continue
        try:
            record[col.field] = _convert(cell, col.kind)
        except ValueError as exc:
            issues.append(_issue(file, row, headers[col.field], cell_text(cell), str(exc)))
    return record, issues


def _blank(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, str):
        return not cell.strip()
    if isinstance(cell, numbers.Real) and not isinstance(cell, numbers.Integral):
        return math.isnan(float(cell))
    return cell is pd.NA or cell is pd.NaT


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


def _convert(cell: object, kind: _Kind) -> object:
    """A cell as the column's type; ``ValueError`` carries the rule in user words."""
    if kind == "text":
        return cell_text(cell)
    if kind == "choice":
        # "Socket pair", "all-hosts" and "ALL_HOSTS" all mean all_hosts.
        return _normalise(cell_text(cell))
    if kind == "bool":
        if isinstance(cell, bool):
            return cell
        text = cell_text(cell).lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError("must be true or false (yes/no)")
    number = _number(cell)
    if kind == "int":
        if not number.is_integer():
            raise ValueError("must be a whole number")
        return int(number)
    return number


def _number(cell: object) -> float:
    if isinstance(cell, bool):
        raise ValueError("must be a number")
    if isinstance(cell, numbers.Real):
        value = float(cell)
    else:
        text = cell_text(cell).replace(" ", "").lstrip("$€£")
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.fullmatch(text):
            raise ValueError("must be a number with a point as decimal separator (e.g. 73.5)")
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _issue(file: str, row: int, column: str | None, value: str | None, rule: str) -> InputIssue:
    return InputIssue(file=file, row=row, column=column, value=value, rule=rule)


def _explain(
    exc: ValidationError,
    record: Mapping[str, object],
    raw: Sequence[object],
    row: int,
    columns: Mapping[str, int],
    headers: Mapping[str, str],
    file: str,
) -> list[InputIssue]:
    """A pydantic ValidationError as issues in the user's words, located by column."""
    issues = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        field: str | None
        if loc:
            field, rule = str(loc[0]), _rule(err)
        else:  # a whole-row rule of the model's own validators
            field, rule = _row_rule(str(err.get("ctx", {}).get("error", err["msg"])), record)
        column = None if field is None else headers.get(field, field)
        i = columns.get(field) if field is not None else None
        cell = raw[i] if i is not None and i < len(raw) else None
        value = None if _blank(cell) else cell_text(cell)
        issues.append(_issue(file, row, column, value, rule))
    return issues


def _rule(err: Any) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        word = {
            "greater_than_equal": "at least",
            "greater_than": "greater than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        bound = next(iter(ctx.values()))
        if kind == "greater_than_equal" and bound == 0:
            return "must not be negative"
        return f"must be {word} {bound:g}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "missing":
        return "a value is required"
    return str(err["msg"])


def _row_rule(message: str, record: Mapping[str, object]) -> tuple[str | None, str]:
    """Field and rule for the models' row-level checks (see HostModel and Licence)."""
    if "needs a tag" in message:
        return "tag", (
            "is empty but applies_to is 'tagged': give the VM tag this licence covers "
            "(e.g. windows), or set applies_to to all_hosts"
        )
    if message.startswith("price"):
        return "price", "must not be negative (leave it empty to estimate it)"
    if "watts" in message:
        idle = record.get("watts_idle")
        if isinstance(idle, float) and idle < 0:
            return "watts_idle", "must not be negative (leave it empty to estimate it)"
        return "watts_max", f"must be at least watts_idle ({idle:g})"
    return None, message


def _typed(frame: pd.DataFrame, table: _Table) -> pd.DataFrame:
    """Give each column a dtype that shows missing values as empty cells, not 'nan'."""
    dtypes: dict[str, pd.api.extensions.ExtensionDtype] = {
        "int": pd.Int64Dtype(),
        "float": pd.Float64Dtype(),
        "bool": pd.BooleanDtype(),
    }
    for col in table.columns:
        frame[col.field] = frame[col.field].astype(dtypes.get(col.kind, pd.StringDtype()))
    return frame
