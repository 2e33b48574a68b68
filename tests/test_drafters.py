"""The drafter seam: every drafter keeps speculative decoding exact.

For each drafter -- a draft model (ModelDrafter), an n-gram model read at its last tokens (NGramDrafter) and
prompt lookup (PromptLookup, one-hot rows) -- the law of the first tokens of speculative_decode is computed
exactly, by enumerating every draft and every accept / reject path, and equals the target's to 1e-12; sampled
runs fit it by chi-square (p > 1e-3, fixed seeds); and at temperature 0 the output is the target's greedy
output.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lossless import P_MIN, TOY_TV, after_first_law, chisquare_p, first_token_law
from specdec.drafters.input_guided import InputGuided
from specdec.drafters.lookup import prompt_lookup
from specdec.drafters.ngram import NGramDrafter
from specdec.models import MarkovChain, MixtureDraft, NGramModel
from specdec.sampling import (
    Draft,
    ModelDrafter,
    PromptLookup,
    autoregressive_decode,
    residual,
    speculative_decode,
)
from specdec.targets.model import ModelTarget

TARGET = MarkovChain(
    np.array([[0.5, 0.3, 0.2, 0], [0.1, 0.6, 0.3, 0], [0.3, 0, 0.4, 0.3], [0.25, 0.25, 0.25, 0.25]])
)
DRAFT = MarkovChain(np.array([[0.2, 0.2, 0.3, 0.3], [0.6, 0.4, 0, 0], [0.3, 0.3, 0.4, 0], [0, 0, 0.5, 0.5]]))
# an n-gram model over the same four ids: <s> = 0, "a" = 1, "b" = 2, "c" = 3
BIGRAM = NGramModel([["a", "b", "c"], ["b", "a"], ["c", "c", "b"]], 2, smoothing=0.5)
PROMPT = np.array([1, 2, 3, 1, 2])  # its last bigram (1, 2) occurred before, followed by 3, 1, 2

DRAFTERS = {
    "draft model": ModelDrafter(DRAFT),
    "n-gram": NGramDrafter(BIGRAM),
    "prompt lookup": PromptLookup(4, max_ngram=2),
}


def draft_options(drafter, context: np.ndarray, k: int) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Every draft the drafter can propose after ``context``: (probability, tokens (j,), p_D rows (j, V))."""
    if isinstance(drafter, (PromptLookup, InputGuided)):  # deterministic, no state between steps
        d = drafter.propose(context, k, np.random.default_rng(0))
        return [(1.0, d.tokens, d.p_D)]
    options = [(1.0, [], [])]
    for _ in range(k):  # the drafter's model at temperature 1, every branch
        grown = []
        for q, xs, rows in options:
            row = drafter.model(np.concatenate([context, np.array(xs, dtype=np.int64)]))[-1]
            grown += [(q * row[x], xs + [int(x)], rows + [row]) for x in np.flatnonzero(row)]
        options = grown
    return [(q, np.array(xs), np.array(rows)) for q, xs, rows in options]


def exact_law(drafter, context: np.ndarray, k: int, m: int) -> dict[tuple[int, ...], float]:
    """P(first m tokens of steps of verification after ``context``, drafts of at most k tokens = s), for
    every s, exactly: the law of what the loop writes after a prompt.

    One step: each draft, each number n of accepted drafts, each last token y (residual of row n, or the
    bonus row); a step that emits fewer than m tokens is followed by the next step, recursively.
    """
    law: dict[tuple[int, ...], float] = {}
    for q, x, p_D in draft_options(drafter, context, min(k, m)):
        p_T = TARGET(np.concatenate([context, x]))[len(context) - 1 :]  # (j+1, V)
        reach = q  # probability of drafting x and accepting its first n tokens
        for n in range(len(x) + 1):
            if n < len(x):
                accept = min(1.0, p_T[n, x[n]] / p_D[n, x[n]])
                last = (1.0 - accept) * residual(p_T[n], p_D[n])
            else:
                accept, last = 0.0, p_T[n]
            for y in np.flatnonzero(last):
                block = (*x[:n].tolist(), int(y))
                w = reach * last[y]
                if len(block) >= m:
                    law[block[:m]] = law.get(block[:m], 0.0) + w
                    continue
                rest = exact_law(drafter, np.concatenate([context, block]), k, m - len(block))
                for s, p in rest.items():
                    law[block + s] = law.get(block + s, 0.0) + w * p
            reach *= accept
    return law


def target_law(context: np.ndarray, m: int) -> dict[tuple[int, ...], float]:
    """P(first m tokens of the target's own sampling = s), for every s."""
    law = {}
    for s in itertools.product(range(4), repeat=m):
        rows = TARGET(np.concatenate([context, np.array(s[:-1], dtype=np.int64)]))[
            len(context) - 1 :
        ]  # (m, V)
        law[s] = float(np.prod(rows[np.arange(m), s]))
    return law


@pytest.mark.parametrize("name", DRAFTERS)
@pytest.mark.parametrize(("k", "m"), [(1, 2), (2, 3), (3, 3)])
def test_exact_law_of_the_first_tokens_is_the_target_law(name, k, m):
    law = exact_law(DRAFTERS[name], PROMPT, k, m)
    goal = target_law(PROMPT, m)
    assert set(law) <= set(goal)
    assert max(abs(law.get(s, 0.0) - p) for s, p in goal.items()) < 1e-12


# input-guided drafting: source 1 2 2 1 1, separator 3, output so far 1; eos is 0
IG_PROMPT = np.array([1, 2, 2, 1, 1, 3, 1])


@pytest.mark.parametrize(("k", "m", "after_edit"), [(1, 2, 1), (3, 3, 1), (4, 4, 2)])
def test_exact_law_with_input_guided_drafting_is_the_target_law(k, m, after_edit):
    """Copies that are accepted, rejected and re-synchronised, every path enumerated: the law of the first
    m tokens written is the target's."""
    law = exact_law(InputGuided(4, separator=3, eos=0, after_edit=after_edit), IG_PROMPT, k, m)
    goal = target_law(IG_PROMPT, m)
    assert set(law) <= set(goal)
    assert max(abs(law.get(s, 0.0) - p) for s, p in goal.items()) < 1e-12


def test_the_exact_law_catches_a_drafter_that_lies_about_p_D():
    """A drafter reporting p_D other than the rows it drew from is not exact: the check can fail."""

    class Liar(ModelDrafter):
        def next_row(self, tokens):
            return np.full(4, 0.25)

    liar = Liar(DRAFT)
    law = {}
    for q, x, _ in draft_options(ModelDrafter(DRAFT), PROMPT, 2):  # drawn from DRAFT ...
        p_T = TARGET(np.concatenate([PROMPT, x[:1]]))[len(PROMPT) - 1 :]
        p_D = liar.next_row(PROMPT)  # ... judged against uniform rows
        accept = min(1.0, p_T[0, x[0]] / p_D[x[0]])
        law[x[0]] = law.get(x[0], 0.0) + q * accept
        for y, r in enumerate((1.0 - accept) * residual(p_T[0], p_D)):
            law[y] = law.get(y, 0.0) + q * r
    p_first = TARGET(PROMPT)[-1]
    assert max(abs(law.get(y, 0.0) - p_first[y]) for y in range(4)) > 0.05


def test_the_faults_the_sampled_fit_guards_against_move_more_than_it_promises_to_catch():
    """In the sampled fit below (the draft model; tokens 2 and 3, written by the first step after the
    prompt's forward wrote token 1), two classic faults shift the law of tokens 2 and 3 by more than
    TOY_TV, the error the fit catches with probability 0.99: a rejection drawn from p_T instead of the
    residual, and p_D misreported as uniform. Finer faults are the exact, enumerated tests' to catch
    (test_the_exact_law_catches_a_drafter_that_lies_about_p_D)."""
    T, D, uniform = TARGET.transition, DRAFT.transition, np.full(4, 0.25)
    first = T[PROMPT[-1]]  # token 1
    for a in range(4):
        assert np.abs(first_token_law(T[a], D[a], D[a], residual(T[a], D[a])) - T[a]).max() < 1e-12
    faults = {
        "rejection from p_T": lambda a: first_token_law(T[a], D[a], D[a], T[a]),
        "p_D reported uniform": lambda a: first_token_law(T[a], D[a], uniform, residual(T[a], uniform)),
    }
    for name, law in faults.items():
        # token 2's law after each token 1; the joint law of tokens 2 and 3 is at least this far off
        tv = sum(first[a] * 0.5 * np.abs(law(a) - T[a]).sum() for a in range(4))
        assert tv > TOY_TV, (name, tv)


@pytest.mark.parametrize("name", DRAFTERS)
def test_sampled_first_verified_tokens_fit_the_target(name):
    """Tokens 2 and 3: what the loop's first step writes from a draft of k = 3 tokens."""
    rng = np.random.default_rng(2024)
    counts = np.zeros((4, 4), dtype=np.int64)
    for _ in range(2500):  # enough for lossless.TOY_TV over 16 cells
        a, b = speculative_decode(TARGET, DRAFTERS[name], PROMPT, 5, 3, rng).tokens[1:3]
        counts[a, b] += 1
    law = after_first_law(TARGET.transition, TARGET.transition[PROMPT[-1]])
    assert chisquare_p(counts, law) > P_MIN


@pytest.fixture(scope="module")
def toy():
    target = NGramModel.from_corpus(n=3)
    bigram = NGramModel.from_corpus(n=2)
    drafters = [
        ModelDrafter(bigram, temperature=0),
        NGramDrafter(bigram),
        NGramDrafter(NGramModel.from_corpus(n=1), temperature=0),
        PromptLookup(target.vocab_size),
        PromptLookup(target.vocab_size, max_ngram=1),
        NGramModel.from_corpus(n=1),  # bare models: drafted from at the loop's temperature
        bigram,
        MixtureDraft(target, 0.7),
    ]
    return target, drafters


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_greedy_output_is_autoregressive_greedy_for_every_drafter(toy, k):
    target, drafters = toy
    for prompt in ("", "she", "yesterday we", "my sister works in a bank . my sister"):
        ids = target.encode(prompt)
        greedy = autoregressive_decode(target, ids, 40, np.random.default_rng(0), temperature=0).tokens
        for drafter in drafters:
            spec = speculative_decode(target, drafter, ids, 40, k, np.random.default_rng(k), temperature=0)
            np.testing.assert_array_equal(spec.tokens, greedy, err_msg=f"{drafter!r}, prompt {prompt!r}")


def test_prompt_lookup_on_a_looping_greedy_target_saves_target_calls(toy):
    target, _ = toy
    ids = target.encode("yesterday")
    res = speculative_decode(
        target, PromptLookup(target.vocab_size), ids, 60, 8, np.random.default_rng(0), temperature=0
    )
    assert res.draft_calls == 0 and res.target_calls < 40
    assert sum(res.accepted_per_step) + res.target_calls >= 60


# ------------------------------------------------------------------------------------------------
# the drafters themselves
# ------------------------------------------------------------------------------------------------


def test_prompt_lookup_copies_what_followed_the_last_earlier_match():
    lookup = PromptLookup(10, max_ngram=3)
    rng = np.random.default_rng(0)
    # the trigram (4, 5, 6) occurred at 1 and at 6; the last earlier one (6) was followed by 9, 4, 5
    d = lookup.propose(np.array([0, 4, 5, 6, 7, 8, 4, 5, 6, 9, 4, 5, 6]), 3, rng)
    assert d.tokens.tolist() == [9, 4, 5] and d.cost == 0
    np.testing.assert_array_equal(d.p_D, np.eye(10)[[9, 4, 5]])
    assert lookup.propose(np.array([0, 4, 5, 6, 7, 8, 4, 5, 6, 9, 4, 5, 6]), 2, rng).tokens.tolist() == [9, 4]
    # the longest n first: (2, 3) occurred only at 0; the unigram 3 later too, but n = 2 wins
    assert lookup.propose(np.array([2, 3, 1, 7, 3, 8, 2, 3]), 2, rng).tokens.tolist() == [1, 7]
    # only a unigram match: fall back to n = 1, and a continuation cut at the end of the context
    assert lookup.propose(np.array([1, 5, 2, 5]), 4, rng).tokens.tolist() == [2, 5]
    # no earlier occurrence at all, or nothing before the last token: an empty draft
    for context in ([1, 2, 3], [7], []):
        d = lookup.propose(np.array(context, dtype=np.int64), 4, rng)
        assert d.tokens.shape == (0,) and d.p_D.shape == (0, 10)
    assert PromptLookup(10, max_ngram=1).propose(
        np.array([2, 3, 1, 7, 3, 8, 2, 3]), 2, rng
    ).tokens.tolist() == [8, 2]


def test_prompt_lookup_equals_a_search_over_every_window():
    """The search from the last token's earlier positions finds what a scan of every earlier n-gram finds."""

    def scan(context, k, max_ngram):
        L = len(context)
        for n in range(min(max_ngram, L - 1), 0, -1):
            starts = [s for s in range(L - n) if context[s : s + n] == context[L - n :]]
            if starts:
                return context[starts[-1] + n : starts[-1] + n + k]
        return []

    rng = np.random.default_rng(7)
    found = 0
    for _ in range(400):
        context = rng.integers(0, 4, rng.integers(1, 30))
        k, max_ngram = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        want = scan(context.tolist(), k, max_ngram)
        assert prompt_lookup(context, k, max_ngram).tolist() == want
        found += bool(want)
    assert 100 < found < 400  # both outcomes were exercised


def test_an_empty_draft_is_one_plain_target_step():
    empty = Fixed(Draft(np.zeros(0, dtype=np.int64), np.zeros((0, 4)), 0))
    res = speculative_decode(TARGET, empty, np.array([0, 1, 2, 3]), 2, 4, np.random.default_rng(3))
    assert res.drafted_per_step == [0] and res.accepted_per_step == [0] and res.target_calls == 2
    assert res.draft_calls == 0 and np.isnan(res.accepted_fraction) and res.tokens_per_target_call == 1.0


def test_ngram_drafter_drafts_what_the_model_drafter_drafts():
    bigram, trigram = NGramModel.from_corpus(n=2), NGramModel.from_corpus(n=3)
    for model in (bigram, trigram, NGramModel.from_corpus(n=1)):
        for text in ("", "she", "yesterday my sister . she went to"):
            context = model.encode(text)
            a = ModelDrafter(model, top_p=0.9).propose(context, 5, np.random.default_rng(11))
            b = NGramDrafter(model, top_p=0.9).propose(context, 5, np.random.default_rng(11))
            np.testing.assert_array_equal(a.tokens, b.tokens)
            np.testing.assert_array_equal(a.p_D, b.p_D)
            assert a.cost == b.cost == 5


def test_a_bare_model_is_drafted_from_as_before():
    """A model passed as the drafter drafts at the loop's temperature: same output as an explicit
    ModelDrafter."""
    target, draft = NGramModel.from_corpus(n=3), NGramModel.from_corpus(n=2)
    ids = target.encode("my")
    for temperature, top_p in ((1.0, 1.0), (0.7, 0.9), (0.0, 1.0)):
        bare = speculative_decode(
            target, draft, ids, 25, 4, np.random.default_rng(5), temperature=temperature, top_p=top_p
        )
        explicit = speculative_decode(
            target,
            ModelDrafter(draft, temperature=temperature, top_p=top_p),
            ids,
            25,
            4,
            np.random.default_rng(5),
            temperature=temperature,
            top_p=top_p,
        )
        np.testing.assert_array_equal(bare.tokens, explicit.tokens)
        assert (
            bare.accepted_per_step == explicit.accepted_per_step and bare.draft_calls == explicit.draft_calls
        )


class Fixed:
    """A drafter that proposes one fixed Draft, whatever the context."""

    def __init__(self, draft):
        self.draft = draft

    def propose(self, context, k, rng):
        return self.draft


ONE_HOT = np.eye(4)


@pytest.mark.parametrize(
    ("draft", "error", "match"),
    [
        (Draft(np.array([1, 2, 3]), ONE_HOT[[1, 2, 3]], 0), ValueError, "at most k=2 tokens deep, got 3"),
        (Draft(np.array([1]), ONE_HOT[[1, 2]], 0), ValueError, "Draft.p_D must have shape \\(1, 4\\)"),
        (
            Draft(np.array([1]), np.eye(5)[[1]], 0),
            ValueError,
            "V=5 columns, the target V=4: draft and target",
        ),
        (Draft(np.array([1.0]), ONE_HOT[[1]], 0), TypeError, "Draft.tokens must be an integer array"),
        (Draft(np.array([1]), np.array([[0, 1, 0, 0]]), 0), TypeError, "Draft.p_D must be a floating-point"),
        (Draft(np.array([1]), np.array([[0, 0.9, 0, 0]]), 0), ValueError, "Draft.p_D is not a distribution"),
        (Draft(np.array([1]), ONE_HOT[[2]], 0), ValueError, "has probability 0 under p_draft"),
        (Draft(np.array([1]), ONE_HOT[[1]], -1), ValueError, "Draft.cost must be >= 0"),
        (Draft(np.array([1]), ONE_HOT[[1]], 1.0), TypeError, "Draft.cost must be an int"),
    ],
)
def test_a_bad_draft_is_refused_naming_the_rule(draft, error, match):
    with pytest.raises(error, match=match):
        speculative_decode(TARGET, Fixed(draft), np.array([0]), 5, 2, np.random.default_rng(0))


def test_greedy_decoding_checks_a_drafts_shape_but_never_reads_its_rows():
    """At temperature 0 verification reads only the draft's tokens: rows of the wrong shape are still refused,
    rows that are not distributions are not looked at (the same draft is refused when sampling)."""
    odd = Draft(np.array([1]), np.array([[0, 0.9, 0, 0]]), 0)
    run = speculative_decode(TARGET, Fixed(odd), np.array([0]), 5, 2, np.random.default_rng(0), temperature=0)
    plain = autoregressive_decode(TARGET, np.array([0]), 5, np.random.default_rng(0), temperature=0)
    np.testing.assert_array_equal(run.tokens, plain.tokens)
    with pytest.raises(ValueError, match=r"Draft.p_D must have shape \(1, 4\)"):
        bad = Fixed(Draft(np.array([1]), ONE_HOT[[1, 2]], 0))
        speculative_decode(TARGET, bad, np.array([0]), 5, 2, np.random.default_rng(0), temperature=0)


class Misshapen:
    """A target whose forwards return rows of the wrong shape (``start`` or ``score``)."""

    def __init__(self, where: str):
        self.where, self.inner = where, ModelTarget(TARGET)

    def start(self, prompt):
        row, features = self.inner.start(prompt)
        return (row[None, :], features) if self.where == "start" else (row, features)

    def score(self, tokens, parents):
        rows, features = self.inner.score(tokens, parents)
        return (rows[:-1], features) if self.where == "score" else (rows, features)

    def commit(self, path):
        self.inner.commit(path)


class Rescaled(Misshapen):
    """A target that does not check its rows (no ``rows_checked``), returning them times ``scale``, or as
    log-probabilities (``logits = True``), NaN in the last row when ``nan``."""

    def __init__(self, scale: float = 1.0, logits: bool = False, nan: bool = False):
        super().__init__("")
        self.scale, self.logits, self.nan = scale, logits, nan

    def _out(self, rows):
        with np.errstate(divide="ignore"):  # log 0 = -inf: a token the target never writes
            rows = np.log(rows) if self.logits else rows * self.scale
        if self.nan:
            rows = rows.copy()
            rows[..., -1] = np.nan
        return rows

    def start(self, prompt):
        row, features = self.inner.start(prompt)
        return self._out(row), features

    def score(self, tokens, parents):
        rows, features = self.inner.score(tokens, parents)
        return self._out(rows), features


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_the_loop_checks_the_rows_of_a_target_that_does_not_check_them(temperature):
    """The loop trusts ModelTarget and CachedTarget, which check their rows; any other target's rows are
    checked at every call: distributions, or finite logits."""
    args = (np.array([0]), 5, 2, np.random.default_rng(0))
    draft = Fixed(Draft(np.array([1]), ONE_HOT[[1]], 0))
    with pytest.raises(ValueError, match="target's start rows is not a distribution"):
        speculative_decode(Rescaled(2.0), draft, *args, temperature=temperature)
    with pytest.raises(ValueError, match="target's start rows must be finite floating-point logits"):
        speculative_decode(Rescaled(logits=True, nan=True), draft, *args, temperature=temperature)


@pytest.mark.parametrize(
    ("where", "match"),
    [
        (
            "start",
            r"target's start must return the \(V,\) row after the prompt, got ndarray of shape \(1, 4\)",
        ),
        ("score", r"target's score must return \(3, 4\) rows for 3 new tokens, got shape \(2, 4\)"),
    ],
)
def test_a_target_returning_misshapen_rows_is_refused(where, match):
    with pytest.raises(ValueError, match=match):
        speculative_decode(Misshapen(where), Fixed(Draft(np.array([1, 2]), ONE_HOT[[1, 2]], 0)),
                           np.array([0]), 5, 2, np.random.default_rng(0), temperature=0)  # fmt: skip


def test_drafters_check_their_own_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="^max_ngram must be >= 1"):
        PromptLookup(4, max_ngram=0)
    with pytest.raises(TypeError, match="^vocab_size must be an integer"):
        PromptLookup(4.0)
    with pytest.raises(ValueError, match="^context must lie in \\[0, V\\) = \\[0, 4\\)"):
        PromptLookup(4).propose(np.array([0, 4]), 2, rng)
    with pytest.raises(ValueError, match="^k must be >= 1"):
        PromptLookup(4).propose(np.array([0]), 0, rng)
    with pytest.raises(TypeError, match="^rng must be a numpy.random.Generator"):
        ModelDrafter(DRAFT).propose(np.array([0]), 2, 0)
    with pytest.raises(TypeError, match="^model must be callable"):
        ModelDrafter(42)
    with pytest.raises(TypeError, match="^model must be an NGramModel"):
        NGramDrafter(DRAFT)
    with pytest.raises(ValueError, match="^temperature must be >= 0"):
        ModelDrafter(DRAFT, temperature=-1)
