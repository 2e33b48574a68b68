"""Same-harness benchmark of the training-free speculative families on the grammar tutor, on this CPU.

Run from the repository root::

    .venv/bin/python bench/spec_bench.py                 # a readable table (progress on stderr)
    .venv/bin/python bench/spec_bench.py --json          # {"baseline": {...}, "methods": [...]}
    .venv/bin/python bench/spec_bench.py --record bench/results/spec-bench.json

Every method corrects the same prompts (a seeded subset of the tutor's held-out evaluation sentences
and the project's hand-written learner pairs), batch 1, greedy and at temperature 0.7 with the same
seeds, every method through the one loop :func:`specdec.decode.decode` on the same cached target;
autoregressive decoding (no drafter) is the baseline. For each prompt the methods run in turn, and that
round is repeated ``--repeats`` times (interleaved, so a slow spell of the machine hits every method
alike); the fastest run of each method counts. The loop resets every drafter before each run, so no
drafter keeps a cache or a pool from one run to the next. BLAS runs one thread (set before NumPy loads):
on a shared 2-core machine a threaded BLAS makes multi-token forwards erratic.

The isolated forwards: on every ``--isolated-every``-th prompt, right after its runs (so the machine is in
the same state), each method's kept run is replayed as bare forwards: the prompt's, then one of the same
shape as each step (P cached positions, T new tokens), the cache cut back as the run cut it, random
tokens, nothing between the forwards; the fastest of ``--repeats`` replays, as the fastest of the runs
counts (:func:`isolated_costs`). It is what the steps' forwards cost with no loop around them, at the same
context lengths, and what the in-situ forward and the whole step are compared with.

Per method: τ (tokens written per target forward after the prompt's, bonus included, nothing counted after
``<eos>``), α (accepted drafts over tested drafts, for chain drafters), target and draft forwards, c
(measured drafting time per drafted token over t(1), the time of a one-token target forward), c_verify
(the measured time of its own target forwards after the prompt's, per step, over t(1)), the in-situ
forward and the whole in-situ step (everything after the prompt's forward but the drafting: forward,
verification, cache rollback, bookkeeping) over the isolated forwards of the same shapes, tokens written
per target forward counting the prompt's (the first token is written by it), the share of wall time spent
in the prompt's forward (it bounds the end-to-end speedup, Amdahl's law), tokens/s, the measured speedup
of the decoding phase (after the prompt's forward, which every method shares) and end to end, the speedup
predicted by :func:`specdec.speedup.speedup_from_tau`, and whether the greedy output equals autoregressive
greedy output on every prompt.
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

from specdec._checks import one_line  # noqa: E402
from specdec.decode import decode  # noqa: E402
from specdec.drafters.cached import CachedModelDrafter  # noqa: E402
from specdec.drafters.eagle import EagleDrafter  # noqa: E402
from specdec.drafters.input_guided import InputGuided  # noqa: E402
from specdec.drafters.lookahead import Lookahead  # noqa: E402
from specdec.drafters.lookup import PromptLookup  # noqa: E402
from specdec.drafters.medusa import MedusaDrafter  # noqa: E402
from specdec.drafters.ngram import ngram_drafter  # noqa: E402
from specdec.speedup import speedup_from_tau  # noqa: E402
from specdec.targets.cached import CachedTarget  # noqa: E402
from specdec.tutor import data  # noqa: E402
from specdec.tutor.api import TRAIN_RECORD, Tutor  # noqa: E402
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS  # noqa: E402

CONTEXT = 24  # cached positions before the token of the one-token forward t(1): a typical prompt
TEMPERATURE = 0.7
MAX_TOKENS = MAX_CORRECTION_TOKENS + 1  # most tokens a correction may write, <eos> included


def _prompt_or_none(tutor: Tutor, sentence: str) -> np.ndarray | None:
    try:
        return tutor.prompt(sentence)
    except ValueError:  # too long for the tutor, or text it cannot read
        return None


def sentence_pairs(tutor: Tutor, n_held_out: int, n_pairs: int, seed: int) -> list[tuple[str, str]]:
    """Seeded subsets of (learner sentence, expected correction): held-out evaluation pairs (the
    training record's test split), then hand-written pairs, each with a sentence the tutor accepts."""
    rec = json.loads(TRAIN_RECORD.read_text(encoding="utf-8"))
    # make_splits draws the test split first, from the seed: the same pairs without the training split
    test = data.generate_pairs(rec["test_pairs"], np.random.default_rng(rec["seed"]))
    test = [(a, b) for a, b, _ in test if _prompt_or_none(tutor, a) is not None]
    rng = np.random.default_rng(seed)
    held = [test[i] for i in rng.choice(len(test), n_held_out, replace=False)]
    pairs = [(a, b) for a, b in data.learner_corpus_pairs() if _prompt_or_none(tutor, a) is not None]
    hand = [pairs[i] for i in sorted(rng.choice(len(pairs), min(n_pairs, len(pairs)), replace=False))]
    return held + hand


def prompts(tutor: Tutor, n_held_out: int, n_pairs: int, seed: int) -> list[np.ndarray]:
    """The prompts of :func:`sentence_pairs`' learner sentences."""
    return [tutor.prompt(a) for a, _ in sentence_pairs(tutor, n_held_out, n_pairs, seed)]


def ngram_sequences(tutor: Tutor, n_pairs: int) -> list[np.ndarray]:
    """Training sequences ``learner <sep> correction <eos>`` as ids, for the n-gram draft."""
    out = []
    for a, b, _ in data.generate_pairs(n_pairs, np.random.default_rng(1)):
        if _prompt_or_none(tutor, a) is not None and _prompt_or_none(tutor, b) is not None:
            out.append(np.array(tutor.tokenizer.sequence(a, b)))
    return out


class Timed:
    """A drafter whose propose() time is summed in ``seconds``; ``reset`` passes through."""

    def __init__(self, drafter):
        self.drafter, self.seconds = drafter, 0.0

    def reset(self):
        self.drafter.reset()

    def propose(self, context, k, rng):
        t0 = time.perf_counter()
        d = self.drafter.propose(context, k, rng)
        self.seconds += time.perf_counter() - t0
        return d


def one_token_s(model: Tutor, repeats: int) -> float:
    """t(1): the median seconds of a one-token forward after CONTEXT cached positions, over ``repeats``
    forwards after three unmeasured ones (random tokens)."""
    tokens = np.random.default_rng(0).integers(3, model.vocab_size, CONTEXT + 1)
    cache = model.new_cache()
    model.forward(tokens[:CONTEXT], np.arange(CONTEXT), cache)
    times = []
    for r in range(repeats + 3):
        cache.truncate(CONTEXT)
        t0 = time.perf_counter()
        model.forward(tokens[CONTEXT:], np.arange(CONTEXT, CONTEXT + 1), cache)
        if r >= 3:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def step_shapes(run, prompt_len: int) -> list[tuple[int, int]]:
    """(P, T) of every verification step of a run: the cached positions before it (the prompt and the
    tokens written but the pending one) and the new tokens it scored."""
    out, P = [], prompt_len
    for written, T in zip(run.written_per_step, run.scored_per_step, strict=True):
        out.append((P, T))
        P += written
    return out


def isolated_costs(model: Tutor, prompt_len: int, run, repeats: int) -> list[float]:
    """The forwards of ``run``'s steps replayed with no loop around them: the prompt's forward, then each
    step's forward of T new tokens after P cached positions (:func:`step_shapes`), the cache cut back to
    the tokens the step wrote, one after another as in the run; random tokens, the default causal mask.
    The per-step times (seconds) of the fastest of ``repeats`` replays: chosen as the runs are, the fastest
    of ``repeats`` whole runs."""
    shapes = step_shapes(run, prompt_len)
    if not shapes:
        return []
    n_ctx = model.cfg.n_ctx
    capacity = max(P + T for P, T in shapes)
    tokens = np.random.default_rng(0).integers(3, model.vocab_size, capacity)
    cache = type(model.new_cache())(model.cfg, capacity)
    best: list[float] = []
    for _ in range(repeats):
        times = []
        cache.truncate(0)
        model.forward(tokens[:prompt_len], np.arange(prompt_len), cache, last_only=True)
        for P, T in shapes:
            cache.truncate(P)
            positions = np.minimum(np.arange(P, P + T), n_ctx - 1)  # a tree's nodes share depths
            t0 = time.perf_counter()
            model.forward(tokens[P : P + T], positions, cache)
            times.append(time.perf_counter() - t0)
        if not best or sum(times) < sum(best):
            best = times
    return best


def methods(tutor: Tutor, draft: Tutor, temperature: float, args) -> dict:
    """Name -> (drafter or None, k, chain): every method of the table, Lookahead greedy only."""
    V = tutor.vocab_size
    out = {
        "autoregressive": (None, 0, True),
        f"draft model (k={args.k_draft})": (
            CachedModelDrafter(draft, temperature=temperature),
            args.k_draft,
            True,
        ),
        f"n-gram (n=3, k={args.k_ngram})": (
            ngram_drafter(V, ngram_sequences(tutor, args.ngram_pairs), temperature=temperature),
            args.k_ngram,
            True,
        ),
        f"prompt lookup (k={args.k_lookup})": (PromptLookup(V, max_ngram=3), args.k_lookup, True),
        f"input-guided (after edit {args.after_edit})": (
            InputGuided(
                V, separator=tutor.tokenizer.sep, eos=tutor.tokenizer.eos, after_edit=args.after_edit
            ),
            MAX_TOKENS,  # the whole rest of the source, when the output is in step with it
            True,
        ),
        "Medusa-1 (K=4, 8 nodes)": (MedusaDrafter.load(tutor, 8), 4, False),
        "EAGLE (tree 3-2-1)": (
            EagleDrafter.load(tutor, branching=(3, 2, 1), temperature=temperature),
            3,
            False,
        ),
        "EAGLE-2 (dynamic, 8 nodes)": (
            EagleDrafter.load(tutor, tree="dynamic", top_k=8, depth=6, nodes=8, temperature=temperature),
            6,
            False,
        ),
    }
    if temperature == 0.0:
        la = Lookahead(V, W=args.W, N=args.N, G=args.G)
        out[f"Lookahead (W={args.W}, N={args.N}, G={args.G})"] = (la, args.W + args.N - 2, False)
    return out


def run_once(target: CachedTarget, method: tuple, prompt: np.ndarray, rng, temperature: float):
    """One correction through the one loop: (DecodeResult, drafting seconds)."""
    drafter, k, _ = method
    timed = None if drafter is None else Timed(drafter)
    eos = target.model.tokenizer.eos
    run = decode(target, timed, prompt, MAX_TOKENS, rng, k=k, temperature=temperature, stop=eos)
    return run, 0.0 if timed is None else timed.seconds


def measure(target, fns: dict, ps: list, refs: list, args, temperature: float, label: str) -> dict:
    """Every method on every prompt: ``repeats`` rounds of all methods in turn, the fastest run kept. On
    every ``isolated_every``-th prompt, right after its runs (the machine in the same state), each kept
    run's forwards are replayed alone (:func:`isolated_costs`): ``iso`` holds their per-step times beside
    the run, ``None`` on the other prompts."""
    acc = {n: {"runs": [], "iso": [], "drafting": [], "same": 0, "chain": m[2]} for n, m in fns.items()}
    every = getattr(args, "isolated_every", 0)
    for i, p in enumerate(ps):
        best: dict = {}
        for _ in range(args.repeats):  # interleaved: one run of each method, then again
            for name, method in fns.items():
                run, draft_s = run_once(target, method, p, np.random.default_rng([args.seed, i]), temperature)
                if name not in best or run.total_s < best[name][0].total_s:
                    best[name] = (run, draft_s)
        timed = every and i % every == 0
        for name, (run, draft_s) in best.items():
            acc[name]["runs"].append(run)
            acc[name]["iso"].append(
                isolated_costs(target.model, len(p), run, args.repeats) if timed else None
            )
            acc[name]["drafting"].append(draft_s)
            acc[name]["same"] += temperature == 0.0 and run.tokens.tolist() == refs[i]
        if sys.stderr.isatty() or i + 1 == len(ps) or (i + 1) % 50 == 0:
            end = "" if sys.stderr.isatty() and i + 1 < len(ps) else "\n"
            print(f"\r{label}: {i + 1}/{len(ps)} prompts", end=end, file=sys.stderr, flush=True)
    return acc


def summary(name: str, a: dict, base: dict | None, n_prompts: int, greedy_run: bool) -> dict:
    """The per-method record (see the module docstring)."""
    runs = a["runs"]
    steps = [n for r in runs for n in r.accepted_per_step]
    drafted = [d for r in runs for d in r.drafted_per_step]
    tested = sum(n + (n < d) for n, d in zip(steps, drafted, strict=True))
    tokens, decode_tokens = sum(len(r.tokens) for r in runs), sum(len(r.tokens) - 1 for r in runs)
    total_s, decode_s = sum(r.total_s for r in runs), sum(r.total_s - r.prefill_s for r in runs)
    tau = decode_tokens / len(steps)  # tokens written after the first, per step: nothing past <eos>
    k_mean = sum(drafted) / len(steps)
    score_s = sum(r.score_s for r in runs)
    t1 = base["t1_s"] if base is not None else score_s / len(steps)  # in situ
    draft_s = sum(a["drafting"])  # drafting time of every kept run
    c = draft_s / sum(drafted) / t1 if sum(drafted) and draft_s else 0.0
    c_verify = score_s / len(steps) / t1  # its own forwards, measured in the runs
    # the prompts replayed alone: their steps' forwards in situ and alone
    timed = [i for i, iso in enumerate(a["iso"]) if iso is not None]
    iso_s = sum(sum(a["iso"][i]) for i in timed)
    iso_steps = sum(len(a["iso"][i]) for i in timed)
    fwd_s = sum(runs[i].score_s for i in timed)
    # a whole step in situ: everything after the prompt's forward but the drafting (the forward, the
    # verification, the cache rollback, the loop's bookkeeping)
    step_timed = sum(runs[i].total_s - runs[i].prefill_s - a["drafting"][i] for i in timed)
    step_s = (decode_s - draft_s) / len(steps)
    prefill_s = sum(r.prefill_s for r in runs)
    rec = {
        "name": name,
        "tau": round(tau, 3),
        "alpha": round(sum(steps) / tested, 3) if tested and a["chain"] else None,
        "drafted_per_step": round(k_mean, 3),
        "target_forwards": sum(r.target_calls for r in runs),
        "draft_forwards": sum(r.draft_calls for r in runs),
        "c": round(c, 4),
        "c_verify": round(c_verify, 3),
        "isolated_forward_ms": round(iso_s / iso_steps * 1e3, 4) if iso_steps else None,
        "step_ms": round(step_s * 1e3, 4),
        "forward_over_isolated": round(fwd_s / iso_s, 3) if iso_steps else None,
        "step_over_isolated": round(step_timed / iso_s, 3) if iso_steps else None,
        "isolated_prompts": len(timed),
        "tokens_per_target_forward": round(tokens / sum(r.target_calls for r in runs), 3),
        "prefill_share": round(prefill_s / total_s, 3),
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


INT_FLAGS = {  # flag: (default, minimum, help)
    "held_out": (150, 0, "held-out sentences (seeded subset)"),
    "pairs": (150, 0, "hand-written pairs (seeded subset)"),
    "repeats": (3, 1, "rounds of every method per prompt; the fastest run of each counts"),
    "isolated_every": (3, 0, "time the isolated forwards of every n-th prompt's steps (0: none)"),
    "seed": (0, 0, "seed of the prompt subsets and of every run"),
    "k_draft": (3, 1, "drafts per step of the draft model"),
    "k_ngram": (3, 1, "drafts per step of the n-gram draft"),
    "k_lookup": (8, 1, "most drafts per step of prompt lookup"),
    "after_edit": (7, 1, "drafts per step of input-guided drafting right after an edit"),
    "ngram_pairs": (5000, 1, "training pairs the n-gram draft is fitted on"),
    "W": (5, 1, "Lookahead window"),
    "N": (3, 2, "Lookahead n-gram size"),
    "G": (5, 0, "Lookahead candidates per step"),
}


def parse(argv) -> argparse.Namespace:
    """The arguments, every value checked before anything runs: one line on stderr and exit status 2 for a
    bad one (argparse's own message for a flag that is not a number)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--record", default=None, help="also write the JSON here, and the table beside it (.txt)")
    for name, (default, _, text) in INT_FLAGS.items():
        flag = "--" + (name if len(name) == 1 else name.replace("_", "-"))
        ap.add_argument(flag, dest=name, type=int, default=default, help=f"{text} (default {default})")
    args = ap.parse_args(argv)
    for name, (_, minimum, _) in INT_FLAGS.items():
        if getattr(args, name) < minimum:
            flag = "--" + (name if len(name) == 1 else name.replace("_", "-"))
            ap.exit(
                2,
                one_line(f"spec_bench.py: error: {flag} must be >= {minimum}, got {getattr(args, name)}")
                + "\n",
            )
    if args.held_out + args.pairs == 0:
        ap.exit(2, "spec_bench.py: error: --held-out and --pairs are both 0: no prompts to run\n")
    if args.record is not None and not args.record.endswith(".json"):
        ap.exit(2, f"spec_bench.py: error: --record must name a .json file, got {args.record!r}\n")
    return args


def run_all(args, argv) -> dict:
    """Load the models, pick the prompts, run every method greedily and sampled; the whole record."""
    t_start = time.perf_counter()
    tutor, draft = Tutor.load(), Tutor.load("draft")
    target = CachedTarget(tutor, capacity=4 * tutor.cfg.n_ctx)  # room for the positions scored, then dropped
    ps = prompts(tutor, args.held_out, args.pairs, args.seed)
    out = {
        "command": "python bench/spec_bench.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "cpu": cpu_name(),
        "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "numpy": np.__version__,
        "prompts": {"held_out": args.held_out, "hand_written": len(ps) - args.held_out},
        "target_t1_ms": round(one_token_s(tutor, 30) * 1e3, 4),
        "draft_t1_ms": round(one_token_s(draft, 50) * 1e3, 4),
    }
    ar = (None, 0, True)  # autoregressive greedy output: the reference of every method
    refs = [run_once(target, ar, p, np.random.default_rng(0), 0.0)[0].tokens.tolist() for p in ps]
    for label, temp in (("greedy", 0.0), ("sampling", TEMPERATURE)):
        acc = measure(target, methods(tutor, draft, temp, args), ps, refs, args, temp, label)
        base = summary("autoregressive", acc.pop("autoregressive"), None, len(ps), temp == 0)
        recs = [summary(n, a, base, len(ps), temp == 0) for n, a in acc.items()]
        key = "" if temp == 0 else "sampling_"
        out[key + "baseline"], out[key + "methods"] = base, recs
    out["sampling_temperature"] = TEMPERATURE
    out["wall_s"] = round(time.perf_counter() - t_start, 1)
    return out


def main(argv=None) -> int:
    args = parse(argv)
    out = run_all(args, argv)
    text = json.dumps(out, indent=1)
    if args.record:
        with open(args.record, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        with open(args.record[: -len(".json")] + ".txt", "w", encoding="utf-8") as f:
            f.write(table(out) + "\n")
    print(text if args.json else table(out))
    return 0


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ratio(x: float | None) -> str:
    """A replay ratio for the table, ``-`` where no prompt was replayed (``--isolated-every 0``)."""
    return "    -" if x is None else f"{x:5.2f}"


def table(out: dict) -> str:
    """The readable report."""
    lines = [
        f"{out['cpu']}, BLAS threads {out['blas_threads']}, t(1) = {out['target_t1_ms']} ms",
        "c_ver: target forwards per step / t(1); fwd, step: the in-situ forward and the whole step (drafting",
        "excluded) over isolated forwards of the same shapes; tok/fw: tokens written per target forward, the",
        "prompt's included; prefill: its share of the time",
    ]
    head = (
        f"{'method':34} {'tau':>5} {'alpha':>5} {'c':>6} {'c_ver':>5} {'fwd':>5} {'step':>5} {'tok/fw':>6} "
        f"{'prefill':>7} {'tok/s':>7} {'speedup':>7} {'decode':>6} {'pred':>5} identical"
    )
    for key, title in (("", "greedy"), ("sampling_", f"temperature {out['sampling_temperature']}")):
        lines += ["", title, head]
        for r in [out[key + "baseline"], *out[key + "methods"]]:
            alpha = "-" if r["alpha"] is None else f"{r['alpha']:.3f}"
            lines.append(
                f"{r['name']:34} {r['tau']:5.2f} {alpha:>5} {r['c']:6.3f} {r['c_verify']:5.2f} "
                f"{_ratio(r['forward_over_isolated'])} {_ratio(r['step_over_isolated'])} "
                f"{r['tokens_per_target_forward']:6.2f} "
                f"{r['prefill_share']:7.1%} {r['tokens_per_s']:7.0f} "
                f"{r.get('speedup', 1.0):7.2f} {r.get('decode_speedup', 1.0):6.2f} "
                f"{r.get('predicted_decode_speedup', 1.0):5.2f} {r['greedy_identical']}"
            )
    return "\n".join(lines + ["", f"wall time {out['wall_s']} s"])


if __name__ == "__main__":
    raise SystemExit(main())
