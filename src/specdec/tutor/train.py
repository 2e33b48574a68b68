"""Train the grammar tutor and its draft model: ``python -m specdec.tutor.train`` (or ``make train``).

Needs the optional extra ``train`` (``pip install -e ".[train]"``): JAX, on the CPU. JAX because
``jax.numpy`` mirrors NumPy, so training differentiates the very functions the NumPy inference runs
(:mod:`specdec.tutor.model` takes the array module as an argument), and its compiler makes a 2-core CPU
fast enough to train the shipped tutor in well under half an hour; HIPS autograd would run the same
code on plain NumPy, several times slower and without a maintained release line.

What it does, from one seed: generates the data (:func:`specdec.tutor.data.make_splits`), trains the
tutor and then a smaller draft model with the same tokenizer (next-token cross-entropy on the
correction and its ``<eos>`` only: the learner's sentence is given, not predicted; AdamW, linear
warm-up then cosine decay), prints the loss every ``--log-every`` steps, and writes
``<out>/tutor.npz|json``, ``<out>/draft.npz|json``, ``<out>/vocab.json`` and the training record
``<record>`` (wall time, loss curves, final metrics).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

from specdec.tutor import data, model
from specdec.tutor.api import WEIGHTS
from specdec.tutor.tokenizer import Tokenizer

ROOT = Path(__file__).resolve().parents[3]
RECORD = ROOT / "bench" / "results" / "tutor-train.json"
"""The training record of the shipped weights (in a checkout of the repository)."""
BENCH_RECORD = ROOT / "bench" / "results" / "tutor-bench.json"
"""The recorded benchmark of the shipped weights, written by ``bench/bench_tutor.py --record``."""

TUTOR = dict(d_model=160, n_heads=4, n_layers=4)
DRAFT = dict(d_model=96, n_heads=4, n_layers=2)
TINY = dict(d_model=32, n_heads=2, n_layers=1)


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise SystemExit(
            "training needs the optional extra 'train' (JAX): pip install -e '.[train]'"
        ) from None
    jax.config.update("jax_platforms", "cpu")
    return jax, jnp


def encode_pairs(tok: Tokenizer, pairs, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs -> inputs x (N, length), labels y (N, length), loss weights w (N, length) float32.

    Row n is ``learner <sep> correct <eos>`` padded with ``<pad>``; x = sequence[:-1], y = sequence[1:],
    and w is 1 where y is a token of the correction or its ``<eos>``.
    """
    N = len(pairs)
    seq = np.full((N, length + 1), tok.pad, np.int32)
    w = np.zeros((N, length), np.float32)
    for n, (learner, correct, _) in enumerate(pairs):
        ids = tok.sequence(learner, correct)
        if len(ids) > length + 1:
            raise ValueError(f"pair {n} needs {len(ids)} positions, more than {length + 1}")
        seq[n, : len(ids)] = ids
        w[n, len(learner) : len(ids) - 1] = 1.0  # predicting correct[0] .. <eos>
    return seq[:, :-1], seq[:, 1:], w


def make_step(cfg: model.Config, lr_at, weight_decay: float, jax, jnp):
    """One jitted AdamW step: (params, m, v, step, x, y, w) -> (params, m, v, loss)."""

    def loss_fn(p, x, y, w):
        logits = jax.vmap(lambda t: model.logits_full(p, t, cfg, jnp))(x)  # (B, L, V)
        logp = jax.nn.log_softmax(logits, axis=-1)
        nll = -jnp.take_along_axis(logp, y[..., None], axis=-1)[..., 0]  # (B, L)
        return (nll * w).sum() / w.sum()

    b1, b2, eps = 0.9, 0.98, 1e-8

    @jax.jit
    def step(p, m, v, t, x, y, w):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y, w)
        lr = lr_at(t)
        m = jax.tree_util.tree_map(lambda a, b: b1 * a + (1 - b1) * b, m, g)
        v = jax.tree_util.tree_map(lambda a, b: b2 * a + (1 - b2) * b * b, v, g)
        c1, c2 = 1 - b1 ** (t + 1), 1 - b2 ** (t + 1)

        def update(name, a, mm, vv):
            decay = weight_decay if a.ndim == 2 else 0.0  # matrices only: not gains, biases
            return a - lr * (mm / c1 / (jnp.sqrt(vv / c2) + eps) + decay * a)

        p = {k: update(k, p[k], m[k], v[k]) for k in p}
        return p, m, v, loss

    return step, jax.jit(loss_fn)


def train_model(
    name: str,
    cfg: model.Config,
    x,
    y,
    w,
    *,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    log_every: int,
    eval_xyw=None,
    out=sys.stdout,
) -> tuple[dict, dict]:
    """Train one model; returns (float32 NumPy params, record with the loss curve and timing)."""
    jax, jnp = _import_jax()
    rng = np.random.default_rng(seed)
    warmup = max(1, min(200, steps // 10))

    def lr_at(t):
        t = t.astype(jnp.float32)
        cos = 0.5 * (1 + jnp.cos(math.pi * jnp.minimum(1.0, (t - warmup) / max(1, steps - warmup))))
        return lr * jnp.where(t < warmup, (t + 1) / warmup, 0.1 + 0.9 * cos)

    step, loss_fn = make_step(cfg, lr_at, 0.01, jax, jnp)
    p = {k: jnp.asarray(v) for k, v in model.init_params(cfg, rng).items()}
    m = {k: jnp.zeros_like(v) for k, v in p.items()}
    v = {k: jnp.zeros_like(a) for k, a in p.items()}
    N = x.shape[0]
    order, cursor = rng.permutation(N), 0
    curve, window = [], []
    start = time.perf_counter()
    print(
        f"{name}: {model.param_count(cfg):,} parameters, {steps} steps of {batch} sequences",
        file=out,
        flush=True,
    )
    for t in range(steps):
        if cursor + batch > N:
            order, cursor = rng.permutation(N), 0
        idx = order[cursor : cursor + batch]
        cursor += batch
        p, m, v, loss = step(p, m, v, jnp.int32(t), x[idx], y[idx], w[idx])
        window.append(loss)
        if (t + 1) % log_every == 0 or t + 1 == steps:
            mean = float(np.mean([float(a) for a in window]))
            window = []
            curve.append([t + 1, float(f"{mean:.4g}")])
            print(
                f"{name} step {t + 1:5d}/{steps}  loss {mean:.4f}  {time.perf_counter() - start:7.1f} s",
                file=out,
                flush=True,
            )
    wall = time.perf_counter() - start
    params = {k: np.asarray(a, np.float32) for k, a in p.items()}
    record = {
        "parameters": model.param_count(cfg),
        "config": cfg.__dict__ | {"d_ff": cfg.d_ff},
        "steps": steps,
        "batch": batch,
        "peak_lr": lr,
        "warmup_steps": warmup,
        "wall_time_s": round(wall, 1),
        "loss_curve": curve,
    }
    if eval_xyw is not None:
        ex, ey, ew = eval_xyw
        record["test_loss"] = round(
            float(
                np.mean(
                    [
                        float(loss_fn(p, ex[i : i + 256], ey[i : i + 256], ew[i : i + 256]))
                        for i in range(0, ex.shape[0], 256)
                    ]
                )
            ),
            5,
        )
    return params, record


def greedy_accuracy(params: dict, cfg: model.Config, tok: Tokenizer, pairs) -> float:
    """Exact-match rate of greedy NumPy corrections (the shipped float16 weights, cast to float32)."""
    from specdec.tutor.decode import greedy

    p16 = {k: a.astype(np.float16).astype(np.float32) for k, a in params.items()}
    hits = sum(
        greedy(p16, cfg, tok, np.append(tok.encode_words(learner), tok.sep)).words == correct
        for learner, correct, _ in pairs
    )
    return hits / len(pairs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m specdec.tutor.train", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--seed", type=int, default=0, help="seed of the data, the initialisation and the batches"
    )
    ap.add_argument("--train-pairs", type=int, default=60000)
    ap.add_argument("--test-pairs", type=int, default=5000)
    ap.add_argument(
        "--steps", type=int, default=3000, help="tutor steps (the draft trains for the same number)"
    )
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--eval-pairs", type=int, default=1000, help="test pairs decoded for the final accuracy")
    ap.add_argument("--tiny", action="store_true", help="a tiny configuration (tests, smoke runs)")
    ap.add_argument("--out", type=Path, default=WEIGHTS, help="folder of the weights files")
    ap.add_argument("--record", type=Path, default=RECORD, help="training record (JSON)")
    args = ap.parse_args(argv)
    jax, _ = _import_jax()
    t0 = time.perf_counter()
    train, test = data.make_splits(args.train_pairs, args.test_pairs, args.seed)
    tok = Tokenizer.build()
    length = max(len(src) + len(dst) + 2 for src, dst, _ in train + test) - 1
    x, y, w = encode_pairs(tok, train, length)
    ex, ey, ew = encode_pairs(tok, test, length)
    print(
        f"data: {len(train)} training pairs, {len(test)} test pairs, vocabulary {tok.vocab_size}, "
        f"sequences of {length + 1} positions ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    tok.save(args.out / "vocab.json")
    record = {
        "command": " ".join(["python -m specdec.tutor.train", *(argv if argv is not None else sys.argv[1:])]),
        "seed": args.seed,
        "train_pairs": len(train),
        "test_pairs": len(test),
        "vocab_size": tok.vocab_size,
        "sequence_positions": length + 1,
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs, {platform.system()}",
        "jax_version": jax.__version__,
        "numpy_version": np.__version__,
        "models": {},
    }
    for name, shape, seed in (
        ("tutor", TINY if args.tiny else TUTOR, args.seed + 10),
        ("draft", TINY if args.tiny else DRAFT, args.seed + 20),
    ):
        cfg = model.Config(vocab_size=tok.vocab_size, **shape)
        params, rec = train_model(
            name,
            cfg,
            x,
            y,
            w,
            steps=args.steps,
            batch=args.batch,
            lr=args.lr,
            seed=seed,
            log_every=args.log_every,
            eval_xyw=(ex, ey, ew),
        )
        model.save(args.out / name, params, cfg, {"seed": seed, "vocab": "vocab.json"})
        if args.eval_pairs:
            t1 = time.perf_counter()
            rec["test_exact_match"] = round(greedy_accuracy(params, cfg, tok, test[: args.eval_pairs]), 4)
            rec["test_exact_match_pairs"] = min(args.eval_pairs, len(test))
            print(
                f"{name}: test loss {rec['test_loss']:.4f}, greedy exact match {rec['test_exact_match']:.3f} "
                f"on {rec['test_exact_match_pairs']} test pairs ({time.perf_counter() - t1:.0f} s)",
                flush=True,
            )
        record["models"][name] = rec
    record["total_wall_time_s"] = round(time.perf_counter() - t0, 1)
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out}/tutor.*, draft.*, vocab.json and {args.record} "
        f"({record['total_wall_time_s']:.0f} s in all)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
