"""params.yaml validation: the real config passes, and every kind of mistake is reported with
the offending key and the allowed values."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from mfh.config import DEFAULT_SCHEMA, ParamsError, load_params, validate_params

PARAMS_FILE = Path(__file__).resolve().parents[1] / "params.yaml"
REAL = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))


def test_the_schema_is_a_valid_json_schema():
    """Checked here once instead of on every Snakemake start (mfh.config._validator)."""
    import jsonschema

    schema = yaml.safe_load(DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema).check_schema(schema)
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validators.validator_for(schema).check_schema({**schema, "type": "dict"})


def _parent(params: dict, path: tuple[str | int, ...]) -> Any:
    """The dict or list that holds params[path...]: params[path[0]]...[path[-2]]."""
    for key in path[:-1]:
        params = params[key]
    return params


def _set(*path: str | int, value: Any) -> Callable[[dict], None]:
    """A mutation that sets params[path...] = value."""

    def mutate(params: dict) -> None:
        _parent(params, path)[path[-1]] = value

    return mutate


def _drop(*path: str) -> Callable[[dict], None]:
    """A mutation that deletes params[path...]."""

    def mutate(params: dict) -> None:
        del _parent(params, path)[path[-1]]

    return mutate


def test_real_params_validate() -> None:
    assert load_params(PARAMS_FILE) == REAL
    validate_params(copy.deepcopy(REAL))


# (mutation, the exact line expected in the message)
BAD = {
    "unknown top-level key": (
        _set("seeed", value=1),
        "seeed: unknown key; allowed keys: seed, device, studies, real_studies, paths, avmnist, "
        "mfeat, basicmotions, gauss_gamma, gauss_alpha, gauss_modify, or a study's section "
        "(a mapping: a venn or an npz study)",
    ),
    "unknown device": (
        _set("device", value="gpu"),
        "device: 'gpu' is not allowed; allowed: auto, cpu, cuda",
    ),
    "unknown nested key": (
        _set("gauss_gamma", "teacher", "lrr", value=0.1),
        "gauss_gamma.teacher.lrr: unknown key; allowed keys: epochs, lr",
    ),
    "wrong type": (
        _set("gauss_gamma", "teacher", "epochs", value="ten"),
        "gauss_gamma.teacher.epochs: 'ten' is a string; expected an integer",
    ),
    "float written without a dot": (
        _set("gauss_alpha", "student", "lr", value="1e-3"),
        "gauss_alpha.student.lr: '1e-3' is a string; expected a number "
        "(YAML reads this as text; write a dot and a signed exponent, e.g. 1.0e-3)",
    ),
    "negative epochs": (
        _set("gauss_gamma", "teacher", "epochs", value=-5),
        "gauss_gamma.teacher.epochs: -5 is out of range; allowed: an integer >= 1",
    ),
    "zero learning rate": (
        _set("gauss_gamma", "student", "lr", value=0),
        "gauss_gamma.student.lr: 0 is out of range; allowed: a number > 0",
    ),
    "overlap above the decisive dims": (
        _set("gauss_gamma", "data", "grid", value=[0, 2, 12]),
        "gauss_gamma.data.grid[2]: 12 is out of range; allowed: 0 .. 10 "
        "(overlap o cannot exceed the 10 decisive channels of x_b)",
    ),
    "k above 40": (
        _set("gauss_alpha", "data", "grid", value=[0, 41]),
        "gauss_alpha.data.grid[1]: 41 is out of range; allowed: 0 .. 40 "
        "(x_a is 50-d and holds 10+k decisive dims, so k cannot exceed 40)",
    ),
    "empty grid": (
        _set("gauss_gamma", "data", "grid", value=[]),
        "gauss_gamma.data.grid: is empty; allowed: at least 1 item",
    ),
    "duplicate grid values": (
        _set("gauss_alpha", "data", "grid", value=[0, 10, 10, 20]),
        "gauss_alpha.data.grid: repeats 10; allowed: each value at most once",
    ),
    "unknown study": (
        _set("studies", value=["gauss_gamma", "gauss_foo"]),
        "studies[1]: 'gauss_foo' names no synthetic study; allowed: gauss_gamma, gauss_alpha, or a "
        "top-level section of generator venn",
    ),
    "venn study: a triple where a sees nothing": (
        _set("gauss_classes", "data", "grid", value=[[0, 0, 4]]),
        "gauss_classes.data.grid[0]: [0, 0, 4]: modality a sees no decisive dimension; "
        "allowed: D0 + Da >= 1",
    ),
    "venn study: negative count": (
        _set("gauss_classes", "data", "grid", value=[[1, -2, 4]]),
        "gauss_classes.data.grid[0][1]: -2 is out of range; allowed: an integer >= 0",
    ),
    "venn study: ones with four classes": (
        _set("gauss_classes", "data", "hyperplane", value="ones"),
        "gauss_classes.data.hyperplane: 'ones' with classes 4: every class would tie; allowed: "
        "normal, or classes: 2",
    ),
    "no study": (
        _set("studies", value=[]),
        "studies: is empty; allowed: at least 1 item",
    ),
    "bad kl_reduction": (
        _set("gauss_gamma", "distill", "kl_reduction", value="avg"),
        "gauss_gamma.distill.kl_reduction: 'avg' is not allowed; allowed: mean, batchmean, sum",
    ),
    "wrong generator": (
        _set("gauss_alpha", "data", "generator", value="vary_gamma"),
        "gauss_alpha.data.generator: 'vary_gamma' is not allowed; allowed: vary_alpha",
    ),
    "boolean written as text": (
        _set("gauss_gamma", "distill", "t_squared", value="yes"),
        "gauss_gamma.distill.t_squared: 'yes' is a string; expected a boolean (true or false)",
    ),
    "missing nested key": (
        _drop("gauss_gamma", "teacher", "lr"),
        "gauss_gamma.teacher.lr: is missing; required keys: epochs, lr",
    ),
    "missing study section": (
        _drop("gauss_alpha"),
        "gauss_alpha: is missing; required keys: seed, device, studies, real_studies, paths, "
        "avmnist, mfeat, basicmotions, gauss_gamma, gauss_alpha, gauss_modify",
    ),
    "empty section": (
        _set("gauss_gamma", "teacher", value=None),
        "gauss_gamma.teacher: is empty; expected a mapping with keys: epochs, lr",
    ),
    "manifests not a folder name": (
        _set("paths", "manifests", value=5),
        "paths.manifests: 5 is an integer; expected a string or null",
    ),
    "own manifests with download": (
        lambda p: p["paths"].update(manifests="tests/fixtures/manifests", download=True),
        "paths.manifests: is set while download is true; allowed: download: false (the official "
        "archives match only the packaged manifests; another manifests folder pins files of its "
        "own)",
    ),
    "both loss weights zero": (
        lambda p: p["gauss_gamma"]["distill"].update(w_gt=0, w_kd=0.0),
        "gauss_gamma.distill: w_gt and w_kd are both 0, so the student learns nothing; "
        "allowed: at least one of them > 0",
    ),
}


@pytest.mark.parametrize(("mutate", "line"), BAD.values(), ids=BAD.keys())
def test_bad_params_name_key_and_allowed_values(mutate: Callable[[dict], None], line: str) -> None:
    params = copy.deepcopy(REAL)
    mutate(params)
    with pytest.raises(ParamsError) as info:
        validate_params(params)
    assert str(info.value) == f"invalid parameters in params.yaml:\n  - {line}"


@pytest.mark.parametrize(
    ("document", "shown"),
    [(None, "is empty"), ([1, 2], "is a list"), ("seed: 0", "'seed: 0' is a string")],
)
def test_non_mapping_top_level(document: Any, shown: str) -> None:
    with pytest.raises(ParamsError) as info:
        validate_params(document)
    assert str(info.value).endswith(
        f"  - (top level): {shown}; expected a mapping with keys: "
        "seed, device, studies, real_studies, paths, avmnist, mfeat, basicmotions, gauss_gamma, "
        "gauss_alpha, gauss_modify"
    )


def test_all_errors_reported_in_path_order() -> None:
    params = copy.deepcopy(REAL)
    params["gauss_gamma"]["data"]["grid"] = [0, 11, 12]
    params["gauss_alpha"]["teacher"]["epochs"] = 0
    params["seed"] = -1
    with pytest.raises(ParamsError) as info:
        validate_params(params)
    lines = str(info.value).splitlines()[1:]
    assert [line.split(":")[0] for line in lines] == [
        "  - gauss_alpha.teacher.epochs",
        "  - gauss_gamma.data.grid[1]",
        "  - gauss_gamma.data.grid[2]",
        "  - seed",
    ]
    assert "-1 is out of range; allowed: an integer >= 0" in lines[-1]


@pytest.mark.parametrize("text", ["", "- gauss_gamma\n- gauss_alpha\n"])
def test_load_params_rejects_non_mapping_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError, match=r"\(top level\): .*expected a mapping with keys: seed"):
        load_params(path)


def test_load_params_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("seed: 0\nstudies: [gauss_gamma\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_params(path)
    message = str(info.value)
    assert message.startswith(f"parameter file {path} is not valid YAML:")
    assert "line 2" in message


def test_load_params_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ParamsError, match=re.escape(f"parameter file not found: {path}")):
        load_params(path)


@pytest.mark.parametrize(
    "pair, expected",
    [
        ([45, 10], "gauss_modify.data.grid[0]: [45, 10] does not fit; allowed: xs2 >= 1"),
        ([10, 0], "gauss_modify.data.grid[0]: [10, 0] does not fit; allowed: xs2 >= 1"),
    ],
)
def test_modify_grid_pairs_must_fit_x_a(pair, expected):
    params = copy.deepcopy(REAL)
    params["gauss_modify"]["data"]["grid"][0] = pair
    with pytest.raises(ParamsError) as err:
        validate_params(params)
    assert expected in str(err.value)
