"""Read a spreadsheet file (CSV or XLSX) into rows of cells, numbered as a spreadsheet shows them.

    path or bytes -> container (CSV text, or one sheet of an XLSX workbook)
                  -> Sheet (header + data rows, each with its spreadsheet row number)

The inventory (``ingest``) and the catalog (``catalog``) both start here, so that a file is
read the same way whatever it holds. CSV text is UTF-8 with or without BOM, UTF-16 with BOM
(Excel's "Unicode text") or Windows-1252; its delimiter is given by Excel's ``sep=`` first
line, else counted on the header line (``, ; TAB |``, outside quotes). Workbook cells keep the
types the spreadsheet gives them. No value is converted here: each reader converts its cells
itself, so that a problem can name its file, row, column and value.

Rows are numbered as a spreadsheet shows them. In a CSV one record is one row (a quoted cell
may span lines, a blank line is a row) and the first record with a value is the header; in a
sheet, the sheet's own row.

A file beyond ``planner.limits.Limits`` (size, unpacked size of a workbook, rows, columns,
characters in a cell) is refused as soon as the reader sees it, naming the limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import openpyxl

from planner.errors import InputError, InputIssue
from planner.limits import Limits, check_size, check_xlsx, read_file

__all__ = ["Row", "Sheet", "Source", "cell_text", "overflow_issue", "read_sheet"]

Source = str | Path | bytes
"""A file path, or the file's bytes (an upload)."""

Row = tuple[int, Sequence[object]]
"""A data row: its spreadsheet row number and its cells."""

_DELIMITERS = ",;\t|"  # in this order of preference when the header line is ambiguous
_SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's delimiter hint, the file's first line
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls (and other OLE compound files)


@dataclass(frozen=True)
class Sheet:
    """The cells of one CSV file or one workbook sheet, as read: no value is converted.

    ``header`` is the first row holding a value, each cell as trimmed text. ``rows`` are the
    data rows below it, as (spreadsheet row number, cells): rows without a value are left out,
    a row shorter than the header is padded with ``None``, and a longer one keeps its extra
    cells (see ``overflow_issue``). CSV cells are ``str``; workbook cells are what the sheet
    holds (``str``, ``int``, ``float``, ``bool``, ``datetime``) or ``None`` when empty.
    """

    file: str  # the file name shown in issues
    header: tuple[str, ...]
    rows: Sequence[Row]
    sheet_name: str | None = None  # the worksheet's title; None for CSV
    delimiter: str | None = None  # the CSV delimiter; None for a workbook
    encoding: str | None = None  # "utf-8", "utf-16" or "cp1252"; None for a workbook

    @property
    def label(self) -> str:
        """The file name, with the sheet's for a workbook: ``inv.xlsx (sheet vInfo)``."""
        return self.file if self.sheet_name is None else f"{self.file} (sheet {self.sheet_name})"

    @property
    def decimal_comma(self) -> bool:
        """Whether text numbers may use a decimal comma: a ``;``-delimited CSV, as Excel
        writes where the comma is the decimal mark."""
        return self.delimiter == ";"


def read_sheet(
    source: Source,
    name: str | None = None,
    *,
    upload_name: str = "uploaded file",
    prefer: Sequence[str] = (),
    fits: Callable[[Sequence[str]], bool] | None = None,
    limits: Limits | None = None,
) -> Sheet:
    """Read a CSV file, or one sheet of an XLSX/XLSM workbook, into a ``Sheet``.

    ``source`` is a path or the file's bytes. ``name`` is the file name shown in issues
    (default: the path's name, or ``upload_name`` for bytes); its extension tells a workbook
    saved under the wrong name from CSV. In a workbook the sheet is the first, taking the
    titles in ``prefer`` first (any case) and then the workbook's order, whose header
    satisfies ``fits``; failing that (or without ``fits``), the first sheet holding a value.
    ``limits`` bound what is read (default: ``Limits()``).

    Raises:
        InputError: one issue saying why the file cannot be read (missing, not a regular
            file, empty, binary, neither UTF-8/UTF-16/Windows-1252 text, invalid CSV, an
            Excel 97-2003 workbook, a damaged workbook or one without data, a limit exceeded).
    """
    limits = limits or Limits()
    data, file = _read_bytes(source, name, upload_name, limits)
    if not data or data.isspace():  # not strip(): that copies a large file
        raise InputError.single(file, "the file is empty")
    suffix = Path(file).suffix.lower()
    if data[:2] == b"PK":
        check_xlsx(data, file, limits)
        return _read_xlsx(data, file, prefer, fits, limits)
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise InputError.single(
            file, "an Excel 97-2003 (.xls) workbook is not supported; save it as .xlsx or CSV"
        )
    if suffix in (".xlsx", ".xlsm"):
        raise InputError.single(file, "not an XLSX workbook (the content is not a zip archive)")
    return _read_csv(data, file, limits)


def cell_text(value: object) -> str:
    """A cell as trimmed text, ``""`` when empty; a whole float shows as an integer.

    Excel stores every number as a float, so a name typed as ``1001`` comes back as
    ``1001.0``: it is shown as ``1001``.
    """
    if type(value) is str:  # the common case, first: this runs for every cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def overflow_issue(file: str, row: int, cells: Sequence[object], width: int) -> InputIssue | None:
    """The issue of a row holding a value beyond the header's ``width`` columns, or ``None``.

    The value shown is the first one beyond the header. Such a row usually comes from a
    delimiter inside an unquoted value, which splits one cell in two.
    """
    if len(cells) <= width:
        return None
    extra = next((text for text in map(cell_text, cells[width:]) if text), None)
    if extra is None:
        return None  # empty trailing cells, as Excel often saves them
    rule = (
        f"the row has {len(cells)} cells but the header has {width}: "
        "a delimiter inside an unquoted value?"
    )
    return InputIssue(file=file, row=row, value=extra, rule=rule)


# --------------------------------------------------------------------------- containers


def _read_bytes(
    source: Source, name: str | None, upload_name: str, limits: Limits
) -> tuple[bytes, str]:
    """The file's bytes and the name issues show for it."""
    if isinstance(source, bytes):
        file = name or upload_name
        check_size(len(source), file, limits.file_bytes)
        return source, file
    path = Path(source)
    file = name or path.name
    return read_file(path, file, limits.file_bytes), file


def _decode(data: bytes, file: str) -> tuple[str, str]:
    """The codec to read a CSV file's text with, and the encoding named in ``Sheet``.

    The whole file is checked to decode, in chunks: its text is read by the CSV reader as a
    stream, never held whole.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode Text" export: UTF-16 with a BOM, tab-separated.
        if _bad_byte(data, "utf-16") is not None:
            raise InputError.single(file, "damaged UTF-16 text")
        return "utf-16", "utf-16"
    head = data[:8192]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in data or controls > len(head) // 10:
        raise InputError.single(
            file,
            "binary data, not CSV text (if it is UTF-16 text without a BOM, save it as CSV UTF-8)",
        )
    if _bad_byte(data, "utf-8-sig") is None:
        return "utf-8-sig", "utf-8"
    offset = _bad_byte(data, "cp1252")  # what Excel writes on Western Windows
    if offset is None:
        return "cp1252", "cp1252"
    raise InputError.single(
        file,
        f"not a text file in UTF-8 or Windows-1252 (byte 0x{data[offset]:02X} at offset {offset})",
    )


def _bad_byte(data: bytes, codec: str, chunk: int = 1 << 20) -> int | None:
    """The offset of the first byte ``codec`` cannot decode, or ``None``."""
    decoder = codecs.getincrementaldecoder(codec)()
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        try:
            decoder.decode(view[start : start + chunk], final=start + chunk >= len(data))
        except UnicodeDecodeError:
            break
    else:
        return None
    try:  # rare: locate the byte exactly, decoding up to it in one piece
        data[: start + chunk].decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return start  # pragma: no cover - the chunk decoded alone


def _sniff_delimiter(line: str) -> str:
    # csv.Sniffer guesses from the data rows and is fooled by commas in names and decimal
    # commas; the header line alone, counted outside quotes, is reliable.
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(counts, key=counts.__getitem__)  # a tie (no delimiter at all) gives ","


def _read_csv(data: bytes, file: str, limits: Limits) -> Sheet:
    codec, encoding = _decode(data, file)
    # A stream, not one string: the text of a large file is never held whole.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=codec, newline="")
    first = stream.readline()
    hint = _SEP_LINE.fullmatch(first)
    lines: Iterable[str]
    if hint:  # Excel hides the hint line, so the header stays row 1
        delimiter, lines = hint[1], stream
    else:
        head = [first]
        while head[-1] and not head[-1].strip():
            head.append(stream.readline())
        delimiter = _sniff_delimiter(head[-1])
        lines = itertools.chain(head, stream)
    reader = csv.reader(lines, delimiter=delimiter)
    # One record is one spreadsheet row, so records are counted, not lines.
    records = _limited(enumerate(reader, start=1), file, limits, text=True)
    try:
        header = _header(records)
        rows = _csv_rows(records, len(header or ()))
    except csv.Error as exc:
        raise InputError.single(file, f"not valid CSV: {exc}", row=reader.line_num) from None
    if header is None:
        raise InputError.single(file, "the file is empty (no header row)")
    return Sheet(file, header, rows, delimiter=delimiter, encoding=encoding)


def _read_xlsx(
    data: bytes,
    file: str,
    prefer: Sequence[str],
    fits: Callable[[Sequence[str]], bool] | None,
    limits: Limits,
) -> Sheet:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they never change values.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                rank = {title.lower(): i for i, title in enumerate(prefer)}
                ordered = sorted(
                    book.worksheets, key=lambda ws: rank.get(ws.title.lower(), len(rank))
                )
                return _pick_sheet(ordered, file, fits, limits)
            finally:
                book.close()
    except InputError:
        raise
    except (zipfile.BadZipFile, KeyError):  # KeyError: a part of the workbook is missing
        raise InputError.single(
            file, "not a readable XLSX workbook: a damaged zip, or a zip that holds no workbook"
        ) from None
    except Exception as exc:  # openpyxl has no error hierarchy: a broken part raises anything
        raise InputError.single(
            file, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})"
        ) from None


def _pick_sheet(
    worksheets: Sequence[Any],
    file: str,
    fits: Callable[[Sequence[str]], bool] | None,
    limits: Limits,
) -> Sheet:
    """The first worksheet with a value whose header ``fits``, else the first with a value."""
    fallback = None
    for ws in worksheets:
        ws.reset_dimensions()  # some writers store a wrong sheet size; read what is there
        label = f"{file} (sheet {ws.title})"
        rows = _limited(enumerate(ws.iter_rows(values_only=True), start=1), label, limits)
        header = _header(rows)  # only the header is read until the sheet is chosen
        if header is None:
            continue  # an empty sheet
        if fits is None or fits(header):
            return Sheet(file, header, _data_rows(rows, len(header)), sheet_name=ws.title)
        fallback = fallback or ws
    if fallback is None:
        raise InputError.single(file, "the workbook has no sheet with data")
    # No sheet fits: the first with data, whose header will explain what is missing.
    return _pick_sheet([fallback], file, None, limits)


# --------------------------------------------------------------------------- rows


def _limited(
    rows: Iterator[Row], file: str, limits: Limits, *, text: bool = False
) -> Iterator[Row]:
    """``rows``, refused at the first one beyond the row, column or cell-length limit.

    ``text``: every cell is a ``str`` (CSV), which allows a quicker check of cell lengths.
    Blank rows count towards no limit: they are never kept.
    """
    max_rows, max_columns, max_chars = limits.rows, limits.columns, limits.cell_chars
    join = cast(Callable[[Sequence[object]], str], "".join)  # CSV cells are all str
    for n, cells in rows:
        if len(cells) > max_columns:
            rule = f"the row has {len(cells):,} cells, above the limit columns = {max_columns:,}"
            raise InputError.single(file, rule, row=n)
        # The whole row's length bounds every cell's: the cells are measured only past it.
        longest = len(join(cells)) if text else max(map(_text_len, cells), default=0)
        if longest > max_chars and max(map(_text_len, cells)) > max_chars:
            i = max(range(len(cells)), key=lambda j: _text_len(cells[j]))
            size = _text_len(cells[i])
            rule = f"a cell of {size:,} characters, above the limit cell_chars = {max_chars:,}"
            raise InputError.single(file, rule, row=n, column=f"#{i + 1}")
        if n > max_rows and any(map(cell_text, cells)):
            rule = f"more rows than the limit rows = {max_rows:,}"
            raise InputError.single(file, rule, row=n)
        yield n, cells


def _text_len(value: object) -> int:
    return len(value) if type(value) is str else 0


def _header(rows: Iterator[Row]) -> tuple[str, ...] | None:
    """The first row holding a value, as trimmed text; the rows before it are consumed."""
    return next((tuple(map(cell_text, c)) for _, c in rows if any(map(cell_text, c))), None)


def _csv_rows(rows: Iterator[Row], width: int) -> list[Row]:
    """``_data_rows`` for CSV records, whose cells are all text: quicker on large files."""
    out: list[Row] = []
    pad = (None,) * width
    join = cast(Callable[[Sequence[object]], str], "".join)  # CSV cells are all str
    for n, c in rows:
        joined = join(c)
        if not joined or joined.isspace():
            continue  # a blank row
        out.append((n, c if len(c) >= width else (*c, *pad[len(c) :])))
    return out


def _data_rows(rows: Iterator[Row], width: int) -> list[Row]:
    """The rows holding a value, each padded with ``None`` to ``width`` cells."""
    # Blank rows (e.g. the thousands of empty trailing rows some exports carry) are not data.
    return [
        (n, c if len(c) >= width else (*c, *(None,) * (width - len(c))))
        for n, c in rows
        if any(map(cell_text, c))
    ]
