"""Arithmetic intensity and roofline time of one transformer forward during decoding.

The roofline model (Williams, Waterman & Patterson, "Roofline: An Insightful Visual Performance Model
for Multicore Architectures", Communications of the ACM 52(4), April 2009, pp. 65-76,
DOI 10.1145/1498765.1498785) bounds the time of a kernel from below by the larger of two times: its
floating-point operations at the peak FLOP/s, and the bytes it must move at the peak memory bandwidth.
The ratio FLOPs / bytes is the kernel's *arithmetic intensity*; the intensity at which the two times
are equal (peak FLOP/s divided by bandwidth) is the *ridge point*. Below the ridge the kernel is
memory-bound, above it compute-bound.

This module counts FLOPs and bytes for one forward of a decoder-only transformer (a
:class:`ModelShape`) over ``new_tokens`` positions of ``batch`` sequences, each with ``context`` cached
positions, and evaluates the roofline on a :class:`Hardware` preset. The presets, :data:`HARDWARE` and
:data:`MODELS`, are records of ``data/presets.toml`` (see :func:`load_presets`). Everything is plain Python
(the standard library and the pure-Python ``specdec._checks``), so ``bench/gpu_verify_cost.py`` can
import it on a machine without NumPy.

Conventions: FLOPs count a multiply-add as 2; GB, TB and TFLOPS are decimal (10^9, 10^12) as vendors
print them, GiB is 2^30; "dense" peaks are without 2:4 structured sparsity. Byte counts are floats,
so a 4-bit weight costs 0.5 bytes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from specdec import _checks

__all__ = [
    "DTYPE_BYTES",
    "MAX_COUNT",
    "COMPUTE_BOUND_MAX_BATCH",
    "COMPUTE_BOUND_K_MAX",
    "Hardware",
    "ModelShape",
    "ForwardCost",
    "MatmulCost",
    "HARDWARE",
    "MODELS",
    "load_presets",
    "get_hardware",
    "half_precision_dtype",
    "get_model",
    "forward_cost",
    "matmul_cost",
    "verification_cost_ratio",
    "compute_bound_batch",
    "compute_bound_k",
    "matmul_bound_batch",
    "KernelCost",
    "format_breakdown",
    "RooflineReport",
    "roofline_report",
    "sweep_tokens",
]

#: Bytes per element of each supported dtype. Sub-byte types stay fractional (int4 = 0.5 bytes).
DTYPE_BYTES: Mapping[str, float] = MappingProxyType(
    {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
)

# Integer weight formats are weight-only quantisation by default: the matmuls run in bf16.
_WEIGHT_ONLY_DTYPES = frozenset({"int8", "int4"})

#: Largest ``batch``, ``new_tokens``, ``context``, matmul size and :class:`ModelShape` dimension accepted:
#: 2^53, up to which every integer is an exact float. With every count bounded so, no FLOP or byte
#: count can overflow a float (or raise ``OverflowError``).
MAX_COUNT = _checks.MAX_EXACT_INT

#: Default ``max_batch`` of :func:`compute_bound_batch`: the largest batch searched.
COMPUTE_BOUND_MAX_BATCH = 1 << 20

#: Default ``k_max`` of :func:`compute_bound_k`: the largest k searched.
COMPUTE_BOUND_K_MAX = 1 << 16


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------


def _count(name: str, value: object, minimum: int, maximum: int = MAX_COUNT) -> int:
    return _checks.integer(name, value, minimum, maximum)


def _dtype(name: str, value: object) -> str:
    valid = ", ".join(DTYPE_BYTES)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a dtype name (a string), got {_checks.show(value)}; valid: {valid}")
    if value not in DTYPE_BYTES:
        raise ValueError(f"{name}: unknown dtype {_checks.show(value)}; valid: {valid}")
    return str(value)


# ----------------------------------------------------------------------------------------------
# hardware
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hardware:
    """One accelerator (or a measured machine): peaks, bandwidth, capacity, and where they come from.

    ``peak_flops_per_s`` maps a compute dtype (a key of ``DTYPE_BYTES``) to the dense peak in FLOP/s;
    only dtypes whose peak is documented are present. ``bandwidth_bytes_per_s`` is the peak main-memory
    (HBM, GDDR or DRAM) bandwidth and ``memory_bytes`` its capacity.

    ``name`` must be a non-empty string and ``source`` a string; every rate and capacity a finite
    number > 0, stored as a plain ``float``, and every ridge point (peak / bandwidth) finite and > 0.
    Anything else raises ``ValueError`` naming the field.
    """

    name: str
    peak_flops_per_s: Mapping[str, float]
    bandwidth_bytes_per_s: float
    memory_bytes: float
    source: str

    def __post_init__(self) -> None:
        # Stored as plain Python str and float, whatever str or number subclass was passed.
        object.__setattr__(self, "name", _checks.text("name", self.name, empty=False))
        if not isinstance(self.peak_flops_per_s, Mapping) or not self.peak_flops_per_s:
            raise ValueError("peak_flops_per_s must be a non-empty mapping of dtype -> FLOP/s")
        bandwidth = _checks.positive("bandwidth_bytes_per_s", self.bandwidth_bytes_per_s)
        peaks = {}
        for dt, value in self.peak_flops_per_s.items():
            key = _dtype("peak_flops_per_s key", dt)
            peaks[key] = _checks.positive(f"peak_flops_per_s[{key!r}]", value)
            ridge = peaks[key] / bandwidth
            if not (math.isfinite(ridge) and ridge > 0):
                raise ValueError(
                    f"peak_flops_per_s[{key!r}]: the ridge point {peaks[key]!r} / {bandwidth!r} FLOP/byte "
                    "is not a finite positive number"
                )
        object.__setattr__(self, "peak_flops_per_s", MappingProxyType(peaks))
        object.__setattr__(self, "bandwidth_bytes_per_s", bandwidth)
        object.__setattr__(self, "memory_bytes", _checks.positive("memory_bytes", self.memory_bytes))
        object.__setattr__(self, "source", _checks.text("source", self.source))

    def peak(self, compute_dtype: str) -> float:
        """Dense peak FLOP/s for ``compute_dtype``; ValueError if that dtype has no documented peak."""
        _dtype("compute_dtype", compute_dtype)
        if compute_dtype not in self.peak_flops_per_s:
            have = ", ".join(self.peak_flops_per_s)
            raise ValueError(
                f"compute_dtype: {self.name!r} has no verified peak for {compute_dtype!r} (verified: {have})"
            )
        return self.peak_flops_per_s[compute_dtype]

    def ridge_point(self, compute_dtype: str = "bf16") -> float:
        """Arithmetic intensity (FLOP/byte) at which compute time equals memory time."""
        return self.peak(compute_dtype) / self.bandwidth_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


# ----------------------------------------------------------------------------------------------
# model shapes
# ----------------------------------------------------------------------------------------------


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

    The dimensions must be integers in [1, :data:`MAX_COUNT`], ``tied_embeddings`` and ``gated_ffn``
    ``True`` or ``False``, ``name`` a non-empty string and ``source`` a string; they are stored as
    plain Python ``int``, ``bool`` and ``str`` whatever (NumPy) types were passed, so the counts are
    exact. Anything else raises ``ValueError`` naming the field.
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
            object.__setattr__(self, f, _count(f, getattr(self, f), 1))
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
        missing required key raises ``ValueError`` naming it. See :mod:`specdec.hf_config`."""
        from specdec.hf_config import shape_from_hf_config

        return shape_from_hf_config(config, name=name)

    def kv_cache_bytes_per_token(self, kv_dtype: str = "bf16") -> float:
        """Bytes of K and V cached per token of one sequence, all layers."""
        _dtype("kv_dtype", kv_dtype)
        return 2.0 * self.n_layers * self.n_kv_heads * self.head_dim * DTYPE_BYTES[kv_dtype]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON), with the derived ``n_params``."""
        return _checks.to_dict(self, n_params=self.n_params)


# ----------------------------------------------------------------------------------------------
# presets: one record each in data/presets.toml
# ----------------------------------------------------------------------------------------------

#: Each unit-suffixed figure of a ``[[hardware]]`` record: the field it sets and its unit.
_HARDWARE_UNITS: Mapping[str, tuple[str, float]] = MappingProxyType(
    {
        "bandwidth_gb_per_s": ("bandwidth_bytes_per_s", 1e9),
        "bandwidth_tb_per_s": ("bandwidth_bytes_per_s", 1e12),
        "memory_gb": ("memory_bytes", 1e9),
        "memory_gib": ("memory_bytes", 2.0**30),
    }
)
_HARDWARE_KEYS = frozenset({"name", "source", "peak_tflops", "printed_with_sparsity", *_HARDWARE_UNITS})
_SHAPE_FIELDS = frozenset(f.name for f in dataclasses.fields(ModelShape))


def _only(record: Mapping[str, Any], allowed: frozenset[str]) -> None:
    extra = sorted(set(record) - allowed)
    if extra:
        raise ValueError(f"unknown field(s) {', '.join(extra)}; valid: {', '.join(sorted(allowed))}")


def _hardware_record(record: Mapping[str, Any]) -> Hardware:
    """A ``[[hardware]]`` record (figures as printed, units in the key names) as a :class:`Hardware`."""
    _only(record, _HARDWARE_KEYS)
    fields: dict[str, Any] = {"name": record.get("name"), "source": record.get("source")}
    for key, (name, unit) in _HARDWARE_UNITS.items():
        if key in record:
            if name in fields:
                raise ValueError(f"{name} is given twice, in two units")
            fields[name] = _checks.positive(key, record[key]) * unit
    printed, sparse = record.get("peak_tflops"), record.get("printed_with_sparsity", [])
    if not isinstance(printed, Mapping) or not isinstance(sparse, list) or not set(sparse) <= set(printed):
        raise ValueError(
            "peak_tflops must be a table {dtype = TFLOP/s}; printed_with_sparsity a list of its dtypes"
        )
    # A peak printed "with sparsity" (2:4 structured) is twice the dense peak.
    fields["peak_flops_per_s"] = {
        dt: _checks.positive(f"peak_tflops.{dt}", tflops) * 1e12 / (2 if dt in sparse else 1)
        for dt, tflops in printed.items()
    }
    return Hardware(**fields)


def _model_record(record: Mapping[str, Any], families: Mapping[str, Any]) -> ModelShape:
    """A ``[[model]]`` record as a :class:`ModelShape`: its family's fields are defaults, and the
    family's source is a template that quotes the record's own numbers (written once, in the record)."""
    fields = dict(record)
    family = fields.pop("family", None)
    if family is not None:
        if family not in families:
            raise ValueError(f"family: unknown family {family!r}; valid: {', '.join(families)}")
        fields = {**families[family], **fields}
    note = fields.pop("note", None)
    template = str(fields.get("source", "")) if family is not None else ""
    quoted = frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
    _only(fields, _SHAPE_FIELDS | quoted)
    if "head_dim" not in fields and "d_model" in fields and "n_heads" in fields:
        fields["head_dim"] = fields["d_model"] // fields["n_heads"]
    if family is not None:
        published = fields.get("published_params")
        fields["source"] = template.format(
            **fields,
            gqa=" (grouped-query attention)"
            if fields.get("n_kv_heads", 0) < fields.get("n_heads", 0)
            else "",
            published_billions=published / 1e9 if published is not None else None,
        )
    if note is not None:
        fields["source"] = f"{fields.get('source', '')}. {note}"
    return ModelShape(**{key: value for key, value in fields.items() if key in _SHAPE_FIELDS})


def _records(data: Mapping[str, Any], kind: str, build: Any, label: str) -> Mapping[str, Any]:
    """The ``[[kind]]`` records of ``data`` built with ``build``, keyed by name in file order."""
    out: dict[str, Any] = {}
    for i, record in enumerate(data.get(kind, []), start=1):
        where = f"{label}: {kind} {record.get('name', f'#{i}')!r}" if isinstance(record, dict) else label
        try:
            if not isinstance(record, dict):
                raise ValueError(f"[[{kind}]] #{i} must be a table")
            preset = build(record)
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:
            raise ValueError(f"{where}: {exc}") from exc
        if preset.name in out:
            raise ValueError(f"{where}: a second preset with this name")
        out[preset.name] = preset
    return MappingProxyType(out)


def load_presets(
    path: str | os.PathLike[str] | None = None,
) -> tuple[Mapping[str, Hardware], Mapping[str, ModelShape]]:
    """The hardware and model presets of a TOML file: ``(hardware, models)``, read-only mappings from
    name to :class:`Hardware` and :class:`ModelShape`, in file order.

    ``path`` defaults to the package's ``data/presets.toml``, which gives :data:`HARDWARE` and
    :data:`MODELS`; its header describes the records. ``ValueError`` names the file, the preset and
    the field for anything it cannot read (bad TOML, an unknown field, a missing or invalid figure).
    """
    if path is None:
        label, text = (
            "presets.toml",
            resources.files("specdec").joinpath("data/presets.toml").read_text("utf-8"),
        )
    elif isinstance(path, (str, os.PathLike)):
        label, text = os.fspath(path), Path(path).read_text(encoding="utf-8")
    else:
        raise TypeError(f"path must be a path to a TOML file, got {_checks.show(path)}")
    try:
        data = tomllib.loads(text)
        _only(data, frozenset({"hardware", "model", "family"}))
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise ValueError(f"{label}: {exc}") from exc
    families = data.get("family", {})
    hardware = _records(data, "hardware", _hardware_record, label)
    models = _records(data, "model", lambda record: _model_record(record, families), label)
    return hardware, models


_PRESETS = load_presets()

#: Accelerator presets (``data/presets.toml``). Only figures marked verified in the project's fact
#: sheet are used; a dtype whose dense peak is not documented is simply absent.
HARDWARE: Mapping[str, Hardware] = _PRESETS[0]

#: Model-shape presets (``data/presets.toml``). The Llama 2 rows are published shapes;
#: ``grammar-tutor`` is an assumption.
MODELS: Mapping[str, ModelShape] = _PRESETS[1]


def _preset(kind: str, table: Mapping[str, Any], cls: type, name: object) -> Any:
    """``table[name]``, an instance of ``cls`` passing through, or ValueError listing the valid names."""
    if isinstance(name, cls):
        return name
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a preset name or a {cls.__name__}, got {_checks.show(name)}")
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"{kind}: unknown preset {name!r}; valid: {', '.join(table)}") from None


def get_hardware(name: str | Hardware) -> Hardware:
    """The :class:`Hardware` preset called ``name`` (a ``Hardware`` passes through)."""
    return _preset("hardware", HARDWARE, Hardware, name)


def half_precision_dtype(hardware: str | Hardware) -> str:
    """The 16-bit dtype to run ``hardware`` in: ``"bf16"`` where its bf16 peak is verified, else
    ``"fp16"`` (the RTX 3090 preset has only fp16). ``ValueError`` if it has neither."""
    hw = get_hardware(hardware)
    for dtype in ("bf16", "fp16"):
        if dtype in hw.peak_flops_per_s:
            return dtype
    raise ValueError(
        f"hardware: {hw.name!r} has no verified 16-bit peak (verified: {', '.join(hw.peak_flops_per_s)})"
    )


def get_model(name: str | ModelShape) -> ModelShape:
    """The :class:`ModelShape` preset called ``name`` (a ``ModelShape`` passes through)."""
    return _preset("model", MODELS, ModelShape, name)


# ----------------------------------------------------------------------------------------------
# roofline evaluation
# ----------------------------------------------------------------------------------------------


def _rates(hw: Hardware, compute_dtype: str, flops_efficiency: object, bandwidth_efficiency: object):
    """Peak FLOP/s and bandwidth after the efficiency factors, each checked to be a fraction in (0, 1]."""
    fe = _checks.fraction("flops_efficiency", flops_efficiency)
    be = _checks.fraction("bandwidth_efficiency", bandwidth_efficiency)
    return hw.peak(compute_dtype) * fe, hw.bandwidth_bytes_per_s * be, fe, be


def _roofline(
    flops: float,
    bytes_moved: float,
    hw: Hardware,
    compute_dtype: str,
    flops_efficiency: object,
    bandwidth_efficiency: object,
) -> dict[str, Any]:
    """Times, intensity, ridge and bound; ValueError naming the culprit if any of them is not finite."""
    peak, bandwidth, fe, be = _rates(hw, compute_dtype, flops_efficiency, bandwidth_efficiency)
    compute_time = flops / peak if peak > 0 else math.inf
    memory_time = bytes_moved / bandwidth if bandwidth > 0 else math.inf
    out = {
        "arithmetic_intensity": flops / bytes_moved,
        "ridge_point": peak / bandwidth if bandwidth > 0 else math.inf,
        "compute_time_s": compute_time,
        "memory_time_s": memory_time,
        "time_s": max(compute_time, memory_time),
        "bound": "compute" if compute_time > memory_time else "memory",
    }
    # Counts are bounded (MAX_COUNT), so only extreme rates can push a result out of the float range:
    # a tiny efficiency factor, or a hand-built Hardware with absurd peaks.
    culprit = {
        "compute_time_s": "flops_efficiency" if fe < 1 else "hardware",
        "memory_time_s": "bandwidth_efficiency" if be < 1 else "hardware",
        "ridge_point": "bandwidth_efficiency" if be < 1 else ("flops_efficiency" if fe < 1 else "hardware"),
    }
    given = {"flops_efficiency": fe, "bandwidth_efficiency": be, "hardware": hw.name}
    for key, name in culprit.items():
        if not (math.isfinite(out[key]) and out[key] > 0):
            raise ValueError(
                f"{name} out of range: the roofline's {key} is {out[key]!r}, not a finite positive number "
                f"(got {name}={given[name]!r})"
            )
    return out


@dataclass(frozen=True)
class KernelCost:
    """One kernel of a forward (or ``count`` identical ones, one per layer), on its own roofline.

    ``kind`` is ``"matmul"`` (a weight matrix product), ``"attention"`` (scores and weighted sum over
    the cache), ``"elementwise"`` (a norm or the activation function) or ``"gather"`` (the embedding
    lookup). FLOPs, bytes and times are totals over the ``count`` instances; ``time_s`` is
    max(``compute_time_s``, ``memory_time_s``) and ``bound`` says which one it is.
    """

    name: str
    kind: str
    count: int
    flops: float
    bytes_weights: float
    bytes_kv_read: float
    bytes_kv_write: float
    bytes_activations: float
    bytes: float
    arithmetic_intensity: float
    compute_time_s: float
    memory_time_s: float
    time_s: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def _kernel_specs(
    m: ModelShape, B: int, T: int, C: int, w_bytes: float, a_bytes: float, kv_per_token: float
) -> list[dict[str, Any]]:
    """FLOPs and bytes of every kernel of one forward, in the order they run (:class:`ForwardCost`
    lists what each counts), for ``B`` sequences of ``T`` new positions after ``C`` cached ones."""
    n, L, d, f = B * T, m.n_layers, m.d_model, m.d_ffn
    q, kv_layer = m.n_heads * m.head_dim, kv_per_token / m.n_layers
    up = (2 if m.gated_ffn else 1) * f  # a gated MLP's gate and up outputs, side by side
    specs: list[dict[str, Any]] = []

    def add(name, kind, count, flops, weights=0.0, kv_read=0.0, kv_write=0.0, activations=0.0):
        specs.append(
            dict(
                name=name,
                kind=kind,
                count=count,
                flops=count * flops,
                bytes_weights=count * weights,
                bytes_kv_read=count * kv_read,
                bytes_kv_write=count * kv_write,
                bytes_activations=count * activations * a_bytes,
            )
        )

    def matmul(name, count, d_in, d_out, act_in, act_out=None, kv_write=0.0):
        flops, weights = 2.0 * n * d_in * d_out, d_in * d_out * w_bytes
        out = d_out if act_out is None else act_out
        add(name, "matmul", count, flops, weights, 0.0, kv_write, n * (act_in + out))

    def norm(name, count):  # RMSNorm: ~4 FLOPs per element; reads x and its weight, writes x
        if m.norms:
            add(name, "elementwise", count, 4.0 * n * d, d * a_bytes, activations=2.0 * n * d)

    if m.embeddings:  # one row per position, at most the whole table
        add("embedding", "gather", 1, 0.0, min(n, m.vocab_size) * d * w_bytes, activations=n * d)
    norm("attn norm", L)
    # Q, K and V: one read of the input; Q written out, K and V written into the cache.
    matmul("qkv", L, d, q + 2 * m.n_kv_heads * m.head_dim, d, act_out=q, kv_write=n * kv_layer)
    attended = T * C + T * (T + 1) / 2.0  # new position i attends to C + i earlier positions and itself
    add("attention", "attention", L, 4.0 * q * B * attended, 0.0, B * C * kv_layer, 0.0, 2.0 * n * q)
    matmul("out proj", L, q, d, q + d)  # the residual add is the matmul's epilogue: one more d read
    norm("ffn norm", L)
    matmul("gate+up" if m.gated_ffn else "up", L, d, up, d)
    add("activation", "elementwise", L, 4.0 * n * f, activations=n * (up + f))
    matmul("down", L, f, d, f + d)
    norm("final norm", 1)
    if m.embeddings:
        matmul("lm head", 1, d, m.vocab_size, d)
    return specs


def _kernel_cost(spec: Mapping[str, Any], peak: float, bandwidth: float) -> KernelCost:
    nbytes = (
        spec["bytes_weights"] + spec["bytes_kv_read"] + spec["bytes_kv_write"] + spec["bytes_activations"]
    )
    compute, memory = spec["flops"] / peak, nbytes / bandwidth
    return KernelCost(
        **spec,
        bytes=nbytes,
        arithmetic_intensity=spec["flops"] / nbytes,
        compute_time_s=compute,
        memory_time_s=memory,
        time_s=max(compute, memory),
        bound="compute" if compute > memory else "memory",
    )


@dataclass(frozen=True)
class ForwardCost:
    """FLOPs, bytes and roofline time of one forward; see :func:`forward_cost`.

    Units: ``flops*`` in FLOPs, ``bytes*`` in bytes, intensities and ``ridge_point`` in FLOP/byte,
    ``*_time_s`` in seconds, ``tokens_per_s`` in token positions per second.

    A forward is the list of kernels in ``kernels`` (:class:`KernelCost`), which run one after
    another: per layer a norm, the Q/K/V matmul, attention over the cache, the output projection, a
    norm, the gate/up (or up) matmul, the activation function and the down projection; before them
    the embedding lookup and after them the final norm and the output head. ``time_s``, the lower
    bound this module reports, is the **sum over kernels of each kernel's own roofline**,
    max(FLOPs / peak, bytes / bandwidth), after the efficiency factors. ``time_whole_forward_s`` is
    the looser bound of one roofline over the whole forward, max(``compute_time_s``,
    ``memory_time_s``) of the totals: it lets one kernel's arithmetic hide under another kernel's
    memory traffic, which kernels that run one after another cannot do, so it is never larger than
    ``time_s``. ``bound`` is ``"compute"`` when the compute-bound kernels take more than half of
    ``time_s`` (their share is ``compute_bound_fraction``), else ``"memory"``.

    FLOPs: 2 per multiply-add in every weight matrix (all layers and the output head) for each of the
    ``batch × new_tokens`` positions; attention scores and the weighted sum of values (4 · n_heads ·
    head_dim FLOPs per layer per attended position; new position i attends to ``context + i``
    earlier positions and itself; the softmax is not counted); element-wise kernels at 4 FLOPs per
    element (a norm per input element, the activation per output element).

    Bytes, per kernel, the least it can move:

    - weights: each matmul streams its weight matrix once, in ``weight_dtype``; each norm reads its
      weight vector, in ``compute_dtype``; the embedding lookup gathers one row per position (at most
      the whole table), from the output head's table when the two are tied.
    - KV cache, in ``kv_dtype``: attention reads the ``context`` cached positions of every sequence;
      the Q/K/V matmul writes K and V of every new position into the cache (``bytes_kv_write``).
    - activations, in ``compute_dtype``: each kernel reads its input and writes its output once. The
      Q/K/V matmul reads its input once and writes Q only (K and V go to the cache); attention reads
      Q and writes its output; the residual adds are the epilogues of the output and down
      projections, which read the residual stream besides their input; a gated MLP's gate/up matmul
      writes both halves, and the activation kernel reads them and writes their gated product.

    ``memory_required_bytes`` is all weights plus the KV cache after the forward; ``fits_in_memory``
    compares it with one device's capacity. Nothing is sharded.
    """

    model: str
    hardware: str
    batch: int
    new_tokens: int
    context: int
    weight_dtype: str
    kv_dtype: str
    compute_dtype: str
    flops_matmul: float
    flops_attention: float
    flops_elementwise: float
    flops: float
    bytes_weights: float
    bytes_kv_read: float
    bytes_kv_write: float
    bytes_activations: float
    bytes: float
    arithmetic_intensity: float
    ridge_point: float
    compute_time_s: float
    memory_time_s: float
    time_whole_forward_s: float
    time_s: float
    compute_bound_fraction: float
    bound: str
    tokens_per_s: float
    memory_required_bytes: float
    fits_in_memory: bool
    kernels: tuple[KernelCost, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON), each kernel as a dict."""
        return _checks.to_dict(self) | {"kernels": [k.to_dict() for k in self.kernels]}


def _default_compute_dtype(weight_dtype: str) -> str:
    return "bf16" if weight_dtype in _WEIGHT_ONLY_DTYPES else weight_dtype


def forward_cost(
    model: str | ModelShape,
    hardware: str | Hardware,
    *,
    batch: int = 1,
    new_tokens: int = 1,
    context: int = 0,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    compute_dtype: str | None = None,
    flops_efficiency: float = 1.0,
    bandwidth_efficiency: float = 1.0,
) -> ForwardCost:
    """Roofline cost of one forward over ``new_tokens`` positions for each of ``batch`` sequences.

    ``new_tokens = 1`` is a plain decode step; ``new_tokens = k + 1`` is the target forward that
    verifies k drafted tokens. Each sequence already has ``context`` positions in its KV cache. What
    the kernels, FLOPs, bytes and memory count, item by item, is listed under :class:`ForwardCost`.

    ``weight_dtype`` sets the bytes per weight; ``compute_dtype`` (default: the weight dtype, or bf16
    for int8/int4 weight-only quantisation) picks the hardware peak and the activation size;
    ``kv_dtype`` defaults to the compute dtype. ``flops_efficiency`` and ``bandwidth_efficiency``
    (fractions in (0, 1]) scale the peaks to what a real kernel achieves.

    Raises ``ValueError`` naming the argument for an unknown preset or dtype, a dtype without a
    verified peak on this hardware, ``batch`` or ``new_tokens`` not an integer in [1,
    :data:`MAX_COUNT`], ``context`` not an integer in [0, :data:`MAX_COUNT`], an efficiency outside
    (0, 1], or rates so extreme that a time or rate of the result is not a finite positive number.
    """
    m, hw = get_model(model), get_hardware(hardware)
    B, T, C = _count("batch", batch, 1), _count("new_tokens", new_tokens, 1), _count("context", context, 0)
    wdt = _dtype("weight_dtype", weight_dtype)
    cdt = _dtype("compute_dtype", compute_dtype if compute_dtype is not None else _default_compute_dtype(wdt))
    kdt = _dtype("kv_dtype", kv_dtype if kv_dtype is not None else cdt)
    hw.peak(cdt)  # an unverified compute dtype is reported before the efficiencies are checked
    kv_per_token = m.kv_cache_bytes_per_token(kdt)
    totals, specs = _totals(_kernel_specs(m, B, T, C, DTYPE_BYTES[wdt], DTYPE_BYTES[cdt], kv_per_token))
    whole = _roofline(totals["flops"], totals["bytes"], hw, cdt, flops_efficiency, bandwidth_efficiency)
    peak, bandwidth, _, _ = _rates(hw, cdt, flops_efficiency, bandwidth_efficiency)
    kernels = tuple(_kernel_cost(s, peak, bandwidth) for s in specs)
    time_s = math.fsum(k.time_s for k in kernels)
    compute_share = math.fsum(k.time_s for k in kernels if k.bound == "compute") / time_s
    tokens_per_s = B * T / time_s
    if not (math.isfinite(time_s) and math.isfinite(tokens_per_s) and tokens_per_s > 0):
        raise ValueError(f"hardware: the time {time_s!r} s or tokens_per_s {tokens_per_s!r} is not finite")
    weights = (m.matmul_params + m.input_embedding_params) * DTYPE_BYTES[wdt]
    memory = weights + m.norm_params * DTYPE_BYTES[cdt] + B * (C + T) * kv_per_token
    return ForwardCost(
        model=m.name, hardware=hw.name, batch=B, new_tokens=T, context=C,
        weight_dtype=wdt, kv_dtype=kdt, compute_dtype=cdt, **totals,
        arithmetic_intensity=whole["arithmetic_intensity"], ridge_point=whole["ridge_point"],
        compute_time_s=whole["compute_time_s"], memory_time_s=whole["memory_time_s"],
        time_whole_forward_s=whole["time_s"], time_s=time_s, compute_bound_fraction=compute_share,
        bound="compute" if compute_share > 0.5 else "memory", tokens_per_s=tokens_per_s,
        memory_required_bytes=memory, fits_in_memory=memory <= hw.memory_bytes, kernels=kernels,
    )  # fmt: skip


def _totals(specs: list[dict[str, Any]]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The FLOP and byte totals of :class:`ForwardCost` over the kernels ``specs`` (returned too)."""
    flops = {kind: math.fsum(s["flops"] for s in specs if s["kind"] in kinds) for kind, kinds in _FLOP_KINDS}
    parts = ("bytes_weights", "bytes_kv_read", "bytes_kv_write", "bytes_activations")
    out = flops | {key: math.fsum(s[key] for s in specs) for key in parts}
    out["flops"] = math.fsum(flops.values())
    out["bytes"] = math.fsum(out[key] for key in parts)
    return out, specs


_FLOP_KINDS = (
    ("flops_matmul", ("matmul",)),
    ("flops_attention", ("attention",)),
    ("flops_elementwise", ("elementwise", "gather")),
)


@dataclass(frozen=True)
class MatmulCost:
    """Roofline cost of one ``x[tokens, d_in] @ W[d_in, d_out]``; see :func:`matmul_cost`."""

    tokens: int
    d_in: int
    d_out: int
    dtype: str
    flops: float
    bytes: float
    arithmetic_intensity: float
    ridge_point: float
    compute_time_s: float
    memory_time_s: float
    time_s: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def matmul_cost(
    tokens: int,
    d_in: int,
    d_out: int,
    hardware: str | Hardware,
    *,
    dtype: str = "bf16",
    flops_efficiency: float = 1.0,
    bandwidth_efficiency: float = 1.0,
) -> MatmulCost:
    """Roofline cost of ``x[tokens, d_in] @ W[d_in, d_out]`` with everything in ``dtype``.

    FLOPs 2 · tokens · d_in · d_out; bytes (d_in · d_out + tokens · d_in + tokens · d_out) times the
    dtype size: W, x and the output each cross the memory bus once. This is the kernel that
    :mod:`specdec.probe` and ``bench/gpu_verify_cost.py`` time.
    """
    hw = get_hardware(hardware)
    t = _count("tokens", tokens, 1)
    di = _count("d_in", d_in, 1)
    do = _count("d_out", d_out, 1)
    dt = _dtype("dtype", dtype)
    hw.peak(dt)  # an unverified dtype is reported before the efficiencies are checked
    flops = 2.0 * t * di * do
    nbytes = (di * do + t * di + t * do) * DTYPE_BYTES[dt]
    roof = _roofline(flops, nbytes, hw, dt, flops_efficiency, bandwidth_efficiency)
    return MatmulCost(tokens=t, d_in=di, d_out=do, dtype=dt, flops=flops, bytes=nbytes, **roof)


# ----------------------------------------------------------------------------------------------
# verification cost and the crossovers
# ----------------------------------------------------------------------------------------------


def verification_cost_ratio(model: str | ModelShape, hardware: str | Hardware, k: int, **kw: Any) -> float:
    """c_verify = time(forward over k + 1 new positions) / time(forward over 1 new position).

    Both forwards use the same keyword arguments ``kw`` (passed to :func:`forward_cost`; ``batch``
    defaults to 1, one sequence). This is the factor that replaces the ``1`` in Leviathan et al.'s
    Theorem 3.8 in :func:`specdec.speedup.walltime_speedup`. While the (k + 1)-position forward stays
    memory-bound the ratio is close to 1: verification is nearly free.

    Raises ``ValueError`` if ``k`` is not an integer in [1, :data:`MAX_COUNT` − 1] or ``kw`` contains
    ``new_tokens``.
    """
    kk = _count("k", k, 1, MAX_COUNT - 1)
    if "new_tokens" in kw:
        raise ValueError("new_tokens: set by verification_cost_ratio (k + 1 and 1); do not pass it")
    return (
        forward_cost(model, hardware, new_tokens=kk + 1, **kw).time_s
        / forward_cost(model, hardware, new_tokens=1, **kw).time_s
    )


def _first_true(predicate: Any, lo: int, hi: int) -> int | None:
    """Smallest n in [lo, hi] with ``predicate(n)`` true, for a predicate monotone in n; else None."""
    if predicate(lo):
        return lo
    if not predicate(hi):
        return None
    step = 1
    good = hi
    bad = lo
    while bad + step < hi:  # exponential search for a true point
        if predicate(bad + step):
            good = bad + step
            break
        bad += step
        step *= 2
    while good - bad > 1:  # bisection between last false and first true
        mid = (bad + good) // 2
        if predicate(mid):
            good = mid
        else:
            bad = mid
    return good


def compute_bound_batch(
    model: str | ModelShape, hardware: str | Hardware, *, max_batch: int = COMPUTE_BOUND_MAX_BATCH, **kw: Any
) -> int | None:
    """Smallest batch at which the forward (default: one decode step) becomes compute-bound: its
    compute-bound kernels take more than half of its time (:attr:`ForwardCost.bound`).

    ``kw`` goes to :func:`forward_cost` (``context``, ``new_tokens``, dtypes, efficiencies). Returns
    ``None`` if the forward is still memory-bound at ``max_batch``: with a long context the KV cache,
    which is read once per sequence, grows with the batch just as the FLOPs do, so attention over it
    stays memory-bound and outweighs the matmuls however large the batch (compare
    :func:`matmul_bound_batch`, where the matmuls alone cross). ``max_batch`` defaults to
    :data:`COMPUTE_BOUND_MAX_BATCH` and may be at most :data:`MAX_COUNT`.
    """
    mb = _count("max_batch", max_batch, 1)
    if "batch" in kw:
        raise ValueError("batch: searched by compute_bound_batch; do not pass it")
    return _first_true(lambda b: forward_cost(model, hardware, batch=b, **kw).bound == "compute", 1, mb)


def compute_bound_k(
    model: str | ModelShape, hardware: str | Hardware, *, k_max: int = COMPUTE_BOUND_K_MAX, **kw: Any
) -> int | None:
    """Smallest k for which the forward verifying k + 1 positions is compute-bound.

    For every smaller k the verification forward is memory-bound, costs about as much as a one-token
    decode step, and so is nearly free; from this k on each extra drafted token adds compute time.
    ``kw`` goes to :func:`forward_cost` (``batch``, ``context``, dtypes, efficiencies). Returns ``None``
    if even k = ``k_max`` is memory-bound. ``k_max`` defaults to :data:`COMPUTE_BOUND_K_MAX` and may be
    at most :data:`MAX_COUNT` − 1.
    """
    km = _count("k_max", k_max, 1, MAX_COUNT - 1)
    if "new_tokens" in kw:
        raise ValueError("new_tokens: searched by compute_bound_k; do not pass it")
    return _first_true(
        lambda k: forward_cost(model, hardware, new_tokens=k + 1, **kw).bound == "compute", 1, km
    )


def _matmul_share(cost: ForwardCost) -> float:
    """Share of the weight matmuls' time spent in the compute-bound ones."""
    matmuls = [k for k in cost.kernels if k.kind == "matmul"]
    return math.fsum(k.time_s for k in matmuls if k.bound == "compute") / math.fsum(k.time_s for k in matmuls)


def matmul_bound_batch(
    model: str | ModelShape, hardware: str | Hardware, *, max_batch: int = COMPUTE_BOUND_MAX_BATCH, **kw: Any
) -> int | None:
    """Smallest batch at which the weight matmuls turn compute-bound: the JAX scaling book's B_crit.

    The matmul kernels of one forward (Q/K/V, output, gate/up, down, output head) count as
    compute-bound when the compute-bound ones among them take more than half of their time. Their
    intensity grows with the number of positions ``batch × new_tokens`` and does not depend on the
    context, unlike :func:`compute_bound_batch`, which asks the same of the whole step, attention
    over the KV cache included. ``kw`` and ``max_batch`` as for :func:`compute_bound_batch`.
    """
    mb = _count("max_batch", max_batch, 1)
    if "batch" in kw:
        raise ValueError("batch: searched by matmul_bound_batch; do not pass it")
    return _first_true(lambda b: _matmul_share(forward_cost(model, hardware, batch=b, **kw)) > 0.5, 1, mb)


def format_breakdown(cost: ForwardCost) -> str:
    """The kernels of ``cost`` as a text table, one row per kernel and a total: how many run, their
    FLOPs and bytes, intensity, bound, time and share of ``time_s`` (what ``specdec roofline
    --breakdown`` prints; at most 72 characters wide)."""
    if not isinstance(cost, ForwardCost):
        raise TypeError(f"cost must be a ForwardCost, got {_checks.show(cost)}")
    scale, unit = (1e3, "ms") if cost.time_s >= 1e-3 else (1e6, "us")

    def row(
        name: str, count: str, flops: str, nbytes: str, intensity: str, bound: str, time: str, share: str
    ):
        return f"{name:<11}{count:>6}{flops:>9}{nbytes:>9}{intensity:>8}  {bound:<8}{time:>11}{share:>7}"

    lines = [row("kernel", "count", "FLOPs", "bytes", "FLOP/B", "bound", f"time {unit}", "share")]
    for item in (*cost.kernels, cost):
        lines.append(
            row(
                getattr(item, "name", "total"),
                str(getattr(item, "count", "")),
                _si(item.flops, ""),
                _si(item.bytes, "B"),
                f"{item.arithmetic_intensity:.1f}",
                item.bound,
                f"{item.time_s * scale:.3f}",
                f"{item.time_s / cost.time_s:.1%}",
            )
        )
    return "\n".join(lines)


def _si(value: float, unit: str, digits: int = 3) -> str:
    """``value`` with a decimal SI prefix: _si(13.2e9, "B") -> '13.2 GB'."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}".rstrip()


@dataclass(frozen=True)
class RooflineReport:
    """What ``python -m specdec roofline`` reports; see :func:`roofline_report`.

    ``cost``: the forward asked for. ``c_verify``: t(new_tokens) / t(1), ``None`` for a one-position
    forward. ``compute_bound_batch``, ``matmul_bound_batch`` and ``compute_bound_k``: the crossovers
    (``None``: never, up to ``max_batch`` / ``k_max``). ``decode_intensity_limit``: the decode
    intensity, in FLOP/byte, at ``max_batch``, where it levels off when the KV cache keeps decode
    memory-bound.
    """

    cost: ForwardCost
    hardware: Hardware
    c_verify: float | None
    compute_bound_batch: int | None
    matmul_bound_batch: int | None
    compute_bound_k: int | None
    decode_intensity_limit: float
    max_batch: int
    k_max: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return {
            "forward_cost": self.cost.to_dict(),
            "hardware": self.hardware.to_dict(),
            "verification_cost_ratio": self.c_verify,
            "compute_bound_batch": self.compute_bound_batch,
            "matmul_bound_batch": self.matmul_bound_batch,
            "compute_bound_k": self.compute_bound_k,
            "decode_intensity_limit": self.decode_intensity_limit,
        }


def roofline_report(
    model: str | ModelShape, hardware: str | Hardware, *, new_tokens: int = 1, **kw: Any
) -> RooflineReport:
    """One forward (:func:`forward_cost`, ``new_tokens`` positions and ``kw``), its verification cost
    ratio, and where decode (over the batch: the whole step, and its weight matmuls) and verification
    (over k) turn compute-bound.

    ``kw`` takes the other arguments of :func:`forward_cost`; ``weight_dtype`` defaults to
    :func:`half_precision_dtype` of the hardware, so every preset works with the defaults.
    """
    hw = get_hardware(hardware)
    kw.setdefault("weight_dtype", half_precision_dtype(hw))
    cost = forward_cost(model, hw, new_tokens=new_tokens, **kw)
    c_verify = verification_cost_ratio(model, hw, cost.new_tokens - 1, **kw) if cost.new_tokens > 1 else None
    per_sequence = {key: value for key, value in kw.items() if key != "batch"}
    max_batch, k_max = COMPUTE_BOUND_MAX_BATCH, COMPUTE_BOUND_K_MAX
    return RooflineReport(
        cost=cost,
        hardware=hw,
        c_verify=c_verify,
        compute_bound_batch=compute_bound_batch(model, hw, max_batch=max_batch, **per_sequence),
        matmul_bound_batch=matmul_bound_batch(model, hw, max_batch=max_batch, **per_sequence),
        compute_bound_k=compute_bound_k(model, hw, k_max=k_max, **kw),
        decode_intensity_limit=forward_cost(model, hw, batch=max_batch, **per_sequence).arithmetic_intensity,
        max_batch=max_batch,
        k_max=k_max,
    )


def sweep_tokens(max_tokens: int, k: int) -> list[int]:
    """The token counts T of a verification-cost sweep: powers of two up to ``max_tokens``, plus k + 1.

    Shared by :mod:`specdec.probe` and ``bench/gpu_verify_cost.py``; both arguments are integers >= 1.
    """
    max_tokens = _count("max_tokens", max_tokens, 1)
    k = _count("k", k, 1, MAX_COUNT - 1)
    return sorted({2**i for i in range(max_tokens.bit_length())} | {k + 1})
