"""bench/bench_verify.py: every argument is checked before anything is timed; errors are one line."""

from __future__ import annotations

import importlib.util
import time

import pytest

from sitecheck import ROOT


def load_bench_verify():
    spec = importlib.util.spec_from_file_location("bench_verify", ROOT / "bench" / "bench_verify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "argument --repeats: must lie in [1, 1000], got 0"),
        (["--repeats", "-3"], "argument --repeats: must lie in [1, 1000], got -3"),
        (["--repeats", "1000000"], "argument --repeats: must lie in [1, 1000], got 1000000"),
        (["--repeats", "2.5"], "argument --repeats: invalid int value: '2.5'"),
        (["--nope"], "unrecognized arguments: --nope"),
        (["--record", "."], "--record: '.' is a directory; give a file name"),
        (
            ["--record", "/proc/none/verify.txt"],
            "--record: cannot create the folder of '/proc/none/verify.txt'",
        ),
    ],
)
def test_bad_arguments_are_refused_first_in_one_line(monkeypatch, capsys, argv, message):
    bench = load_bench_verify()
    monkeypatch.setattr(bench, "run", lambda repeats: pytest.fail("timed before checking the arguments"))
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(f"bench_verify.py: error: {message}") and err.count("\n") == 1
    assert time.perf_counter() - start < 5


def test_a_failed_record_write_is_one_line(monkeypatch, capsys, tmp_path):
    bench = load_bench_verify()
    monkeypatch.setattr(bench, "run", lambda repeats: ("the table", True))
    target = tmp_path / "verify.txt"
    assert bench.main(["--repeats", "1", "--record", str(target)]) == 0
    assert target.read_text(encoding="utf-8").endswith("the table\n")
    monkeypatch.setattr(
        bench.Path, "write_text", lambda *a, **kw: (_ for _ in ()).throw(OSError("disk full"))
    )
    capsys.readouterr()
    assert bench.main(["--repeats", "1", "--record", str(tmp_path / "other.txt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bench_verify.py: error: --record: cannot write") and err.count("\n") == 1
