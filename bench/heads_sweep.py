"""Medusa and EAGLE on the tutor: per-depth acceptance of chains, and τ and speedup against tree size.

Run from the repository root::

    .venv/bin/python bench/heads_sweep.py --record bench/results/heads-sweep.json

The same prompts and loop as ``bench/spec_bench.py`` (a seeded subset of them, greedy, batch 1, one
BLAS thread, each configuration run ``--repeats`` times interleaved and the fastest run kept). For each
tree size n (nodes per step): Medusa's greedy accuracy-product tree of n nodes, and EAGLE-2's dynamic
tree keeping the best n nodes; τ, the measured verification cost c_verify (its target forwards per step
over t(1)), the measured speedup (decoding phase and end to end), and the speedup predicted for a
7B target (Llama-2-7B) on an H100 SXM with the same τ: τ / c_verify(n) from the per-kernel roofline
(:func:`specdec.perf.crossovers.verification_cost_ratio`, context 512), drafting counted as free — an
upper bound that isolates what the tree size costs to verify. Also the per-depth acceptance of chains
(the top-1 token of each Medusa head; EAGLE's top-1 chain): at depth d, the share of steps that
accepted the depth-d draft among those that accepted depth d − 1.
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

from specdec.drafters.eagle import EagleDrafter  # noqa: E402
from specdec.drafters.medusa import MedusaDrafter, medusa_tree  # noqa: E402
from specdec.perf.crossovers import verification_cost_ratio  # noqa: E402
from specdec.speedup import speedup_from_tau  # noqa: E402
from specdec.targets.cached import CachedTarget  # noqa: E402
from specdec.tutor.api import WEIGHTS, Tutor  # noqa: E402

SIZES = (1, 2, 4, 8, 16, 32, 64)
GPU = ("llama-2-7b", "h100-sxm", 512)  # model, hardware, context


def configurations(tutor: Tutor, sizes) -> dict:
    """Name -> (drafter, k, chain) for every tree size, and the two chains."""
    acc = json.loads((WEIGHTS / "medusa.json").read_text(encoding="utf-8"))["rank_accuracy"]
    out = {"medusa chain": (MedusaDrafter.load(tutor, 0).with_tree([(0,) * d for d in range(1, 5)]), 4, True)}
    out["eagle chain"] = (EagleDrafter.load(tutor, branching=(1,) * 6), 6, True)
    for n in sizes:
        out[f"medusa n={n}"] = (MedusaDrafter.load(tutor, 0).with_tree(medusa_tree(acc, n)), 4, False)
        out[f"eagle-2 n={n}"] = (
            EagleDrafter.load(tutor, tree="dynamic", top_k=8, depth=6, nodes=n),
            6,
            False,
        )
    return out


def per_depth(runs) -> list[float]:
    """Chains: at each depth d, steps that accepted d drafts over steps that accepted d − 1 and drafted d."""
    out = []
    for d in range(1, 1 + max(n for r in runs for n in r.drafted_per_step)):
        pairs = [(a, n) for r in runs for a, n in zip(r.accepted_per_step, r.drafted_per_step, strict=True)]
        tried = [a for a, n in pairs if a >= d - 1 and n >= d]
        out.append(round(sum(a >= d for a in tried) / len(tried), 4) if tried else None)
    return out


def with_gpu_prediction(name: str, rec: dict) -> dict:
    """A sweep record (``name`` "<method> n=<nodes>") with the H100 roofline's c_verify for its tree size
    and the speedup its τ would give there, drafting free."""
    method, n = name.split(" n=")
    gpu_cv = verification_cost_ratio(GPU[0], GPU[1], int(n), context=GPU[2])
    return rec | {
        "method": method,
        "nodes": int(n),
        "gpu_c_verify": round(gpu_cv, 4),
        "gpu_predicted_speedup": round(speedup_from_tau(rec["tau"], 0, 0, gpu_cv), 3),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--held-out", type=int, default=30)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record", default=None, help="write the JSON here and a table beside it (.txt)")
    args = ap.parse_args(argv)
    if min(args.held_out, args.pairs) < 0 or args.repeats < 1 or args.held_out + args.pairs == 0:
        ap.error("--held-out and --pairs must be >= 0 (not both 0) and --repeats >= 1")
    t_start = time.perf_counter()
    tutor = Tutor.load()
    target = CachedTarget(tutor, capacity=4 * tutor.cfg.n_ctx)
    ps = sb.prompts(tutor, args.held_out, args.pairs, args.seed)
    t1_s = sb.one_token_s(tutor, 30)  # the one-token forward, for the record's t(1)
    fns = {"autoregressive": (None, 0, True)} | configurations(tutor, SIZES)
    ref = [
        sb.run_once(target, fns["autoregressive"], p, np.random.default_rng(0), 0.0)[0].tokens.tolist()
        for p in ps
    ]
    ns = argparse.Namespace(repeats=args.repeats, seed=args.seed)
    acc = sb.measure(target, fns, ps, ref, ns, 0.0, "sweep")
    base = sb.summary("autoregressive", acc.pop("autoregressive"), None, len(ps), True)
    out = {
        "command": "python bench/heads_sweep.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "cpu": sb.cpu_name(),
        "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
        "prompts": len(ps),
        "target_t1_ms": round(t1_s * 1e3, 4),
        "gpu_prediction": {"model": GPU[0], "hardware": GPU[1], "context": GPU[2], "drafting": "free"},
        "baseline": base,
        "chains": {},
        "sweep": [],
    }
    for name, a in acc.items():
        rec = sb.summary(name, a, base, len(ps), True)
        if name.endswith("chain"):
            out["chains"][name] = rec | {"per_depth_acceptance": per_depth(a["runs"])}
        else:
            out["sweep"].append(with_gpu_prediction(name, rec))
    for method in ("medusa", "eagle-2"):
        rows = [r for r in out["sweep"] if r["method"] == method]
        out[f"best_{method}_cpu"] = max(rows, key=lambda r: r["decode_speedup"])["nodes"]
        out[f"best_{method}_gpu"] = max(rows, key=lambda r: r["gpu_predicted_speedup"])["nodes"]
    out["wall_s"] = round(time.perf_counter() - t_start, 1)
    text = json.dumps(out, indent=1)
    if args.record:
        Path(args.record).write_text(text + "\n", encoding="utf-8")
        Path(args.record[: -len(".json")] + ".txt").write_text(table(out) + "\n", encoding="utf-8")
    print(table(out))
    return 0


def table(out: dict) -> str:
    lines = [
        f"{out['cpu']}, BLAS threads {out['blas_threads']}, t(1) = {out['target_t1_ms']} ms, "
        f"{out['prompts']} prompts, greedy"
    ]
    for name, r in out["chains"].items():
        lines.append(f"{name}: tau {r['tau']:.2f}, acceptance per depth {r['per_depth_acceptance']}")
    lines += [
        "",
        f"{'method':8} {'nodes':>5} {'tau':>5} {'c_ver':>6} {'decode':>6} {'speedup':>7} "
        f"{'H100 c_ver':>10} {'H100 pred':>9} identical",
    ]
    for r in out["sweep"]:
        lines.append(
            f"{r['method']:8} {r['nodes']:5d} {r['tau']:5.2f} {r['c_verify']:6.2f} "
            f"{r['decode_speedup']:6.2f} {r['speedup']:7.2f} {r['gpu_c_verify']:10.3f} "
            f"{r['gpu_predicted_speedup']:9.2f} {r['greedy_identical']}"
        )
    for m in ("medusa", "eagle-2"):
        lines.append(
            f"best {m}: {out[f'best_{m}_cpu']} nodes on this CPU, {out[f'best_{m}_gpu']} on the H100"
        )
    return "\n".join(lines + [f"wall time {out['wall_s']} s"])


if __name__ == "__main__":
    raise SystemExit(main())
