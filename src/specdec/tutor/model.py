"""A small decoder-only transformer, picoGPT style: small pure functions, inference in NumPy, float32.

The layout (GPT-2's): token and learned position embeddings, ``n_layers`` pre-norm blocks (layer norm,
causal multi-head attention, residual; layer norm, GELU MLP, residual), a final layer norm, and the
LM head tied to the token embedding (the logits are ``h @ wte.T``). Tying saves V·d parameters and
suits a tutor that mostly copies: the hidden state that predicts a word lives in the space of that
word's own input embedding.

Every function below takes the array module ``xp`` last: ``numpy`` for inference, ``jax.numpy`` for
training (:mod:`specdec.tutor.train`), so both run one definition of the model. Shapes are written
``# (T, d)`` with T new tokens, S = cached + new positions, H heads of size D = d / H, V words.

Inference (:func:`forward`) takes T new tokens at once with a :class:`KVCache`, explicit position ids
and an optional attention mask over the S = cached + T positions, and returns the logits and final
hidden states of every new position: one call serves plain decoding (T = 1), chain verification of k
drafts (T = k + 1) and tree verification (T nodes, a tree mask, positions = depths).

dtype: float32 end to end. Scalars are Python floats (NumPy treats them as "weak" and keeps float32);
a NumPy float64 scalar such as ``np.sqrt(D)`` would silently turn every later activation into float64
and make each matmul cast the weights (tests check the dtype of every output and of the cache).
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from specdec import _arrays, _checks

__all__ = [
    "Config",
    "KVCache",
    "init_params",
    "forward",
    "logits_full",
    "head_full",
    "for_inference",
    "param_count",
    "save",
    "load",
    "MASKED",
]

MASKED = -1e30
"""Score of a position a query may not attend to (a Python float: it keeps float32 arrays float32)."""


@dataclass(frozen=True)
class Config:
    """Shape of a model. ``d_model`` must divide by ``n_heads``; the MLP is 4·d_model wide."""

    vocab_size: int
    n_ctx: int = 40
    d_model: int = 160
    n_heads: int = 4
    n_layers: int = 4

    def __post_init__(self):
        for name in ("vocab_size", "n_ctx", "d_model", "n_heads", "n_layers"):
            _checks.integer(name, getattr(self, name), 1, 1 << 20)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be a multiple of n_heads, got {self.d_model} and {self.n_heads}")

    @property
    def d_ff(self) -> int:
        return 4 * self.d_model

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every parameter (the keys of the weights file)."""
        d, f = self.d_model, self.d_ff
        out = {"wte": (self.vocab_size, d), "wpe": (self.n_ctx, d)}
        for i in range(self.n_layers):
            out |= {
                f"h{i}.ln1.g": (d,),
                f"h{i}.ln1.b": (d,),
                f"h{i}.attn.w_qkv": (d, 3 * d),
                f"h{i}.attn.b_qkv": (3 * d,),
                f"h{i}.attn.w_o": (d, d),
                f"h{i}.attn.b_o": (d,),
                f"h{i}.ln2.g": (d,),
                f"h{i}.ln2.b": (d,),
                f"h{i}.mlp.w_in": (d, f),
                f"h{i}.mlp.b_in": (f,),
                f"h{i}.mlp.w_out": (f, d),
                f"h{i}.mlp.b_out": (d,),
            }
        return out | {"ln_f.g": (d,), "ln_f.b": (d,)}


def param_count(cfg: Config) -> int:
    return sum(math.prod(s) for s in cfg.shapes().values())


def init_params(cfg: Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """GPT-2's initialisation: N(0, 0.02) matrices (residual projections scaled by 1/sqrt(2·layers)),
    zero biases, unit layer-norm gains; float32."""
    out = {}
    for name, shape in cfg.shapes().items():
        if name.endswith(".g"):
            out[name] = np.ones(shape, np.float32)
        elif len(shape) == 1:
            out[name] = np.zeros(shape, np.float32)
        else:
            std = 0.02 / math.sqrt(2 * cfg.n_layers) if name.endswith(("w_o", "w_out")) else 0.02
            out[name] = (rng.standard_normal(shape) * std).astype(np.float32)
    return out


# --- the pieces (xp = numpy or jax.numpy) ---------------------------------------------------------


def layer_norm(x, g, b, xp, eps: float = 1e-5):
    """(..., d) -> (..., d): zero mean, unit variance over d, then gain and bias.

    Means are sums times 1/d (a Python float keeps float32): ``mean()`` goes through a Python wrapper,
    and with nine norms per forward the wrappers were about a quarter of a one-token forward's norm time.
    """
    inv_d = 1.0 / x.shape[-1]
    xc = x - x.sum(axis=-1, keepdims=True) * inv_d  # (..., d) centred
    var = (xc * xc).sum(axis=-1, keepdims=True) * inv_d  # (..., 1)
    return xc * (1.0 / xp.sqrt(var + eps)) * g + b


def gelu(x, xp):
    """GELU, tanh approximation (GPT-2's).

    The cube is written ``x * x * x``: NumPy's ``x**3`` on float32 takes its general power path,
    about 150× slower (≈ 300 µs against 2 µs for an (8, 640) array on a 2-core CPU), which alone
    was about half of a small forward.
    """
    return 0.5 * x * (1.0 + xp.tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x))))


def softmax(x, xp):
    """Row-wise softmax over the last axis."""
    e = xp.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attend(q, k, v, allowed, xp):
    """Multi-head attention of T queries over S keys.

    q (H, T, D), k (H, S, D), v (H, S, D), allowed (T, S) bool -> (T, H·D).
    """
    H, T, D = q.shape
    scores = (q * (1.0 / math.sqrt(D))) @ xp.swapaxes(k, -1, -2)  # (H, T, S); scaled on the smaller side
    scores = xp.where(allowed, scores, MASKED)  # (H, T, S)
    out = softmax(scores, xp) @ v  # (H, T, D)
    return xp.swapaxes(out, 0, 1).reshape(T, H * D)  # (T, H·D)


ROW_BLOCK = 4
"""NumPy inference pads the rows of a multi-row matmul to a multiple of this (see :func:`matmul`)."""


def matmul(x, w, xp):
    """(T, m) @ (m, n) -> (T, n). With NumPy, a product of T > 1 rows is computed over T rounded up to a
    multiple of :data:`ROW_BLOCK`, zero rows added and dropped again: OpenBLAS's single-precision kernel
    on this project's CPU takes markedly longer for a remainder of 3 rows, so one forward of 3, 7, 11 or
    15 new tokens cost about 15 % more than one of 4, 8, 12 or 16 (the tutor page's cost curve). The rows
    kept are the product's own; under JAX the product is left as it is."""
    T = x.shape[0]
    if xp is np and T > 1 and T % ROW_BLOCK:
        x = np.concatenate([x, np.zeros((ROW_BLOCK - T % ROW_BLOCK, x.shape[1]), x.dtype)])
        return (x @ w)[:T]
    return x @ w


def qkv_heads(x, p: dict, i: int, n_heads: int, xp):
    """(T, d) normed input of block i -> q, k, v each (H, T, D)."""
    T, d = x.shape
    qkv = matmul(x, p[f"h{i}.attn.w_qkv"], xp) + p[f"h{i}.attn.b_qkv"]  # (T, 3d)
    qkv = xp.swapaxes(qkv.reshape(T, 3, n_heads, d // n_heads), 0, 2)  # (H, 3, T, D)
    return qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (H, T, D) each


def mlp(x, p: dict, i: int, xp):
    """(T, d) -> (T, d): GELU MLP of block i, 4·d wide inside."""
    return (
        matmul(gelu(matmul(x, p[f"h{i}.mlp.w_in"], xp) + p[f"h{i}.mlp.b_in"], xp), p[f"h{i}.mlp.w_out"], xp)
        + p[f"h{i}.mlp.b_out"]
    )


def embed(p: dict, tokens, positions):
    """(T,) ids, (T,) positions -> (T, d)."""
    return p["wte"][tokens] + p["wpe"][positions]


def head(p: dict, x, xp, last_only: bool = False):
    """(T, d) residual stream -> (T, V) logits, (T, d) final hidden states (after the final norm);
    ``last_only``: the logits of the last row only, (1, V) (a prompt's forward needs no more: the head is
    V·d multiply-adds a row, about as many as the rest of this model's layers).

    The head is tied: ``h @ wte.T``. Inference may pass ``p["wte_T"]``, the same matrix transposed
    into a contiguous (d, V) array (:func:`for_inference`): BLAS reads it about 10 % faster than
    the strided view ``wte.T``.
    """
    h = layer_norm(x, p["ln_f.g"], p["ln_f.b"], xp)  # (T, d)
    w = p["wte_T"] if "wte_T" in p else p["wte"].T  # (d, V)
    return matmul(h[-1:] if last_only else h, w, xp), h  # (T or 1, V) tied head, (T, d)


def for_inference(p: dict) -> dict:
    """``p`` plus ``wte_T``, the tied head as a contiguous (d, V) float32 array (a derived copy, not
    a parameter: it is never saved and ``param_count`` does not count it)."""
    return p | {"wte_T": np.ascontiguousarray(p["wte"].T)}


def logits_full(p: dict, tokens, cfg: Config, xp, positions=None, segments=None):
    """(L,) ids -> (L, V) logits of a whole row from scratch, causal; no cache (training).

    A packed row holds several sequences: ``segments`` (L,) numbers them, and a token attends only
    to earlier tokens of its own segment; ``positions`` (L,) restart at 0 in each (default: one
    sequence, positions 0..L-1).
    """
    return head_full(p, tokens, cfg, xp, positions, segments)[0]


def head_full(p: dict, tokens, cfg: Config, xp, positions=None, segments=None):
    """:func:`logits_full` and the final hidden states: (L, V) logits, (L, d) features after the final
    layer norm (what the inference :func:`forward` returns as ``hidden``)."""
    L = tokens.shape[0]
    pos = xp.arange(L)
    allowed = pos[:, None] >= pos[None, :]  # (L, L) causal
    if segments is not None:
        allowed = allowed & (segments[:, None] == segments[None, :])  # (L, L) within a segment
    x = embed(p, tokens, pos if positions is None else positions)  # (L, d)
    for i in range(cfg.n_layers):
        q, k, v = qkv_heads(layer_norm(x, p[f"h{i}.ln1.g"], p[f"h{i}.ln1.b"], xp), p, i, cfg.n_heads, xp)
        x = x + attend(q, k, v, allowed, xp) @ p[f"h{i}.attn.w_o"] + p[f"h{i}.attn.b_o"]  # (L, d)
        x = x + mlp(layer_norm(x, p[f"h{i}.ln2.g"], p[f"h{i}.ln2.b"], xp), p, i, xp)  # (L, d)
    return head(p, x, xp)


# --- inference: NumPy with a KV cache -------------------------------------------------------------


class KVCache:
    """Keys and values of every position seen so far, per layer: (layers, H, capacity, D) float32 each.

    ``length`` positions are filled; :func:`forward` appends its T new positions. :meth:`truncate`
    drops the newest positions (what verification does with rejected drafts).
    """

    def __init__(self, cfg: Config, capacity: int | None = None):
        capacity = cfg.n_ctx if capacity is None else _checks.integer("capacity", capacity, 1, 1 << 16)
        D = cfg.d_model // cfg.n_heads
        self.k = np.zeros((cfg.n_layers, cfg.n_heads, capacity, D), np.float32)
        self.v = np.zeros_like(self.k)
        self.length = 0

    @property
    def capacity(self) -> int:
        return self.k.shape[2]

    def truncate(self, length: int) -> None:
        """Keep the first ``length`` positions (0 <= length <= the current length)."""
        self.length = _checks.integer("length", length, 0, self.length)


def _check_forward(cfg: Config, tokens, positions, cache: KVCache, mask) -> tuple:
    """The arguments of :func:`forward`, checked: TypeError for a wrong type, ValueError for a wrong value."""
    if not isinstance(cache, KVCache):
        raise TypeError(f"cache must be a KVCache, got {type(cache).__name__}")
    tokens = _arrays.token_array("tokens", tokens).astype(np.intp)
    if tokens.shape[0] == 0:
        raise ValueError("tokens must hold at least one new token, got none")
    _arrays.check_token_range("tokens", tokens, cfg.vocab_size)
    T = tokens.shape[0]
    positions = np.asarray(positions)
    if positions.dtype.kind not in "iu":
        raise TypeError(f"positions must be an integer array of position ids, got dtype {positions.dtype}")
    if positions.shape != (T,):
        raise ValueError(f"positions must have shape ({T},), one per new token, got {positions.shape}")
    positions = positions.astype(np.intp)
    if positions.min() < 0 or positions.max() >= cfg.n_ctx:
        raise ValueError(
            f"positions must lie in [0, {cfg.n_ctx}) (the model's n_ctx), "
            f"got {positions.min()}..{positions.max()}"
        )
    S = cache.length + T
    if S > cache.capacity:
        raise ValueError(
            f"cache holds {cache.length} positions and room for {cache.capacity}: {T} new tokens do not fit"
        )
    if mask is None:
        allowed = np.ones((T, S), bool)
        allowed[:, cache.length :] = np.tri(T, dtype=bool)  # causal among the new tokens
    else:
        allowed = np.asarray(mask)
        if allowed.dtype != bool:
            raise TypeError(f"mask must be a boolean array (True = may attend), got dtype {allowed.dtype}")
        if allowed.shape != (T, S):
            raise ValueError(
                f"mask must have shape (new tokens, cached + new) = ({T}, {S}), got {allowed.shape}"
            )
        if not allowed.any(axis=1).all():
            row = int(np.flatnonzero(~allowed.any(axis=1))[0])
            raise ValueError(
                f"mask row {row} hides every position: each new token must attend to at least one"
            )
    return tokens, positions, allowed


def forward(p: dict, cfg: Config, tokens, positions, cache: KVCache, mask=None, last_only: bool = False):
    """T new tokens through the model, with the cache; returns ``(logits (T, V), hidden (T, d))``, or with
    ``last_only`` the logits of the last new token only, ``(1, V)`` (a prompt's forward).

    ``tokens`` (T,) ids; ``positions`` (T,) position ids in [0, n_ctx) (a chain continues at
    ``cache.length``; tree nodes take their depth). ``mask`` (T, cache.length + T) bool, True where new
    token t may attend; default: every cached position and the new tokens up to t (causal). The new
    keys and values are appended to ``cache`` (``cache.length`` grows by T). float32 throughout.
    """
    if not isinstance(last_only, bool):
        raise TypeError(f"last_only must be a bool, got {type(last_only).__name__}")
    tokens, positions, allowed = _check_forward(cfg, tokens, positions, cache, mask)
    P, T = cache.length, tokens.shape[0]
    S = P + T
    x = embed(p, tokens, positions)  # (T, d)
    for i in range(cfg.n_layers):
        q, k, v = qkv_heads(layer_norm(x, p[f"h{i}.ln1.g"], p[f"h{i}.ln1.b"], np), p, i, cfg.n_heads, np)
        cache.k[i, :, P:S] = k  # (H, T, D) appended
        cache.v[i, :, P:S] = v
        a = attend(q, cache.k[i, :, :S], cache.v[i, :, :S], allowed, np)  # (T, d)
        x = x + matmul(a, p[f"h{i}.attn.w_o"], np) + p[f"h{i}.attn.b_o"]  # (T, d)
        x = x + mlp(layer_norm(x, p[f"h{i}.ln2.g"], p[f"h{i}.ln2.b"], np), p, i, np)  # (T, d)
    cache.length = S
    return head(p, x, np, last_only)


# --- weights files --------------------------------------------------------------------------------


def save(path: Path, p: dict, cfg: Config, extra: dict | None = None) -> None:
    """``path.npz`` (float16 arrays) and ``path.json`` (the config, and ``extra``)."""
    path = Path(path)
    np.savez_compressed(path.with_suffix(".npz"), **{k: np.asarray(v, np.float16) for k, v in p.items()})
    meta = {"config": asdict(cfg), **(extra or {})}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load(path: Path) -> tuple[dict, Config, dict]:
    """Weights and config from ``path.npz`` / ``path.json``, cast to float32; ``ValueError`` naming the
    file and the problem for a missing, truncated or unreadable file and for any missing or misshapen
    array."""
    path = Path(path)
    jpath, npath = path.with_suffix(".json"), path.with_suffix(".npz")
    for f in (jpath, npath):
        if not f.is_file():
            raise ValueError(f"weights file {f} is missing")
    try:
        meta = json.loads(jpath.read_text(encoding="utf-8"))
        cfg = Config(**meta["config"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"config file {jpath} is not a valid model config ({_checks.one_line(str(exc))})"
        ) from None
    try:
        with np.load(npath, allow_pickle=False) as z:
            raw = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(
            f"weights file {npath} cannot be read (truncated or not an .npz): {_checks.one_line(str(exc))}"
        ) from None
    p = {}
    for name, shape in cfg.shapes().items():
        if name not in raw:
            raise ValueError(f"weights file {npath} has no array {name!r}")
        if raw[name].shape != shape:
            raise ValueError(
                f"weights file {npath}: {name!r} has shape {raw[name].shape}, the config needs {shape}"
            )
        a = raw[name].astype(np.float32)
        if not np.isfinite(a).all():
            raise ValueError(f"weights file {npath}: {name!r} holds NaN or infinite values")
        p[name] = a
    extra = set(raw) - set(p)
    if extra:
        raise ValueError(f"weights file {npath} has arrays the config does not know: {sorted(extra)[:3]}")
    return p, cfg, meta
