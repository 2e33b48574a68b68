"""The same-harness benchmark: its recorded table and JSON come from one run, and it refuses bad flags
before it runs anything."""

from __future__ import annotations

import importlib.util
import json

import pytest

from sitecheck import ROOT

SPEC = importlib.util.spec_from_file_location("spec_bench", ROOT / "bench" / "spec_bench.py")
spec_bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(spec_bench)
RESULTS = ROOT / "bench" / "results"


def test_the_recorded_table_is_the_recorded_json():
    record = json.loads((RESULTS / "spec-bench.json").read_text(encoding="utf-8"))
    assert (RESULTS / "spec-bench.txt").read_text(encoding="utf-8") == spec_bench.table(record) + "\n"
    methods = [m["name"] for m in record["methods"]]
    assert record["baseline"]["tau"] == 1.0 and any(n.startswith("Lookahead") for n in methods)
    assert all(m["greedy_identical"] for m in record["methods"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "--repeats must be >= 1, got 0"),
        (["--N", "1"], "--N must be >= 2, got 1"),
        (["--k-draft", "-3"], "--k-draft must be >= 1, got -3"),
        (["--held-out", "0", "--pairs", "0"], "no prompts to run"),
        (["--record", "out.txt"], "--record must name a .json file"),
    ],
)
def test_bad_flags_get_one_line_and_exit_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        spec_bench.parse(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
