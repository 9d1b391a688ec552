"""Tests of the table layer (mfh.table_io, mfh.tables): deterministic formatting, the same bytes
as the pandas writer it replaces, atomic writes, and readers that name the file and the columns
that do not match."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest

from mfh import tables
from mfh.errors import DataError
from mfh.table_io import (
    SHORTEST,
    Table,
    decimals,
    flags,
    integers,
    read_frame_as_any,
    texts,
)

EVERY_KIND = Table(
    "every kind",
    (
        *integers("id"),
        *decimals("acc"),
        *decimals("raw", spec=".6g"),
        *decimals("ratio", spec=SHORTEST),
        *decimals("std", nullable=True),
        *texts("name"),
        *flags("ok"),
    ),
    keys=("id",),
)
ROWS = [
    (0, 52.0, 0.0128829123, 0.25, math.nan, "audio", True),
    (1, -0.00001, 12345678.0, 0.1, 1.23456, 'with, a "comma"', False),
]
TEXT = (
    "id,acc,raw,ratio,std,name,ok\n"
    "0,52.0000,0.0128829,0.25,,audio,True\n"
    '1,-0.0000,1.23457e+07,0.1,1.2346,"with, a ""comma""",False\n'
)


def test_rows_are_written_with_one_format_per_column(tmp_path: Path) -> None:
    path = tmp_path / "out" / "table.csv"
    EVERY_KIND.write(path, ROWS)
    assert path.read_bytes() == TEXT.encode()
    assert EVERY_KIND.format_row(ROWS[1]) == TEXT.splitlines()[2]
    with pytest.raises(ValueError, match=r"row of 2 values"):
        EVERY_KIND.write(path, [(0, 1.0)])


def test_frames_give_the_bytes_of_pandas_to_csv(tmp_path: Path) -> None:
    """write_frame replaced `to_csv(index=False, float_format="%.4f", lineterminator="\\n")`."""
    frame = pd.DataFrame(
        {
            "teacher_modality": ["a", "b,c", 'say "x"'],
            "seed": [0, 1, 2],
            "teacher_acc": [math.nan, 13.33333, -0.00004],
            "n": [2, 2, 3],
            "failure": [True, False, True],
        }
    )
    table = Table(
        "frame",
        (
            *texts("teacher_modality"),
            *integers("seed"),
            *decimals("teacher_acc", nullable=True),
            *integers("n"),
            *flags("failure"),
        ),
    )
    table.write_frame(tmp_path / "layer.csv", frame.assign(extra=1.0))  # extra columns: dropped
    pandas = frame.to_csv(index=False, float_format="%.4f", lineterminator="\n")
    assert (tmp_path / "layer.csv").read_text() == pandas


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    EVERY_KIND.write(path, ROWS)
    bad = [ROWS[0], (1.5, *ROWS[1][1:])]  # a float in the integer column
    with pytest.raises(ValueError, match="Unknown format code 'd'"):
        EVERY_KIND.write(path, bad)
    assert path.read_text() == TEXT
    assert os.listdir(tmp_path) == ["table.csv"]


def test_read_rows_and_read_frame_give_back_the_values(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    EVERY_KIND.write(path, ROWS)
    first, second = EVERY_KIND.read_rows(path)
    assert first == pytest.approx(
        {"id": 0, "acc": 52.0, "raw": 0.0128829, "ratio": 0.25, "std": math.nan}
        | {"name": "audio", "ok": True},
        nan_ok=True,
    )
    assert (type(first["id"]), second["name"], second["ok"]) == (int, 'with, a "comma"', False)
    frame = EVERY_KIND.read_frame(path)
    assert list(frame.columns) == EVERY_KIND.names
    assert frame["ratio"].tolist() == [0.25, 0.1] and frame["std"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,acc,raw,ratio,std,ok", r"missing column\(s\) \['name'\]; table every kind has"),
        (
            "id,acc,raw,ratio,std,name,ok,seed",
            r"unexpected column\(s\) \['seed'\]; table every kind has",
        ),
        ("id,acc,raw,ratio,std,ok,name", r"columns \[.*'ok', 'name'\], table every kind has"),
    ],
)
def test_readers_name_the_file_and_the_columns(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "table.csv"
    path.write_text(header + "\n")
    for read in (EVERY_KIND.read_rows, EVERY_KIND.read_frame):
        with pytest.raises(DataError, match=rf"^{path}: {message}"):
            read(path)


def test_readers_reject_bad_cells_missing_files_and_repeated_keys(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text(TEXT.replace("0,52.0000,", "0,,"))
    with pytest.raises(DataError, match=rf"{path}, line 2: could not convert"):
        EVERY_KIND.read_rows(path)
    with pytest.raises(DataError, match=rf"{path}: missing values in column\(s\) \['acc'\]"):
        EVERY_KIND.read_frame(path)
    path.write_text(TEXT.replace("\n1,", "\n0,"))
    with pytest.raises(DataError, match=rf"{path}: duplicate rows for {{'id': 0}}"):
        EVERY_KIND.read_frame(path)
    path.write_text(TEXT.replace("\n1,", "\n1.5,"))
    with pytest.raises(DataError, match=rf"{path}: column 'id' must hold integers"):
        EVERY_KIND.read_frame(path)
    with pytest.raises(DataError, match=rf"{tmp_path / 'none.csv'}: no such file"):
        EVERY_KIND.read_rows(tmp_path / "none.csv")


def test_keys_may_be_integer_and_text_columns(tmp_path: Path) -> None:
    table = Table("nets", (*integers("seed"), *texts("net")), keys=("seed", "net"))
    path = tmp_path / "nets.csv"
    path.write_text("seed,net\n0,a\n0,b\n")
    assert table.read_frame(path)["net"].tolist() == ["a", "b"]
    path.write_text("seed,net\n0,a\n0,a\n")
    with pytest.raises(DataError, match=r"duplicate rows for \{'seed': 0, 'net': 'a'\}"):
        table.read_frame(path)


def test_settings_are_read_as_the_table_their_header_names(tmp_path: Path) -> None:
    path = tmp_path / "settings.csv"
    tables.MODIFY_SETTINGS.write(path, [(0, 30, 10, 10, 0.25, 0.75, 0.0, 10, 30, 0)])
    frame = read_frame_as_any(path, (tables.GAUSS_SETTINGS, tables.MODIFY_SETTINGS))
    assert list(frame.columns) == tables.MODIFY_SETTINGS.names
    EVERY_KIND.write(path, ROWS)
    with pytest.raises(DataError, match=rf"{path}: columns \['id'.*expected \['setting', 'value'"):
        read_frame_as_any(path, (tables.GAUSS_SETTINGS, tables.MODIFY_SETTINGS))


def test_every_table_of_the_workflow_is_well_formed() -> None:
    defined = [value for value in vars(tables).values() if isinstance(value, Table)]
    assert len(defined) == 30
    for table in defined:
        assert len(set(table.names)) == len(table.names), table.name
        assert set(table.keys) <= set(table.names), table.name
        assert all(c.kind in (int, str) for c in table.columns if c.name in table.keys), table.name
