"""Params section files: one small JSON file per params.yaml section that a rule depends on.

`.params/<dotted key>.json` holds the value of that key, e.g. `.params/gauss_gamma.distill.json`
holds the `distill` section of `gauss_gamma`. Every rule takes the files of its sections as
inputs and its step reads its parameters from them (`read`: {full dotted key: value}, e.g.
`params["gauss_gamma.distill"]`, `params["avmnist.pairs.image-audio"]`, `params["seed"]`), so
Snakemake reruns a job when a section it depends on changes, by file modification time. That
needs no local metadata: a fresh clone
(which has none, so Snakemake's params trigger cannot fire there) notices a param edit as surely
as the workspace that computed the results. A file is rewritten only when its content changes,
so an unchanged section never triggers anything. The files are committed beside the results
(`.params/` sorts before every output folder, so a fresh checkout writes them first: older
than the outputs); a test checks they match params.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

from mfh.errors import SectionError
from mfh.io import write_text_atomic

SECTIONS_DIR = ".params"


def resolve(config: dict, key: str):
    """The value of dotted `key` ("gauss_gamma.data.generator") in the parsed params.yaml."""
    value = config
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"params.yaml has no key {key!r}")
        value = value[part]
    return value


def render(value) -> str:
    """The file content of a section: sorted keys, so equal sections are equal bytes."""
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def path_of(key: str, root: Path | str = ".") -> Path:
    return Path(root) / SECTIONS_DIR / f"{key}.json"


def key_of(path: Path | str) -> str:
    """The dotted params key of a section file."""
    return Path(path).name[: -len(".json")]


class Sections(dict):
    """A step's params: {full dotted key: value} of the section files it was given, in their
    order. A key that none of them holds is a SectionError naming the key and the files."""

    def __init__(self, values: dict, files: list[str]):
        super().__init__(values)
        self.files = list(files)

    def __missing__(self, key: str):
        given = " ".join(self.files) or "none"
        raise SectionError(
            f"no params section {key!r} in --params (given: {given}); "
            "the rule must list it in its sections(...)"
        )


def read(paths: list[str]) -> Sections:
    """The section files a step was given (`--params`) -> {full dotted key: value}."""
    values = {}
    for path in paths:
        if not Path(path).name.endswith(".json"):
            raise SystemExit(f"--params: {path} is not a {SECTIONS_DIR}/<key>.json section file")
        try:
            values[key_of(path)] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"--params: cannot read {path}: {exc}") from exc
    return Sections(values, paths)


def sync(config: dict, key: str, root: Path | str = ".") -> Path:
    """Write the section file of `key` if it is missing or its content differs; return its path
    (relative to `root` when `root` is relative)."""
    path = path_of(key, root)
    text = render(resolve(config, key))
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)
    return path


def prune(config: dict, root: Path | str = ".") -> list[Path]:
    """Delete section files whose key is no longer in params.yaml (a removed pair, say)."""
    removed = []
    for path in sorted((Path(root) / SECTIONS_DIR).glob("*.json")):
        try:
            resolve(config, key_of(path))
        except KeyError:
            path.unlink()
            removed.append(path)
    return removed
