"""Draft heads on the tutor's features: Medusa-1's residual heads and EAGLE's one-layer feature draft.

Both read the tutor's *features*: the hidden states its forward returns, taken after the final layer
norm (``specdec.tutor.model.head``), so the tied output head turns a feature f into logits
``f @ wte.T`` with nothing in between. Like :mod:`specdec.tutor.model`, every function takes the array
module ``xp`` last (``numpy`` for drafting, ``jax.numpy`` for training, :mod:`specdec.tutor.train_heads`).

- Medusa-1 (Cai et al. 2024, §2.1.1): head k maps the feature f_t of position t to
  ``softmax(W_out · (SiLU(W_k f_t + b_k) + f_t))``, W_out the tutor's tied output head, frozen; head k
  predicts the token k + 1 positions after t (the tutor's own head is "head 0", the next token).
  Parameters ``head{k}.w`` (d, d) and ``head{k}.b`` (d,), k = 1 … K.
- EAGLE (Li et al. 2024, §3): entry t reads ``[f_t ; e(x_{t+1})]`` (the feature at t and the embedding
  of the token after it, the tutor's frozen ``wte``), a linear map to d plus the tutor's position
  embedding of t, then one pre-norm decoder layer (the tutor's block: attention, GELU MLP), whose output
  is the predicted feature f̂_{t+1}; the frozen head turns it into p_D of x_{t+2}. Parameters ``fc.w``
  (2d, d), ``fc.b`` and one block ``h0.*`` in the tutor's layout.

Weights files ``medusa.npz|json`` and ``eagle.npz|json`` in :data:`specdec.tutor.api.WEIGHTS` (float16
arrays, float32 once loaded; the JSON holds the shape and the training record's summary).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from specdec import _checks
from specdec.tutor import model

__all__ = [
    "medusa_shapes",
    "eagle_shapes",
    "init_medusa",
    "init_eagle",
    "medusa_hidden",
    "eagle_input",
    "eagle_layer",
    "save_heads",
    "load_heads",
]


def medusa_shapes(d: int, K: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of K Medusa heads on features of size d."""
    out = {}
    for k in range(1, K + 1):
        out |= {f"head{k}.w": (d, d), f"head{k}.b": (d,)}
    return out


def eagle_shapes(d: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of EAGLE's draft: the input map and one decoder block of the tutor's layout."""
    block = {k: v for k, v in model.Config(vocab_size=1, d_model=d, n_heads=1, n_layers=1).shapes().items()}
    layer = {k: v for k, v in block.items() if k.startswith("h0.")}
    return {"fc.w": (2 * d, d), "fc.b": (d,)} | layer


def init_medusa(d: int, K: int) -> dict[str, np.ndarray]:
    """Zero weights, as Medusa initialises W_1 (§2.1.1): every head starts as the tutor's own head."""
    return {k: np.zeros(s, np.float32) for k, s in medusa_shapes(d, K).items()}


def init_eagle(d: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """GPT-2's initialisation for the block, N(0, 0.02) for the input map; float32."""
    out = {}
    for name, shape in eagle_shapes(d).items():
        if name.endswith(".g"):
            out[name] = np.ones(shape, np.float32)
        elif len(shape) == 1:
            out[name] = np.zeros(shape, np.float32)
        else:
            std = 0.02 / math.sqrt(2) if name.endswith(("w_o", "w_out")) else 0.02
            out[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    return out


def silu(x, xp):
    return x / (1.0 + xp.exp(-x))


def medusa_hidden(p: dict, f, k: int, xp):
    """(..., d) features -> (..., d) head k's input to the output head: SiLU(W_k f + b_k) + f."""
    return silu(f @ p[f"head{k}.w"] + p[f"head{k}.b"], xp) + f


def eagle_input(p: dict, f, tokens, positions, wte, wpe, xp):
    """(T, d) features f_t, (T,) tokens x_{t+1}, (T,) positions t -> (T, d) the layer's input."""
    return xp.concatenate([f, wte[tokens]], axis=-1) @ p["fc.w"] + p["fc.b"] + wpe[positions]


def eagle_layer(p: dict, x, keys, values, allowed, n_heads: int, xp):
    """One decoder block over T new entries: (T, d) input, earlier keys and values (H, S0, D) each,
    ``allowed`` (T, S0 + T) -> (T, d) predicted features, and the new (H, T, D) keys and values."""
    q, k, v = model.qkv_heads(model.layer_norm(x, p["h0.ln1.g"], p["h0.ln1.b"], xp), p, 0, n_heads, xp)
    K, V = xp.concatenate([keys, k], axis=1), xp.concatenate([values, v], axis=1)
    x = x + model.attend(q, K, V, allowed, xp) @ p["h0.attn.w_o"] + p["h0.attn.b_o"]
    x = x + model.mlp(model.layer_norm(x, p["h0.ln2.g"], p["h0.ln2.b"], xp), p, 0, xp)
    return x, k, v


def save_heads(path: Path, p: dict, meta: dict) -> None:
    """``path.npz`` (float16 arrays) and ``path.json`` (``meta``: method, sizes, training summary)."""
    path = Path(path)
    np.savez_compressed(path.with_suffix(".npz"), **{k: np.asarray(v, np.float16) for k, v in p.items()})
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load_heads(path: Path, method: str, d: int) -> tuple[dict, dict]:
    """(float32 params, meta) of a ``method`` ("medusa" or "eagle") weights file for features of size d;
    ``ValueError`` naming the file for a missing file, another method, or a missing or misshapen array."""
    path = Path(path)
    jpath, npath = path.with_suffix(".json"), path.with_suffix(".npz")
    for f in (jpath, npath):
        if not f.is_file():
            raise ValueError(f"weights file {f} is missing")
    meta = json.loads(jpath.read_text(encoding="utf-8"))
    if meta.get("method") != method:
        raise ValueError(f"weights file {jpath} holds {meta.get('method')!r} weights, not {method!r}")
    K = _checks.integer("heads", meta.get("heads", 1), 1, 64)
    shapes = medusa_shapes(d, K) if method == "medusa" else eagle_shapes(d)
    with np.load(npath, allow_pickle=False) as z:
        raw = {k: z[k] for k in z.files}
    p = {}
    for name, shape in shapes.items():
        if name not in raw or raw[name].shape != shape:
            got = raw[name].shape if name in raw else "nothing"
            raise ValueError(f"weights file {npath}: {name!r} must have shape {shape}, got {got}")
        p[name] = raw[name].astype(np.float32)
    return p, meta
