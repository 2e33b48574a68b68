"""The fields of a :class:`~specdec.perf.shapes.ModelShape` read from a Hugging Face ``config.json``.

Nothing is downloaded: the argument is a path to a local ``config.json`` (or a directory holding
one) or the parsed dict. A file over :data:`MAX_CONFIG_BYTES` is refused unread (a real config is a
few kilobytes). Supported families, picked by ``model_type`` (or, when that key is absent, by which
keys are present):

- **LLaMA family** (``model_type`` ``"llama"`` or ``"mistral"``): ``hidden_size``,
  ``num_hidden_layers``, ``num_attention_heads``, ``intermediate_size`` and ``vocab_size`` are
  required; ``num_key_value_heads`` defaults to ``num_attention_heads``, ``head_dim`` to
  ``hidden_size / num_attention_heads`` and ``tie_word_embeddings`` to false, as in the
  ``transformers`` configuration classes. Gated (SwiGLU) MLP, RMSNorm, no biases. A config with
  ``attention_bias`` or ``mlp_bias`` true, or with an active ``sliding_window``, is refused: the
  shape cannot express biases, and a sliding window reads less KV cache than full attention, so the
  roofline would no longer be a lower bound.
- **GPT-2** (``model_type`` ``"gpt2"``): ``n_embd``, ``n_layer``, ``n_head`` and ``vocab_size``
  are required; ``n_inner`` defaults to ``4 * n_embd`` and ``tie_word_embeddings`` to true. Plain
  two-matrix MLP. The shape leaves out GPT-2's biases, its LayerNorm biases and its learned
  position table (``n_positions × n_embd``, gathered one row per position); all three are small
  next to the weights a forward streams, and :func:`gpt2_params_left_out` counts them.

An optional key set to ``null`` takes its default, as in ``transformers`` (which writes
``"n_inner": null`` into every GPT-2 config). Where the head size is derived, the head count must
divide the model width (``hidden_size`` or ``n_embd``). A missing (or ``null``) required key, or a
width the heads do not divide, raises ``ValueError`` naming the key; a value of the wrong type raises
``TypeError`` naming the key. Pure Python.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from specdec import _checks
from specdec.perf.units import MAX_COUNT

__all__ = ["MAX_CONFIG_BYTES", "SUPPORTED_MODEL_TYPES", "shape_fields", "gpt2_params_left_out"]

#: ``model_type`` values read by :func:`shape_fields`.
SUPPORTED_MODEL_TYPES = ("llama", "mistral", "gpt2")

#: Largest ``config.json`` read, in bytes (1 MiB); a larger file (or ``/dev/zero``) is refused.
MAX_CONFIG_BYTES = 1 << 20


def _read_file(path: Path) -> object:
    """The JSON value of ``path``, reading at most :data:`MAX_CONFIG_BYTES` + 1 bytes of it."""
    where = repr(os.fspath(path))
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"config: cannot read {where}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"config: {where} is larger than {MAX_CONFIG_BYTES} bytes (1 MiB); a config.json is a few kB"
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"config: {where} is not a JSON file: {exc}") from None


def _read(config: object) -> tuple[dict[str, Any], str]:
    """The config as a dict, and a label for messages (the file's path, or "config")."""
    if isinstance(config, Mapping):
        return dict(config), "config"
    if not isinstance(config, (str, os.PathLike)):
        raise TypeError(f"config must be a path to a config.json or a dict, got {_checks.show(config)}")
    path = Path(config)
    if path.is_dir():
        path = path / "config.json"
    data = _read_file(path)
    if not isinstance(data, dict):
        raise ValueError(f"config: {os.fspath(path)!r} must hold a JSON object, not {type(data).__name__}")
    return data, os.fspath(path)


def _get(data: Mapping[str, Any], key: str, label: str, family: str, default: Any = None) -> Any:
    """``data[key]`` as a count in [1, MAX_COUNT]; absent or ``null``: ``default``, or ``ValueError``
    saying the key is required when there is no default."""
    value = data.get(key)
    if value is None:
        value = default
    if value is None:
        raise ValueError(f"{key}: missing from {label} (required for a {family} config)")
    return _checks.integer(key, value, 1, MAX_COUNT)


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    return default if value is None else _checks.flag(key, value)


def _head_dim(width_key: str, width: int, heads_key: str, heads: int) -> int:
    """``width / heads``; ``ValueError`` naming both keys when the heads do not divide the width."""
    if width % heads:
        raise ValueError(
            f"{heads_key}: {heads} heads do not divide {width_key} {width}; the head size would not be whole"
        )
    return width // heads


def _family(data: Mapping[str, Any]) -> str:
    kind = data.get("model_type")
    if kind is None:
        return "gpt2" if "n_embd" in data else "llama"
    if kind not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"model_type: {kind!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    return str(kind)


def _llama_fields(data: Mapping[str, Any], label: str) -> dict[str, Any]:
    for key in ("attention_bias", "mlp_bias"):
        if data.get(key):
            raise ValueError(f"{key}: {label} has biases, which the shape cannot express")
    if data.get("sliding_window") is not None and data.get("use_sliding_window", True):
        raise ValueError(
            f"sliding_window: {label} attends over a window of {data['sliding_window']} positions; "
            "the shape models full attention only"
        )
    d = _get(data, "hidden_size", label, "llama")
    heads = _get(data, "num_attention_heads", label, "llama")
    head_dim = data.get("head_dim")
    return dict(
        n_layers=_get(data, "num_hidden_layers", label, "llama"),
        d_model=d,
        n_heads=heads,
        n_kv_heads=_get(data, "num_key_value_heads", label, "llama", heads),
        head_dim=(
            _get(data, "head_dim", label, "llama")
            if head_dim is not None
            else _head_dim("hidden_size", d, "num_attention_heads", heads)
        ),
        d_ffn=_get(data, "intermediate_size", label, "llama"),
        vocab_size=_get(data, "vocab_size", label, "llama"),
        tied_embeddings=_flag(data, "tie_word_embeddings", False),
        gated_ffn=True,
    )


def _gpt2_fields(data: Mapping[str, Any], label: str) -> dict[str, Any]:
    d = _get(data, "n_embd", label, "gpt2")
    heads = _get(data, "n_head", label, "gpt2")
    return dict(
        n_layers=_get(data, "n_layer", label, "gpt2"),
        d_model=d,
        n_heads=heads,
        n_kv_heads=heads,
        head_dim=_head_dim("n_embd", d, "n_head", heads),
        d_ffn=_get(data, "n_inner", label, "gpt2", 4 * d),
        vocab_size=_get(data, "vocab_size", label, "gpt2"),
        tied_embeddings=_flag(data, "tie_word_embeddings", True),
        gated_ffn=False,
    )


def shape_fields(config: object, *, name: str | None = None) -> dict[str, Any]:
    """The keyword arguments of :class:`~specdec.perf.shapes.ModelShape` for a Hugging Face config
    (path, directory or dict): what :meth:`~specdec.perf.shapes.ModelShape.from_hf_config` builds.

    ``name`` defaults to the config's ``_name_or_path``, else the name of the folder that holds the
    file, else ``"hf-config"``; ``source`` names the file and quotes the values read.
    """
    data, label = _read(config)
    family = _family(data)
    fields = _gpt2_fields(data, label) if family == "gpt2" else _llama_fields(data, label)
    if name is None:
        name = (
            data.get("_name_or_path") or (Path(label).parent.name if label != "config" else "") or "hf-config"
        )
    quoted = ", ".join(f"{key} {value}" for key, value in fields.items())
    note = "; biases, LayerNorm biases and the position table left out" if family == "gpt2" else ""
    source = f"Hugging Face config ({label}, model_type {family}): {quoted}{note}"
    return dict(fields, name=_checks.text("name", name, empty=False), source=source)


def gpt2_params_left_out(config: object) -> int:
    """Parameters of a GPT-2 config that its shape leaves out: the learned position table
    (``n_positions × n_embd``), every linear layer's bias and every LayerNorm's bias."""
    data, label = _read(config)
    fields = _gpt2_fields(data, label)
    d, f, layers = fields["d_model"], fields["d_ffn"], fields["n_layers"]
    positions = _get(data, "n_positions", label, "gpt2")
    biases = layers * (3 * d + d + f + d)  # c_attn, attention c_proj, c_fc, MLP c_proj
    return positions * d + biases + (2 * layers + 1) * d
