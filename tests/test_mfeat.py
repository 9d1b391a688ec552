"""mfeat preparation: stratified seeded split, train-statistics standardisation, agreement of the
views, clear errors, atomic output, and the shared loader."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mfh.data import mfeat
from mfh.data.real import load_prepared
from mfh.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs the data copies in {SHARED}")
SPLITS = ("train", "val", "test")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mfeat") / "mfeat.npz"
    mfeat.prepare(SHARED, out, {}, seed=0)
    return out


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    shutil.copytree(SHARED / "mfeat", tmp_path / "raw" / "mfeat")
    return tmp_path / "raw"


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {key: f[key] for key in f.files}


def test_prepared_views_are_standardised_with_train_statistics(prepared):
    a = arrays_of(prepared)
    for view, features in mfeat.VIEWS.items():
        for split, size in zip(SPLITS, (1200, 300, 500)):
            x = a[f"{view}_{split}"]
            assert x.shape == (size, features) and x.dtype == np.float32
            assert np.isfinite(x).all()
        train = a[f"{view}_train"].astype(np.float64)
        varying = train.std(axis=0) > 0
        assert np.abs(train.mean(axis=0)).max() < 1e-4
        assert np.abs(train.std(axis=0)[varying] - 1).max() < 1e-4
    for split in SPLITS:
        assert a[f"y_{split}"].dtype == np.int64


def test_split_is_stratified_disjoint_and_keeps_rows_aligned(prepared):
    views, labels = mfeat.read_views(SHARED)
    a = arrays_of(prepared)
    split = mfeat.stratified_split(labels, mfeat.DEFAULTS, seed=0)
    assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(2000))
    for name, size in zip(SPLITS, (120, 30, 50)):
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
    mfeat.prepare(SHARED, again, {}, seed=0)
    assert again.read_bytes() == prepared.read_bytes()
    _, labels = mfeat.read_views(SHARED)
    zero = mfeat.stratified_split(labels, mfeat.DEFAULTS, seed=0)
    one = mfeat.stratified_split(labels, mfeat.DEFAULTS, seed=1)
    assert set(zero["test"]) != set(one["test"])


def test_constant_feature_is_centred_not_divided_by_zero():
    views, labels = mfeat.read_views(SHARED)
    views["mor"] = views["mor"].copy()
    views["mor"][:, 0] = 7.0
    arrays, _ = mfeat.build(views, labels, {}, seed=0)
    assert np.isfinite(arrays["mor_test"]).all() and (arrays["mor_train"][:, 0] == 0).all()


def test_views_that_disagree_on_a_label_are_a_data_error(raw_copy):
    path = raw_copy / "mfeat/mfeat-kar.csv"
    lines = path.read_text().splitlines()
    cells = lines[1 + 250].split(",")
    cells[-1] = "7"
    lines[1 + 250] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="mfeat-kar.csv: row 250 is labelled 7, but 1 in"):
        mfeat.read_views(raw_copy)


def test_malformed_csvs_are_data_errors(raw_copy):
    path = raw_copy / "mfeat/mfeat-zer.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(
        DataError, match="mfeat-zer.csv: 1999 rows x 48 columns, expected 2000 x 48"
    ):
        mfeat.read_views(raw_copy)
    path.write_text("\n".join(lines[:5] + ["1,2,x"] + lines[6:]) + "\n")
    with pytest.raises(DataError, match="mfeat-zer.csv: not a readable mfeat CSV"):
        mfeat.read_views(raw_copy)
    path.write_text("\n".join([lines[0]] + [line[:-1] + "12" for line in lines[1:]]) + "\n")
    with pytest.raises(DataError, match="values other than the labels 0-9"):
        mfeat.read_views(raw_copy)


def test_bad_requests_and_bad_files_write_nothing(raw_copy, tmp_path):
    out = tmp_path / "out" / "mfeat.npz"
    with pytest.raises(DataError, match="asks for 2001 rows in all; it holds 2000"):
        mfeat.prepare(SHARED, out, {"n_train": 1201}, seed=0)
    with pytest.raises(ValueError, match="unknown mfeat settings"):
        mfeat.prepare(SHARED, out, {"train_fraction": 0.6}, seed=0)
    path = raw_copy / "mfeat/mfeat-fac.csv"
    path.write_text(path.read_text().replace("0", "1", 1))
    with pytest.raises(DataError, match="mfeat-fac.csv has sha256"):
        mfeat.prepare(raw_copy, out, {}, seed=0)
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_load_prepared_gives_the_six_views(prepared):
    data = load_prepared(prepared)
    assert list(data.modalities) == list(mfeat.VIEWS) and data.n_classes == 10
    assert data.sample_shapes == {view: (d,) for view, d in mfeat.VIEWS.items()}
    assert data.modalities["pix"]["test"].shape == (500, 240)
    assert [len(data.labels[s]) for s in SPLITS] == [1200, 300, 500]
