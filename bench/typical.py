"""Medusa with typical acceptance against the lossless rule: what the faster rule costs in correctness.

Run from the repository root::

    .venv/bin/python bench/typical.py --record bench/results/typical.json

The prompts of ``bench/spec_bench.py`` with their expected corrections (``spec_bench.sentence_pairs``):
a seeded subset of the held-out evaluation pairs and of the hand-written learner pairs. At each
temperature, every prompt is corrected three ways through the one decoding loop, each with the same
seed: plain sampling (no drafter), Medusa's 8-node tree under the lossless one-hot rule, and the same
tree under typical acceptance (Cai et al. 2024, §2.3.1; :mod:`specdec.core.typical`). Recorded: the
share of corrections equal to the expected one (exact match), τ, and the decoding-phase speedup over
plain sampling (total time less the prompt's forward, summed over the prompts; one run each, so the
timings carry the machine's noise). Greedy exact match is recorded as the reference. Plain sampling and
the lossless rule draw from the same law, so their exact-match rates differ only by sampling noise;
typical acceptance's may differ by more.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # spec_bench, beside this file
import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402
import spec_bench as sb  # noqa: E402

from specdec.decode import decode  # noqa: E402
from specdec.drafters.medusa import MedusaDrafter  # noqa: E402
from specdec.targets.cached import CachedTarget  # noqa: E402
from specdec.tutor.api import Tutor  # noqa: E402

TEMPERATURES = (0.7, 1.0)
METHODS = ("sampling", "Medusa, lossless", "Medusa, typical")


def run(tutor: Tutor, target, medusa, prompts, temperature: float, seed: int) -> dict:
    """Per method: exact-match share, τ, decoding-phase seconds."""
    eos = tutor.tokenizer.eos
    ways = {
        "sampling": (None, 0, "exact"),
        "Medusa, lossless": (medusa, 4, "exact"),
        "Medusa, typical": (medusa, 4, "typical"),
    }
    out = {m: {"exact": 0, "written": 0, "steps": 0, "decode_s": 0.0} for m in ways}
    for i, (p, expected) in enumerate(prompts):
        for name, (drafter, k, acceptance) in ways.items():
            r = decode(
                target,
                drafter,
                p,
                tutor.cfg.n_ctx,
                np.random.default_rng([seed, i]),
                k=k,
                temperature=temperature,
                stop=eos,
                acceptance=acceptance,
            )
            o = out[name]
            o["exact"] += tutor.tokenizer.decode(r.tokens) == expected
            o["written"] += len(r.tokens) - 1
            o["steps"] += r.steps
            o["decode_s"] += r.total_s - r.prefill_s
    base = out["sampling"]["decode_s"]
    return {
        name: {
            "exact_match": round(o["exact"] / len(prompts), 4),
            "tau": round(o["written"] / o["steps"], 3),
            "decode_speedup": round(base / o["decode_s"], 3),
        }
        for name, o in out.items()
    }


def table(rec: dict) -> str:
    lines = [f"greedy exact match {rec['greedy_exact_match']:.3f} on {rec['prompts']} prompts", ""]
    lines.append(f"{'temperature':>11} {'method':18} {'exact':>6} {'tau':>5} {'decode':>6}")
    for t, rows in rec["temperatures"].items():
        for name, r in rows.items():
            lines.append(
                f"{t:>11} {name:18} {r['exact_match']:6.3f} {r['tau']:5.2f} {r['decode_speedup']:6.2f}"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--held-out", type=int, default=150, help="held-out pairs (default 150)")
    ap.add_argument("--pairs", type=int, default=150, help="hand-written pairs (default 150)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the subsets and the draws (default 0)")
    ap.add_argument("--record", type=Path, help="write the JSON record here, the table beside it (.txt)")
    args = ap.parse_args(argv)
    for flag, v in (("--held-out", args.held_out), ("--pairs", args.pairs), ("--seed", args.seed)):
        if v < 0:
            ap.error(f"{flag} must be >= 0, got {v}")
    if args.held_out + args.pairs == 0:
        ap.error("--held-out and --pairs must not both be 0")
    if args.record is not None and (args.record.is_dir() or not args.record.parent.is_dir()):
        ap.error(f"--record: {str(args.record)!r} must be a file name in an existing folder")
    t0 = time.perf_counter()
    tutor = Tutor.load()
    target = CachedTarget(tutor, capacity=4 * tutor.cfg.n_ctx)
    medusa = MedusaDrafter.load(tutor, 8)
    pairs = sb.sentence_pairs(tutor, args.held_out, args.pairs, args.seed)
    prompts = [(tutor.prompt(a), b) for a, b in pairs]
    eos = tutor.tokenizer.eos
    greedy = sum(
        tutor.tokenizer.decode(
            decode(
                target, None, p, tutor.cfg.n_ctx, np.random.default_rng(0), k=0, temperature=0, stop=eos
            ).tokens
        )
        == b
        for p, b in prompts
    )
    rec = {
        "command": "python bench/typical.py" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:])),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "prompts": len(prompts),
        "medusa_nodes": 8,
        "greedy_exact_match": round(greedy / len(prompts), 4),
        "temperatures": {str(t): run(tutor, target, medusa, prompts, t, args.seed) for t in TEMPERATURES},
    }
    rec["wall_s"] = round(time.perf_counter() - t0, 1)
    print(table(rec))
    if args.record:
        args.record.write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
        args.record.with_suffix(".txt").write_text(table(rec) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
