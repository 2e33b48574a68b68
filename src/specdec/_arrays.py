"""Array checks shared by :mod:`specdec.sampling`, :mod:`specdec.models` and :mod:`specdec.probe`.

The array counterpart of :mod:`specdec._checks`, with the same rule: ``TypeError`` for a wrong type (a
float array of token ids, an int array of probabilities, something that is not a
``numpy.random.Generator``), ``ValueError`` for a wrong value (a shape, a range, a row that is not a
distribution), the message naming the argument and the rule. Checks are cheap (row sums and a minimum,
one trip through memory per array), loud, and never corrective: nothing is renormalised or clipped.
"""

from __future__ import annotations

import math

import numpy as np

ROW_SUM_TOL = 1e-6
"""A row counts as a distribution when it is non-negative, finite and sums to 1 within this."""

BLOCK_BYTES = 1 << 20
"""Checks (and verify_batch) read arrays in blocks of about this many bytes, so a second pass hits the
cache."""

SMALL_ROWS = 4096
"""Arrays of at most this many entries are checked by one vectorised test first (valid ones return
there); anything else, and every invalid array, takes the blockwise path that names the first bad row."""


def check_rng(rng: object) -> np.random.Generator:
    """``rng`` itself, or ``TypeError``: every random draw in the package comes from an explicit Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}"
        )
    return rng


def float_array(name: str, p: object, ndim: int) -> np.ndarray:
    """``p`` as a floating-point array of ``ndim`` dimensions with a non-empty last axis."""
    p = np.asarray(p)
    if p.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {p.dtype}")
    if p.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {p.shape}")
    if p.shape[-1] == 0:
        raise ValueError(f"{name} has an empty vocabulary axis (shape {p.shape})")
    return p


def token_array(name: str, tokens: object, ndim: int = 1) -> np.ndarray:
    """``tokens`` as an integer array of ``ndim`` dimensions (token ids: a float array is a wrong type)."""
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of token ids, got dtype {tokens.dtype}")
    if tokens.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tokens.shape}")
    return tokens


def tree_rows(p_target: object, n: int) -> np.ndarray:
    """``p_target`` of a tree of n nodes, checked: a float (n + 1, V) array of distributions (row 0
    after the context, row i + 1 after node i)."""
    p_T = float_array("p_target", p_target, 2)
    if p_T.shape[0] != n + 1:
        raise ValueError(
            f"p_target must have n + 1 = {n + 1} rows (root, then one per node), got {p_T.shape}"
        )
    check_rows("p_target", p_T)
    return p_T


def check_token_range(name: str, tokens: np.ndarray, V: int) -> None:
    """Every id in ``tokens`` lies in [0, V)."""
    if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
        raise ValueError(
            f"{name} must lie in [0, V) = [0, {V}), got values in [{int(tokens.min())}, {int(tokens.max())}]"
        )


def _row_sums(rows: np.ndarray) -> np.ndarray:
    """(R, V) -> (R,) float64 row sums. Short float64 rows go through a matrix-vector product (much
    faster than one reduction per row); NaN and infinities propagate either way."""
    if rows.shape[1] <= 256 and rows.dtype == np.float64:
        return rows @ np.ones(rows.shape[1], dtype=rows.dtype)
    return np.add.reduce(rows, axis=-1, dtype=np.float64)


def check_rows(name: str, p: np.ndarray, *, row_offset: int = 0) -> None:
    """Every row ``p[..., :]`` is a distribution, or ValueError naming ``name`` and the first bad row.

    Two reductions per cache-sized block of rows: the row sums (an inf or NaN makes a sum non-finite),
    then the block minimum (a NaN or a negative entry fails ``>= 0``), which reads the block back from
    cache. Non-negative entries with finite row sums are all finite. So the array crosses memory once.
    Infinities and NaN are reported by the ValueError alone (no RuntimeWarning from the arithmetic).
    ``row_offset`` is added to the first index in the message, for ``p`` a slice of a larger array.
    """
    rows = p.reshape(-1, p.shape[-1])  # (R, V), a view for contiguous input
    if rows.size <= SMALL_ROWS:  # the common small case in a few array calls, no arithmetic on inf/NaN
        in_range = bool(((rows >= 0) & (rows <= 1.0 + ROW_SUM_TOL)).all())  # False for NaN and inf too
        if in_range and bool((np.abs(rows.sum(axis=-1, dtype=np.float64) - 1.0) <= ROW_SUM_TOL).all()):
            return  # (an entry above 1 + tol cannot be in a distribution: the general path names it)
    step = max(1, BLOCK_BYTES // (rows.shape[1] * rows.itemsize))
    sums = np.empty(rows.shape[0])  # (R,)
    non_negative = True
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf, or a sum past the float range
        for start in range(0, rows.shape[0], step):  # blocks of rows, not sequences: ~1 per MiB
            block = rows[start : start + step]
            sums[start : start + step] = _row_sums(block)
            non_negative &= bool(block.min() >= 0)
    sums = sums.reshape(p.shape[:-1])
    if non_negative and bool(np.all(np.abs(sums - 1.0) <= ROW_SUM_TOL)):
        return
    _raise_first_bad_row(name, p, sums, row_offset)


def _raise_first_bad_row(name: str, p: np.ndarray, sums: np.ndarray, row_offset: int) -> None:
    """The error path of :func:`check_rows`: name the first negative or NaN entry, else the first bad sum."""

    def shifted(where: tuple[int, ...]) -> tuple[int, ...]:
        return (where[0] + row_offset, *where[1:]) if p.ndim > 1 else where

    bad_entry = ~(p >= 0)
    if bad_entry.any():
        where = tuple(int(i) for i in np.argwhere(bad_entry)[0])
        value = float(p[where])
        kind = "NaN" if math.isnan(value) else "negative"
        raise ValueError(f"{name} is not a distribution: {kind} entry {value!r} at index {shifted(where)}")
    where = tuple(int(i) for i in np.argwhere(~(np.abs(sums - 1.0) <= ROW_SUM_TOL))[0])
    which = "it" if p.ndim == 1 else f"row {shifted(where)}"
    raise ValueError(
        f"{name} is not a distribution: {which} sums to {float(sums[where])!r}, "
        f"not 1 within {ROW_SUM_TOL:g} (rows are never renormalised for you)"
    )


def distribution(name: str, p: object, ndim: int) -> np.ndarray:
    """``p`` as a floating-point array of ``ndim`` dimensions whose every row is a distribution."""
    p = float_array(name, p, ndim)
    check_rows(name, p)
    return p


def pair(p_target: object, p_draft: object) -> tuple[np.ndarray, np.ndarray]:
    """Two distributions, or two stacks of them, of the same shape: (V,) or (n, V)."""
    checked = []
    for name, p in (("p_target", p_target), ("p_draft", p_draft)):
        ndim = np.ndim(p)
        if ndim not in (1, 2):
            raise ValueError(f"{name} must be a (V,) row or an (n, V) array of rows, got shape {np.shape(p)}")
        checked.append(float_array(name, p, ndim))
    p_T, p_D = checked
    if p_D.shape != p_T.shape:
        raise ValueError(f"p_draft must have the shape of p_target {p_T.shape}, got {p_D.shape}")
    check_rows("p_target", p_T)
    check_rows("p_draft", p_D)
    return p_T, p_D


def step(p_target: object, p_draft: object, draft_tokens: object, rng: object, batched: bool):
    """Shapes, dtypes, ranges and distributions of one verification step (single or batched).

    (k+1, V), (k, V), (k,) or, batched, (B, k+1, V), (B, k, V), (B, k); returns them checked, the token
    ids as ``intp``.
    """
    lead = 1 if batched else 0
    p_T = float_array("p_target", p_target, 2 + lead)
    p_D = float_array("p_draft", p_draft, 2 + lead)
    draft_tokens = token_array("draft_tokens", draft_tokens, 1 + lead)
    k = p_D.shape[-2]
    if k < 1:
        raise ValueError(f"k (rows of p_draft) must be >= 1, got p_draft shape {p_D.shape}")
    V = p_T.shape[-1]
    lead_shape = p_D.shape[:lead]
    if p_D.shape != (*lead_shape, k, V):
        raise ValueError(f"p_draft must have V={V} columns like p_target, got shape {p_D.shape}")
    if p_T.shape != (*lead_shape, k + 1, V):
        raise ValueError(
            f"p_target must have shape {(*lead_shape, k + 1, V)} (k + 1 rows for k={k} drafts), "
            f"got {p_T.shape}"
        )
    if draft_tokens.shape != (*lead_shape, k):
        raise ValueError(f"draft_tokens must have shape {(*lead_shape, k)}, got {draft_tokens.shape}")
    check_token_range("draft_tokens", draft_tokens, V)
    check_rng(rng)
    check_rows("p_target", p_T)
    check_rows("p_draft", p_D)
    return p_T, p_D, draft_tokens.astype(np.intp, copy=False)


def drafted(p_D_of_x: np.ndarray) -> None:
    """A drafted token must have had positive draft probability: it was sampled from p_D."""
    if not np.all(p_D_of_x > 0):
        where = tuple(int(i) for i in np.argwhere(~(p_D_of_x > 0))[0])
        raise ValueError(
            f"draft_tokens{list(where)} has probability 0 under p_draft, "
            "so it cannot have been drawn from p_draft"
        )


def prompt(tokens: object) -> np.ndarray:
    """A non-empty 1-D array of non-negative token ids, as int64."""
    tokens = token_array("prompt", tokens)
    if tokens.shape[0] == 0:
        raise ValueError(f"prompt must be a non-empty 1-D array of token ids, got shape {tokens.shape}")
    if tokens.min() < 0:
        raise ValueError(f"prompt token ids must be >= 0, got {int(tokens.min())}")
    return tokens.astype(np.int64)


def check_prompt_range(prompt: np.ndarray, V: int) -> None:
    """Every id of a checked prompt is below the vocabulary size V."""
    if prompt.max() >= V:
        raise ValueError(f"prompt token ids must be < V={V}, got {int(prompt.max())}")


def rows_checked(obj: object) -> bool:
    """Whether a model or a target says its rows are checked where they are made (a ``rows_checked``
    attribute that is ``True``): then callers check their shape, not their values."""
    return getattr(obj, "rows_checked", False) is True


def model_output(
    name: str, out: object, L: int, V: int | None, first_row: int, *, rows_checked: bool = False
) -> np.ndarray:
    """Rows ``first_row:`` of what the model ``name`` returned for ``L`` tokens, checked against the
    (L, V) protocol and to be distributions (not their values when ``rows_checked``: a model whose rows
    are distributions by construction, such as :class:`specdec.models.MarkovChain`). Errors name the
    model, the expected and the actual shape, and the bad row as an index into the model's output."""
    out = np.asarray(out)
    expected = f"({L}, V)" if V is None else f"({L}, {V})"
    if out.ndim != 2 or out.shape[0] != L or out.shape[1] == 0:
        raise ValueError(
            f"{name} must return a (len(tokens), V) = {expected} array for its {L} input tokens, "
            f"got shape {out.shape}"
        )
    if V is not None and out.shape[1] != V:
        raise ValueError(
            f"{name} returned V={out.shape[1]} columns (shape {out.shape}), "
            f"expected V={V} (shape {expected}): draft and target must share a vocabulary"
        )
    if out.dtype.kind != "f":
        raise TypeError(f"{name} must return floating-point probabilities, got dtype {out.dtype}")
    used = out[first_row:]
    if rows_checked:
        return used
    try:
        check_rows(f"{name} output", used, row_offset=first_row)
    except ValueError as err:
        raise ValueError(
            f"{err}; {name} returned shape {out.shape} for {L} input tokens (expected {expected}), "
            "row i being the distribution after tokens[:i+1]"
        ) from None
    return used
