"""The command line: every rule runs the step function of its own name, found by grep, and a
step gets its params sections by full dotted key, with a clear error for a missing one."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO, section_files, tool_env
from mfh.cli import handler, steps
from mfh.errors import SectionError
from mfh.pipeline import sections
from mfh.steps.real import study_config


def _rules_running_mfh() -> dict[str, str]:
    """{rule name: the x of its `python -m mfh x`} over workflow/rules/*.smk."""
    commands = {}
    for path in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^rule ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
            rule = block.split(":", 1)[0]
            command = re.search(r"python -m mfh (\w+)", block)
            if command:
                commands[rule] = command.group(1)
    return commands


def test_every_rule_runs_the_step_of_its_name():
    commands = _rules_running_mfh()
    assert len(commands) == 34, sorted(commands)
    assert sorted(commands) == steps()  # every step is a rule's, every rule's step exists
    for rule, subcommand in commands.items():
        assert subcommand == rule
        step = handler(rule)
        assert step.__name__ == rule
        grep = subprocess.run(
            ["grep", "-rn", f"def {rule}(", "mfh/"], cwd=REPO, capture_output=True, text=True
        )
        where = f"{step.__module__.replace('.', '/')}.py"
        assert re.search(rf"^{where}:\d+:def {rule}\(", grep.stdout, flags=re.M), grep.stdout
        assert step.__doc__.strip(), f"step {rule} has no docstring (its --help)"


def test_sections_arrive_by_full_dotted_key(tmp_path):
    """Two keys that end alike stay apart, and the order of --params is kept."""
    values = {
        "seed": 0,
        "avmnist.pairs.image-audio": {"teacher": "image", "student": "audio"},
        "other.pairs.image-audio": {"teacher": "audio", "student": "image"},
        "avmnist.train": {"epochs": 1},
    }
    params = sections.read(section_files(tmp_path, values))
    assert params == values and list(params) == list(values)
    assert study_config(params, "avmnist") == {
        "seed": 0,
        "image-audio": {"teacher": "image", "student": "audio"},
        "other.pairs.image-audio": {"teacher": "audio", "student": "image"},
        "train": {"epochs": 1},
    }


def test_missing_section_names_the_key_and_the_files(tmp_path):
    files = section_files(tmp_path, {"seed": 0})
    params = sections.read(files)
    with pytest.raises(SectionError, match=r"no params section 'gauss_gamma\.data'") as error:
        params["gauss_gamma.data"]
    assert files[0] in str(error.value)
    clash = sections.Sections({"avmnist.train": 1, "avmnist.pairs.train": 2}, [])
    with pytest.raises(
        SectionError, match="'avmnist.train' and 'avmnist.pairs.train' both read as 'train'"
    ):
        study_config(clash, "avmnist")


def test_step_without_its_section_fails_in_one_line(tmp_path):
    files = section_files(tmp_path, {"seed": 0})
    out = tmp_path / "out"
    command = [sys.executable, "-m", "mfh", "prepare_data", "--study", "gauss_gamma"]
    command += ["--params", *files, "--out-data", str(out / "d.npz")]
    command += ["--out-settings", str(out / "s.csv")]
    proc = subprocess.run(command, cwd=REPO, env=tool_env(), capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "no params section 'gauss_gamma.data' in --params" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "kind, given",
    [("multimodal", "audio"), ("multimodal", "audio,audio"), ("unimodal", "image")],
)
def test_real_distill_refuses_teacher_inputs_that_do_not_fit_the_pair(kind, given):
    """The Snakefile passes the teacher's input order (`teacher_inputs`); a list that does not
    hold exactly the pair's modalities stops the step before it computes anything."""
    from argparse import Namespace

    params = sections.Sections(
        {"avmnist.pairs.audio-image": {"teacher": "audio", "student": "image"}}, []
    )
    args = Namespace(
        study="avmnist", pair="audio-image", teacher_kind=kind, teacher_modalities=given
    )
    expected = "audio and image" if kind == "multimodal" else "audio"
    with pytest.raises(ValueError, match=f"{kind} teacher of pair audio-image takes {expected}$"):
        handler("real_distill")(args, params)
