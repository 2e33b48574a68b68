"""Train Medusa-1 heads and an EAGLE draft on the frozen tutor: ``python -m specdec.tutor.train_heads``.

Needs the ``train`` extra (JAX). The data: ``learner <sep> correct <eos>`` sequences of the tutor's own
training distribution (:func:`specdec.tutor.data.make_splits` with the tutor's seed: the first
``--train-pairs`` of its training pairs, and its held-out test split), packed into rows of n_ctx tokens
as the tutor was trained (:func:`specdec.tutor.train.pack`). The features: the tutor's final hidden
states (after the final layer norm) over the *training targets*, teacher-forced — one forward per row,
computed once and shared by both methods. Self-distillation (Medusa §2.3.2: training on the model's own
generations) would need a greedy decode of every sequence, one forward per token; the tutor reproduces
its training corrections almost always, so the targets are nearly its own outputs at a few percent of
the cost. The tutor stays frozen (Medusa-1), and both drafts use its tied output head, frozen.

- Medusa: K heads; head k at position t predicts the token k + 1 after t; the loss is
  Σ_k 0.8^k · CE_k (Medusa App. B.2), on the correction tokens and ``<eos>`` only.
- EAGLE: entry t reads (f_t + noise, x_{t+1}), noise U(−0.1, 0.1), and predicts f_{t+1}; the loss is
  SmoothL1(f̂_{t+1}, f_{t+1}) + 0.1 · CE(x_{t+2} | f̂_{t+1}) through the frozen head (EAGLE §3.2).

Both: AdamW, linear warm-up then cosine decay (:mod:`specdec.tutor.train`). After training, the measured
per-rank accuracies on held-out rows — how often head k's (or the draft's) rank-i token is the tutor's
own next token there — go into the weights' JSON (Medusa's tree is built from them) and the record
``--record`` (default ``<out>/heads-train.json``) with the loss curves and the wall time. Weights:
``<out>/medusa.npz|json`` and ``<out>/eagle.npz|json``; ``--out`` defaults to ``_build/heads-train``
(the shipped ones are in ``src/specdec/tutor/weights``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from specdec.tutor import data, heads, model
from specdec.tutor.api import TRAIN_RECORD, Tutor
from specdec.tutor.tokenizer import N_CTX
from specdec.tutor.train import encode_pairs, import_jax, lr_schedule, make_adamw, pack

TUTOR_SEED = 0  # the seed of the tutor's training data (bench/results/tutor-train.json)
RANKS = 8  # ranks whose accuracy is measured
LAMBDA = 0.8  # Medusa's head weights λ_k = 0.8^k
W_CLS, NOISE = 0.1, 0.1  # EAGLE's classification weight and feature noise


def features(tutor: Tutor, rows: dict, chunk: int = 32) -> np.ndarray:
    """(R, L, d) float16 features of the frozen tutor over packed rows (teacher-forced), in chunks."""
    jax, jnp = import_jax()
    p, cfg = {k: jnp.asarray(a) for k, a in tutor.params.items()}, tutor.cfg
    one = jax.jit(jax.vmap(lambda x, pos, seg: model.head_full(p, x, cfg, jnp, pos, seg)[1]))
    out = []
    for i in range(0, rows["x"].shape[0], chunk):
        out.append(
            np.asarray(one(rows["x"][i : i + chunk], rows["pos"][i : i + chunk], rows["seg"][i : i + chunk]))
        )
    return np.concatenate(out).astype(np.float16)


def _ce(logits, target, jax, jnp):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, target[..., None], axis=-1)[..., 0]


def medusa_positions(rows: dict, K: int) -> dict[str, np.ndarray]:
    """Medusa's training examples, one per supervised position t of the packed rows (the heads see one
    feature each, no attention, so positions are sampled directly): ``r``, ``t`` (N,) where the row's
    next token is a correction token, ``target`` (N, K) the token k + 1 after t (y[t + k]) and ``mask``
    (N, K) where it lies in the same sequence and is supervised."""
    R, L = rows["y"].shape
    r, t = np.nonzero((rows["w"] > 0) & (rows["seg"] >= 0))
    target = np.zeros((r.shape[0], K), np.int32)
    mask = np.zeros((r.shape[0], K), np.float32)
    for k in range(1, K + 1):
        tk = np.minimum(t + k, L - 1)
        ok = (t + k < L) & (rows["seg"][r, tk] == rows["seg"][r, t]) & (rows["w"][r, tk] > 0)
        target[:, k - 1], mask[:, k - 1] = rows["y"][r, tk], ok
    return {"r": r, "t": t, "target": target, "mask": mask}


def medusa_loss(K: int, wte, jax, jnp):
    """loss(params, batch): Σ_k 0.8^k · masked mean CE of head k (batch: f (N, d), target, mask (N, K))."""

    def loss(p, b):
        total = 0.0
        for k in range(1, K + 1):
            logits = heads.medusa_hidden(p, b["f"], k, jnp) @ wte.T  # (N, V)
            m = b["mask"][:, k - 1]
            ce = _ce(logits, b["target"][:, k - 1], jax, jnp)
            total = total + LAMBDA**k * (ce * m).sum() / jnp.maximum(m.sum(), 1.0)
        return total

    return loss


def eagle_forward(p, f, y, pos, seg, wte, wpe, n_heads: int, jnp):
    """(L, d) features, (L,) next tokens, positions, segments -> (L, d) predicted next features."""
    L = f.shape[0]
    i = jnp.arange(L)
    allowed = (i[:, None] >= i[None, :]) & (seg[:, None] == seg[None, :])
    x = heads.eagle_input(p, f, y, pos, wte, wpe, jnp)
    H, D = n_heads, f.shape[1] // n_heads
    empty = jnp.zeros((H, 0, D), f.dtype)
    return heads.eagle_layer(p, x, empty, empty, allowed, n_heads, jnp)[0]


def eagle_loss(wte, wpe, n_heads: int, jax, jnp):
    """loss(params, batch): SmoothL1 feature regression + 0.1 · CE through the frozen head, noisy inputs."""

    def loss(p, b):
        f = b["f"].astype(jnp.float32)
        noisy = f + jax.random.uniform(b["key"], f.shape, minval=-NOISE, maxval=NOISE)
        run = jax.vmap(lambda a, y, pos, seg: eagle_forward(p, a, y, pos, seg, wte, wpe, n_heads, jnp))
        out = run(noisy, b["y"], b["pos"], b["seg"])[:, :-1]  # (B, L − 1, d): f̂_{t+1}
        m = b["w"][:, 1:] * (b["seg"][:, 1:] == b["seg"][:, :-1])  # (B, L − 1)
        diff = jnp.abs(out - f[:, 1:])
        reg = jnp.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5).mean(axis=-1)  # SmoothL1, β = 1
        ce = _ce(out @ wte.T, b["y"][:, 1:], jax, jnp)
        return ((reg + W_CLS * ce) * m).sum() / m.sum()

    return loss


def rank_accuracy(logits: np.ndarray, truth: np.ndarray, ranks: int = RANKS) -> list[float]:
    """(N, V) logits, (N,) right tokens -> [P(rank-i token is right) for i < ranks]."""
    top = np.argsort(-logits, axis=1, kind="stable")[:, :ranks]
    return [round(float(x), 4) for x in (top == truth[:, None]).mean(axis=0)]


def evaluate(method: str, p: dict, tutor: Tutor, rows: dict, feats: np.ndarray, K: int, n_heads: int) -> dict:
    """Held-out per-rank accuracies against the tutor's own argmax, and against the training targets."""
    wte = tutor.params["wte"]
    f = feats.astype(np.float32)
    own = (f @ wte.T).argmax(axis=-1)  # (R, L) the tutor's next token after each position
    out = {"rank_accuracy": [], "rank_accuracy_targets": []}
    if method == "medusa":
        for k in range(1, K + 1):
            L = f.shape[1]
            m = (rows["w"][:, k:] > 0) & (rows["seg"][:, k:] == rows["seg"][:, : L - k])
            logits = heads.medusa_hidden(p, f[:, : L - k][m], k, np) @ wte.T
            out["rank_accuracy"].append(rank_accuracy(logits, own[:, k:][m]))
            out["rank_accuracy_targets"].append(rank_accuracy(logits, rows["y"][:, k:][m]))
        return out
    pred = np.stack(
        [
            eagle_forward(
                p, f[r], rows["y"][r], rows["pos"][r], rows["seg"][r], wte, tutor.params["wpe"], n_heads, np
            )
            for r in range(f.shape[0])
        ]
    )[:, :-1]
    m = (rows["w"][:, 1:] > 0) & (rows["seg"][:, 1:] == rows["seg"][:, :-1])
    logits = pred[m] @ wte.T
    out["rank_accuracy"].append(rank_accuracy(logits, own[:, 1:][m]))
    out["rank_accuracy_targets"].append(rank_accuracy(logits, rows["y"][:, 1:][m]))
    out["feature_mse"] = round(float(((pred[m] - f[:, 1:][m]) ** 2).mean()), 5)
    return out


def train(
    method: str, tutor: Tutor, rows: dict, feats: np.ndarray, args, out=sys.stdout
) -> tuple[dict, dict]:
    """Train one method; (float32 NumPy params, record with the loss curve and the time)."""
    jax, jnp = import_jax()
    d = tutor.cfg.d_model
    wte, wpe = jnp.asarray(tutor.params["wte"]), jnp.asarray(tutor.params["wpe"])
    rng = np.random.default_rng(args.seed)
    if method == "medusa":
        p0, loss_fn = heads.init_medusa(d, args.heads), medusa_loss(args.heads, wte, jax, jnp)
    else:
        p0, loss_fn = heads.init_eagle(d, rng), eagle_loss(wte, wpe, tutor.cfg.n_heads, jax, jnp)
    lr_at, warmup = lr_schedule(args.lr, args.steps, jnp)
    step = make_adamw(loss_fn, lr_at, 0.0, jax, jnp)
    p = {k: jnp.asarray(a) for k, a in p0.items()}
    m = {k: jnp.zeros_like(a) for k, a in p.items()}
    v = {k: jnp.zeros_like(a) for k, a in p.items()}
    if method == "medusa":
        ex = medusa_positions(rows, args.heads)
        R, per_step = ex["r"].shape[0], args.batch * 64  # positions per step: about a batch of rows' share

        def batch(idx):
            f = feats[ex["r"][idx], ex["t"][idx]].astype(np.float32)
            return {"f": f, "target": ex["target"][idx], "mask": ex["mask"][idx]}
    else:
        R, per_step = feats.shape[0], args.batch

        def batch(idx):
            return {k: rows[k][idx] for k in ("y", "w", "pos", "seg")} | {"f": feats[idx].astype(np.float32)}

    order = np.concatenate([rng.permutation(R) for _ in range(-(-args.steps * per_step // R))])
    key, curve, window = jax.random.PRNGKey(args.seed), [], []
    start = time.perf_counter()
    for t in range(args.steps):
        key, sub = jax.random.split(key)
        b = batch(order[t * per_step : (t + 1) * per_step]) | {"key": sub}
        p, m, v, loss = step(p, m, v, jnp.int32(t), b)
        window.append(loss)
        if (t + 1) % args.log_every == 0 or t + 1 == args.steps:
            mean, window = float(np.mean([float(a) for a in window])), []
            curve.append([t + 1, float(f"{mean:.4g}")])
            print(
                f"{method} step {t + 1:5d}/{args.steps}  loss {mean:.4f}  "
                f"{time.perf_counter() - start:7.1f} s",
                file=out,
                flush=True,
            )
    params = {k: np.asarray(a, np.float32) for k, a in p.items()}
    rec = {
        "parameters": int(sum(a.size for a in params.values())),
        "steps": args.steps,
        "batch": f"{per_step} positions" if method == "medusa" else f"{per_step} rows of {N_CTX} tokens",
        "peak_lr": args.lr,
        "warmup_steps": warmup,
        "train_s": round(time.perf_counter() - start, 1),
        "loss_curve": curve,
    }
    return params, rec


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m specdec.tutor.train_heads", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--method", choices=("medusa", "eagle", "both"), default="both")
    ap.add_argument(
        "--out", type=Path, default=Path("_build/heads-train"), help="folder of the weights files"
    )
    ap.add_argument("--record", type=Path, default=None, help="record (default <out>/heads-train.json)")
    ap.add_argument("--train-pairs", type=int, default=12_000, help="training pairs (rows packed from them)")
    ap.add_argument(
        "--test-pairs", type=int, default=3000, help="held-out pairs (the tutor's test split: 3000)"
    )
    ap.add_argument("--eval-rows", type=int, default=150, help="held-out packed rows for the accuracies")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16, help="rows of n_ctx tokens per step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--heads", type=int, default=4, help="Medusa heads K")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    return ap


def _check(ap, args) -> None:
    for name in ("train_pairs", "test_pairs", "eval_rows", "steps", "batch", "heads", "log_every"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not 0 < args.lr < 1:
        ap.error(f"--lr must lie in (0, 1), got {args.lr}")


def main(argv=None) -> int:
    t0 = time.perf_counter()
    ap = _parser()
    _check(ap, args := ap.parse_args(argv))
    jax = import_jax()[0]
    tutor = Tutor.load()
    args.out.mkdir(parents=True, exist_ok=True)
    tutor_rec = json.loads(TRAIN_RECORD.read_text()) if TRAIN_RECORD.is_file() else {}
    train_pairs, test_pairs = data.make_splits(args.train_pairs, args.test_pairs, TUTOR_SEED)
    seqs, lengths, _ = encode_pairs(tutor.tokenizer, train_pairs)
    rows = pack(seqs, lengths, N_CTX, np.random.default_rng(args.seed + 1))
    eseqs, elengths, _ = encode_pairs(tutor.tokenizer, test_pairs)
    eval_rows = {
        k: a[: args.eval_rows] for k, a in pack(eseqs, elengths, N_CTX, np.random.default_rng(2)).items()
    }
    t1 = time.perf_counter()
    cache = args.out / f"features-{args.train_pairs}.npy"
    feats = np.load(cache) if cache.is_file() else features(tutor, rows)
    if not cache.is_file() and args.train_pairs >= 1000:
        np.save(cache, feats)  # reused by a later run with the same pairs
    eval_feats = features(tutor, eval_rows)
    feat_s = time.perf_counter() - t1
    print(f"data {t1 - t0:.0f} s, features of {rows['x'].shape[0]} rows {feat_s:.0f} s", flush=True)
    record_path = args.record or args.out / "heads-train.json"
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    record |= {
        "command": " ".join(
            ["python -m specdec.tutor.train_heads", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "jax_version": jax.__version__,
        "tutor_seed": tutor_rec.get("seed", TUTOR_SEED),
        "train_pairs": len(train_pairs),
        "packed_rows": int(rows["x"].shape[0]),
        "supervised_tokens": int(rows["w"].sum()),
        "eval_rows": int(eval_rows["x"].shape[0]),
        "features_s": round(feat_s, 1),
        "data": "training targets, teacher-forced (one tutor forward per row)",
    }
    record.setdefault("methods", {})
    for method in ("medusa", "eagle"):
        if args.method in (method, "both"):
            rec = _train_and_save(method, tutor, (rows, feats), (eval_rows, eval_feats), args)
            record["methods"][method] = rec | {"total_wall_time_s": round(time.perf_counter() - t0, 1)}
            _write(record_path, record)
    return 0


def _train_and_save(method: str, tutor: Tutor, train_set: tuple, eval_set: tuple, args) -> dict:
    """Train one method on (rows, features), evaluate it on the held-out pair, save its weights under
    ``args.out``; its record."""
    params, rec = train(method, tutor, *train_set, args)
    rec |= evaluate(method, params, tutor, *eval_set, args.heads, tutor.cfg.n_heads)
    meta = {
        "method": method,
        "d_model": tutor.cfg.d_model,
        "seed": args.seed,
        "rank_accuracy": rec["rank_accuracy"],
    }
    meta |= {"heads": args.heads} if method == "medusa" else {"n_heads": tutor.cfg.n_heads}
    heads.save_heads(args.out / method, params, meta)
    rec["weights_bytes"] = (args.out / f"{method}.npz").stat().st_size
    top1 = [a[0] for a in rec["rank_accuracy"]]
    print(f"{method}: {rec['train_s']} s, top-1 accuracy per depth {top1}", flush=True)
    return rec


def _write(path: Path, record: dict) -> None:
    """The record as indented JSON, rewritten after each method (a later method's failure keeps it)."""
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
