"""The hardware and model presets: one record each, with its source, in ``data/presets.toml``.

:func:`load_presets` reads a TOML file of ``[[hardware]]``, ``[[model]]`` and ``[family]`` records
(the package's ``data/presets.toml`` by default, whose header describes them) into read-only mappings
of :class:`~specdec.perf.hardware.Hardware` and :class:`~specdec.perf.shapes.ModelShape`;
:data:`HARDWARE` and :data:`MODELS` are the package's own. A record added there appears in the
command line, the pages' tables and the plot. Pure Python.
"""

from __future__ import annotations

import dataclasses
import os
import string
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from specdec import _checks
from specdec.perf.hardware import Hardware
from specdec.perf.shapes import ModelShape

__all__ = ["HARDWARE", "MODELS", "load_presets", "get_hardware", "get_model", "half_precision_dtype"]

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
    """A ``[[hardware]]`` record (figures as printed, units in the key names) as a
    :class:`~specdec.perf.hardware.Hardware`."""
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
    """A ``[[model]]`` record as a :class:`~specdec.perf.shapes.ModelShape`: its family's fields are defaults,
    and the
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
    """The hardware and model presets of a TOML file: ``(hardware, models)``, read-only mappings from name to
    :class:`~specdec.perf.hardware.Hardware` and :class:`~specdec.perf.shapes.ModelShape`, in file order.

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
    """The :class:`~specdec.perf.hardware.Hardware` preset called ``name`` (a ``Hardware`` passes through)."""
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
    """The :class:`~specdec.perf.shapes.ModelShape` preset called ``name`` (a ``ModelShape`` passes
    through)."""
    return _preset("model", MODELS, ModelShape, name)
