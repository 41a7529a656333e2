"""A sweep's CSV and XLSX, kept up to date while the sweep runs.

    files = SweepFiles(keys, csv=Path("sweep.csv"), xlsx=None, rows=done)
    sweep(..., done=done, on_row=files.add)
    files.close()

The CSV gets each row as it finishes (appended and flushed), so a sweep that is interrupted,
or whose machine goes down, keeps every row it solved; the XLSX, which cannot be appended
to, is rewritten at most every ``XLSX_EVERY_S`` seconds. ``close`` writes both whole, in the
grid's order, also after an interruption. Every rewrite goes to a file aside that then
replaces the old one, so a reader never sees half a table. Text that a spreadsheet would run
as a formula is neutralised, as in every export.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from planner.errors import InputError
from planner.report.placement import neutralise
from planner.sweep import SHEET, sweep_table

__all__ = ["XLSX_EVERY_S", "SweepFiles"]

XLSX_EVERY_S = 2.0


class SweepFiles:
    """The CSV and/or XLSX of one sweep; ``rows`` are those solved before (by grid index).

    Raises (every method):
        InputError: a file cannot be written (naming it and why).
    """

    def __init__(
        self,
        keys: Sequence[str],
        csv: Path | None = None,
        xlsx: Path | None = None,
        rows: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> None:
        self._keys = tuple(keys)
        self._csv, self._xlsx = csv, xlsx
        self._rows: dict[int, Mapping[str, Any]] = dict(rows or {})
        self._written = 0.0
        self._stream: IO[str] | None = None
        self._save()
        if csv is not None:
            self._stream = _guard(csv, lambda: csv.open("a", encoding="utf-8", newline=""))

    @property
    def count(self) -> int:
        """The rows the files hold."""
        return len(self._rows)

    def add(self, index: int, row: Mapping[str, Any]) -> None:
        """Keep one finished row (``index``: its place in the grid)."""
        self._rows[index] = row
        if self._stream is not None and self._csv is not None:
            stream, path = self._stream, self._csv
            line = self._frame([row]).to_csv(header=False, index=False, lineterminator="\n")
            _guard(path, lambda: (stream.write(line), stream.flush()))
        if self._xlsx is not None and time.monotonic() - self._written >= XLSX_EVERY_S:
            self._save(csv=False)

    def close(self) -> None:
        """Write both files whole, in the grid's order."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._save()

    def _frame(self, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        frame = sweep_table(rows, self._keys)
        for col in frame.columns:
            if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].map(lambda x: neutralise(x) if isinstance(x, str) else x)
        return frame

    def _save(self, csv: bool = True) -> None:
        frame = self._frame([self._rows[i] for i in sorted(self._rows)])
        if csv and self._csv is not None:
            _replace(self._csv, lambda part: frame.to_csv(part, index=False, lineterminator="\n"))
        if self._xlsx is not None:
            _replace(
                self._xlsx,
                lambda part: frame.to_excel(
                    part, index=False, sheet_name=SHEET, engine="xlsxwriter"
                ),
            )
            self._written = time.monotonic()


def _replace(path: Path, write: Any) -> None:
    """``write(part)`` to a file beside ``path``, then put it in ``path``'s place."""
    part = path.with_name(f".{path.name}.part")

    def both() -> None:
        try:
            write(part)
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)

    _guard(path, both)


def _guard(path: Path, action: Any) -> Any:
    try:
        return action()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError.single(str(path), f"cannot write the sweep's table: {reason}") from None
