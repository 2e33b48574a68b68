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


def test_a_run_without_replays_prints_a_dash_for_the_replay_columns():
    """``--isolated-every 0`` replays nothing: the two ratio columns are ``-``, not a crash."""
    record = json.loads((RESULTS / "spec-bench.json").read_text(encoding="utf-8"))
    for m in [
        record["baseline"],
        *record["methods"],
        record["sampling_baseline"],
        *record["sampling_methods"],
    ]:
        m["forward_over_isolated"] = m["step_over_isolated"] = None
    row = next(line for line in spec_bench.table(record).splitlines() if line.startswith("input-guided"))
    assert row.split()[8:10] == ["-", "-"]  # after the four words of the name and tau, alpha, c, c_ver


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "--repeats must be >= 1, got 0"),
        (["--N", "1"], "--N must be >= 2, got 1"),
        (["--k-draft", "-3"], "--k-draft must be >= 1, got -3"),
        (["--held-out", "0", "--pairs", "0"], "no prompts to run"),
        (["--record", "out.txt"], "--record must name a .json file"),
        (["--isolated-every", "-1"], "--isolated-every must be >= 0, got -1"),
    ],
)
def test_bad_flags_get_one_line_and_exit_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        spec_bench.parse(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_runs_steps_are_replayed_at_the_shapes_it_scored():
    """Step i scores T new tokens after the prompt and every token written before it but the pending one;
    the replay times one bare forward of each shape, in order."""
    from specdec.decode import DecodeResult
    from specdec.tutor import Tutor

    run = DecodeResult(tokens=None, target_calls=4, written_per_step=[3, 1, 2], scored_per_step=[4, 2, 3])
    shapes = spec_bench.step_shapes(run, 10)
    assert shapes == [(10, 4), (13, 2), (14, 3)]
    times = spec_bench.isolated_costs(Tutor.load(), 10, run, 2)
    assert len(times) == 3 and all(0 < t < 1 for t in times)
    assert spec_bench.isolated_costs(Tutor.load(), 10, DecodeResult(tokens=None, target_calls=1), 2) == []


def families_table_rows(page: str) -> dict[str, list[str]]:
    """The families page's same-harness Markdown table: first cell -> the other cells."""
    rows = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 9 and cells[1][:1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def recorded_row(m: dict) -> list[str]:
    """One method of the record, written as the families page's table writes it."""
    alpha = "–" if m["alpha"] is None else f"{m['alpha']:.2f}"
    speeds = [f"{m[k]:.2f}×" for k in ("speedup", "decode_speedup", "predicted_decode_speedup")]
    same = "yes" if m["greedy_identical"] else "no"
    return [f"{m['tau']:.2f}", alpha, f"{m['c']:.2f}", f"{m['c_verify']:.2f}", *speeds, same]


def test_the_families_table_is_the_recorded_run():
    """The table typed into docs/families.md says what the record says, method by method, in order."""
    record = json.loads((RESULTS / "spec-bench.json").read_text(encoding="utf-8"))
    rows = families_table_rows((ROOT / "docs" / "families.md").read_text(encoding="utf-8"))
    assert list(rows.values()) == [recorded_row(m) for m in record["methods"]]


def test_the_families_table_check_catches_a_stale_cell():
    record = json.loads((RESULTS / "spec-bench.json").read_text(encoding="utf-8"))
    page = (ROOT / "docs" / "families.md").read_text(encoding="utf-8")
    m = record["methods"][3]
    stale = page.replace(f"| {m['speedup']:.2f}× |", f"| {m['speedup'] + 0.11:.2f}× |", 1)
    assert stale != page
    assert list(families_table_rows(stale).values()) != [recorded_row(m) for m in record["methods"]]
