"""Same-harness benchmark of the training-free speculative families on the grammar tutor, on this CPU.

Run from the repository root::

    .venv/bin/python bench/spec_bench.py                 # a readable table (progress on stderr)
    .venv/bin/python bench/spec_bench.py --json          # {"baseline": {...}, "methods": [...]}
    .venv/bin/python bench/spec_bench.py --record bench/results/spec-bench.json

Every method corrects the same prompts (a seeded subset of the tutor's held-out evaluation sentences
and the project's hand-written learner pairs), batch 1, greedy and at temperature 0.7 with the same
seeds; autoregressive decoding on the same code path (:func:`specdec.tutor.speculative.speculative_correct`
with no drafter) is the baseline. Each prompt runs every method ``--repeats`` times, interleaved, and
the fastest run counts. BLAS runs one thread (set before NumPy loads): on a shared 2-core machine a
threaded BLAS makes multi-token forwards erratic.

Per method: τ (tokens per target forward after the prompt's, bonus included), α (accepted drafts over
tested drafts, for chain drafters), target and draft forwards, c (measured drafting time per drafted
token over t(1), the time of a one-token target forward), c_verify (the mean over its steps of t(T)/t(1)
for the T new tokens of each step, from the measured cost curve), tokens/s, the measured speedup of the
decoding phase (after the prompt's forward, which every method shares) and end to end, the speedup
predicted by :func:`specdec.speedup.speedup_from_tau`, and whether the greedy output equals
autoregressive greedy output on every prompt.
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
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402

from specdec.models import load_learner_corpus, tokenize  # noqa: E402
from specdec.sampling import PromptLookup  # noqa: E402
from specdec.speedup import speedup_from_tau  # noqa: E402
from specdec.tutor import data  # noqa: E402
from specdec.tutor.api import Tutor  # noqa: E402
from specdec.tutor.decode import greedy  # noqa: E402
from specdec.tutor.lookahead import Lookahead  # noqa: E402
from specdec.tutor.speculative import CachedModelDrafter, CachedTarget, ngram_drafter, speculative_correct  # noqa: E402,E501
from specdec.tutor.tokenizer import MAX_SENTENCE_TOKENS  # noqa: E402
from specdec.tutor.train import RECORD as TRAIN_RECORD  # noqa: E402

CONTEXT = 12  # cached positions before the T new tokens of the cost curve
TEMPERATURE = 0.7


def prompts(tutor: Tutor, n_held_out: int, n_pairs: int, seed: int) -> list[np.ndarray]:
    """Seeded subsets: held-out evaluation sentences (the training record's test split), then learner
    sentences of the hand-written pairs (at most MAX_SENTENCE_TOKENS tokens)."""
    rec = json.loads(TRAIN_RECORD.read_text(encoding="utf-8"))
    test = data.generate_pairs(rec["test_pairs"], rec["seed"])  # make_splits draws the test split first
    rng = np.random.default_rng(seed)
    held = [test[i][0] for i in rng.choice(len(test), n_held_out, replace=False)]
    pairs = [
        w for w, _ in ((tokenize(a), b) for a, b in load_learner_corpus()) if len(w) <= MAX_SENTENCE_TOKENS
    ]
    hand = [pairs[i] for i in sorted(rng.choice(len(pairs), min(n_pairs, len(pairs)), replace=False))]
    return [np.append(tutor.tokenizer.encode_words(w), tutor.tokenizer.sep) for w in held + hand]


class Timed:
    """A drafter whose propose() time is summed in ``seconds``."""

    def __init__(self, drafter):
        self.drafter, self.seconds = drafter, 0.0

    def propose(self, context, k, rng):
        t0 = time.perf_counter()
        d = self.drafter.propose(context, k, rng)
        self.seconds += time.perf_counter() - t0
        return d


def cost_curve(model: Tutor, t_max: int, repeats: int) -> np.ndarray:
    """(t_max + 1,) median seconds of one forward of T = 1 … t_max new tokens after CONTEXT positions."""
    tokens = np.random.default_rng(0).integers(3, model.vocab_size, CONTEXT + t_max)
    cache = model.new_cache()
    model.forward(tokens[:CONTEXT], np.arange(CONTEXT), cache)
    times = {T: [] for T in range(1, t_max + 1)}
    for r in range(repeats + 3):
        for T in times:
            cache.truncate(CONTEXT)
            t0 = time.perf_counter()
            model.forward(tokens[CONTEXT : CONTEXT + T], np.arange(CONTEXT, CONTEXT + T), cache)
            if r >= 3:
                times[T].append(time.perf_counter() - t0)
    return np.array([np.nan] + [statistics.median(times[T]) for T in times])


def methods(tutor: Tutor, draft: Tutor, temperature: float, args) -> dict:
    """Name -> a function (prompt, rng) -> (Run, drafting seconds)."""
    target = CachedTarget(tutor)
    seqs = [a + ["<sep>"] + b + ["<eos>"] for a, b, _ in data.generate_pairs(args.ngram_pairs, 1)]
    drafters = {
        f"draft model (k={args.k_draft})": (CachedModelDrafter(draft, temperature=temperature), args.k_draft),
        f"n-gram (n=3, k={args.k_ngram})": (
            ngram_drafter(tutor, seqs, temperature=temperature),
            args.k_ngram,
        ),
        f"prompt lookup (k={args.k_lookup})": (PromptLookup(tutor.vocab_size, max_ngram=3), args.k_lookup),
    }
    out = {
        "autoregressive": lambda p, rng: (
            speculative_correct(target, None, p, 1, rng, temperature=temperature),
            0.0,
        )
    }
    for name, (d, k) in drafters.items():

        def run(p, rng, d=d, k=k):
            timed = Timed(d)
            return speculative_correct(target, timed, p, k, rng, temperature=temperature), timed.seconds

        out[name] = run
    if temperature == 0.0:
        la = Lookahead(target, W=args.W, N=args.N, G=args.G)
        out[f"Lookahead (W={args.W}, N={args.N}, G={args.G})"] = lambda p, rng: (la.correct(p, rng), 0.0)
    return out


def measure(fns: dict, ps: list, refs: list | None, repeats: int, seed: int, label: str) -> dict:
    """Every method on every prompt, ``repeats`` interleaved runs, the fastest kept."""
    acc = {name: {"runs": [], "draft_s": 0.0, "same": 0} for name in fns}
    for i, p in enumerate(ps):
        for name, fn in fns.items():
            best = None
            for _ in range(repeats):
                run, draft_s = fn(p, np.random.default_rng([seed, i]))
                if best is None or run.total_s < best[0].total_s:
                    best = (run, draft_s)
            acc[name]["runs"].append(best[0])
            acc[name]["draft_s"] += best[1]
            acc[name]["same"] += refs is not None and best[0].ids == refs[i]
        if sys.stderr.isatty() or i + 1 == len(ps) or (i + 1) % 50 == 0:
            end = "" if sys.stderr.isatty() and i + 1 < len(ps) else "\n"
            print(f"\r{label}: {i + 1}/{len(ps)} prompts", end=end, file=sys.stderr, flush=True)
    return acc


def summary(name: str, a: dict, t: np.ndarray, base: dict | None, n_prompts: int, greedy_run: bool) -> dict:
    """The per-method record (see the module docstring)."""
    runs = a["runs"]
    steps = [n for r in runs for n in r.accepted]
    drafted = [d for r in runs for d in r.drafted]
    tested = sum(n + (n < d) for n, d in zip(steps, drafted, strict=True))
    T = [x for r in runs for x in r.new_tokens[1:]]
    tokens, decode_tokens = sum(len(r.ids) for r in runs), sum(len(r.ids) - 1 for r in runs)
    total_s, decode_s = sum(r.total_s for r in runs), sum(r.total_s - r.prefill_s for r in runs)
    tau = (sum(steps) + len(steps)) / len(steps)
    k_mean = sum(drafted) / len(steps)
    t1 = base["t1_s"] if base is not None else sum(r.verify_s for r in runs) / len(steps)  # in situ
    c = a["draft_s"] / sum(drafted) / t1 if sum(drafted) and a["draft_s"] else 0.0
    c_verify = sum(r.verify_s for r in runs) / len(steps) / t1  # its own forwards, measured in the runs
    c_verify_curve = float(np.mean(t[np.array(T)] / t[1]))  # the same from the cost curve (random tokens)
    rec = {
        "name": name,
        "tau": round(tau, 3),
        "alpha": round(sum(steps) / tested, 3) if tested and a["draft_s"] else None,
        "drafted_per_step": round(k_mean, 3),
        "target_forwards": sum(r.target_forwards for r in runs),
        "draft_forwards": sum(r.draft_forwards for r in runs),
        "c": round(c, 4),
        "c_verify": round(c_verify, 3),
        "c_verify_cost_curve": round(c_verify_curve, 3),
        "t1_s": t1,
        "tokens": tokens,
        "tokens_per_s": round(tokens / total_s, 1),
        "decode_tokens_per_s": round(decode_tokens / decode_s, 1),
        "ms_per_correction": round(total_s * 1e3 / n_prompts, 3),
        "greedy_identical": bool(a["same"] == n_prompts) if greedy_run else None,
    }
    if base is not None:
        rec["speedup"] = round(rec["tokens_per_s"] / base["tokens_per_s"], 3)
        rec["decode_speedup"] = round(rec["decode_tokens_per_s"] / base["decode_tokens_per_s"], 3)
        pred = speedup_from_tau(tau, k_mean, c, c_verify)
        rec["predicted_decode_speedup"] = round(pred, 3)
        rec["prediction_error"] = round(pred / rec["decode_speedup"] - 1, 3)
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--record", default=None, help="also write the JSON here")
    ap.add_argument("--held-out", type=int, default=150, help="held-out sentences (seeded subset)")
    ap.add_argument("--pairs", type=int, default=150, help="hand-written pairs (seeded subset)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per prompt and method; the fastest counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k-draft", type=int, default=3)
    ap.add_argument("--k-ngram", type=int, default=3)
    ap.add_argument("--k-lookup", type=int, default=8)
    ap.add_argument(
        "--ngram-pairs", type=int, default=5000, help="training pairs the n-gram draft is fitted on"
    )
    ap.add_argument("--W", type=int, default=5)
    ap.add_argument("--N", type=int, default=3)
    ap.add_argument("--G", type=int, default=5)
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    tutor, draft = Tutor.load(), Tutor.load("draft")
    ps = prompts(tutor, args.held_out, args.pairs, args.seed)
    refs = [greedy(tutor.params, tutor.cfg, tutor.tokenizer, p).ids for p in ps]
    t = cost_curve(tutor, 24, 50)
    out = {
        "command": "python bench/spec_bench.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "cpu": _cpu_name(),
        "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "numpy": np.__version__,
        "prompts": {"held_out": args.held_out, "hand_written": min(args.pairs, len(ps) - args.held_out)},
        "target_t1_ms": round(t[1] * 1e3, 4),
        "cost_curve_ratio": [round(x, 3) for x in (t[1:] / t[1]).tolist()],
        "draft_t1_ms": round(cost_curve(draft, 1, 50)[1] * 1e3, 4),
    }
    for label, temp in (("greedy", 0.0), ("sampling", TEMPERATURE)):
        acc = measure(
            methods(tutor, draft, temp, args), ps, refs if temp == 0 else None, args.repeats, args.seed, label
        )
        base = summary("autoregressive", acc.pop("autoregressive"), t, None, len(ps), temp == 0)
        recs = [summary(n, a, t, base, len(ps), temp == 0) for n, a in acc.items()]
        key = "" if temp == 0 else "sampling_"
        out[key + "baseline"], out[key + "methods"] = base, recs
    out["sampling_temperature"] = TEMPERATURE
    out["wall_s"] = round(time.perf_counter() - t_start, 1)
    text = json.dumps(out, indent=1)
    if args.record:
        with open(args.record, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(text if args.json else table(out))
    return 0


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table(out: dict) -> str:
    """The readable report."""
    lines = [f"{out['cpu']}, BLAS threads {out['blas_threads']}, t(1) = {out['target_t1_ms']} ms"]
    head = (
        f"{'method':34} {'tau':>5} {'alpha':>5} {'c':>6} {'c_ver':>5} {'tok/s':>7} "
        f"{'speedup':>7} {'decode':>6} {'pred':>5} identical"
    )
    for key, title in (("", "greedy"), ("sampling_", f"temperature {out['sampling_temperature']}")):
        lines += ["", title, head]
        for r in [out[key + "baseline"], *out[key + "methods"]]:
            alpha = "-" if r["alpha"] is None else f"{r['alpha']:.3f}"
            lines.append(
                f"{r['name']:34} {r['tau']:5.2f} {alpha:>5} {r['c']:6.3f} {r['c_verify']:5.2f} "
                f"{r['tokens_per_s']:7.0f} "
                f"{r.get('speedup', 1.0):7.2f} {r.get('decode_speedup', 1.0):6.2f} "
                f"{r.get('predicted_decode_speedup', 1.0):5.2f} {r['greedy_identical']}"
            )
    return "\n".join(lines + ["", f"wall time {out['wall_s']} s"])


if __name__ == "__main__":
    raise SystemExit(main())
