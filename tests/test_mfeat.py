"""mfeat preparation: stratified seeded split, train-statistics standardisation, agreement of the
views, clear errors, atomic output, and the shared loader.

On the shipped fixture (tests/fixtures/raw/mfeat: the first 10 rows of each class of the six
views, pinned in tests/fixtures/manifests); one test, marked `shared_data`, prepares the full
2000 rows in ../shared/data with the default sizes and the packaged pins."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURE_MANIFESTS, FIXTURE_RAW, SHARED_DATA, npz_arrays
from mfh.data import mfeat
from mfh.data.prepare import prepare
from mfh.data.real import load_prepared
from mfh.errors import DataError

SPLITS = ("train", "val", "test")
ROWS = 100  # rows of the fixture, 10 per class
CFG = {"n_train": 60, "n_val": 20, "n_test": 20}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mfeat") / "mfeat.npz"
    prepare("mfeat", FIXTURE_RAW, out, CFG, seed=0, manifests=FIXTURE_MANIFESTS)
    return out


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    shutil.copytree(FIXTURE_RAW / "mfeat", tmp_path / "raw" / "mfeat")
    return tmp_path / "raw"


def check_standardised(path: Path, sizes: tuple) -> None:
    a = npz_arrays(path)
    for view, features in mfeat.VIEWS.items():
        for split, size in zip(SPLITS, sizes):
            x = a[f"{view}_{split}"]
            assert x.shape == (size, features) and x.dtype == np.float32
            assert np.isfinite(x).all()
        train = a[f"{view}_train"].astype(np.float64)
        varying = train.std(axis=0) > 0
        assert np.abs(train.mean(axis=0)).max() < 1e-4
        assert np.abs(train.std(axis=0)[varying] - 1).max() < 1e-4
    for split in SPLITS:
        assert a[f"y_{split}"].dtype == np.int64


def test_prepared_views_are_standardised_with_train_statistics(prepared):
    check_standardised(prepared, (60, 20, 20))


@pytest.mark.shared_data
def test_full_copies_prepare_with_the_default_sizes_and_packaged_pins(tmp_path):
    out = tmp_path / "mfeat.npz"
    prepare("mfeat", SHARED_DATA, out, {}, seed=0)
    check_standardised(out, (1200, 300, 500))
    _, labels = mfeat.read_views(SHARED_DATA)
    assert len(labels) == mfeat.ROWS
    for name, size in zip(SPLITS, (120, 30, 50)):
        assert np.bincount(npz_arrays(out)[f"y_{name}"], minlength=10).tolist() == [size] * 10


def test_split_is_stratified_disjoint_and_keeps_rows_aligned(prepared):
    views, labels = mfeat.read_views(FIXTURE_RAW)
    a = npz_arrays(prepared)
    split = mfeat.stratified_split(labels, CFG, seed=0)
    assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(ROWS))
    for name, size in zip(SPLITS, (6, 2, 2)):
        assert np.bincount(a[f"y_{name}"], minlength=10).tolist() == [size] * 10
        assert np.array_equal(a[f"y_{name}"], labels[split[name]])
    # every view takes the same raw rows (row i is the same digit in all views)
    for view in mfeat.VIEWS:
        train = views[view][split["train"]]
        std = np.where(train.std(axis=0) > 0, train.std(axis=0), 1.0)
        for name in SPLITS:
            expected = (views[view][split[name]] - train.mean(axis=0)) / std
            assert np.allclose(a[f"{view}_{name}"], expected, atol=1e-5)


def test_uneven_sizes_stay_within_a_row_or_two_of_proportional():
    labels = np.repeat(np.arange(10), 200)
    sizes = {"n_train": 1205, "n_val": 333, "n_test": 462}
    split = mfeat.stratified_split(labels, sizes, seed=3)
    for name in SPLITS:
        counts = np.bincount(labels[split[name]], minlength=10)
        assert counts.sum() == sizes[f"n_{name}"]
        assert np.abs(counts - sizes[f"n_{name}"] / 10).max() <= 2


def test_same_seed_same_bytes_other_seed_other_split(prepared, tmp_path):
    again = tmp_path / "again.npz"
    prepare("mfeat", FIXTURE_RAW, again, CFG, seed=0, manifests=FIXTURE_MANIFESTS)
    assert again.read_bytes() == prepared.read_bytes()
    _, labels = mfeat.read_views(FIXTURE_RAW)
    zero = mfeat.stratified_split(labels, CFG, seed=0)
    one = mfeat.stratified_split(labels, CFG, seed=1)
    assert set(zero["test"]) != set(one["test"])


def test_constant_feature_is_centred_not_divided_by_zero():
    views, labels = mfeat.read_views(FIXTURE_RAW)
    views["mor"] = views["mor"].copy()
    views["mor"][:, 0] = 7.0
    arrays, _ = mfeat.build(views, labels, CFG, seed=0)
    assert np.isfinite(arrays["mor_test"]).all() and (arrays["mor_train"][:, 0] == 0).all()


def test_views_that_disagree_on_a_label_are_a_data_error(raw_copy):
    path = raw_copy / "mfeat/mfeat-kar.csv"
    lines = path.read_text().splitlines()
    cells = lines[1 + 25].split(",")
    cells[-1] = "7"
    lines[1 + 25] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="mfeat-kar.csv: row 25 is labelled 7, but 2 in"):
        mfeat.read_views(raw_copy)


def test_malformed_csvs_are_data_errors(raw_copy):
    path = raw_copy / "mfeat/mfeat-zer.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match="mfeat-zer.csv: 99 rows x 48 columns, expected 100 x 48"):
        mfeat.read_views(raw_copy)
    path.write_text("\n".join(lines[:5] + ["1,2,x"] + lines[6:]) + "\n")
    with pytest.raises(DataError, match="mfeat-zer.csv: not a readable mfeat CSV"):
        mfeat.read_views(raw_copy)
    path.write_text("\n".join([lines[0]] + [line[:-1] + "12" for line in lines[1:]]) + "\n")
    with pytest.raises(DataError, match="values other than the labels 0-9"):
        mfeat.read_views(raw_copy)


def test_bad_requests_and_bad_files_write_nothing(raw_copy, tmp_path):
    out = tmp_path / "out" / "mfeat.npz"
    with pytest.raises(DataError, match="asks for 101 rows in all; it holds 100"):
        prepare("mfeat", FIXTURE_RAW, out, {**CFG, "n_train": 61}, 0, FIXTURE_MANIFESTS)
    with pytest.raises(DataError, match="asks for 2000 rows in all; it holds 100"):
        prepare("mfeat", FIXTURE_RAW, out, {}, 0, FIXTURE_MANIFESTS)  # the full data's defaults
    with pytest.raises(ValueError, match="unknown mfeat settings"):
        prepare("mfeat", FIXTURE_RAW, out, {"train_fraction": 0.6}, 0, FIXTURE_MANIFESTS)
    path = raw_copy / "mfeat/mfeat-fac.csv"
    path.write_text(path.read_text().replace("0", "1", 1))
    with pytest.raises(DataError, match="mfeat-fac.csv has sha256"):
        prepare("mfeat", raw_copy, out, CFG, 0, FIXTURE_MANIFESTS)
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_load_prepared_gives_the_six_views(prepared):
    data = load_prepared(prepared)
    assert list(data.modalities) == list(mfeat.VIEWS) and data.n_classes == 10
    assert data.sample_shapes == {view: (d,) for view, d in mfeat.VIEWS.items()}
    assert data.modalities["pix"]["test"].shape == (20, 240)
    assert [len(data.labels[s]) for s in SPLITS] == [60, 20, 20]
