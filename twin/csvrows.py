"""CSV tables whose every error names the file, line and column (used by register maps).

Lines starting with ``#`` and blank lines are comments; the first other line is the header.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path


class CsvTableError(ValueError):
    """A bad table or cell; the message starts with ``file:line:column (name):``."""


class Row:
    """One CSV row that knows where it came from, for error messages."""

    def __init__(self, path: Path, line: int, header: list[str], cells: list[str]) -> None:
        self.path, self.line, self.header = path, line, header
        self.cells = dict(zip(header, (c.strip() for c in cells), strict=False))

    def error(self, column: str, message: str) -> CsvTableError:
        col = self.header.index(column) + 1 if column in self.header else 0
        return CsvTableError(f"{self.path}:{self.line}:{col} ({column}): {message}")

    def text(self, column: str, default: str | None = None) -> str:
        value = self.cells.get(column, "")
        if value == "":
            if default is None:
                raise self.error(column, "a value is required")
            return default
        return value

    def integer(self, column: str, lo: int, hi: int, default: int | None = None) -> int:
        raw = self.text(column, None if default is None else str(default))
        try:
            value = int(raw, 0)
        except ValueError:
            raise self.error(column, f"{raw!r} is not an integer") from None
        if not lo <= value <= hi:
            raise self.error(column, f"{value} is outside {lo}..{hi}")
        return value

    def number(self, column: str, default: float | None = None, positive: bool = False) -> float:
        raw = self.text(column, None if default is None else repr(default))
        try:
            value = float(raw)
        except ValueError:
            raise self.error(column, f"{raw!r} is not a number") from None
        if not math.isfinite(value) or (positive and value <= 0):
            raise self.error(column, f"{raw!r} must be a finite{' positive' if positive else ''}")
        return value

    def choice(self, column: str, choices: Iterable[str], default: str | None = None) -> str:
        value = self.text(column, default)
        if value not in choices:
            raise self.error(column, f"{value!r} is not one of {', '.join(choices)}")
        return value


def read_csv(path: Path, required: tuple[str, ...], optional: tuple[str, ...]) -> list[Row]:
    """Rows of a CSV file; lines starting with ``#`` and blank lines are comments."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise CsvTableError(f"{path}:0:0: cannot read: {exc}") from None
    header: list[str] | None = None
    rows: list[Row] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = next(csv.reader([line]))
        if header is None:
            header = [c.strip() for c in cells]
            for i, name in enumerate(header, start=1):
                if name not in required + optional:
                    raise CsvTableError(f"{path}:{number}:{i} ({name}): unknown column")
            for name in required:
                if name not in header:
                    raise CsvTableError(f"{path}:{number}:0 ({name}): missing column")
            continue
        if len(cells) > len(header):
            raise CsvTableError(
                f"{path}:{number}:{len(header) + 1}: {len(cells)} cells, header has {len(header)}"
            )
        rows.append(Row(path, number, header, cells))
    if header is None:
        raise CsvTableError(f"{path}:0:0: no header line")
    return rows
