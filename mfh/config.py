"""Load params.yaml and check it against workflow/schemas/params.schema.yaml.

Every violation becomes one plain-words line that names the key, says what is wrong and what is
allowed, for example:

    invalid parameters in params.yaml:
      - gauss_gamma.data.grid[2]: 12 is out of range; allowed: 0 .. 10 (overlap o cannot ...)
      - gauss_gamma.teacher.lrr: unknown key; allowed keys: epochs, lr

On an array item, the item schema's `description` says what the item must be or why it is
bounded, and is quoted in the message. The Snakefile imports this module at every start, so it
imports only yaml, jsonschema and the standard library.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

DEFAULT_SCHEMA = Path(__file__).resolve().parents[1] / "workflow/schemas/params.schema.yaml"

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "null": "null",
}
_PY_WORDS = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
}

# A number in exponent form; PyYAML (YAML 1.1) reads 1e-3, 1.0e3 and 5E+2 as strings.
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")

Problem = tuple[tuple[str | int, ...], str]  # (path to the offending key, what is wrong)


class ParamsError(ValueError):
    """params.yaml is missing, is not valid YAML, or does not match the schema."""


@functools.lru_cache(maxsize=None)
def _validator(schema_path: Path) -> jsonschema.protocols.Validator:
    """The jsonschema validator for the schema at `schema_path` (cached). The schema itself is
    checked against its metaschema by tests/test_params_validation.py, not on every Snakemake
    start (0.16 s); libyaml reads it when PyYAML has it (0.02 s instead of 0.12 s)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schema = yaml.load(schema_path.read_text(encoding="utf-8"), Loader=loader)
    return jsonschema.validators.validator_for(schema)(schema)


def _show(value: Any) -> str:
    """A scalar as it would read in YAML: true, null, 'text', 12."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return repr(value)


def _is(value: Any) -> str:
    """'<value> is <kind>', e.g. "'ten' is a string"; containers are not spelled out."""
    if value is None:
        return "is empty"
    kind = _PY_WORDS.get(type(value), f"a {type(value).__name__}")
    return f"is {kind}" if isinstance(value, (list, dict)) else f"{_show(value)} is {kind}"


def _range(schema: dict) -> str:
    """The allowed range of a numeric schema: '0 .. 10' or 'an integer >= 1'."""
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None and hi is not None:
        return f"{lo} .. {hi}"
    ops = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    bounds = " and ".join(f"{op} {schema[key]}" for key, op in ops.items() if key in schema)
    return f"{_TYPE_WORDS.get(schema.get('type'), 'a number')} {bounds}"


def _problems(error: jsonschema.ValidationError) -> list[Problem]:
    """Turn one jsonschema error into plain-words problems (one per offending key)."""
    path, value, schema = tuple(error.absolute_path), error.instance, error.schema
    kind, rule = error.validator, error.validator_value
    item_note = schema.get("description") if path and isinstance(path[-1], int) else None
    if kind == "additionalProperties":
        known = schema.get("properties", {})
        msg = f"unknown key; allowed keys: {', '.join(known)}"
        return [(path + (str(k),), msg) for k in value if k not in known]
    if kind == "required":
        msg = f"is missing; required keys: {', '.join(rule)}"
        return [(path + (k,), msg) for k in rule if k not in value]
    if kind == "type":
        types = [rule] if isinstance(rule, str) else rule
        msg = f"{_is(value)}; expected {' or '.join(_TYPE_WORDS[t] for t in types)}"
        if "object" in types and "properties" in schema:
            msg += f" with keys: {', '.join(schema['properties'])}"
        numeric = {"number", "integer"} & set(types)
        if numeric and isinstance(value, str) and _EXPONENT.fullmatch(value):
            msg += " (YAML reads this as text; write a dot and a signed exponent, e.g. 1.0e-3)"
        return [(path, msg)]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        note = f" ({item_note})" if item_note else ""
        return [(path, f"{_show(value)} is out of range; allowed: {_range(schema)}{note}")]
    if kind in ("enum", "const"):
        options = ", ".join(map(str, rule if kind == "enum" else [rule]))
        return [(path, f"{_show(value)} is not {item_note or 'allowed'}; allowed: {options}")]
    if kind == "minItems":
        have = "is empty" if not value else f"has {len(value)} items"
        return [(path, f"{have}; allowed: at least {rule} item{'s' * (rule != 1)}")]
    if kind == "uniqueItems":
        dups = [v for i, v in enumerate(value) if v in value[:i]]
        shown = ", ".join(_show(v) for v in dict.fromkeys(dups))
        return [(path, f"repeats {shown}; allowed: each value at most once")]
    return [(path, error.message)]


def _semantic_problems(params: dict) -> Iterable[Problem]:
    """Checks the schema cannot express; `params` already matches the schema."""
    for study, section in params.items():
        if isinstance(section, dict) and "distill" in section:
            d = section["distill"]
            if d["w_gt"] == 0 and d["w_kd"] == 0:
                msg = "w_gt and w_kd are both 0, so the student learns nothing"
                yield (study, "distill"), f"{msg}; allowed: at least one of them > 0"
    paths = params["paths"]
    if paths.get("manifests") is not None and paths["download"]:
        yield ("paths", "manifests"), (
            "is set while download is true; allowed: download: false (the official archives "
            "match only the packaged manifests; another manifests folder pins files of its own)"
        )
    yield from _real_studies_problems(params)
    yield from _synthetic_study_problems(params)
    grid = params.get("gauss_modify", {}).get("data", {}).get("grid", [])
    for i, (xs1, xs2) in enumerate(grid):
        if xs2 < 1 or xs1 + xs2 > 50:
            yield ("gauss_modify", "data", "grid", i), (
                f"[{xs1}, {xs2}] does not fit; allowed: xs2 >= 1 and xs1 + xs2 <= 50 "
                "(x_a has 50 channels)"
            )


SYNTHETIC_NAMED = ("gauss_gamma", "gauss_alpha")  # the other `studies` are of generator venn


def _synthetic_study_problems(params: dict) -> Iterable[Problem]:
    """Every name in `studies` must name a synthetic study's section; a venn study's grid must
    hold triples a study can run (`mfh.data.venn_generator.check_venn_data`)."""
    from mfh.data.venn_generator import check_venn_data

    for i, name in enumerate(params["studies"]):
        section = params.get(name)
        if name not in SYNTHETIC_NAMED and not (
            isinstance(section, dict) and section.get("data", {}).get("generator") == "venn"
        ):
            yield ("studies", i), (
                f"{name!r} names no synthetic study; allowed: gauss_gamma, gauss_alpha, or a "
                "top-level section of generator venn"
            )
    for name, section in params.items():
        data = section.get("data") if isinstance(section, dict) else None
        if isinstance(data, dict) and data.get("generator") == "venn":
            for key, problem in check_venn_data(data["grid"], data["classes"], data["hyperplane"]):
                yield (name, "data", *key), problem


REAL_NAMED = (
    "avmnist",
    "mfeat",
    "basicmotions",
)  # the packaged real datasets; the others are of data kind npz


def _is_npz_study(section: Any) -> bool:
    return isinstance(section, dict) and section.get("data", {}).get("kind") == "npz"


def _real_studies_problems(params: dict) -> Iterable[Problem]:
    """Every name in `real_studies` must name a real dataset's section; every real section's
    pairs, modalities and models must agree; the file of a listed npz study must fit it
    (`mfh.data.npz_dataset.problems`: read here, before any job)."""
    listed = params["real_studies"]
    for i, name in enumerate(listed):
        if name not in REAL_NAMED and not _is_npz_study(params.get(name)):
            yield ("real_studies", i), (
                f"{name!r} names no real dataset; allowed: {', '.join(REAL_NAMED)}, or a "
                "top-level section of data kind npz"
            )
    studies = [*REAL_NAMED, *(k for k, v in params.items() if _is_npz_study(v))]
    for study in studies:
        found = list(_real_study_problems(study, params[study]))
        yield from found
        if not found and _is_npz_study(params[study]) and study in listed:
            from mfh.data.npz_dataset import problems

            for problem in problems(params[study], study, params["seed"]):
                yield (study, "data", "path"), problem


def _real_study_problems(study: str, section: dict) -> Iterable[Problem]:
    """`modalities`, `pairs` and `models` of a real-data study must agree."""
    used = set()
    for name, pair in section["pairs"].items():
        a, b = pair["teacher"], pair["student"]
        used |= {a, b}
        if a == b:
            yield (
                study,
                "pairs",
                name,
            ), f"teacher and student are both {a!r}; allowed: two modalities"
    for m in sorted(used):
        if m not in section["models"]:
            yield (study, "pairs"), f"no encoder in `models` for modality {m!r}"
    if sorted(section["modalities"]) != sorted(used):
        yield (
            study,
            "modalities",
        ), f"must list the modalities of `pairs`: {', '.join(sorted(used))}"


def _dotted(path: tuple[str | int, ...]) -> str:
    """('a', 'grid', 2) -> 'a.grid[2]'; the empty path is the whole file."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "(top level)"


def validate_params(params: Any, schema_path: str | Path = DEFAULT_SCHEMA) -> None:
    """Raise ParamsError listing every way `params` violates the schema; return if it is valid."""
    validator = _validator(Path(schema_path).resolve())
    problems = {p for error in validator.iter_errors(params) for p in _problems(error)}
    if isinstance(params, dict):  # a scalar top-level key cannot be a study: a typo
        named = list(validator.schema["properties"])
        stray = {k for k, v in params.items() if k not in named and not isinstance(v, dict)}
        problems = {p for p in problems if not (p[0] and p[0][0] in stray)}
        allowed = (
            f"allowed keys: {', '.join(named)}, or a study's section (a mapping: a venn or an npz"
            " study)"
        )
        problems |= {((k,), f"unknown key; {allowed}") for k in stray}
    if not problems:
        problems = set(_semantic_problems(params))
    if problems:
        order = sorted(problems, key=lambda p: ([(isinstance(k, str), k) for k in p[0]], p[1]))
        lines = "\n".join(f"  - {_dotted(path)}: {msg}" for path, msg in order)
        raise ParamsError(f"invalid parameters in params.yaml:\n{lines}")


def load_params(path: str | Path) -> dict[str, Any]:
    """Read the YAML file at `path`, validate it, and return it as a dict."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            params = yaml.safe_load(f)
    except FileNotFoundError:
        raise ParamsError(f"parameter file not found: {path}") from None
    except OSError as exc:
        raise ParamsError(f"cannot read parameter file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"parameter file {path} is not valid YAML:\n{exc}") from None
    validate_params(params)
    return params
