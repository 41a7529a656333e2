"""The planner's errors, drawn here so that callers know what to catch.

    PlannerError                 anything the planner raises on purpose
    ├── InputError               bad input: one or more InputIssue (file, row, column, value, rule)
    └── InfeasibleError          the input is valid but no plan can satisfy the rules

The CLI turns an ``InputError`` into one line per issue and exit code 2; the app shows the
same issues as a table. Neither shows a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

__all__ = ["InfeasibleError", "InputError", "InputIssue", "PlannerError"]


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
            where += f", column '{self.column}'"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            where += f", value '{shown}'"
        return f"{where}: {self.rule}"


class PlannerError(Exception):
    """Base of every error the planner raises on purpose."""


class InputError(PlannerError):
    """The input is malformed; ``issues`` lists every problem found, not just the first."""

    def __init__(self, issues: Iterable[InputIssue]) -> None:
        self.issues: tuple[InputIssue, ...] = tuple(issues)
        if not self.issues:
            raise ValueError("InputError needs at least one issue")
        super().__init__("\n".join(str(i) for i in self.issues))

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
