"""Speculative sampling: Leviathan, Kalman & Matias (2023), Algorithm 1, and the names its page uses.

The names live in the decoding stack and are gathered here for the page on the speculative sampler:
:func:`~specdec.core.rows.beta`, :func:`~specdec.core.rows.residual` and
:func:`~specdec.core.rows.standardize` in :mod:`specdec.core.rows`; one verification step
(:func:`~specdec.core.verify.verify`, :func:`~specdec.core.verify.verify_batch`) in
:mod:`specdec.core.verify`; the drafter seam (:class:`~specdec.drafters.base.Draft`,
:class:`~specdec.drafters.base.Drafter`) in :mod:`specdec.drafters.base`; the drafters
:class:`~specdec.drafters.model.ModelDrafter` and :class:`~specdec.drafters.lookup.PromptLookup`; the
decoding loop (:func:`~specdec.decode.autoregressive_decode`, :func:`~specdec.decode.speculative_decode`)
and its result :class:`~specdec.decode.DecodeResult` in :mod:`specdec.decode`.

Notation (the site's unified notation, not the paper's letters): ``p_T`` the target's next-token
distribution (Leviathan's p), ``p_D`` the draft's (Leviathan's q), ``k`` drafted tokens per step
(Leviathan's γ), ``β`` the acceptance probability after one fixed prefix, ``α`` = E[β] the acceptance rate,
``τ`` mean tokens written per target forward, the bonus / corrected token included.
"""

from __future__ import annotations

from specdec._arrays import ROW_SUM_TOL
from specdec.core.rows import beta, residual, standardize
from specdec.core.verify import verify, verify_batch
from specdec.decode import DecodeResult, autoregressive_decode, speculative_decode
from specdec.drafters.base import Draft, Drafter
from specdec.drafters.lookup import PromptLookup
from specdec.drafters.model import ModelDrafter

SpeculativeResult = DecodeResult
"""The loop's one result type, under the name earlier pages used."""

__all__ = [
    "ROW_SUM_TOL",
    "beta",
    "residual",
    "standardize",
    "verify",
    "verify_batch",
    "Draft",
    "Drafter",
    "ModelDrafter",
    "PromptLookup",
    "DecodeResult",
    "SpeculativeResult",
    "autoregressive_decode",
    "speculative_decode",
]
