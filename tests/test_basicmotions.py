"""BasicMotions' reader (mfh.data.basicmotions): the `.ts` format and the paired arrays.

On the shipped fixture (tests/fixtures/raw/basicmotions: 2 series per class per file) and, marked
`shared_data`, on the full copy in ../shared/data (40 + 40 cases); malformed files, written into
a temporary folder from the fixture's lines, are DataErrors naming the file and the line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURE_MANIFESTS, FIXTURE_RAW, SHARED_DATA
from mfh.data import raw
from mfh.data.basicmotions import FILES, read_raw, read_ts
from mfh.errors import DataError

CLASSES = ["Standing", "Running", "Walking", "Badminton"]
TRAIN = FIXTURE_RAW / FILES["train"]


def data_lines(path: Path) -> tuple[list[str], list[str]]:
    """(header and comment lines up to @data inclusive, case lines) of a .ts file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1
    return lines[:end], [line for line in lines[end:] if line.strip()]


def check_paired(arrays: dict, n_per_split: int) -> None:
    n = 2 * n_per_split
    assert list(arrays) == ["y", "x_accel", "x_gyro", "source_split"]
    assert arrays["y"].dtype == np.int64 and arrays["y"].shape == (n,)
    for key in ("x_accel", "x_gyro"):
        assert arrays[key].dtype == np.float32 and arrays[key].shape == (n, 3, 100)
    assert arrays["source_split"].tolist() == ["train"] * n_per_split + ["test"] * n_per_split
    for split in ("train", "test"):  # each file holds every class equally often
        labels = arrays["y"][arrays["source_split"] == split]
        assert np.bincount(labels).tolist() == [n_per_split // 4] * 4


def test_fixture_reads_as_paired_arrays():
    raw.verify(FIXTURE_RAW, "basicmotions", FIXTURE_MANIFESTS)
    arrays = read_raw(FIXTURE_RAW)
    check_paired(arrays, 8)
    assert arrays["y"][:8].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]  # the file's order
    # channels 0-2 are the accelerometer, 3-5 the gyroscope (the first case's fields, in order)
    _, cases = data_lines(TRAIN)
    fields = cases[0].split(":")
    assert arrays["x_accel"][0, 0, 0] == np.float32(fields[0].split(",")[0])
    assert arrays["x_gyro"][0, 2, -1] == np.float32(fields[5].split(",")[-1])


def test_read_ts_keeps_float64_and_the_header_classes():
    x, labels, names = read_ts(TRAIN)
    assert x.dtype == np.float64 and x.shape == (8, 6, 100)
    assert labels.dtype == np.int64 and names == CLASSES
    assert np.array_equal(read_raw(FIXTURE_RAW)["x_gyro"][:8], x[:, 3:].astype(np.float32))


@pytest.mark.shared_data
def test_full_copy_has_80_cases_20_per_class():
    raw.verify(SHARED_DATA, "basicmotions")  # the packaged pins
    arrays = read_raw(SHARED_DATA)
    check_paired(arrays, 40)
    assert np.bincount(arrays["y"]).tolist() == [20] * 4


def malformed(tmp_path: Path, edit) -> Path:
    """The fixture's train file with `edit(header, cases)` applied, written under tmp_path."""
    header, cases = data_lines(TRAIN)
    edit(header, cases)
    path = tmp_path / "BasicMotions_TRAIN.ts"
    path.write_text("\n".join(header + cases) + "\n", encoding="utf-8")
    return path


def drop_last_dimension(header, cases):
    cases[2] = cases[2].split(":", 1)[1]


def unknown_label(header, cases):
    cases[1] = cases[1].rsplit(":", 1)[0] + ":Sleeping"


def non_numeric(header, cases):
    cases[0] = cases[0].replace(",", ",abc,", 1)  # also one value more: the value is found first


def nan_value(header, cases):
    fields = cases[0].split(",")
    cases[0] = ",".join(["NaN", *fields[1:]])


def short_series(header, cases):
    fields = cases[3].split(":")
    fields[4] = fields[4].rsplit(",", 1)[0]  # 99 steps
    cases[3] = ":".join(fields)


def no_data_line(header, cases):
    header.pop()
    cases.clear()


def no_class_label(header, cases):
    header[:] = [line for line in header if not line.startswith("@classLabel")]


@pytest.mark.parametrize(
    "edit, line, message",
    [
        (drop_last_dimension, 16, "5 dimensions, expected 6"),
        (unknown_label, 15, "unknown class label 'Sleeping'"),
        (non_numeric, 14, "non-numeric value"),
        (nan_value, 14, "NaN"),
        (short_series, 17, r"series of length \[99, 100\], expected 100"),
        (no_data_line, None, "no @data line"),
        (no_class_label, 12, "@data before any @classLabel"),
    ],
)
def test_malformed_files_are_data_errors_naming_file_and_line(tmp_path, edit, line, message):
    path = malformed(tmp_path, edit)
    with pytest.raises(DataError, match=message) as error:
        read_ts(path)
    where = str(path) if line is None else f"{path}, line {line}"
    assert str(error.value).startswith(where)


def test_unsupported_header_values(tmp_path):
    def missing(header, cases):
        header[header.index("@missing false")] = "@missing true"

    def unequal(header, cases):
        header[header.index("@equalLength true")] = "@equalLength false"

    with pytest.raises(DataError, match="line 7: @missing true is not supported"):
        read_ts(malformed(tmp_path, missing))
    with pytest.raises(DataError, match="line 10: @equalLength false is not supported"):
        read_ts(malformed(tmp_path, unequal))


def test_read_raw_needs_both_files_to_agree_on_classes(tmp_path):
    shutil.copytree(FIXTURE_RAW / "basicmotions", tmp_path / "basicmotions")
    test_file = tmp_path / FILES["test"]
    text = test_file.read_text(encoding="utf-8")
    test_file.write_text(text.replace("Walking Badminton", "Badminton Walking"), encoding="utf-8")
    with pytest.raises(DataError, match="BasicMotions_TEST.ts: classes .* but .* in"):
        read_raw(tmp_path)
    test_file.unlink()
    with pytest.raises(DataError, match="BasicMotions_TEST.ts: not a readable .ts file"):
        read_raw(tmp_path)


@pytest.mark.shared_data
def test_prepared_split_keeps_the_test_file_and_draws_val_from_train():
    from mfh.data.basicmotions import from_raw

    arrays, meta = from_raw(SHARED_DATA, {"n_val": 8}, seed=0)
    counts = {s: np.bincount(arrays[f"y_{s}"], minlength=4) for s in ("train", "val", "test")}
    assert counts["val"].tolist() == [2, 2, 2, 2] and counts["train"].tolist() == [8] * 4
    assert counts["test"].tolist() == [10] * 4
    _, test_labels, _ = read_ts(SHARED_DATA / FILES["test"])
    np.testing.assert_array_equal(arrays["y_test"], test_labels)  # the test file, in its order
    assert arrays["accel_test"].shape == (40, 3, 100) and meta["modalities"] == ["accel", "gyro"]
    # standardised per channel on the training series
    np.testing.assert_allclose(arrays["gyro_train"].mean(axis=(0, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(arrays["gyro_train"].std(axis=(0, 2)), 1, atol=1e-5)
    again, _ = from_raw(SHARED_DATA, {"n_val": 8}, seed=0)
    other, _ = from_raw(SHARED_DATA, {"n_val": 8}, seed=1)
    assert np.array_equal(again["accel_val"], arrays["accel_val"])
    assert not np.array_equal(other["accel_val"], arrays["accel_val"])
