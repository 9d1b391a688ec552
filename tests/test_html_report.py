"""The HTML report: `snakemake --report report.html` (and `snakemake real --report ...`) on the
tiny runs holds every figure and table of every study, each with its caption, filed under its
study or dataset and "figures" / "tables"; it is self-contained, and rendered in headless
Chromium with the network blocked, every figure shows.

Chromium: Debian's `chromium`, installed with apt-get when it is not on PATH (needs root; as the
Slurm test does: skipped without root, failed when the install fails). Snakemake's report shows a
figure only when its eye button is clicked, so the check appends a script to a copy of the report
(tests/html_report_probe.js) that clicks through the report's own menu, waits for each figure's
<img> to decode and writes what it saw into the DOM, which `chromium --dump-dom` returns.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import run

# xdist_group: one worker runs the tests that apt-get install (dpkg takes one at a time)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("apt")]

PROBE = Path(__file__).with_name("html_report_probe.js")
APT_PACKAGES = ["chromium"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# no host resolves and every request would go to a closed port: the report must need none
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9"]


def published(params: dict, target: str) -> dict[str, tuple[str, str]]:
    """Every figure and table `target` ("all" or "real") publishes: path -> (category, kind)."""
    files = {}

    def add(category, names):
        for name in names:
            kind = "figures" if name.endswith(".png") else "tables"
            files[f"results/{category}/{name}"] = (category, kind)

    if target == "all":
        for study in params["studies"]:
            add(study, ["runs.csv", "summary.csv", f"{study}.png", "venn.csv", "venn.png"])
        add(
            "gauss_modify",
            ["runs.csv", "summary.csv", "gauss_modify.png", "salience.png", "venn.csv", "venn.png"],
        )
        add("predictors", ["points.csv", "scores.csv", "venn_fit.csv", "predictors.png"])
    else:
        tables = ["failure_case", "failure_case_summary", "mfh_modes", "mfh_modes_summary"]
        tables += ["mode_differences", "ranking_agreement", "joint_nets"]
        tables += ["diagnosis"]
        figures = ["mfh_modes.png", "salience.png", "failure_case.png", "diagnosis.png"]
        for dataset in params["real_studies"]:
            add(dataset, [f"{name}.csv" for name in tables] + figures)
        add("predictors", ["real_points.csv", "real_scores.csv", "real_predictors.png"])
    return files


def _script_json(text: str, script_id: str, name: str):
    """The JSON value the report assigns to `var name` in <script id="script_id">."""
    match = re.search(
        rf'<script id="{script_id}">\s*var {name} = (.*?);\s*</script>', text, flags=re.S
    )
    assert match, f"no {name} in the report"
    return json.loads(match.group(1))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    return struct.unpack(">II", data[16:24])


# ------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium on this machine, installed with apt-get when missing (root only)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is missing and installing Debian's chromium needs root and apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    start = time.monotonic()
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(
                f"{' '.join(cmd)} failed ({proc.returncode}); the report test needs Debian's "
                f"chromium:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}",
                pytrace=False,
            )
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but there is no chromium on PATH", pytrace=False)
    print(f"\nchromium installed in {time.monotonic() - start:.0f} s")
    return found


@pytest.fixture(scope="module", params=["all", "real"])
def report(request) -> tuple[Path, dict, str]:
    """The report of a tiny run: (report.html, its params, target), built from the shared run of
    the default target (`snakemake --report`) or of `real` (`snakemake real --report`)."""
    target = request.param
    if target == "all":
        wf = request.getfixturevalue("finished_run")
        params = yaml.safe_load((wf / "params.yaml").read_text())
        cmd = ["snakemake", "--report", "report.html"]
    else:
        wf, params = request.getfixturevalue("real_run")
        cmd = ["snakemake", "real", "--report", "real_report.html"]
    start = time.monotonic()
    run(cmd, wf)
    print(f"\n{' '.join(cmd)}: {time.monotonic() - start:.1f} s")
    return wf / cmd[-1], params, target


def render(chromium: str, url: str, profile: Path, *options: str) -> subprocess.CompletedProcess:
    """Open `url` (a file URL, fragment allowed) in headless Chromium, offline. A Chromium that
    hangs (seen once in CI on a loaded 2-core machine: --dump-dom never returned in 180 s, and the
    same test passed alone in 109 s) is killed and started once more with a fresh profile."""
    for attempt in (1, 2):
        try:
            return _render_once(
                chromium, url, profile.with_name(f"{profile.name}-{attempt}"), options
            )
        except subprocess.TimeoutExpired:
            if attempt == 2:
                raise


def _render_once(chromium: str, url: str, profile: Path, options) -> subprocess.CompletedProcess:
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *OFFLINE,
        "--virtual-time-budget=60000",  # virtual ms: the report's JS and the probe run to the end
        *options,
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert (
        proc.returncode == 0
    ), f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


# ---------------------------------------------------------------------------------------- tests


def test_report_holds_every_figure_and_table_with_caption_and_category(report):
    path, params, target = report
    wf = path.parent
    text = path.read_text(encoding="utf-8")
    results = _script_json(text, "results", "results")
    categories = _script_json(text, "categories", "categories")
    expected = published(params, target)
    assert set(results) == set(expected), "the report's results are not the published files"
    assert set(categories) == {category for category, _ in expected.values()}
    for name, (category, kind) in expected.items():
        assert name in categories[category][kind], f"{name} not under {category} / {kind}"
        entry = results[name]
        # embedded byte for byte: the report needs no file beside it
        header, data = entry["data_uri"].split(";base64,", 1)
        assert header.startswith("data:image/png" if kind == "figures" else "data:text/csv")
        assert base64.b64decode(data) == (wf / name).read_bytes(), name
        assert (
            f"<strong>{category}</strong>" in entry["caption"]
        ), f"{name}: caption lacks its study"
        assert len(html.unescape(re.sub("<[^>]+>", "", entry["caption"]))) > 100, name
    description = _script_json(text, "workflow-desc", "workflow_desc")
    assert "modality focusing hypothesis" in " ".join(description.split())
    # self-contained: no script, style sheet or image is fetched from anywhere
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", text)


def test_report_renders_offline_in_chromium_with_every_figure(report, chromium, tmp_path):
    path, params, target = report
    text = path.read_text(encoding="utf-8")
    end = text.rindex("</body>")
    probe = tmp_path / "probe.html"
    probe.write_text(
        text[:end] + f"<script>\n{PROBE.read_text()}\n</script>\n" + text[end:], encoding="utf-8"
    )
    start = time.monotonic()
    dom = render(chromium, probe.as_uri(), tmp_path / "profile", "--dump-dom").stdout
    seen = re.findall(r'<pre id="mfh-probe">(\{.*?)</pre>', dom, flags=re.S)
    assert seen, "the probe wrote nothing: the report's page did not run"
    seen = json.loads(html.unescape(seen[-1]))
    assert seen["errors"] == [], seen["errors"]
    assert seen["resources"] == [], f"the report fetched {seen['resources']}"
    expected = published(params, target)
    for category in {category for category, _ in expected.values()}:
        assert category in seen["menu"].split("\n"), f"no menu entry {category}"
    figures = {name: category for name, (category, kind) in expected.items() if kind == "figures"}
    assert set(seen["figures"]) == set(figures), "the report's figures are not the published ones"
    wf = path.parent
    for name, shown in seen["figures"].items():
        assert shown["category"] == figures[name]
        # the <img> decoded the whole PNG: its natural size is the file's
        assert (shown["width"], shown["height"]) == png_size((wf / name).read_bytes()), name
    shot = tmp_path / f"report_{target}.png"
    render(
        chromium,
        probe.as_uri() + "#one",
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,900",
    )
    assert png_size(shot.read_bytes()) == (1280, 900)
    assert shot.stat().st_size > 20_000  # a figure, not a blank page
    print(f"\nrendered in {time.monotonic() - start:.1f} s; screenshot {shot}")
