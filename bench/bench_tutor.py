"""Quality and speed of the shipped grammar tutor (and its draft model), on this CPU.

Run from the repository root (the held-out split is regenerated, so this needs the ``train`` extra for
the data generator: ``pip install -e ".[train]"``)::

    .venv/bin/python bench/bench_tutor.py                                         # print the report
    .venv/bin/python bench/bench_tutor.py --record bench/results/tutor-bench.json  # and save it
    .venv/bin/python bench/bench_tutor.py --weights DIR --models tutor            # other weights

``--weights`` measures the models of another folder (a retrained or fine-tuned tutor, with its
``tokenizer.model``) on the same split; ``--models`` names which of ``tutor`` and ``draft`` (the
draft/tutor cost ratio c needs both).

Quality, greedy exact match of the whole corrected sentence:

- the generated held-out split the training record names (regenerated from its seed; no held-out
  learner sentence occurs in training), overall, per error category (a pair with two errors counts in
  both) and per number of errors; its clean sentences separately: the share returned unchanged and
  the *false corrections* (a correct sentence changed), the error a learner hates most;
- the project's 382 hand-written pairs (:func:`specdec.tutor.data.learner_corpus_pairs`: never trained
  on), with how many of their inputs occur among the training inputs;
- 40 everyday learner sentences (``bench/data/everyday.tsv``, written for this benchmark): how many the
  tutor refuses (target: none) and how many it corrects exactly.

Speed (batch 1, NumPy, float32, KV cache): per correction, the prompt's forward (prefill) plus one
one-token forward per further written token, ``<eos>`` included; ms/token is the whole correction's
wall time over the tokens it wrote. The cost curve: the median time of one forward of T new tokens
after a 24-position prompt in the cache, T = 1 ... 32, over t(1); repeats interleaved across T, after
a warm-up. BLAS runs one thread (set before NumPy loads, as in ``bench/spec_bench.py``): on a 2-core
machine a threaded BLAS makes these small multi-token forwards slower and erratic.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from specdec.tutor.api import WEIGHTS, Tutor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN_RECORD = ROOT / "bench" / "results" / "tutor-train.json"
EVERYDAY = ROOT / "bench" / "data" / "everyday.tsv"
CONTEXT = 24  # cached positions before the T new tokens of the cost curve: a typical prompt
MAX_T = 32
TARGETS = {
    "held_out_exact_match": 0.95,
    "hand_written_exact_match": 0.85,
    "clean_unchanged_rate": 0.98,
    "everyday_refused": 0,
    "output_tokens_mean": 12,
    "ratio_up_to_8": 1.5,
    "ms_per_token": 1.5,
}


def load_everyday(path: Path = EVERYDAY) -> list[tuple[str, str]]:
    """The everyday pairs: (learner, correction) per non-comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]


def _try(tutor: Tutor, learner: str):
    try:
        return tutor.correct(learner)
    except ValueError:
        return None


def quality(tutor: Tutor, pairs, shown: int = 12) -> dict:
    """Exact match overall, per kind and per number of errors; pairs = (learner, correct, kinds)."""
    hits, per_kind, total, per_n, total_n, refused, wrong = (
        0,
        Counter(),
        Counter(),
        Counter(),
        Counter(),
        0,
        [],
    )
    for learner, correct, kinds in pairs:
        c = _try(tutor, learner)
        refused += c is None
        ok = c is not None and c.text == correct
        hits += ok
        n = 0 if kinds == ("clean",) else len(kinds)
        per_n[n] += ok
        total_n[n] += 1
        for k in kinds:
            per_kind[k] += ok
            total[k] += 1
        if not ok and len(wrong) < shown:
            wrong.append({"kinds": list(kinds), "input": learner, "expected": correct, "got": c and c.text})
    rate = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "pairs": len(pairs),
        "exact_match": rate(hits, len(pairs)),
        "refused": refused,
        "per_kind": {
            k: {"pairs": total[k], "exact_match": rate(per_kind[k], total[k])} for k in sorted(total)
        },
        "per_error_count": {
            str(n): {"pairs": total_n[n], "exact_match": rate(per_n[n], total_n[n])} for n in sorted(total_n)
        },
        "errors_shown": wrong,
    }


def clean_copies(tutor: Tutor, pairs) -> dict:
    """Correct sentences: the share returned unchanged, and the false corrections shown."""
    clean = [p for p in pairs if p[2] == ("clean",)]
    changed = []
    for learner, _, _ in clean:
        c = _try(tutor, learner)
        if c is None or c.text != learner:
            changed.append({"input": learner, "got": c and c.text})
    return {
        "pairs": len(clean),
        "unchanged_rate": round(1 - len(changed) / len(clean), 4),
        "false_corrections": len(changed),
        "shown": changed[:8],
    }


def everyday(tutor: Tutor, pairs) -> dict:
    """Refusals and exact matches on the everyday sentences; every result listed."""
    rows = []
    for learner, correct in pairs:
        c = _try(tutor, learner)
        rows.append(
            {
                "input": learner,
                "expected": correct,
                "got": c and c.text,
                "exact": bool(c) and c.text == correct,
            }
        )
    return {
        "pairs": len(pairs),
        "refused": sum(r["got"] is None for r in rows),
        "exact_match": round(sum(r["exact"] for r in rows) / len(rows), 4),
        "results": rows,
    }


def latency(tutor: Tutor, pairs, repeats: int) -> dict:
    """Per-correction timings over ``pairs``: each corrected ``repeats`` times, the fastest kept."""
    per_token, totals, lengths, steps = [], [], [], []
    for learner, _, _ in pairs:
        runs = [c for c in (_try(tutor, learner) for _ in range(repeats)) if c is not None]
        if not runs:
            continue
        best = min(runs, key=lambda c: c.prefill_s + c.decode_s)
        totals.append((best.prefill_s + best.decode_s) * 1e3)
        per_token.append(best.ms_per_token)
        lengths.append(best.new_tokens)
        if best.new_tokens > 1:
            steps.append(best.decode_s * 1e3 / (best.new_tokens - 1))
    return {
        "corrections": len(totals),
        "ms_per_token_median": round(statistics.median(per_token), 4),
        "decode_step_ms_median": round(statistics.median(steps), 4),
        "output_tokens_mean": round(statistics.fmean(lengths), 3),
        "ms_per_correction_median": round(statistics.median(totals), 3),
        "ms_per_correction_mean": round(statistics.fmean(totals), 3),
    }


def cost_curve(tutor: Tutor, repeats: int, seed: int = 0) -> dict:
    """Median time of one forward of T = 1..MAX_T new tokens after CONTEXT cached positions."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(4, tutor.vocab_size, CONTEXT + MAX_T)
    cache = tutor.new_cache()
    tutor.forward(tokens[:CONTEXT], np.arange(CONTEXT), cache)
    times = {T: [] for T in range(1, MAX_T + 1)}
    for r in range(repeats + 3):
        for T in range(1, MAX_T + 1):
            cache.truncate(CONTEXT)
            t0 = time.perf_counter()
            tutor.forward(tokens[CONTEXT : CONTEXT + T], np.arange(CONTEXT, CONTEXT + T), cache)
            if r >= 3:  # warm-up rounds discarded
                times[T].append(time.perf_counter() - t0)
    med = {T: statistics.median(ts) for T, ts in times.items()}
    return {
        "context": CONTEXT,
        "repeats": repeats,
        "tokens": list(med),
        "ms": [round(med[T] * 1e3, 4) for T in med],
        "ratio": [round(med[T] / med[1], 3) for T in med],
    }


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--held-out", type=int, default=1500, help="held-out pairs scored (at most the split's)")
    ap.add_argument("--timed-pairs", type=int, default=200, help="held-out pairs timed for ms/token")
    ap.add_argument("--repeats", type=int, default=100, help="repeats per T of the cost curve")
    ap.add_argument("--weights", type=Path, default=WEIGHTS, help="folder of the weights (default: shipped)")
    ap.add_argument(
        "--models", default="tutor,draft", help="models of that folder to measure, comma-separated"
    )
    args = ap.parse_args(argv)
    args.models = args.models.split(",")
    if any(m not in ("tutor", "draft") for m in args.models) or len(set(args.models)) < len(args.models):
        ap.error(
            f"--models must name tutor and/or draft once each, comma-separated, got {','.join(args.models)}"
        )
    for m in args.models:
        for f in (f"{m}.npz", f"{m}.json", "tokenizer.model"):
            if not (args.weights / f).is_file():
                ap.error(f"--weights: {args.weights / f} is missing")
    for flag in ("held_out", "timed_pairs", "repeats"):
        if getattr(args, flag) < 1:
            ap.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
    if args.record and not args.record.parent.is_dir():
        ap.error(f"--record: folder {args.record.parent} does not exist")
    return args


def _report(name: str, m: dict) -> None:
    h, e = m["held_out"], m["everyday_40"]
    print(f"{name}: {m['parameters']:,} parameters")
    print(
        f"  held-out exact match {h['exact_match']:.4f} on {h['pairs']} pairs; clean unchanged "
        f"{m['clean']['unchanged_rate']:.4f} ({m['clean']['false_corrections']} false corrections)"
    )
    for kind, v in h["per_kind"].items():
        print(f"    {kind:<15} {v['exact_match']:.4f} ({v['pairs']} pairs)")
    print(
        f"  382 hand-written pairs {m['hand_written_382']['exact_match']:.4f}; everyday 40: "
        f"{e['refused']} refused, {e['exact_match']:.4f} exact"
    )
    s = m["latency"]
    print(
        f"  {s['ms_per_token_median']:.3f} ms/token (median), {s['output_tokens_mean']:.2f} tokens per "
        f"correction, {s['ms_per_correction_median']:.2f} ms per correction (median)"
    )
    print("  t(T)/t(1), T = 1..32: " + " ".join(f"{r:.2f}" for r in m["cost_curve"]["ratio"]))


def measure(name: str, test, hand, train_inputs, args) -> dict:
    tutor = Tutor.load(name, args.weights)
    t0 = time.perf_counter()
    scored = test[: args.held_out]
    hand_q = quality(tutor, [(a, b, ("corpus",)) for a, b in hand])
    hand_q["inputs_seen_in_training"] = sum(a in train_inputs for a, _ in hand)
    hand_q["unchanged_pairs"] = sum(a == b for a, b in hand)
    return {
        "parameters": sum(a.size for a in tutor.params.values()),
        "config": tutor.cfg.__dict__,
        "held_out": quality(tutor, scored),
        "clean": clean_copies(tutor, scored),
        "hand_written_382": hand_q,
        "everyday_40": everyday(tutor, load_everyday()),
        "latency": latency(tutor, scored[: args.timed_pairs], repeats=3),
        "cost_curve": cost_curve(tutor, args.repeats),
        "bench_wall_s": round(time.perf_counter() - t0, 1),
    }


def targets(t: dict) -> dict:
    """Each target of the tutor with its measured value and whether it is met."""
    r8 = max(t["cost_curve"]["ratio"][:8])
    got = {
        "held_out_exact_match": (t["held_out"]["exact_match"], ">="),
        "hand_written_exact_match": (t["hand_written_382"]["exact_match"], ">="),
        "clean_unchanged_rate": (t["clean"]["unchanged_rate"], ">="),
        "everyday_refused": (t["everyday_40"]["refused"], "<="),
        "output_tokens_mean": (t["latency"]["output_tokens_mean"], ">="),
        "ratio_up_to_8": (r8, "<="),
        "ms_per_token": (t["latency"]["ms_per_token_median"], "<="),
    }
    return {
        k: {"target": TARGETS[k], "measured": v, "met": v >= TARGETS[k] if op == ">=" else v <= TARGETS[k]}
        for k, (v, op) in got.items()
    }


def main(argv=None) -> int:
    args = _parse(argv)
    from specdec.tutor import data  # needs the train extra (wordfreq, lemminflect)

    rec = json.loads(TRAIN_RECORD.read_text(encoding="utf-8"))
    train, test = data.make_splits(rec["train_pairs"], rec["test_pairs"], rec["seed"])
    train_inputs = {p[0] for p in train}
    out = {
        "command": "python bench/bench_tutor.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "models": {},
    }
    if args.weights.resolve() != WEIGHTS.resolve():
        out["weights"] = str(args.weights)
    for name in args.models:
        out["models"][name] = measure(name, test, data.learner_corpus_pairs(), train_inputs, args)
        _report(name, out["models"][name])
    t, d = out["models"].get("tutor"), out["models"].get("draft")
    if t and d:
        out["draft_cost_ratio_c"] = round(d["cost_curve"]["ms"][0] / t["cost_curve"]["ms"][0], 3)
        print(f"draft/tutor cost ratio c = {out['draft_cost_ratio_c']:.3f}")
    if t:
        out["targets"] = targets(t)
        for k, v in out["targets"].items():
            print(f"  target {k}: {v['measured']} (target {v['target']}): {'met' if v['met'] else 'MISSED'}")
    if args.record:
        args.record.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.record}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
