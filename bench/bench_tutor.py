"""Quality and speed of the shipped grammar tutor (and its draft model), on this CPU.

Run from the repository root::

    .venv/bin/python bench/bench_tutor.py                                         # print the report
    .venv/bin/python bench/bench_tutor.py --record bench/results/tutor-bench.json  # and save it

Quality: greedy exact match on the held-out split the training record names (regenerated from its
seed: :func:`specdec.tutor.data.make_splits` draws the test pairs first, from that seed), per error
kind, the copy-unchanged rate on clean sentences, and the project's 382 hand-written pairs as they are.
Target: held-out exact match at least 90 %.

Speed (batch 1, NumPy, float32, KV cache): per correction, the prompt's forward (prefill) plus one
one-token forward per further written token, ``<eos>`` included; ms/token is the whole correction's
wall time over the tokens it wrote. The cost curve: the median time of one forward of T new tokens
after a 12-position prompt in the cache, T = 1 ... 16, over t(1). Timings are medians over repeats
interleaved across T, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from specdec.models import load_learner_corpus, tokenize
from specdec.tutor import data
from specdec.tutor.api import WEIGHTS, Tutor
from specdec.tutor.decode import greedy
from specdec.tutor.train import RECORD as TRAIN_RECORD

CONTEXT = 12  # cached positions before the T new tokens of the cost curve: a typical prompt
MAX_T = 16


def quality(tutor: Tutor, pairs) -> dict:
    """Exact match overall and per kind; clean copy rate; pairs = (learner, correct, kind) token lists."""
    hits, per_kind, wrong_examples = 0, Counter(), []
    total = Counter(kind for *_, kind in pairs)
    for learner, correct, kind in pairs:
        g = greedy(
            tutor.params,
            tutor.cfg,
            tutor.tokenizer,
            np.append(tutor.tokenizer.encode_words(learner), tutor.tokenizer.sep),
        )
        ok = g.words == correct
        hits += ok
        per_kind[kind] += ok
        if not ok and len(wrong_examples) < 12:
            wrong_examples.append(
                {
                    "kind": kind,
                    "input": " ".join(learner),
                    "expected": " ".join(correct),
                    "got": " ".join(g.words),
                }
            )
    return {
        "pairs": len(pairs),
        "exact_match": round(hits / len(pairs), 4),
        "per_kind": {k: {"pairs": total[k], "exact_match": round(per_kind[k] / total[k], 4)} for k in total},
        "errors_shown": wrong_examples,
    }


def latency(tutor: Tutor, pairs, repeats: int) -> dict:
    """Per-correction timings of greedy decoding over ``pairs``: each corrected ``repeats`` times, the
    fastest run kept."""
    per_token, totals, lengths, decode_steps = [], [], [], []
    for learner, _, _ in pairs:
        prompt = np.append(tutor.tokenizer.encode_words(learner), tutor.tokenizer.sep)
        runs = [greedy(tutor.params, tutor.cfg, tutor.tokenizer, prompt) for _ in range(repeats)]
        best = min(runs, key=lambda g: g.prefill_s + g.decode_s)
        totals.append((best.prefill_s + best.decode_s) * 1e3)
        per_token.append(best.ms_per_token)
        lengths.append(best.new_tokens)
        if best.new_tokens > 1:
            decode_steps.append(best.decode_s * 1e3 / (best.new_tokens - 1))
    return {
        "corrections": len(pairs),
        "ms_per_token_median": round(statistics.median(per_token), 4),
        "decode_step_ms_median": round(statistics.median(decode_steps), 4),
        "output_tokens_mean": round(statistics.fmean(lengths), 3),
        "ms_per_correction_median": round(statistics.median(totals), 3),
        "ms_per_correction_mean": round(statistics.fmean(totals), 3),
    }


def cost_curve(tutor: Tutor, repeats: int, seed: int = 0) -> dict:
    """Median time of one forward of T = 1..MAX_T new tokens after CONTEXT cached positions."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(3, tutor.vocab_size, CONTEXT + MAX_T)
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--record", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--timed-pairs", type=int, default=300, help="held-out pairs timed for ms/token")
    ap.add_argument("--repeats", type=int, default=200, help="repeats per T of the cost curve")
    args = ap.parse_args(argv)
    rec = json.loads(TRAIN_RECORD.read_text(encoding="utf-8"))
    train, test = data.make_splits(rec["train_pairs"], rec["test_pairs"], rec["seed"])
    train_inputs = {tuple(learner) for learner, _, _ in train}
    corpus = [(tokenize(a), tokenize(b), "corpus") for a, b in load_learner_corpus()]
    out = {
        "command": "python bench/bench_tutor.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "models": {},
    }
    for name in ("tutor", "draft"):
        tutor = Tutor.load(name, WEIGHTS)
        t0 = time.perf_counter()
        held_out = quality(tutor, test)
        hand = quality(tutor, corpus)
        hand["inputs_seen_in_training"] = sum(tuple(src) in train_inputs for src, _, _ in corpus)
        hand["unchanged_pairs"] = sum(src == dst for src, dst, _ in corpus)
        speed = latency(tutor, test[: args.timed_pairs], repeats=3)
        curve = cost_curve(tutor, args.repeats)
        out["models"][name] = {
            "parameters": sum(a.size for a in tutor.params.values()),
            "config": tutor.cfg.__dict__,
            "held_out": held_out,
            "clean_copy_rate": held_out["per_kind"]["clean"]["exact_match"],
            "hand_written_382": hand,
            "latency": speed,
            "cost_curve": curve,
            "bench_wall_s": round(time.perf_counter() - t0, 1),
        }
        print(f"{name}: {out['models'][name]['parameters']:,} parameters")
        print(
            f"  held-out exact match {held_out['exact_match']:.4f} on {held_out['pairs']} pairs; "
            f"382 hand-written pairs {hand['exact_match']:.4f}"
        )
        for kind, v in held_out["per_kind"].items():
            print(f"    {kind:<12} {v['exact_match']:.4f} ({v['pairs']} pairs)")
        print(
            f"  {speed['ms_per_token_median']:.3f} ms/token (median), "
            f"{speed['output_tokens_mean']:.2f} tokens "
            f"per correction, {speed['ms_per_correction_median']:.2f} ms per correction (median)"
        )
        print("  t(T)/t(1), T = 1..16: " + " ".join(f"{r:.2f}" for r in curve["ratio"]))
    t, d = out["models"]["tutor"], out["models"]["draft"]
    out["draft_cost_ratio_c"] = round(d["cost_curve"]["ms"][0] / t["cost_curve"]["ms"][0], 3)
    out["target_met"] = t["held_out"]["exact_match"] >= 0.9
    print(
        f"draft/tutor cost ratio c = {out['draft_cost_ratio_c']:.3f}; "
        f"held-out target (>= 90 %) met: {'yes' if out['target_met'] else 'NO'}"
    )
    if args.record:
        args.record.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.record}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
