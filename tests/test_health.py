"""Tests of the health checks (mfh.health) and of the steps they stop: a broken run raises
HealthError with one line that names the net and the params to look at, and writes nothing.

Provoked for real on the shipped mfeat fixture (100 rows): joint nets that cannot learn (lr
1e-9) are at chance; a learning rate that kills the ReLUs leaves most channels dead; a KD
student that cannot learn is at chance. The binomial test and the channel counts are checked
against hand computations.
"""

from __future__ import annotations

import copy

import pytest
import torch

from conftest import FIXTURE_MANIFESTS, FIXTURE_RAW, load_real_params, shrink
from mfh.errors import HealthError
from mfh.health import chance_p_value, channel_counts, check_above_chance, check_channels

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_chance_p_value_is_the_binomial_tail():
    # 3 of 4 right among 2 classes: P(X >= 3) = (4 + 1) / 16
    assert chance_p_value(75.0, 4, 2) == pytest.approx(5 / 16)
    assert chance_p_value(0.0, 10, 10) == 1.0
    assert chance_p_value(100.0, 10, 10) == pytest.approx(1e-10)


@pytest.mark.parametrize("acc, n, n_classes", [(11.0, 500, 10), (30.0, 500, 10), (52.0, 5000, 2)])
def test_chance_p_value_matches_scipy(acc, n, n_classes):
    from scipy.stats import binom

    k = round(acc / 100 * n)
    assert chance_p_value(acc, n, n_classes) == pytest.approx(binom.sf(k - 1, n, 1 / n_classes))


def test_check_above_chance_names_the_net_and_the_threshold():
    check_above_chance(30.0, 500, 10, "net x", 1e-3)  # 150 of 500 against 10 %: passes
    with pytest.raises(HealthError, match=r"net x: validation accuracy 11\.0% .* chance \(10\.0%"):
        check_above_chance(11.0, 500, 10, "net x", 1e-3)


def test_channel_counts_and_the_dead_share():
    features = torch.tensor([[0.0, 1.0, 2.0, 0.0], [0.0, 3.0, 2.0, 0.0], [0.0, 0.0, 2.0, 5.0]])
    assert channel_counts(features) == (1, 2)  # channel 0 dead; 0 and 2 constant
    assert check_channels(features, "net", 0.5) == (1, 2)
    with pytest.raises(HealthError, match="net: 1 of 4 penultimate channels are dead"):
        check_channels(features, "net", 0.2)


@pytest.fixture(scope="module")
def mfeat(tmp_path_factory):
    """The mfeat fixture prepared, and a small config of the study on it (fac -> mor)."""
    from mfh.data.prepare import prepare

    params = shrink(load_real_params(), real=True)
    folder = tmp_path_factory.mktemp("mfeat")
    data = folder / "dataset.npz"
    cfg = params["mfeat"]
    prepare("mfeat", FIXTURE_RAW, data, cfg["data"], params["seed"], FIXTURE_MANIFESTS)
    cfg = copy.deepcopy(cfg)
    cfg.update(seeds=1, seed=params["seed"], health={"p_value": 1e-3, "max_dead_share": 0.5})
    cfg["joint"].update(epochs=30, lr=0.05)
    cfg["distill"].update(epochs=30)
    return data, cfg, folder


def joint_outputs(folder):
    out = [folder / name for name in ("a.pt", "b.pt", "joint.csv")]
    for path in out:
        path.unlink(missing_ok=True)
    return out


def joint(mfeat, **changes):
    from mfh.studies.real_algorithm1 import train_joint

    data, cfg, folder = mfeat
    cfg = copy.deepcopy(cfg)
    cfg["joint"].update(changes)
    out = joint_outputs(folder)
    train_joint("mfeat", 0, cfg, data, "fac", "mor", None, *out)
    return out


def test_healthy_joint_nets_pass_and_are_recorded(mfeat):
    from mfh.tables import REAL_JOINT

    *_, table = joint(mfeat)
    rows = REAL_JOINT.read_rows(table)
    assert [(r["net"], r["modality"]) for r in rows] == [("a", "fac"), ("b", "mor")]
    assert all(r["val_acc"] > 40 and r["dead"] <= r["constant"] <= 128 for r in rows)


def test_joint_nets_at_chance_stop_the_step(mfeat):
    with pytest.raises(HealthError, match="joint fac-mor seed 0: f_a on fac: validation accuracy"):
        joint(mfeat, lr=1e-9, epochs=1)
    assert not any(path.exists() for path in joint_outputs(mfeat[2]))


def test_dead_channels_stop_the_step(mfeat):
    """A large learning rate pushes most ReLUs of the penultimate layer off for good."""
    with pytest.raises(HealthError, match="penultimate channels are dead"):
        joint(mfeat, lr=30.0, epochs=3)


def test_a_kd_student_at_chance_stops_the_step(mfeat):
    from mfh.studies.real import distill

    data, cfg, folder = mfeat
    a, b, _ = joint(mfeat)
    cfg = copy.deepcopy(cfg)
    cfg["distill"].update(lr=1e-9, epochs=1)
    out = folder / "kd.pt", folder / "kd.csv"
    with pytest.raises(HealthError, match="KD fac -> mor seed 0: validation accuracy"):
        distill("mfeat", 0, cfg, data, a, "joint", ["fac"], "mor", *out)
    assert not any(path.exists() for path in out)
