"""Toy language models for the speculative sampler: nothing is downloaded, everything is counted here.

Every model follows the protocol of :mod:`specdec.sampling`: ``model(tokens)`` takes a 1-D int array of
length L and returns an (L, V) float array whose row i is the next-token distribution after
``tokens[:i+1]``.

- :class:`NGramModel` -- a word-level n-gram (Markov) model with additive smoothing, fitted on
  ``data/learner_corpus.tsv`` (a few hundred short learner sentences and their corrections, written for
  this project). With n = 3 it is the standard toy *target*; n = 1 and n = 2 on the same corpus and
  vocabulary are the unigram and bigram *drafts* (the draft rows of Leviathan et al. Table 3).
- :class:`MixtureDraft` -- p_D = (1 − ε)·p_T + ε·u for a fixed noise distribution u (uniform by default):
  ε dials the acceptance rate, since after each prefix β = Σ min(p_T, p_D) = 1 − ε·TV(p_T, u), so
  α = E[β] = 1 − ε·E[TV(p_T, u)] (β per prefix, α its expectation: Leviathan Definition 3.1, Corollary 3.6).
- :class:`MarkovChain` -- a first-order chain given by its (V, V) transition matrix; ``MarkovChain.cyclic``
  builds one whose rows are rotations of one vector, so a uniform-noise mixture draft has the same β
  after every prefix, and α = β (the i.i.d. assumption of Leviathan Equation 1 holds exactly).

Standard toy target and drafts::

    target = NGramModel.from_corpus(n=3)
    unigram, bigram = NGramModel.from_corpus(n=1), NGramModel.from_corpus(n=2)
    mixture = MixtureDraft(target, 0.5)
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from importlib import resources

import numpy as np

from specdec import _arrays, _checks

__all__ = [
    "BOUNDARY",
    "load_learner_corpus",
    "tokenize",
    "MAX_N",
    "ROW_CACHE_BYTES",
    "NGramModel",
    "MarkovChain",
    "MixtureDraft",
]

MAX_N = 16
"""Largest n of an :class:`NGramModel`. The model keeps a count for every (context, next word) pair of
every context length below n that training saw, so it grows about linearly with n, and keeps up to
:data:`ROW_CACHE_BYTES` of the V-float rows it has been asked for. Contexts never reach back past a
sentence boundary, and the corpus's longest sentence has 10 words, so from n = 12 on a longer n only
adds padding; 16 leaves room for a corpus of longer sentences."""

ROW_CACHE_BYTES = 64 << 20
"""How much of its smoothed rows an :class:`NGramModel` keeps (64 MiB): at least one row; past this the
least recently read rows are dropped and made again when next asked for (the same values)."""

BOUNDARY = "<s>"
"""Sentence boundary token (id 0 in every :class:`NGramModel` vocabulary): it starts and ends sentences."""


def load_learner_corpus() -> list[tuple[str, str]]:
    """The project's corpus: a list of (learner sentence, correction) pairs, tokens space-separated."""
    text = resources.files("specdec").joinpath("data/learner_corpus.tsv").read_text(encoding="utf-8")
    pairs = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            learner, correction = line.split("\t")
            pairs.append((learner, correction))
    return pairs


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; ``.``, ``?`` and ``,`` become tokens of their own."""
    text = _checks.text("text", text)
    for mark in ".?,":
        text = text.replace(mark, f" {mark} ")
    return text.lower().split()


def _corpus_sentences() -> list[list[str]]:
    return [tokenize(s) for pair in load_learner_corpus() for s in pair]


def _check_tokens(tokens: object, V: int) -> np.ndarray:
    tokens = _arrays.token_array("tokens", tokens)
    _arrays.check_token_range("tokens", tokens, V)
    return tokens


def _as_list(name: str, value: object, of: str, hint: str) -> list:
    """``value`` as a list, or TypeError naming ``name``: a lone str/bytes is not a sequence of ``of``."""
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name} must be a sequence of {of} ({hint}), not a single {type(value).__name__}: {value[:40]!r}"
        )
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {of}, got {type(value).__name__}") from None


def _check_sentences(sentences: object) -> list[list[str]]:
    """``sentences`` as a list of lists of word strings, or TypeError / ValueError naming ``sentences``."""
    sentences = _as_list(
        "sentences", sentences, "sentences", "each a sequence of word strings, e.g. [tokenize(text)]"
    )
    if not sentences:
        raise ValueError("sentences must hold at least one sentence")
    out = []
    for i, s in enumerate(sentences):
        words = _as_list(f"sentences[{i}]", s, "word strings", "split it first, e.g. with tokenize()")
        for j, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"sentences[{i}][{j}] must be a word string, got {w!r} ({type(w).__name__})")
            if w == BOUNDARY:
                raise ValueError(
                    f"sentences[{i}][{j}] is the boundary token {BOUNDARY!r}, which the model adds "
                    "itself; a sentence must not contain it"
                )
        out.append(words)
    return out


def _table_rows_checked(model) -> bool:
    """True when every output row is a row of a table checked once (the Markov chain's where it was
    built, an n-gram row where it is first made), so callers need not check each output again (the
    shape of every output is still checked). False for a subclass that computes its rows another way
    (overrides ``__call__``)."""
    return type(model).__call__ in (NGramModel.__call__, MarkovChain.__call__)


class NGramModel:
    """Word-level n-gram model with additive (Lidstone) smoothing.

    ``p(x | context) = (count(context, x) + smoothing) / (count(context) + smoothing·V)`` where the
    context is the previous n − 1 tokens. A context never seen in training backs off to its longest
    suffix that was seen (down to the empty context, the unigram row), so every row is a smoothed count row.
    Sentences are padded with n − 1 boundary tokens ``<s>`` in front and one at the end, and the context
    never reaches back past the latest ``<s>`` (it is padded with ``<s>`` instead), so after a sentence
    ends the model starts a new one.

    ``sentences``: a sequence of sentences, each a sequence of word tokens (strings), e.g.
    ``[["she", "goes"], ["i", "went"]]`` or ``[tokenize(text) for text in texts]``. A string where a
    sentence or the list of sentences is expected raises ``TypeError`` (it would otherwise be split into
    characters), as does a word that is not a string; a sentence may not contain the boundary ``<s>``
    (boundaries are added here). ``n`` in [1, :data:`MAX_N`]. ``smoothing`` > 0. ``vocab``: the
    vocabulary to use (a sequence of distinct strings, ``<s>`` first and nowhere else); by default the
    sorted words of ``sentences``. Attributes: ``n``, ``smoothing``, ``vocab`` (tuple of str),
    ``vocab_size`` (V).
    """

    rows_checked = property(_table_rows_checked)

    def __init__(self, sentences, n: int, *, smoothing: float = 1e-4, vocab=None):
        n = _checks.integer("n", n, 1, MAX_N)
        smoothing = _checks.positive("smoothing", smoothing)
        sentences = _check_sentences(sentences)
        if vocab is None:
            vocab = [BOUNDARY, *sorted({w for s in sentences for w in s})]
        if isinstance(vocab, (str, bytes)):
            raise TypeError(f"vocab must be a sequence of word strings, not a single {type(vocab).__name__}")
        vocab = tuple(vocab)
        for w in vocab:
            if not isinstance(w, str):
                raise TypeError(f"vocab must hold strings, got {w!r} ({type(w).__name__})")
        if not vocab or vocab[0] != BOUNDARY or len(set(vocab)) != len(vocab):
            raise ValueError(f"vocab must hold distinct strings with {BOUNDARY!r} first")
        self.n = n
        self.smoothing = smoothing
        self.vocab = vocab
        self.vocab_size = len(vocab)
        self._index = {w: i for i, w in enumerate(vocab)}

        contexts: dict[tuple[int, ...], int] = {}  # every context of length 0 .. n-1 seen in training
        rows, cols = [], []
        for s in sentences:
            ids = [0] * (self.n - 1) + [self._id(w) for w in s] + [0]
            for t in range(self.n - 1, len(ids)):
                for order in range(self.n):  # the context of length `order` before position t
                    ctx = tuple(ids[t - order : t])
                    rows.append(contexts.setdefault(ctx, len(contexts)))
                    cols.append(ids[t])
        # the counts, sparse: (context, next token) pairs seen, sorted by context; a dense (contexts, V)
        # table of a tokenizer's vocabulary would be hundreds of megabytes for a few thousand sentences
        keys = np.array(rows, dtype=np.int64) * self.vocab_size + np.array(cols, dtype=np.int64)
        pairs, seen = np.unique(keys, return_counts=True)
        self._cols = pairs % self.vocab_size  # (pairs,)
        self._counts = seen.astype(np.float64)  # (pairs,)
        ctx = pairs // self.vocab_size  # (pairs,) non-decreasing
        self._starts = np.searchsorted(ctx, np.arange(len(contexts) + 1))  # (contexts + 1,)
        totals = np.bincount(ctx, weights=self._counts, minlength=len(contexts))  # (contexts,)
        self._denominators = totals + self.smoothing * self.vocab_size
        if not np.isfinite(self._denominators).all():
            raise ValueError(f"smoothing × vocab size must be finite, got {smoothing} × {self.vocab_size}")
        self._contexts = contexts
        # context index -> its (V,) row, made when first read; the least recently read rows are dropped
        # past ROW_CACHE_BYTES (a 200,000-word vocabulary makes 1.6 MB rows)
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_rows = max(1, ROW_CACHE_BYTES // (8 * self.vocab_size))

    def _table_row(self, i: int) -> np.ndarray:
        """The smoothed row of context ``i``, made and checked when it is not cached (read-only)."""
        row = self._rows.get(i)
        if row is not None:
            self._rows.move_to_end(i)
            return row
        a, b = self._starts[i], self._starts[i + 1]
        row = np.full(self.vocab_size, self.smoothing)
        row[self._cols[a:b]] = self._counts[a:b] + self.smoothing
        row /= self._denominators[i]
        _arrays.check_rows("n-gram table row", row)  # every output row is one of these
        row.flags.writeable = False
        self._rows[i] = row
        if len(self._rows) > self._max_rows:
            self._rows.popitem(last=False)
        return row

    @classmethod
    def from_corpus(cls, n: int, *, smoothing: float = 1e-4) -> NGramModel:
        """An n-gram model of the project's learner corpus (both sides of every pair), its full vocabulary."""
        sentences = _corpus_sentences()
        vocab = [BOUNDARY, *sorted({w for s in sentences for w in s})]
        return cls(sentences, n, smoothing=smoothing, vocab=vocab)

    def _id(self, word: str) -> int:
        try:
            return self._index[word]
        except KeyError:
            raise ValueError(f"word {word!r} is not in the vocabulary ({self.vocab_size} words)") from None

    def encode(self, text: str, *, start: bool = True) -> np.ndarray:
        """Token ids of ``text`` (see :func:`tokenize`): ``<s>`` first when ``start``, and ``<s>`` between
        sentences (after a ``.`` or ``?`` that more words follow), as in training. Unknown words raise."""
        words = tokenize(text)
        ids = [0] if start else []
        for i, w in enumerate(words):
            ids.append(self._id(w))
            if w in (".", "?") and i + 1 < len(words):
                ids.append(0)
        return np.array(ids, dtype=np.int64)

    def decode(self, tokens) -> str:
        """Text of ``tokens``: words joined by spaces, one sentence per line (``<s>`` ends a line)."""
        tokens = _check_tokens(tokens, self.vocab_size)
        lines, words = [], []
        for t in tokens.tolist():
            if t == 0:
                if words:
                    lines.append(" ".join(words))
                words = []
            else:
                words.append(self.vocab[t])
        if words:
            lines.append(" ".join(words))
        return "\n".join(lines)

    def __call__(self, tokens) -> np.ndarray:
        """(L,) token ids -> (L, V): row i is p(next | tokens[:i+1])."""
        tokens = _check_tokens(tokens, self.vocab_size)
        m = self.n - 1
        history = (0,) * m  # the last m tokens, reset to <s> at every boundary
        rows = []
        for t in tokens.tolist():
            if m:
                history = (0,) * m if t == 0 else history[1:] + (t,)
            rows.append(self._table_row(self._row(history)))
        return np.array(rows).reshape(len(rows), self.vocab_size)  # (L, V)

    def _row(self, history: tuple[int, ...]) -> int:
        """Row of the table for a context: back off, dropping the oldest token, until it was seen."""
        while history not in self._contexts:
            history = history[1:]
        return self._contexts[history]

    def next_row(self, tokens) -> np.ndarray:
        """(L,) token ids -> (V,) the row after them, read from their last n − 1 tokens only (O(n), where a
        call scores every position): the row a drafter needs, read-only (the model keeps it for the next
        read)."""
        tokens = _arrays.token_array("tokens", tokens)
        _check_tokens(tokens[len(tokens) - max(self.n - 1, 1) :], self.vocab_size)
        return self._table_row(self._row(self._last_history(tokens)))  # (V,)

    def _last_history(self, tokens: np.ndarray) -> tuple[int, ...]:
        """The context after ``tokens``: its last n − 1 tokens after the latest ``<s>``, padded with
        ``<s>``."""
        m = self.n - 1
        tail = tokens[len(tokens) - m :].tolist() if m else []
        if 0 in tail:
            tail = tail[len(tail) - tail[::-1].index(0) :]
        return (0,) * (m - len(tail)) + tuple(tail)

    def __repr__(self) -> str:
        return f"NGramModel(n={self.n}, V={self.vocab_size}, smoothing={self.smoothing:g})"


class MarkovChain:
    """First-order Markov chain: ``model(tokens)[i] = transition[tokens[i]]``.

    ``transition`` (V, V): row j is the next-token distribution after token j (each row a distribution
    within 1e-6; nothing is renormalised). Attributes ``transition`` (a read-only copy of the argument, so
    later changes to the caller's array do not reach the model) and ``vocab_size`` (V).
    """

    rows_checked = property(_table_rows_checked)

    def __init__(self, transition):
        transition = _arrays.float_array("transition", transition, 2)
        if transition.shape[0] != transition.shape[1]:
            raise ValueError(f"transition must be square (V, V), got shape {transition.shape}")
        transition = transition.copy()  # validate and keep the same snapshot
        _arrays.check_rows("transition", transition)
        transition.flags.writeable = False
        self.transition = transition
        self.vocab_size = transition.shape[1]

    @classmethod
    def cyclic(cls, weights) -> MarkovChain:
        """The chain whose row j is ``weights`` rotated right by j (``weights`` a (V,) distribution).

        Every row is a permutation of the same vector, so any quantity that ignores token order -- such as
        β = Σ min(p_T, p_D) against a uniform-noise :class:`MixtureDraft` -- is the same after every prefix
        (and so equals its expectation α). ``weights`` is validated like the constructor's ``transition``:
        a floating-point array (ints and strings raise ``TypeError``), non-empty, a distribution.
        """
        w = _arrays.distribution("weights", weights, 1)
        return cls(np.stack([np.roll(w, j) for j in range(w.shape[0])]))

    def __call__(self, tokens) -> np.ndarray:
        """(L,) token ids -> (L, V)."""
        return self.transition[_check_tokens(tokens, self.vocab_size)]  # (L, V)

    def __repr__(self) -> str:
        return f"MarkovChain(V={self.vocab_size})"


class MixtureDraft:
    """Draft p_D = (1 − ε)·p_T + ε·noise, built from the target itself.

    ``target``: a model with an int ``vocab_size`` attribute (V) whose output is (L, V). ``epsilon`` ε in
    [0, 1]. ``noise``: a (V,) distribution, uniform by default. Row by row (after each prefix)
    β = Σ min(p_T, p_D) = 1 − ε·TV(p_T, noise), so β, and with it α = E[β], falls linearly from 1 at
    ε = 0. With noise disjoint from p_T's support β = 1 − ε exactly, after every prefix.
    Attributes: ``target``, ``epsilon``, ``noise`` (a read-only copy), ``vocab_size``.
    Calling it raises ``ValueError`` if the target returns a width other than its ``vocab_size``.
    """

    def __init__(self, target, epsilon: float, noise=None):
        epsilon = _checks.probability("epsilon", epsilon)
        V = getattr(target, "vocab_size", None)
        if isinstance(V, bool) or not isinstance(V, numbers.Integral):
            raise TypeError(f"target must be a model with an int vocab_size attribute, got vocab_size={V!r}")
        V = _checks.integer("target.vocab_size", V, 1, None)
        if noise is None:
            noise = np.full(V, 1.0 / V)
        else:
            noise = _arrays.float_array("noise", noise, 1)
            if noise.shape != (V,):
                raise ValueError(f"noise must have shape (V,) = ({V},), got {noise.shape}")
            noise = noise.copy()  # validate and keep the same snapshot
            _arrays.check_rows("noise", noise)
        noise.flags.writeable = False
        self.target = target
        self.epsilon = epsilon
        self.noise = noise
        self.vocab_size = V

    def __call__(self, tokens) -> np.ndarray:
        """(L,) token ids -> (L, V)."""
        p_T = np.asarray(self.target(tokens))
        if p_T.ndim != 2 or p_T.shape[1] != self.vocab_size:
            raise ValueError(
                f"target returned shape {p_T.shape}, expected (len(tokens), V) = (L, {self.vocab_size}) "
                f"to match its vocab_size={self.vocab_size}"
            )
        return (1.0 - self.epsilon) * p_T + self.epsilon * self.noise  # (L, V)

    def __repr__(self) -> str:
        return f"MixtureDraft({self.target!r}, epsilon={self.epsilon:g})"
