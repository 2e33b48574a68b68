"""Train the grammar tutor and its draft model: ``python -m specdec.tutor.train --out DIR``.

Needs the optional extra ``train`` (``pip install -e ".[train]"``): JAX (on the CPU, or a GPU where
one is installed), and ``wordfreq`` and ``lemminflect`` for the data generator. JAX because
``jax.numpy`` mirrors NumPy, so training differentiates the very functions the NumPy inference runs
(:mod:`specdec.tutor.model` takes the array module as an argument).

What it does, from one seed: generates the pairs (:func:`specdec.tutor.data.make_splits`), trains the
SentencePiece tokenizer on the training text (:meth:`specdec.tutor.tokenizer.Tokenizer.train`), packs
the ``learner <sep> correct <eos>`` sequences into rows of ``n_ctx`` tokens (no padding between
sequences; a token attends only within its own sequence, and positions restart in each), and trains
the tutor and then the smaller draft model (next-token cross-entropy on the correction and its
``<eos>`` only: the learner's sentence is given, not predicted; AdamW, linear warm-up then cosine
decay). It writes ``<out>/tutor.npz|json``, ``<out>/draft.npz|json``, ``<out>/tokenizer.model`` and
the training record (``--record``, default ``<out>/tutor-train.json``), and a checkpoint every
``--checkpoint-every`` steps (``--checkpoints``, default ``<out>/checkpoints/``): run the same
command with ``--resume`` to continue an interrupted run. ``--only tutor`` and ``--only draft`` train
one of the two (two processes can then share the cores: the shipped pair was trained that way).

It never writes into the installed package: ``--out`` defaults to ``_build/tutor-train``;
``make train`` passes the repository's weights folder explicitly and says so.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from specdec.tutor import data, model
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS, MAX_SENTENCE_TOKENS, N_CTX, Tokenizer

TUTOR = dict(d_model=192, n_heads=4, n_layers=4)
DRAFT = dict(d_model=96, n_heads=4, n_layers=2)
TINY = dict(d_model=32, n_heads=2, n_layers=1)
VOCAB_SIZE = 2048


def import_jax():
    """``(jax, jax.numpy)``; without the optional ``train`` extra, a one-line exit saying how to get it."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise SystemExit(
            "training needs the optional extra 'train' (JAX): pip install -e '.[train]'"
        ) from None
    return jax, jnp


# --- data: sequences packed into rows -------------------------------------------------------------


def encode_pairs(tok: Tokenizer, pairs) -> tuple[list[list[int]], list[int], list]:
    """Pairs -> (sequences ``learner <sep> correct <eos>`` as ids, learner lengths, the pairs kept:
    those whose learner side fits MAX_SENTENCE_TOKENS and correction MAX_CORRECTION_TOKENS)."""
    seqs, lengths, kept = [], [], []
    for pair in pairs:
        a, b = tok.sp.encode(pair[0]), tok.sp.encode(pair[1])
        if len(a) <= MAX_SENTENCE_TOKENS and len(b) <= MAX_CORRECTION_TOKENS:
            seqs.append([*a, tok.sep, *b, tok.eos])
            lengths.append(len(a))
            kept.append(pair)
    return seqs, lengths, kept


def pack(seqs, lengths, row: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Sequences packed into rows of ``row`` tokens, in a shuffled order, each into the first open
    row with room (rows close when nearly full). Returns int32/float32 arrays (R, row): ``x`` inputs,
    ``y`` next tokens, ``w`` loss weights (1 where y is a correction token or ``<eos>``), ``pos``
    positions within each sequence, ``seg`` segment numbers (-1 on padding)."""
    rows: list[list[int]] = []  # per row: indices of its sequences
    room: list[int] = []
    open_rows: list[int] = []
    for i in rng.permutation(len(seqs)):
        n = len(seqs[i]) - 1  # inputs of sequence i
        r = next((r for r in open_rows if room[r] >= n), None)
        if r is None:
            rows.append([]), room.append(row)
            r = len(rows) - 1
            open_rows.append(r)
        rows[r].append(int(i))
        room[r] -= n
        if room[r] < 8 or len(open_rows) > 32:
            open_rows.remove(r if room[r] < 8 else open_rows[0])
    R = len(rows)
    out = {k: np.zeros((R, row), np.int32) for k in ("x", "y", "pos")}
    out["seg"] = np.full((R, row), -1, np.int32)
    out["w"] = np.zeros((R, row), np.float32)
    for r, members in enumerate(rows):
        at = 0
        for s_no, i in enumerate(members):
            s, n = seqs[i], len(seqs[i]) - 1
            out["x"][r, at : at + n], out["y"][r, at : at + n] = s[:-1], s[1:]
            out["pos"][r, at : at + n] = np.arange(n)
            out["seg"][r, at : at + n] = s_no
            out["w"][r, at + lengths[i] : at + n] = 1.0  # targets: correction tokens and <eos>
            at += n
    return out


# --- the optimiser ----------------------------------------------------------------------------------


def make_step(cfg: model.Config, lr_at, weight_decay: float, jax, jnp):
    """One jitted AdamW step: (params, m, v, step, batch) -> (params, m, v, loss)."""

    def loss_fn(p, b):
        rows = jax.vmap(lambda x, pos, seg: model.logits_full(p, x, cfg, jnp, pos, seg))
        logits = rows(b["x"], b["pos"], b["seg"])  # (B, L, V)
        logp = jax.nn.log_softmax(logits, axis=-1)
        nll = -jnp.take_along_axis(logp, b["y"][..., None], axis=-1)[..., 0]  # (B, L)
        return (nll * b["w"]).sum() / b["w"].sum()

    return make_adamw(loss_fn, lr_at, weight_decay, jax, jnp), jax.jit(loss_fn)


def make_adamw(loss_fn, lr_at, weight_decay: float, jax, jnp):
    """One jitted AdamW step of ``loss_fn(params, batch)``: (params, m, v, step, batch) -> (params, m, v,
    loss); weight decay on matrices only."""
    b1, b2, eps = 0.9, 0.98, 1e-8

    @jax.jit
    def step(p, m, v, t, b):
        loss, g = jax.value_and_grad(loss_fn)(p, b)
        lr = lr_at(t)
        m = jax.tree_util.tree_map(lambda a, c: b1 * a + (1 - b1) * c, m, g)
        v = jax.tree_util.tree_map(lambda a, c: b2 * a + (1 - b2) * c * c, v, g)
        c1, c2 = 1 - b1 ** (t + 1), 1 - b2 ** (t + 1)

        def update(a, mm, vv):
            decay = weight_decay if a.ndim == 2 else 0.0  # matrices only: not gains, biases
            return a - lr * (mm / c1 / (jnp.sqrt(vv / c2) + eps) + decay * a)

        p = {k: update(p[k], m[k], v[k]) for k in p}
        return p, m, v, loss

    return step


def lr_schedule(lr: float, steps: int, jnp):
    """``(lr_at, warmup)``: a linear warm-up over ``warmup`` steps to ``lr``, then a cosine decay to a
    tenth of it at ``steps``; ``lr_at(t)`` takes the step as a JAX integer."""
    warmup = max(1, min(300, steps // 10))

    def lr_at(t):
        t = t.astype(jnp.float32)
        cos = 0.5 * (1 + jnp.cos(math.pi * jnp.minimum(1.0, (t - warmup) / max(1, steps - warmup))))
        return lr * jnp.where(t < warmup, (t + 1) / warmup, 0.1 + 0.9 * cos)

    return lr_at, warmup


@functools.lru_cache(maxsize=4)
def _compiled_step(cfg: model.Config, lr: float, steps: int):
    """:func:`make_step` with weight decay 0.01 and :func:`lr_schedule`'s learning rates, once per (config,
    lr, steps) in a process: a run resumed in the same process reuses the compiled step instead of
    tracing and compiling it again. Returns (step, loss_fn, warmup)."""
    jax, jnp = import_jax()
    lr_at, warmup = lr_schedule(lr, steps, jnp)
    return (*make_step(cfg, lr_at, 0.01, jax, jnp), warmup)


def _save_checkpoint(folder: Path, name: str, t: int, state: dict) -> None:
    """Parameters and optimiser moments (.npz) and step, loss curve and training seconds so far (.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"{kind}/{k}": np.asarray(a) for kind in "pmv" for k, a in state[kind].items()}
    tmp = folder / f"{name}.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(folder / f"{name}.npz")
    meta = {"step": t, "curve": state["curve"], "wall_s": round(state["wall_s"], 1)}
    (folder / f"{name}.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")


def _initial_state(cfg, rng, folder: Path | None, name: str, resume: bool, jnp) -> tuple[int, dict]:
    """(first step, state): fresh weights and zero moments, or the last checkpoint with ``resume``."""
    p = {k: jnp.asarray(a) for k, a in model.init_params(cfg, rng).items()}
    state = {"p": p, "m": {k: jnp.zeros_like(a) for k, a in p.items()}, "curve": [], "wall_s": 0.0}
    state["v"] = {k: jnp.zeros_like(a) for k, a in p.items()}
    if not (resume and folder and (folder / f"{name}.json").is_file()):
        return 0, state
    meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    with np.load(folder / f"{name}.npz") as z:
        for key in z.files:
            kind, k = key.split("/", 1)
            state[kind][k] = jnp.asarray(z[key])
    state["curve"], state["wall_s"] = meta["curve"], meta.get("wall_s", 0.0)
    return meta["step"], state


def _eval_loss(loss_fn, p, rows: dict, chunk: int = 64) -> float:
    n = rows["x"].shape[0]
    losses = [float(loss_fn(p, {k: a[i : i + chunk] for k, a in rows.items()})) for i in range(0, n, chunk)]
    return round(float(np.mean(losses)), 5)


def _record(cfg, shape: dict, tokens_per_step: int, warmup: int, wall_s: float, t0: int, st: dict):
    return {
        "parameters": model.param_count(cfg),
        "config": cfg.__dict__ | {"d_ff": cfg.d_ff},
        **shape,
        "tokens_per_step": tokens_per_step,
        "warmup_steps": warmup,
        "wall_time_s": round(wall_s, 1),
        "resumed_at_step": t0,
        "loss_curve": st["curve"],
    }


def train_model(
    name: str,
    cfg: model.Config,
    rows: dict,
    *,
    steps: int,
    batch: int,
    lr: float,
    seed: int,
    log_every: int,
    eval_rows=None,
    checkpoints: Path | None = None,
    checkpoint_every: int = 200,
    resume: bool = False,
    until: int | None = None,
    out=sys.stdout,
) -> tuple[dict, dict]:
    """Train one model on packed ``rows``; returns (float32 NumPy params, record with the loss curve
    and timing). With ``checkpoints``, saves every ``checkpoint_every`` steps and, with ``resume``,
    continues from the last one (the batch order is a function of the seed, so a resumed run sees
    the batches an uninterrupted one would). ``until`` stops after that step (the schedule still
    spans ``steps``): a long run in parts."""
    jax, jnp = import_jax()
    rng = np.random.default_rng(seed)
    step, loss_fn, warmup = _compiled_step(cfg, lr, steps)
    R, last = rows["x"].shape[0], steps if until is None else min(until, steps)
    order = np.concatenate([rng.permutation(R) for _ in range(-(-steps * batch // R))])
    t0, st = _initial_state(cfg, rng, checkpoints, name, resume, jnp)
    if t0:
        print(f"{name}: resuming at step {t0}", file=out, flush=True)
    print(
        f"{name}: {model.param_count(cfg):,} parameters, {steps} steps of {batch} rows", file=out, flush=True
    )
    start, window = time.perf_counter() - st["wall_s"], []
    for t in range(t0, last):
        b = {k: a[order[t * batch : (t + 1) * batch]] for k, a in rows.items()}
        st["p"], st["m"], st["v"], loss = step(st["p"], st["m"], st["v"], jnp.int32(t), b)
        window.append(loss)
        if (t + 1) % log_every == 0 or t + 1 == last:
            mean, window = float(np.mean([float(a) for a in window])), []
            st["curve"].append([t + 1, float(f"{mean:.4g}")])
            el = time.perf_counter() - start
            print(f"{name} step {t + 1:5d}/{steps}  loss {mean:.4f}  {el:7.1f} s", file=out, flush=True)
        if checkpoints and ((t + 1) % checkpoint_every == 0 or t + 1 == last):
            st["wall_s"] = time.perf_counter() - start
            _save_checkpoint(checkpoints, name, t + 1, st)
    shape = {"steps": steps, "stopped_after_step": last, "batch_rows": batch, "peak_lr": lr}
    record = _record(cfg, shape, batch * rows["x"].shape[1], warmup, time.perf_counter() - start, t0, st)
    if eval_rows is not None:
        record["test_loss"] = _eval_loss(loss_fn, st["p"], eval_rows)
    return {k: np.asarray(a, np.float32) for k, a in st["p"].items()}, record


def greedy_accuracy(params: dict, cfg: model.Config, tok: Tokenizer, pairs) -> float:
    """Exact-match rate of greedy NumPy corrections with the weights as shipped (float16, cast back)."""
    from specdec.tutor.api import Tutor

    p16 = {k: a.astype(np.float16).astype(np.float32) for k, a in params.items()}
    tutor = Tutor(p16, cfg, tok)
    return sum(tutor.correct(learner).text == correct for learner, correct, _ in pairs) / len(pairs)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m specdec.tutor.train", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out", type=Path, default=Path("_build/tutor-train"), help="folder of the weights files"
    )
    ap.add_argument(
        "--record", type=Path, default=None, help="training record (default <out>/tutor-train.json)"
    )
    ap.add_argument("--checkpoints", type=Path, default=None, help="checkpoints (default <out>/checkpoints)")
    ap.add_argument(
        "--seed", type=int, default=0, help="seed of the data, the initialisation and the batches"
    )
    ap.add_argument("--train-pairs", type=int, default=200_000)
    ap.add_argument("--test-pairs", type=int, default=3000)
    ap.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    ap.add_argument("--steps", type=int, default=1400, help="tutor steps")
    ap.add_argument("--draft-steps", type=int, default=1200, help="draft model steps")
    ap.add_argument("--batch", type=int, default=16, help="rows of n_ctx tokens per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--resume", action="store_true", help="continue from the checkpoints")
    ap.add_argument(
        "--until", type=int, default=None, help="stop after this step (the schedule spans --steps)"
    )
    ap.add_argument("--only", choices=("tutor", "draft", "both"), default="both")
    ap.add_argument("--eval-pairs", type=int, default=300, help="test pairs decoded for the final accuracy")
    ap.add_argument("--tiny", action="store_true", help="a tiny configuration (tests, smoke runs)")
    return ap


def _check_args(ap, args) -> None:
    for name in (
        "train_pairs",
        "test_pairs",
        "steps",
        "draft_steps",
        "batch",
        "log_every",
        "checkpoint_every",
    ):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.until is not None and args.until < 1:
        ap.error(f"--until must be at least 1, got {args.until}")
    if args.eval_pairs < 0 or not (0 < args.lr < 1) or args.vocab_size < 300:
        ap.error("--eval-pairs must be >= 0, --lr in (0, 1) and --vocab-size >= 300")


def _prepare(args, out=sys.stdout):
    t0 = time.perf_counter()
    train, test = data.make_splits(args.train_pairs, args.test_pairs, args.seed)
    tok_file = args.out / "tokenizer.model"
    if args.resume and tok_file.is_file():
        tok = Tokenizer.load(tok_file)
    else:
        tok = Tokenizer.train((s for pair in train for s in pair[:2]), args.vocab_size)
        tok.save(tok_file)
    seqs, lengths, kept = encode_pairs(tok, train)
    dropped = len(train) - len(kept)
    rows = pack(seqs, lengths, N_CTX, np.random.default_rng(args.seed + 1))
    eseqs, elengths, test = encode_pairs(tok, test)
    eval_rows = pack(eseqs, elengths, N_CTX, np.random.default_rng(args.seed + 2))
    info = {
        "train_pairs": len(train),
        "test_pairs": len(test),
        "dropped_for_length": dropped,
        "vocab_size": tok.vocab_size,
        "n_ctx": N_CTX,
        "packed_rows": int(rows["x"].shape[0]),
        "tokens": int(sum(len(s) for s in seqs)),
        "supervised_tokens": int(rows["w"].sum()),
        "row_fill": round(float((rows["seg"] >= 0).mean()), 3),
        "data_s": round(time.perf_counter() - t0, 1),
    }
    print(f"data: {json.dumps(info)}", file=out, flush=True)
    return train, test, tok, rows, eval_rows, info


def main(argv=None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    _check_args(ap, args)
    jax, _ = import_jax()
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    train, test, tok, rows, eval_rows, info = _prepare(args)
    record_path = args.record or args.out / "tutor-train.json"
    record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.is_file() else {}
    record |= {
        "command": " ".join(["python -m specdec.tutor.train", *(argv if argv is not None else sys.argv[1:])]),
        "seed": args.seed,
        **info,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "jax_version": jax.__version__,
        "jax_backend": jax.default_backend(),
        "numpy_version": np.__version__,
    }
    record.setdefault("models", {})
    plan = [("tutor", TUTOR, args.steps, args.seed + 10), ("draft", DRAFT, args.draft_steps, args.seed + 20)]
    for name, shape, steps, seed in plan:
        done = record["models"].get(name, {}).get("steps") == steps and (args.out / f"{name}.npz").is_file()
        if args.only not in (name, "both") or (args.resume and done):
            continue
        cfg = model.Config(vocab_size=tok.vocab_size, n_ctx=N_CTX, **(TINY if args.tiny else shape))
        params, rec = train_model(
            name,
            cfg,
            rows,
            steps=steps,
            batch=args.batch,
            lr=args.lr,
            seed=seed,
            log_every=args.log_every,
            eval_rows=eval_rows,
            checkpoints=args.checkpoints or args.out / "checkpoints",
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            until=args.until,
        )
        model.save(args.out / name, params, cfg, {"seed": seed, "tokenizer": "tokenizer.model"})
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
        record_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    record["total_wall_time_s"] = round(time.perf_counter() - t0, 1)
    record_path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: weights, tokenizer.model and tutor-train.json", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
