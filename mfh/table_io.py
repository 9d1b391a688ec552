"""CSV tables, written one way and read back with their columns checked.

A `Table` names its columns in order; each `Column` says what it holds and how it is written:
integers as they are, decimals with a fixed format (".4f" unless the table says otherwise),
text as it is, flags as True / False; a missing value (NaN) is an empty field. Every file is
written atomically (`mfh.io.atomic_path`) with "\\n" line ends and the csv module's minimal
quoting, so equal tables give equal bytes.

Readers check the header against the table and raise `DataError` naming the file and the
missing or unexpected columns; `read_rows` parses the cells with the standard library only (the
training steps read salience and kept channels with it and do not import pandas, which costs
0.3 - 0.5 s a process here), `read_frame` returns a pandas DataFrame (for the report steps).

`mfh.tables` defines every table of the workflow.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mfh.errors import DataError
from mfh.io import write_text_atomic

if TYPE_CHECKING:
    import pandas as pd

FOUR_DECIMALS = ".4f"
SHORTEST = ""  # a float's shortest repr that reads back equal, as str(0.25) = "0.25"


@dataclass(frozen=True)
class Column:
    """One column: its name, the Python type of its values, the `format` spec that writes them,
    and whether it may hold missing values (NaN, an empty field)."""

    name: str
    kind: type
    spec: str
    nullable: bool = False

    def format(self, value) -> str:
        """The cell of `value`: "" for NaN, else `format(value, spec)` (a ValueError when the
        value does not fit, such as a float in an integer column)."""
        if isinstance(value, float) and math.isnan(value):
            return ""
        return format(value, self.spec)

    def parse(self, cell: str):
        """The value of a cell; ValueError when it does not parse (an empty cell is NaN in a
        nullable decimal column only)."""
        if self.kind is float:
            return float(cell) if cell or not self.nullable else math.nan
        if self.kind is bool:
            if cell not in ("True", "False"):
                raise ValueError(f"not True or False: {cell!r}")
            return cell == "True"
        return self.kind(cell)


def integers(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, int, "d") for name in names)


def decimals(*names: str, spec: str = FOUR_DECIMALS, nullable: bool = False) -> tuple[Column, ...]:
    return tuple(Column(name, float, spec, nullable) for name in names)


def texts(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, str, "") for name in names)


def flags(*names: str) -> tuple[Column, ...]:
    return tuple(Column(name, bool, "") for name in names)


@dataclass(frozen=True)
class Table:
    """A CSV table: `name` (for messages), its `columns` in file order, and its `keys`, the
    columns that identify a row (integer or text columns, unique together; checked by
    `check_frame`)."""

    name: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def format_rows(self, rows: Iterable[Sequence]) -> str:
        """The CSV text of the header and `rows` (one value per column, in order)."""
        return _csv_text([self.names, *map(self._cells, rows)])

    def format_row(self, row: Sequence) -> str:
        """One row as its CSV line, without the line end."""
        return _csv_text([self._cells(row)]).removesuffix("\n")

    def write(self, path: str | os.PathLike, rows: Iterable[Sequence]) -> None:
        """Write the header and `rows` to `path`, atomically."""
        write_text_atomic(path, self.format_rows(rows))

    def write_frame(self, path: str | os.PathLike, frame: pd.DataFrame) -> None:
        """Write the table's columns of `frame`, in row order, to `path`, atomically."""
        self._check_columns(frame.columns, f"the {self.name} frame")
        self.write(path, frame[self.names].itertuples(index=False, name=None))

    def read_rows(self, path: str | os.PathLike) -> list[dict]:
        """The rows of the file at `path` as dicts (column name -> parsed value), after checking
        its header and the cells (`Column.parse`)."""
        with open(_existing(path), newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            self._check_columns(next(reader, []), path, exact=True)
            rows = []
            for line, cells in enumerate(reader, start=2):
                if len(cells) != len(self.columns):
                    raise DataError(f"{path}, line {line}: {len(cells)} fields for {self.names}")
                try:
                    rows.append({c.name: c.parse(cell) for c, cell in zip(self.columns, cells)})
                except ValueError as error:
                    raise DataError(f"{path}, line {line}: {error}") from None
        return rows

    def read_frame(self, path: str | os.PathLike) -> pd.DataFrame:
        """The file at `path` as a DataFrame, after `check_frame`."""
        import pandas as pd

        text = {c.name: "str" for c in self.columns if c.kind is str}
        frame = pd.read_csv(_existing(path), dtype=text)
        self._check_columns(frame.columns, path, exact=True)
        return self.check_frame(frame, path)

    def check_frame(self, frame: pd.DataFrame, source) -> pd.DataFrame:
        """`frame`'s columns of this table, in order, after checking that they are all there,
        that it has rows, that non-nullable columns hold no missing value and that the keys are
        unique together, integer keys integers. Errors name `source` (the file, or what the frame
        is)."""
        import pandas as pd

        self._check_columns(frame.columns, source)
        frame = frame[self.names]
        if frame.empty:
            raise DataError(f"{source}: no rows")
        empty = [c.name for c in self.columns if not c.nullable and frame[c.name].isna().any()]
        if empty:
            raise DataError(f"{source}: missing values in column(s) {empty}")
        for key in (c.name for c in self.columns if c.name in self.keys and c.kind is int):
            if not pd.api.types.is_integer_dtype(frame[key]):
                raise DataError(
                    f"{source}: column {key!r} must hold integers, has {frame[key].dtype}"
                )
        if self.keys:
            duplicated = frame.duplicated(list(self.keys))
            if duplicated.any():
                first = frame.loc[duplicated, list(self.keys)].iloc[0].to_dict()
                raise DataError(f"{source}: duplicate rows for {first}")
        return frame

    def _cells(self, row: Sequence) -> list[str]:
        if len(row) != len(self.columns):
            raise ValueError(f"table {self.name}: row of {len(row)} values for {self.names}")
        return [column.format(value) for column, value in zip(self.columns, row)]

    def _check_columns(self, columns, source, *, exact: bool = False) -> None:
        """All of the table's columns are in `columns`; with `exact`, no other either, in the
        table's order (a file's header)."""
        columns = list(columns)
        missing = [name for name in self.names if name not in columns]
        extra = [name for name in columns if name not in self.names] if exact else []
        if missing or extra:
            found = [f"missing column(s) {missing}"] if missing else []
            found += [f"unexpected column(s) {extra}"] if extra else []
            raise DataError(f"{source}: {', '.join(found)}; table {self.name} has {self.names}")
        if exact and columns != self.names:
            raise DataError(f"{source}: columns {columns}, table {self.name} has {self.names}")


def read_frame_as_any(path: str | os.PathLike, tables: Sequence[Table]) -> pd.DataFrame:
    """The file at `path` read as whichever of `tables` its header matches (`Table.read_frame`);
    DataError when it matches none."""
    with open(_existing(path), newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    for table in tables:
        if header == table.names:
            return table.read_frame(path)
    expected = " or ".join(str(table.names) for table in tables)
    raise DataError(f"{path}: columns {header}, expected {expected}")


def _csv_text(lines: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()


def _existing(path: str | os.PathLike) -> str | os.PathLike:
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file (run the step that writes it first)")
    return path
