"""Input-guided drafting: draft the rest of the learner's sentence, aligned with the output written so far.

A correction mostly copies its input. Shallow Aggressive Decoding (Sun et al. 2021) and Input-guided
Aggressive Decoding (Ge et al. 2022) draft by copying the input from the position aligned with the
output, verify the whole copy in one forward, and re-synchronise after an edit on the output's last
tokens found again in the input. Here the idea runs through the drafter protocol, so the one decoding
loop verifies it like any other draft: greedy output is the target's own, and a sampled output keeps
p_T exactly (the draft is deterministic, its rows one-hot).

The context holds ``source <sep> output``: the source is everything before the first separator token,
followed here by ``<eos>`` (a copy that reaches the source's end also ends the correction). Each step:

1. :func:`align` walks the output against the source: a token equal to the aligned source token is a
   copy and advances the alignment; any other token (an edit) re-synchronises on the output's last n
   tokens (n from ``max_ngram`` down to 1) found in the source, the match nearest the aligned position,
   or, failing that, steps over one source token (a substitution);
2. the draft is the source from the aligned position on: all of it (up to ``k``) while the output's
   newest token is a copy, only ``after_edit`` tokens right after an edit, where the alignment is less
   sure. When the output's last tokens are nowhere in the source, what followed their last earlier
   occurrence in the output itself is drafted instead (prompt lookup over the output: a correction
   that repeats itself), if there is one.
"""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import one_hot
from specdec.drafters.base import Context, Draft, Drafter, as_context
from specdec.drafters.lookup import prompt_lookup, tail_matches

__all__ = ["align", "InputGuided"]


def _resync(src: np.ndarray, out: np.ndarray, j: int, max_ngram: int) -> tuple[int, bool]:
    """Where to copy from after an edit, and whether it was found: the end of the output's last n tokens
    found in ``src`` (n from ``max_ngram`` down to 1), the match nearest ``j + 1``; else ``j + 1`` (a
    guess: the edit replaced ``src[j]``)."""
    for n in range(min(max_ngram, out.shape[0]), 0, -1):
        ok = tail_matches(src, out, n) + 1  # copy from just after each match of the output's last n tokens
        if ok.size:
            return int(ok[np.argmin(np.abs(ok - (j + 1)))]), True  # the nearest; ties: the earlier
    return j + 1, False


def align(src: np.ndarray, out: np.ndarray, max_ngram: int, start: tuple = (0, 0, "copy")) -> tuple[int, str]:
    """(S,) source, (m,) output -> (j, how): the source index the output's next token is expected to copy,
    and how the output's newest token was aligned: ``"copy"`` (it equals the aligned source token; also
    for an empty output), ``"match"`` (an edit, re-synchronised on a match) or ``"guess"`` (an edit, no
    match found).

    The walk: j starts at 0; an output token equal to ``src[j]`` advances j by one, any other token sets
    j by :func:`_resync` on the output up to it. A pure function of its arguments: the drafter keeps no
    state between steps. ``start`` = (i, j, how) resumes a walk that reached ``(j, how)`` after
    ``out[:i]``, from ``align(src, out[:i], max_ngram)``.
    """
    i0, j, how = start
    for i in range(i0, out.shape[0]):
        if j < src.shape[0] and src[j] == out[i]:
            j, how = j + 1, "copy"
        else:
            j, found = _resync(src, out[: i + 1], j, max_ngram)
            how = "match" if found else "guess"
    return j, how


class InputGuided(Drafter):
    """Input-guided drafting (after Sun et al. 2021, Ge et al. 2022): copy the rest of the source.

    ``vocab_size`` (V) sizes the one-hot rows; ``separator``: the token that ends the source in the
    context (the tutor's ``<sep>``); ``eos``: the token drafted after the source's last token (the
    tutor's ``<eos>``); ``max_ngram`` >= 1: the longest output tail re-synchronised on; ``after_edit``
    >= 1: the draft length right after an edit (the whole remainder, up to k, after a copy). It runs
    no model: cost 0 draft calls; rule ``"one-hot"``.
    """

    def __init__(self, vocab_size: int, *, separator: int, eos: int, max_ngram: int = 3, after_edit: int = 7):
        self.vocab_size = _checks.integer("vocab_size", vocab_size, 1, None)
        self.separator = _checks.integer("separator", separator, 0, self.vocab_size - 1)
        self.eos = _checks.integer("eos", eos, 0, self.vocab_size - 1)
        if self.eos == self.separator:
            raise ValueError(f"eos and separator must differ, got {self.eos} for both")
        self.max_ngram = _checks.integer("max_ngram", max_ngram, 1, None)
        self.after_edit = _checks.integer("after_edit", after_edit, 1, None)
        self._walk = (
            b"",
            np.zeros(0, np.int64),
            (0, 0, "copy"),
        )  # a cache: the last walk's source, output, end

    def reset(self) -> None:
        """Forget the cached walk (the draft never depends on it: it only saves repeating the walk)."""
        self._walk = (b"", np.zeros(0, np.int64), (0, 0, "copy"))

    def _align(self, src: np.ndarray, out: np.ndarray) -> tuple[int, str]:
        """:func:`align`, resumed from the last walk when this output extends that one (same source)."""
        key, seen, end = self._walk
        m = seen.shape[0]
        resume = key == src.tobytes() and m <= out.shape[0] and np.array_equal(out[:m], seen)
        j, how = align(src, out, self.max_ngram, end if resume else (0, 0, "copy"))
        self._walk = (src.tobytes(), out.copy(), (out.shape[0], j, how))
        return j, how

    def split(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(L,) context -> (source followed by ``eos``, output): the tokens before the first separator, and
        after it. ``ValueError`` when the context holds no separator."""
        at = np.flatnonzero(tokens == self.separator)
        if not at.size:
            raise ValueError(
                f"context must hold the separator token {self.separator} after the source, got none in "
                f"{tokens.shape[0]} tokens"
            )
        return np.append(tokens[: at[0]], self.eos), tokens[at[0] + 1 :]

    def propose(self, context: Context, k: int, rng) -> Draft:
        tokens = as_context(context).tokens
        _arrays.check_token_range("context", tokens, self.vocab_size)
        k = _checks.integer("k", k, 1, None)
        _arrays.check_rng(rng)  # unused: the draft is deterministic
        src, out = self.split(tokens)  # (S + 1,), (m,)
        j, how = self._align(src, out)
        if how == "copy":
            x = src[j : j + k]  # (n,), n <= k: the rest of the source
        else:
            x = src[j : j + min(k, self.after_edit)]
            if how == "guess":  # the output's tail is not in the source: does the output repeat itself?
                x = prompt_lookup(out, min(k, self.after_edit), self.max_ngram) if out.size else x
                x = x if x.size else src[j : j + min(k, self.after_edit)]
        return Draft(tokens=x, p_D=one_hot(x, self.vocab_size), cost=0, rule="one-hot")

    def __repr__(self) -> str:
        return (
            f"InputGuided(V={self.vocab_size}, separator={self.separator}, eos={self.eos}, "
            f"max_ngram={self.max_ngram}, after_edit={self.after_edit})"
        )
