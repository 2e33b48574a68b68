"""The shape of a decoder-only transformer: :class:`ModelShape`, and its parameter counts.

A shape is what the roofline needs of a model: layers, widths, heads, the feed-forward size and
vocabulary, enough to count its parameters, FLOPs and bytes. The presets are records of
``data/presets.toml`` (:mod:`specdec.perf.presets`); :meth:`ModelShape.from_hf_config` and
:func:`shape_from_hf_config` read a local Hugging Face ``config.json`` (the fields come from
:mod:`specdec.perf.hf_config`). Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specdec import _checks
from specdec.perf import hf_config
from specdec.perf.units import DTYPE_BYTES, check_count, check_dtype

__all__ = ["ModelShape", "shape_from_hf_config"]


@dataclass(frozen=True)
class ModelShape:
    """Shape of a decoder-only transformer, enough to count its parameters, FLOPs and bytes.

    Attention has ``n_heads`` query heads and ``n_kv_heads`` key/value heads of ``head_dim`` each
    (``n_kv_heads < n_heads`` is grouped-query attention). The feed-forward block is a gated
    (SwiGLU-style, three matrices) or a plain two-matrix MLP of inner size ``d_ffn``. Normalisation
    layers carry one weight vector of ``d_model`` each: two per layer and one final. No biases.
    ``published_params`` is the published parameter count, if there is one, for testing the derived
    :attr:`n_params`. ``norms=False`` leaves the normalisation layers out and ``embeddings=False`` the
    token-embedding table and the output head (``vocab_size`` and ``tied_embeddings`` are then
    unused): a bare stack of layers, such as a benchmark times.

    The dimensions must be integers in [1, :data:`~specdec.perf.units.MAX_COUNT`], ``tied_embeddings``
    and ``gated_ffn`` ``True`` or ``False``, ``name`` a non-empty string and ``source`` a string; they
    are stored as plain Python ``int``, ``bool`` and ``str`` whatever (NumPy) types were passed, so the
    counts are exact. Anything else raises ``ValueError`` naming the field.
    """

    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ffn: int
    vocab_size: int
    tied_embeddings: bool
    gated_ffn: bool
    source: str
    published_params: float | None = None
    norms: bool = True
    embeddings: bool = True

    def __post_init__(self) -> None:
        # Stored as plain Python int, bool, str and float: a NumPy integer (np.int32, say) would keep
        # its fixed width and overflow silently in the parameter and FLOP counts.
        object.__setattr__(self, "name", _checks.text("name", self.name, empty=False))
        for f in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ffn", "vocab_size"):
            object.__setattr__(self, f, check_count(f, getattr(self, f), 1))
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"n_kv_heads must divide n_heads, got n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}"
            )
        for f in ("tied_embeddings", "gated_ffn", "norms", "embeddings"):
            object.__setattr__(self, f, _checks.flag(f, getattr(self, f)))
        object.__setattr__(self, "source", _checks.text("source", self.source))
        if self.published_params is not None:
            object.__setattr__(
                self, "published_params", _checks.positive("published_params", self.published_params)
            )

    # -- parameter counts ----------------------------------------------------------------------

    @property
    def attention_params_per_layer(self) -> int:
        """Q, K, V and output projections of one layer."""
        q = self.n_heads * self.head_dim
        kv = self.n_kv_heads * self.head_dim
        return self.d_model * q + 2 * self.d_model * kv + q * self.d_model

    @property
    def ffn_params_per_layer(self) -> int:
        """Feed-forward matrices of one layer (3 for a gated MLP, 2 otherwise)."""
        return (3 if self.gated_ffn else 2) * self.d_model * self.d_ffn

    @property
    def norm_params(self) -> int:
        """All normalisation weights: two per layer plus the final one (0 without norms)."""
        return (2 * self.n_layers + 1) * self.d_model if self.norms else 0

    @property
    def head_params(self) -> int:
        """Parameters of the output head (0 for a bare stack, ``embeddings=False``)."""
        return self.vocab_size * self.d_model if self.embeddings else 0

    @property
    def matmul_params(self) -> int:
        """Parameters that take part in matrix multiplications: all layers plus the output head."""
        return (
            self.n_layers * (self.attention_params_per_layer + self.ffn_params_per_layer) + self.head_params
        )

    @property
    def input_embedding_params(self) -> int:
        """Parameters of a separate input-embedding table: 0 if it is tied to the output head."""
        return 0 if self.tied_embeddings else self.head_params

    @property
    def n_params(self) -> int:
        """Total parameter count derived from the shape."""
        return self.matmul_params + self.input_embedding_params + self.norm_params

    @classmethod
    def from_hf_config(cls, config: Any, *, name: str | None = None) -> ModelShape:
        """The shape of a Hugging Face ``config.json``: a local path (or a directory holding one) or
        the parsed dict, LLaMA family (``llama``, ``mistral``) or GPT-2; nothing is downloaded. A
        missing required key raises ``ValueError`` naming it. See :mod:`specdec.perf.hf_config`."""
        return cls(**hf_config.shape_fields(config, name=name))

    def kv_cache_bytes_per_token(self, kv_dtype: str = "bf16") -> float:
        """Bytes of K and V cached per token of one sequence, all layers."""
        check_dtype("kv_dtype", kv_dtype)
        return 2.0 * self.n_layers * self.n_kv_heads * self.head_dim * DTYPE_BYTES[kv_dtype]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON), with the derived ``n_params``."""
        return _checks.to_dict(self, n_params=self.n_params)


def shape_from_hf_config(config: object, *, name: str | None = None) -> ModelShape:
    """The :class:`ModelShape` of a Hugging Face config: a local path, a directory holding a
    ``config.json``, or the parsed dict (what the fields mean and their defaults:
    :mod:`specdec.perf.hf_config`).

    ``name`` defaults to the config's ``_name_or_path``, else the name of the folder that holds the
    file, else ``"hf-config"``. The shape's ``source`` names the file and quotes the values read.
    """
    return ModelShape.from_hf_config(config, name=name)
