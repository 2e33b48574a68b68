"""The calculator page (docs/calculator.md): specdec's own CLI code, run by Pyodide in the browser.

Unit tests: the archive the build zips holds what ``specdec speedup`` and ``specdec roofline`` import,
runs without NumPy, and its glue (docs/_static/calculator.py) returns the command line's own output and
one-line errors. Browser tests (one started page shared by the module; Pyodide takes seconds to start):
the page shows what the command line prints, requests nothing from another host, and loads Pyodide only
when the reader starts it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, Build
from test_browser import browser_context, site_url  # noqa: F401  (module-scoped fixtures)
from test_build_config import build, static_folder

GPT2_CONFIG = ROOT / "bench" / "configs" / "gpt2" / "config.json"
START_TIMEOUT_MS = 90_000
FIRST_LOAD_LIMIT_BYTES = 100_000


@functools.cache
def _conf():
    spec = importlib.util.spec_from_file_location("specdec_site_conf", ROOT / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python -m specdec *argv`` from the source tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "specdec", *argv], cwd=cwd, env=env, capture_output=True, text=True
    )


FORM = {
    "alpha": "0.8",
    "k": "5",
    "c": "0",
    "hardware": "h200",
    "bandwidth": "4800",
    "peak": "989.5",
    "memory": "141",
    "model": "llama-2-7b",
    "config": "",
    "batch": "4",
    "context": "512",
    "dtype": "",
}

# --- the archive and its glue, without a browser ---------------------------------------------------

# Run in a fresh interpreter: NumPy blocked, specdec imported from the unpacked archive alone.
NO_NUMPY = """
import json, sys
sys.modules["numpy"] = None
sys.path.insert(0, sys.argv[1])
import specdec_calculator
assert specdec_calculator.__file__.startswith(sys.argv[1]), specdec_calculator.__file__
import specdec
assert specdec.__file__.startswith(sys.argv[1]), specdec.__file__
print(specdec_calculator.calculate(sys.argv[2]))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "numpy" and sys.modules[m])))
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return _conf().write_archive(tmp_path_factory.mktemp("archive") / "specdec-calculator.zip")


def test_archive_holds_the_modules_and_is_reproducible(archive: Path, tmp_path: Path):
    names = zipfile.ZipFile(archive).namelist()
    for name in ("specdec/cli.py", "specdec/perf/speedup.py", "specdec/data/presets.toml"):
        assert name in names
    assert "specdec_calculator.py" in names
    assert not any("probe" in name or "numpy" in name for name in names), names
    with zipfile.ZipFile(archive) as z:
        assert z.read("specdec/perf/kernels.py") == (ROOT / "src/specdec/perf/kernels.py").read_bytes()
    again = _conf().write_archive(tmp_path / "again.zip")
    assert again.read_bytes() == archive.read_bytes()


def test_archive_runs_the_cli_without_numpy(archive: Path, tmp_path: Path):
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(archive).extractall(unpacked)
    proc = subprocess.run(
        [sys.executable, "-c", NO_NUMPY, str(unpacked), json.dumps(FORM)],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    answer_line, numpy_line = proc.stdout.strip().splitlines()
    assert json.loads(numpy_line) == []
    answer = json.loads(answer_line)
    assert "error" not in answer, answer
    for command in answer["commands"]:
        argv = command["command"].split()[1:]
        assert command["output"] == cli(*argv).stdout, command["command"]


@pytest.fixture
def glue(monkeypatch, tmp_path):
    """docs/_static/calculator.py imported here, its working directory a temporary folder."""
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location("specdec_calculator", ROOT / "docs/_static/calculator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda **fields: json.loads(module.calculate(json.dumps({**FORM, **fields})))


@pytest.mark.parametrize(
    ("fields", "argv"),
    [
        ({"alpha": "1.5"}, ["speedup", "--alpha", "1.5", "--k", "5", "--c", "0"]),
        ({"k": "2.5"}, ["speedup", "--alpha", "0.8", "--k", "2.5", "--c", "0"]),
        ({"batch": "0"}, ["roofline", "--batch", "0"]),
        ({"hardware": "b200"}, ["roofline", "--hardware", "b200"]),
        ({"dtype": "fp4"}, ["roofline", "--weight-dtype", "fp4"]),
    ],
)
def test_bad_input_gives_the_cli_message(glue, fields, argv):
    expected = cli(*argv)
    assert expected.returncode == 2
    assert glue(**fields) == {"error": expected.stderr.strip()}


def test_custom_hardware_with_a_presets_rates_gives_its_answer(glue):
    preset = glue()
    custom = glue(hardware="custom")
    assert custom["summary"] == preset["summary"]
    assert custom["commands"][1]["command"].startswith("specdec roofline --hardware <custom>")
    bad = glue(hardware="custom", bandwidth="fast")
    assert bad == {"error": "custom hardware: bandwidth (GB/s): invalid number: 'fast'"}


def test_a_pasted_config_gives_the_cli_numbers(glue, tmp_path):
    from specdec.perf.shapes import shape_from_hf_config

    answer = glue(model="config", config=GPT2_CONFIG.read_text(encoding="utf-8"))
    shape = shape_from_hf_config(GPT2_CONFIG)
    assert dict(answer["summary"])[f"parameters of {shape.name}"] == f"{shape.n_params:,}"
    roofline = answer["commands"][1]
    assert "--model config.json" in roofline["command"]
    assert roofline["output"] == cli(*roofline["command"].split()[1:], cwd=tmp_path).stdout


@pytest.mark.build
def test_a_strict_build_without_the_pyodide_bundle_fails(tmp_path):
    site = tmp_path / "src"
    site.mkdir()
    (site / "index.md").write_text("# One page\n", encoding="utf-8")
    bundles = ("mermaid/mermaid.esm.min.mjs", "mathjax/tex-chtml.js")
    proc = build(site, tmp_path / "out", "-D", static_folder(tmp_path, *bundles))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "the Pyodide bundle is missing" in output and "run `make assets`" in output
    for other in ("mermaid", "MathJax"):
        assert f"the {other} bundle is missing" not in output


# --- in the browser ------------------------------------------------------------------------------------


class StartedPage:
    """The calculator page, started once; every request it made is kept."""

    def __init__(self, context, url: str):
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        self.first_load = list(self.requests)
        clicked = time.perf_counter()
        self.page.click("#calc-start")
        self.page.wait_for_function(
            "() => window.specdecCalculator && window.specdecCalculator.startSeconds !== null",
            timeout=START_TIMEOUT_MS,
        )
        self.start_seconds = time.perf_counter() - clicked

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def submit(self, **fields: str) -> None:
        """Fill the form (selects first, so that the fields they show are visible) and calculate."""
        page = self.page
        for name in ("hardware", "model", "dtype"):
            if name in fields:
                page.select_option(f"#calc-{name}", fields.pop(name))
        for name, value in fields.items():
            page.fill(f"#calc-{name}", value)
        answers = page.evaluate("window.specdecCalculator.answers")
        page.click("#calc-form button[type=submit]")
        page.wait_for_function("(n) => window.specdecCalculator.answers > n", arg=answers)

    def summary(self) -> dict[str, str]:
        rows = self.page.eval_on_selector_all(
            "#calc-summary tr", "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
        )
        return dict(rows)

    def commands(self) -> list[tuple[str, str]]:
        return [
            tuple(pair)
            for pair in self.page.eval_on_selector_all(
                "#calc-commands details",
                "ds => ds.map(d => [d.querySelector('summary').innerText,"
                " d.querySelector('pre').textContent])",
            )
        ]

    def error(self) -> str | None:
        return None if self.page.is_hidden("#calc-error") else self.page.inner_text("#calc-error")


@pytest.fixture(scope="module")
def calculator(html_build: Build, site_url: str, browser_context):  # noqa: F811
    started = StartedPage(browser_context, f"{site_url}/calculator.html")
    print(f"\ncalculator: {started.start_seconds:.1f} s from the button to the first answer")
    yield started
    started.page.close()


@pytest.mark.browser
@pytest.mark.build
def test_first_load_is_small_and_starting_loads_pyodide_locally(calculator, html_build: Build):
    outdir = html_build.outdir
    first = {urlsplit(u).path for u in calculator.first_load}
    assert not any("pyodide" in p or p.endswith(".zip") for p in first), sorted(first)
    # What the page adds to the site's shared files (theme, fonts, MathJax): its HTML and its script.
    own = [p for p in first if p.endswith(("/calculator.html", "/calculator.js"))]
    assert len(own) == 2, sorted(first)
    added = sum((outdir / p.lstrip("/")).stat().st_size for p in own)
    assert added < FIRST_LOAD_LIMIT_BYTES, f"{added} bytes"
    later = {urlsplit(u).path for u in calculator.requests[len(calculator.first_load) :]}
    assert any(p.endswith("/_static/pyodide/pyodide.asm.wasm") for p in later), sorted(later)
    assert any(p.endswith("/_static/specdec-calculator.zip") for p in later), sorted(later)
    assert not calculator.foreign and not calculator.errors, (calculator.foreign, calculator.errors)
    assert "answered in" in calculator.page.inner_text("#calc-status")


@pytest.mark.browser
@pytest.mark.build
def test_speedup_matches_the_cli(calculator):
    calculator.submit(alpha="0.8", k="5", c="0")
    expected = cli("speedup", "--alpha", "0.8", "--k", "5", "--c", "0").stdout
    command, output = calculator.commands()[0]
    assert command == "specdec speedup --alpha 0.8 --k 5 --c 0"
    assert output == expected
    assert "walltime speedup (Theorem 3.8)  3.689x" in output
    assert calculator.summary()["speedup, c_verify = 1 (Theorem 3.8)"] == "3.689x"


@pytest.mark.browser
@pytest.mark.build
def test_h200_llama_roofline_matches_the_cli_exactly(calculator):
    calculator.submit(hardware="h200", model="llama-2-7b", batch="8", context="2048", k="4", alpha="0.7")
    commands = calculator.commands()
    assert [c.split()[1] for c, _ in commands] == ["speedup", "roofline", "roofline", "speedup"]
    for command, output in commands:
        assert output == cli(*command.split()[1:]).stdout, command
    roofline = "roofline --hardware h200 --model llama-2-7b --batch 8 --context 2048".split()
    assert commands[1][1] == cli(*roofline, "--breakdown").stdout
    assert commands[2][1] == cli(*roofline, "--new-tokens", "5").stdout
    step = json.loads(cli(*roofline, "--json").stdout)
    assert calculator.summary()["weight matmuls compute-bound from batch"] == str(step["matmul_bound_batch"])
    assert not calculator.foreign and not calculator.errors


@pytest.mark.browser
@pytest.mark.build
def test_a_pasted_config_gives_the_cli_parameter_count(calculator):
    from specdec.perf.shapes import shape_from_hf_config

    calculator.submit(model="config", config=GPT2_CONFIG.read_text(encoding="utf-8"), batch="1")
    shape = shape_from_hf_config(GPT2_CONFIG)
    assert calculator.summary()[f"parameters of {shape.name}"] == f"{shape.n_params:,}"
    assert calculator.error() is None


@pytest.mark.browser
@pytest.mark.build
def test_a_bad_value_shows_the_cli_error(calculator):
    calculator.submit(model="llama-2-7b", alpha="1.5")
    expected = cli("speedup", "--alpha", "1.5", "--k", "5", "--c", "0").stderr.strip()
    assert calculator.error() == expected
    calculator.submit(alpha="0.8", k="5", batch="two")
    assert calculator.error() == cli("roofline", "--batch", "two").stderr.strip()
    assert calculator.page.is_hidden("#calc-answer")
    assert not calculator.foreign and not calculator.errors
