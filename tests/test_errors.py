"""Errors a user reads: control characters escaped, long values clipped, many problems counted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from planner.errors import MAX_SHOWN, InputError, InputIssue, printable


@given(st.text())
def test_printable_text_holds_no_control_character(text: str) -> None:
    """Whatever the text, its printable form has no control character and keeps the rest."""
    shown = printable(text)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in shown)
    if text.isprintable():
        assert shown == text


def test_printable_names_the_common_controls() -> None:
    """A newline, a tab and an escape are shown as a user would type them."""
    assert printable("a\nb\tc\x1b[31m\u2028") == "a\\nb\\tc\\x1b[31m\\u2028"


def test_issue_line_is_escaped_and_clips_long_values() -> None:
    """An issue's column and value are clipped to 60 characters and escaped."""
    issue = InputIssue(file="f.csv", row=2, column="a\nb", value="x" * 100, rule="bad")
    assert str(issue) == "f.csv, row 2, column 'a\\nb', value '" + "x" * 57 + "...': bad"


def test_input_error_message_lists_the_first_problems_and_counts_the_rest() -> None:
    """An error of many problems says how many more there are, the omitted ones included."""
    issues = [InputIssue(file="f.csv", row=r, rule="bad") for r in range(2, 2 + MAX_SHOWN + 5)]
    exc = InputError(issues, omitted=10)
    assert exc.total == MAX_SHOWN + 15
    lines = str(exc).splitlines()
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == "... and 15 more problems"
