"""Scalar argument checks shared by :mod:`specdec.speedup`, :mod:`specdec.roofline`, :mod:`specdec.probe`,
:mod:`specdec.sampling`, :mod:`specdec.models` and the command line.

Pure Python (``math`` and ``numbers`` only), so :mod:`specdec.roofline` stays importable without NumPy.
Every check returns the value as a plain Python ``int``, ``float``, ``bool`` or ``str`` (a NumPy
scalar is converted, so it cannot overflow later) or raises an exception whose message starts with
the argument's name and states the rule it broke. One rule everywhere in the package: ``TypeError``
for a value of the wrong type (a string where a number belongs, a float where an integer belongs;
``bool`` is never accepted as a number), ``ValueError`` for a value of the right type that is out of
range. Public functions check their arguments once, here, and hand plain values to private functions
that compute.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import fields

#: Default upper bound of the integer counts that the roofline turns into floats: 2^53, the largest
#: range in which every integer is an exact float.
MAX_EXACT_INT = 2**53

_MAX_SHOWN = 60  # characters of a rejected value quoted in a message


def show(value: object) -> str:
    """``repr(value)`` shortened for a one-line message (a 400-digit integer is not printed whole)."""
    try:
        text = repr(value)
    except ValueError:  # int too large for str() (Python's integer string conversion limit)
        text = f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"  # type: ignore[attr-defined]
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text


def one_line(message: str) -> str:
    """``message`` with its line breaks folded into spaces, for the command line's one-line errors."""
    return " ".join(message.split())


def integer(name: str, value: object, minimum: int = 1, maximum: int | None = MAX_EXACT_INT) -> int:
    """``value`` as a plain ``int`` in [``minimum``, ``maximum``] (no upper bound for ``None``)."""
    rule = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {rule}, got {show(value)}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {show(value)}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {show(value)}")
    return v


def _as_float(name: str, value: object, rule: str) -> float:
    """A real ``value`` as a ``float`` (``inf`` for an integer beyond the float range), else ``TypeError``
    saying it must be a real number ``rule``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number{rule}, got {show(value)}")
    try:
        return float(value)
    except OverflowError:  # an integer beyond the float range
        return math.inf


def real(name: str, value: object) -> float:
    """``value`` as a finite ``float``."""
    out = _as_float(name, value, "")
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {show(value)}")
    return out


def nonnegative(name: str, value: object) -> float:
    """A finite ``float`` >= 0."""
    v = real(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {show(value)}")
    return v


def positive(name: str, value: object) -> float:
    """A finite ``float`` > 0."""
    v = real(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {show(value)}")
    return v


def probability(name: str, value: object, *, zero: bool = True) -> float:
    """A ``float`` in [0, 1], or in (0, 1] for ``zero=False``."""
    interval = "[0, 1]" if zero else "(0, 1]"
    v = _as_float(name, value, f" in {interval}")
    if not (0.0 <= v <= 1.0 if zero else 0.0 < v <= 1.0):  # NaN fails this test too
        raise ValueError(f"{name} must lie in {interval}, got {show(value)}")
    return v


def fraction(name: str, value: object) -> float:
    """A ``float`` in (0, 1]: an achieved fraction of a peak."""
    v = positive(name, value)
    if v > 1.0:
        raise ValueError(f"{name} is a fraction of the peak and must lie in (0, 1], got {show(value)}")
    return v


def flag(name: str, value: object) -> bool:
    """A ``bool`` (``True`` or ``False`` only: a string such as ``"no"`` is refused, not read as true)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {show(value)}")
    return value


def text(name: str, value: object, *, empty: bool = True) -> str:
    """``value`` as a plain ``str`` (a ``str`` subclass is converted); ``empty=False`` refuses ''."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {show(value)}")
    if not empty and not value:
        raise ValueError(f"{name} must be a non-empty string, got {show(value)}")
    return str(value)


def to_dict(obj: object, **extra: object) -> dict:
    """The fields of the dataclass ``obj`` as a plain dict for JSON (mappings as dicts, tuples as
    lists), followed by ``extra``: the one ``to_dict`` behind every result and preset type."""

    def plain(value: object) -> object:
        if isinstance(value, Mapping):
            return dict(value)
        return list(value) if isinstance(value, tuple) else value

    return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)} | extra  # type: ignore[arg-type]
