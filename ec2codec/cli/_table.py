"""``--output table``: the AWS CLI's table layout, rule for rule, without its colours.

A port of ``awscli/formatter.py`` (``TableFormatter``) and ``awscli/table.py``
(``MultiTable``, ``Section``) of AWS CLI v1, so that ``ec2codec call ...
--output table`` prints the bytes ``aws ec2 ... --output table`` prints for the
same result: a section per dict (scalar keys as columns, or as a two-column
key/value list when the dict has one row), a nested section per list or dict
member, column widths scaled to the widest section, and every section turned
vertical when the table is wider than the terminal (80 columns when stdout is
not a terminal). Differences: no ANSI colours on a terminal (the AWS CLI
colours cells through colorama there), and a list mixing dicts with other
values is laid out instead of crashing.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import Any

__all__ = ["format_table", "terminal_width"]

_PADDING = 4


def _width(text: str) -> int:
    # East Asian wide, fullwidth and ambiguous characters take two columns (awscli get_text_length).
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def terminal_width(default: int = 80) -> int:
    """The width of the terminal on stdout, or ``default`` when stdout is not one (awscli determine_terminal_width)."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return default


class _Section:
    def __init__(self, title: str | None = "", indent: int = 0) -> None:
        self.title = title  # None for a list nested in a list: awscli measures it as the four characters "None"
        self.indent = indent
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._columns: int | None = None
        self._max_widths: list[int] = []

    def add_header(self, headers: list[str]) -> None:
        self._update_widths(headers)
        if self._columns is None:
            self._columns = len(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        if self._columns is None:
            self._columns = len(row)
        cells = [str(cell) for cell in row]
        self.rows.append(cells)
        self._update_widths(cells)

    def _update_widths(self, row: list[str]) -> None:
        if not self._max_widths:
            self._max_widths = [_width(cell) for cell in row]
            return
        for i, cell in enumerate(row):
            if i < len(self._max_widths):
                self._max_widths[i] = max(_width(cell), self._max_widths[i])

    def column_widths(self, padding: int = 0, max_width: int | None = None) -> list[int]:
        unscaled = [w + padding for w in self._max_widths]
        if max_width is None or not unscaled:
            return unscaled
        scale = max_width / float(sum(unscaled))
        scaled = [round(scale * w) for w in unscaled]
        # Rounding leaves the sum a little off max_width: shave or pad from the left (from the right when short).
        off_by = sum(scaled) - max_width
        while off_by != 0:
            order = range(len(scaled)) if off_by > 0 else reversed(range(len(scaled)))
            for i in order:
                if off_by > 0:
                    scaled[i] -= 1
                    off_by -= 1
                else:
                    scaled[i] += 1
                    off_by += 1
                if off_by == 0:
                    break
        return scaled

    def total_width(self) -> int:
        total = sum(w + _PADDING for w in self.column_widths()) + 2 + 2 * self.indent
        return max(_width(str(self.title)) + 2 + 2 * self.indent, total)


def _center(text: str, length: int, left: str = "|", right: str = "|") -> str:
    start = (length // 2) - (_width(text) // 2) - 1
    so_far = _width(left) + start + _width(text)
    return left + " " * start + text + " " * (length - _width(right) - so_far) + right


def _align_left(text: str, length: int, left: str, right: str) -> str:
    padding = 2 if length - (_width(text) + 2 + len(left) + len(right)) >= 0 else 0
    so_far = len(left) + padding + _width(text)
    return left + " " * padding + text + " " * (length - so_far - len(right)) + right


def _line_break(widths: list[int]) -> str:
    return "".join(("+" + "-" * (w - 2) + "+") if i == 0 else ("-" * (w - 1) + "+") for i, w in enumerate(widths))


class _Table:
    def __init__(self, width: int) -> None:
        self.sections: list[_Section] = []
        self._width = width

    @property
    def current(self) -> _Section:
        return self.sections[-1]

    def new_section(self, title: str | None, indent: int = 0) -> None:
        self.sections.append(_Section(title, indent))

    def render(self) -> str:
        width = max(s.total_width() for s in self.sections)
        if width > self._width:
            # Too wide for the terminal: every single-row section becomes a key/value list.
            for i, section in enumerate(self.sections):
                if len(section.rows) == 1 and section.headers:
                    vertical = _Section(section.title, section.indent)
                    for header, cell in zip(section.headers, section.rows[0], strict=False):
                        vertical.add_row([header, cell])
                    self.sections[i] = vertical
            width = max(s.total_width() for s in self.sections)
        lines = ["-" * width]
        for section in self.sections:
            for line in self._render_section(section, width - section.indent * 2):
                lines.append("|" * section.indent + line + "|" * section.indent)
        return "\n".join(lines) + "\n"

    def _render_section(self, section: _Section, width: int) -> list[str]:
        lines = []
        if section.title:
            lines.append(_center(section.title, width))
            if not section.headers and not section.rows:
                lines.append("+" + "-" * (width - 2) + "+")
        if section.headers:
            widths = section.column_widths(_PADDING, width)
            lines.append(_line_break(widths))
            titles = zip(widths, section.headers, strict=False)
            lines.append("".join(_center(h, w, "|" if i == 0 else "") for i, (w, h) in enumerate(titles)))
        if section.rows:
            widths = section.column_widths(_PADDING, width)
            if widths:
                lines.append(_line_break(widths))
                for row in section.rows:
                    cells = enumerate(zip(widths, row, strict=False))  # a short row leaves columns out, as awscli
                    lines.append("".join(_align_left(c, w, "|" if i == 0 else "", "|") for i, (w, c) in cells))
                lines.append(_line_break(widths))
        return lines


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


def _group(current: dict[str, Any]) -> tuple[list[str], list[str]]:
    headers = sorted(k for k, v in current.items() if _scalar(v))
    more = sorted(k for k, v in current.items() if not _scalar(v))
    return headers, more


class _Builder:
    """awscli ``TableFormatter._build_table`` and friends."""

    def __init__(self, table: _Table) -> None:
        self.table = table

    def build(self, title: str | None, current: Any, indent: int = 0) -> bool:
        if not current:
            return False
        if title is not None:
            self.table.new_section(title, indent)
        elif not self.table.sections:
            self.table.new_section("", indent)
        if isinstance(current, list):
            if isinstance(current[0], dict):
                self._from_list(current, indent, title)
            else:
                for item in current:
                    if _scalar(item):
                        self.table.current.add_row([item])
                    elif isinstance(item, list) and all(_scalar(el) for el in item):
                        self.table.current.add_row(item)
                    elif isinstance(item, dict) and all(_scalar(el) for el in item):
                        self.table.current.add_row(list(item))  # iterating a dict gives its keys, as in awscli
                    else:
                        self.build(None, item)
        if isinstance(current, dict):
            self._from_dict(current, indent)
        return True

    def _from_dict(self, current: dict[str, Any], indent: int) -> None:
        headers, more = _group(current)
        if len(headers) == 1:
            self.table.current.add_row([headers[0], current[headers[0]]])
        elif headers:
            self.table.current.add_header(headers)
            self.table.current.add_row([current[k] for k in headers])
        for key in more:
            self.build(key, current[key], indent + 1)

    def _from_list(self, current: list[Any], indent: int, title: str | None) -> None:
        headers_seen: set[str] = set()
        more_seen: set[str] = set()
        elements = [e for e in current if isinstance(e, dict)]
        for element in elements:
            h, m = _group(element)
            headers_seen.update(h)
            more_seen.update(m)
        headers, more = sorted(headers_seen), sorted(more_seen)
        self.table.current.add_header(headers)
        for i, element in enumerate(elements):
            if i and more:
                self.table.new_section(title, indent)
                self.table.current.add_header(headers)
            self.table.current.add_row([element.get(h, "") for h in headers])
            for key in more:
                if key in element:
                    self.build(key, element[key], indent + 1)


def format_table(title: str, value: Any, width: int | None = None) -> str:
    """``value`` as the AWS CLI's table titled ``title``, or "" when there is nothing to show."""
    table = _Table(terminal_width() if width is None else width)
    if not _Builder(table).build(title, value):
        return ""
    return table.render()
