"""The planner's errors, drawn here so that callers know what to catch.

    PlannerError                 anything the planner raises on purpose
    ├── InputError               bad input: one or more InputIssue (file, row, column, value, rule)
    └── InfeasibleError          the input is valid but no plan can satisfy the rules

The CLI turns an ``InputError`` into one line per issue and exit code 2; the app shows the
same issues as a table. Neither shows a traceback. Text taken from a file is shown through
``printable``, so that a control character in a cell (an ANSI escape, a newline) cannot reach
the terminal or forge a line of output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_SHOWN", "InfeasibleError", "InputError", "InputIssue", "PlannerError", "printable"]

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with every control character escaped (``\\n``, ``\\x1b``, ``\\u2028``).

    Terminal escape sequences (ANSI colours, OSC titles and links) start with a control
    character, so they are shown as text rather than obeyed; a newline cannot start a line.
    """
    if _CONTROL.search(text) is None:  # the usual case, kept quick
        return text
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or _escape(m[0]), text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


class InputIssue(BaseModel):
    """One problem found in an input file, located as a spreadsheet user would find it.

    ``row`` is the row number a spreadsheet shows (the header is row 1), ``None`` for a
    problem of the whole file (e.g. a missing column).
    """

    model_config = ConfigDict(frozen=True)

    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    rule: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{_clip(self.column)}'"
        if self.value is not None:
            where += f", value '{_clip(self.value)}'"
        return printable(f"{where}: {self.rule}")


def _clip(text: str) -> str:
    """At most 60 characters of a file's text; a cell may hold thousands."""
    return text if len(text) <= 60 else text[:57] + "..."


MAX_SHOWN = 50
"""The problems an error message lists; the rest are counted (``... and N more problems``)."""


class PlannerError(Exception):
    """Base of every error the planner raises on purpose."""


class InputError(PlannerError):
    """The input is malformed; ``issues`` lists every problem found, not just the first.

    A reader that finds very many problems may keep only the first ones (by row): ``omitted``
    counts the others, so that a million bad rows do not take gigabytes to report.
    """

    def __init__(self, issues: Iterable[InputIssue], omitted: int = 0) -> None:
        self.issues: tuple[InputIssue, ...] = tuple(issues)
        self.omitted = omitted
        if not self.issues:
            raise ValueError("InputError needs at least one issue")
        lines = [str(i) for i in self.issues[:MAX_SHOWN]]
        more = len(self.issues) - len(lines) + omitted
        if more:
            lines.append(f"... and {more} more problems")
        super().__init__("\n".join(lines))

    @property
    def total(self) -> int:
        """How many problems were found, the omitted ones included."""
        return len(self.issues) + self.omitted

    @classmethod
    def single(
        cls,
        file: str,
        rule: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> InputError:
        """Build an error with a single issue."""
        shown = None if value is None else str(value)
        return cls([InputIssue(file=file, row=row, column=column, value=shown, rule=rule)])


class InfeasibleError(PlannerError):
    """The rules admit no plan at all (for example ``max_count`` caps leave too few hosts)."""
