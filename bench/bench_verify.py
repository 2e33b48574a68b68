"""Benchmark of ``verify_batch`` against a Python loop of ``verify``, in two regimes.

Run from the repository root::

    .venv/bin/python bench/bench_verify.py                                  # print the table
    .venv/bin/python bench/bench_verify.py --record bench/results/verify.txt  # and save it

- Overhead-bound: B = 4096 sequences, k = 4 drafts, V = 64. Per-call Python overhead dominates a loop;
  target: ``verify_batch`` at least 20x faster than the loop over the same inputs.
- Memory-bound: B = 64, k = 4, V = 32,000 (a real vocabulary). The inputs are ~147 MB of float64, so
  reading them dominates; target: ``verify_batch`` within 3x of the time NumPy needs to read its
  inputs once (one ``np.add.reduce`` over each of the three arrays, measured here on the same machine),
  and never slower than the loop. Input validation is included in every timing.

A *step* is one verification step of one sequence (B steps per ``verify_batch`` call). Each timing is the
best of several repeats after a warm-up; the median is printed next to it.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from specdec.cli import OneLineParser
from specdec.sampling import verify, verify_batch

#: Largest ``--repeats``: each repeat of the memory-bound loop reads ~147 MB 64 times.
MAX_REPEATS = 1000


def make_inputs(B: int, k: int, V: int, seed: int = 0):
    """Random target rows (B, k+1, V), draft rows (B, k, V) and drafts (B, k) drawn from the draft rows."""
    rng = np.random.default_rng(seed)
    p_target = rng.random((B, k + 1, V))
    p_target /= p_target.sum(axis=-1, keepdims=True)
    p_draft = rng.random((B, k, V))
    p_draft /= p_draft.sum(axis=-1, keepdims=True)
    cdf = np.cumsum(p_draft, axis=-1)  # (B, k, V)
    u = rng.random((B, k, 1)) * cdf[..., -1:]
    draft_tokens = (cdf <= u).sum(axis=-1)  # (B, k)
    return p_target, p_draft, draft_tokens


def timings(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_ms(ts: list[float]) -> str:
    return f"{min(ts) * 1e3:9.2f} ms (median {statistics.median(ts) * 1e3:8.2f})"


def run(repeats: int) -> tuple[str, bool]:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores ({cpu_name()}), {platform.system()}",
        f"python {platform.python_version()}, numpy {np.__version__}",
        f"best of {repeats} repeats after a warm-up; validation included; a step = one sequence verified",
        "",
    ]
    ok = True

    # --- overhead-bound --------------------------------------------------------------------------
    B, k, V = 4096, 4, 64
    p_t, p_d, x = make_inputs(B, k, V)
    rng = np.random.default_rng(1)
    t_batch = timings(lambda: verify_batch(p_t, p_d, x, rng), repeats)
    t_loop = timings(lambda: [verify(p_t[b], p_d[b], x[b], rng) for b in range(B)], max(3, repeats // 3))
    speedup = min(t_loop) / min(t_batch)
    met = speedup >= 20
    ok &= met
    lines += [
        f"overhead-bound: B={B}, k={k}, V={V}",
        f"  verify_batch          {fmt_ms(t_batch)}  {B / min(t_batch):12,.0f} steps/s",
        f"  loop of verify        {fmt_ms(t_loop)}  {B / min(t_loop):12,.0f} steps/s",
        f"  verify_batch speedup over the loop: {speedup:.1f}x (target >= 20x): "
        f"{'MET' if met else 'NOT MET'}",
        "",
    ]

    # --- memory-bound ----------------------------------------------------------------------------
    B, k, V = 64, 4, 32_000
    p_t, p_d, x = make_inputs(B, k, V)
    mb = (p_t.nbytes + p_d.nbytes + x.nbytes) / 1e6

    def read_once():
        return np.add.reduce(p_t, axis=None), np.add.reduce(p_d, axis=None), np.add.reduce(x, axis=None)

    t_read = timings(read_once, repeats)
    t_batch = timings(lambda: verify_batch(p_t, p_d, x, rng), repeats)
    t_loop = timings(lambda: [verify(p_t[b], p_d[b], x[b], rng) for b in range(B)], repeats)
    over_read = min(t_batch) / min(t_read)
    vs_loop = min(t_loop) / min(t_batch)
    met_read, met_loop = over_read <= 3, vs_loop >= 1
    ok &= met_read and met_loop
    lines += [
        f"memory-bound: B={B}, k={k}, V={V:,} ({mb:.0f} MB of inputs)",
        f"  read inputs once      {fmt_ms(t_read)}  {mb / 1e3 / min(t_read):6.1f} GB/s",
        f"  verify_batch          {fmt_ms(t_batch)}  {B / min(t_batch):12,.0f} steps/s",
        f"  loop of verify        {fmt_ms(t_loop)}  {B / min(t_loop):12,.0f} steps/s",
        f"  verify_batch / read-once: {over_read:.2f}x (target <= 3x): {'MET' if met_read else 'NOT MET'}",
        f"  verify_batch speedup over the loop: {vs_loop:.2f}x (target >= 1x): "
        f"{'MET' if met_loop else 'NOT MET'}",
        "",
        f"all targets met: {'yes' if ok else 'NO'}",
    ]
    return "\n".join(lines), ok


def check_record(path: Path | None) -> None:
    """Refuse a ``--record`` path that cannot be written, before anything is timed."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"--record: {str(path)!r} is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"--record: cannot create the folder of {str(path)!r}: {exc.strerror or exc}"
        ) from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"--record: {str(path)!r} is not writable")


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="bench_verify.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=15,
        help=f"timed repeats per measurement (1 to {MAX_REPEATS}; default 15)",
    )
    parser.add_argument("--record", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= MAX_REPEATS:
        parser.error(f"argument --repeats: must lie in [1, {MAX_REPEATS}], got {args.repeats}")
    try:
        check_record(args.record)
    except ValueError as exc:
        parser.error(str(exc))
    table, ok = run(args.repeats)
    print(table)
    if args.record:
        python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else "python"
        cmd = shlex.join([python, *sys.argv])  # the command as run, from the repository root
        try:
            args.record.write_text(f"$ {cmd}\n{table}\n", encoding="utf-8")
        except OSError as exc:
            print(
                f"bench_verify.py: error: --record: cannot write {str(args.record)!r}: {exc}", file=sys.stderr
            )
            return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
