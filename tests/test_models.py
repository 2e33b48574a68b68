"""The toy models: counted from the project's own corpus, following the model protocol of specdec.sampling."""

from __future__ import annotations

import numpy as np
import pytest

from specdec.models import (
    BOUNDARY,
    MarkovChain,
    MixtureDraft,
    NGramModel,
    load_learner_corpus,
    tokenize,
)
from specdec.sampling import autoregressive_decode, beta


@pytest.fixture(scope="module")
def toy():
    return {n: NGramModel.from_corpus(n=n) for n in (1, 2, 3)}


def test_corpus_is_a_few_hundred_learner_sentences_with_corrections():
    pairs = load_learner_corpus()
    assert 300 <= len(pairs) <= 1000
    assert len(set(pairs)) == len(pairs)
    for learner, correction in pairs:
        assert learner != correction
        assert learner == learner.lower() and correction == correction.lower()
        assert tokenize(learner) == learner.split() and 3 <= len(learner.split()) <= 12


def test_models_share_one_vocabulary_and_report_it(toy):
    vocabs = {m.vocab for m in toy.values()}
    assert len(vocabs) == 1
    vocab = toy[3].vocab
    assert vocab[0] == BOUNDARY and len(set(vocab)) == len(vocab) == toy[3].vocab_size
    assert {"goes", "went", "teacher", ".", "?"} <= set(vocab)
    assert 150 <= toy[3].vocab_size <= 400


@pytest.mark.parametrize("n", [1, 2, 3])
def test_protocol_rows_are_distributions_and_depend_only_on_the_prefix(toy, n):
    model = toy[n]
    tokens = model.encode("yesterday we went to the park . she goes to school")
    out = model(tokens)
    assert out.shape == (len(tokens), model.vocab_size) and out.dtype == np.float64
    assert np.all(out > 0)  # additive smoothing: full support
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-12)
    for m in (1, 4, 9):
        np.testing.assert_array_equal(model(tokens[:m]), out[:m])


def test_trigram_counts_by_hand():
    """Two sentences, n = 3, smoothing s: p(x | context) = (count + s) / (total + s·V)."""
    s = 0.5
    model = NGramModel([["a", "b"], ["a", "c"]], n=3, smoothing=s)
    assert model.vocab == ("<s>", "a", "b", "c")
    V = 4
    rows = model(model.encode("a b"))  # <s> a b
    np.testing.assert_allclose(rows[0], (np.array([0, 2, 0, 0]) + s) / (2 + s * V))  # after (<s>, <s>)
    np.testing.assert_allclose(rows[1], (np.array([0, 0, 1, 1]) + s) / (2 + s * V))  # after (<s>, a)
    np.testing.assert_allclose(rows[2], (np.array([1, 0, 0, 0]) + s) / (1 + s * V))  # after (a, b)


def test_a_large_vocabulary_keeps_only_the_counts_it_saw():
    """5,000 random sentences over 200,000 ids: 94,151 contexts, whose dense table would take 150 GB;
    the model keeps the counts it saw and makes a row when it is read, by the same formula."""
    rng = np.random.default_rng(0)
    V, s = 200_000, 1e-3
    sentences = [[str(t) for t in rng.integers(1, V, 10)] for _ in range(5000)]
    model = NGramModel(sentences, n=3, smoothing=s, vocab=["<s>", *map(str, range(1, V))])
    first = sentences[0]
    rows = model(np.array([0, int(first[0]), int(first[1])]))  # (3, V): <s> w1 w2
    want = np.full(V, s)
    want[int(first[2])] += 1.0  # (w1, w2) was seen once, followed by w3
    np.testing.assert_array_equal(rows[2], want / (1 + s * V))
    assert rows.shape == (3, V) and abs(rows[0].sum() - 1) < 1e-9


def test_the_row_cache_is_bounded_and_a_dropped_row_is_made_again_the_same(monkeypatch):
    """With room for two rows, reading five contexts keeps two, and a row read again after it was dropped
    has the same values."""
    import specdec.models as models

    corpus = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    first = NGramModel(corpus, n=2, smoothing=0.1)(np.array([0, 1, 2, 3, 1]))  # (5, V), unbounded
    monkeypatch.setattr(models, "ROW_CACHE_BYTES", 2 * 8 * 4)  # two rows of V = 4 float64
    model = NGramModel(corpus, n=2, smoothing=0.1)
    again = model(np.array([0, 1, 2, 3, 1]))
    assert len(model._rows) == 2
    np.testing.assert_array_equal(again, first)


def test_a_smoothing_that_overflows_the_rows_is_refused_at_once():
    with pytest.raises(ValueError, match="smoothing × vocab size must be finite"):
        NGramModel([["a", "b"]], n=2, smoothing=1e308)


def test_backoff_to_the_longest_seen_context():
    model = NGramModel([["a", "b"], ["b", "c"]], n=3, smoothing=0.1)
    rows = model(np.array([0, 3, 1]))  # <s> c a: context (c, a) never seen -> (a,) -> row of bigram "a"
    bigram = NGramModel([["a", "b"], ["b", "c"]], n=2, smoothing=0.1)
    np.testing.assert_allclose(rows[2], bigram(np.array([0, 1]))[1])


def test_boundary_starts_a_new_sentence(toy):
    model = toy[3]
    after_boundary = model(model.encode("she goes to school .").tolist() + [0])[-1]
    np.testing.assert_array_equal(after_boundary, model(np.array([0]))[0])


def test_encode_decode_round_trip_and_unknown_words(toy):
    model = toy[3]
    ids = model.encode("She goes to school every day. Where do you live?")
    assert ids[0] == 0
    assert model.decode(ids) == "she goes to school every day .\nwhere do you live ?"
    assert model.decode(np.append(ids, [0, model.vocab.index("i")])).splitlines()[-1] == "i"
    with pytest.raises(ValueError, match="'xylophone' is not in the vocabulary"):
        model.encode("the xylophone")
    with pytest.raises(ValueError, match="tokens must lie in"):
        model.decode([model.vocab_size])


def test_target_generates_corpus_like_sentences(toy):
    model = toy[3]
    out = autoregressive_decode(model, model.encode(""), 60, np.random.default_rng(0), top_p=0.95)
    lines = model.decode(out.tokens).splitlines()
    assert len(lines) >= 3
    complete = lines[:-1]  # the last line may be cut off by max_new_tokens
    assert all(line.endswith((".", "?")) for line in complete)
    known = {s for pair in load_learner_corpus() for s in pair}
    assert any(line in known for line in complete)  # it has learnt real sentences of its corpus


def test_draft_quality_ordering_like_leviathan_table_3(toy):
    """α (Cor. 3.6) on text generated by the target: unigram < bigram < target itself (= 1)."""
    target = toy[3]
    text = autoregressive_decode(target, target.encode(""), 800, np.random.default_rng(1)).tokens
    tokens = np.concatenate([target.encode(""), text])
    p_T = target(tokens)
    alpha = {n: float(beta(p_T, toy[n](tokens)).mean()) for n in (1, 2, 3)}
    assert alpha[1] < alpha[2] < alpha[3] == pytest.approx(1.0)
    assert alpha[1] < 0.3 and alpha[2] > 0.5


def test_mixture_alpha_is_one_minus_epsilon_times_tv(toy):
    target = toy[3]
    tokens = target.encode("my sister has two cats . yesterday i went")
    p_T = target(tokens)
    u = np.full(target.vocab_size, 1 / target.vocab_size)
    tv = 0.5 * np.abs(p_T - u).sum(axis=1)
    for eps in (0.0, 0.25, 0.8, 1.0):
        draft = MixtureDraft(target, eps)
        np.testing.assert_allclose(beta(p_T, draft(tokens)), 1 - eps * tv, atol=1e-12)
    noise = np.zeros(target.vocab_size)
    noise[0] = 1.0  # all the noise on <s>: TV(p_T, noise) = 1 − p_T(<s>)
    d = MixtureDraft(target, 0.3, noise)
    np.testing.assert_allclose(beta(p_T, d(tokens)), 1 - 0.3 * (1 - p_T[:, 0]), atol=1e-12)


def test_mixture_with_disjoint_noise_has_alpha_exactly_one_minus_epsilon():
    target = MarkovChain(np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0], [1.0, 0.0, 0.0]]))
    draft = MixtureDraft(target, 0.35, noise=np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(beta(target.transition, draft(np.arange(3))), 0.65, atol=1e-15)


def test_cyclic_chain_rows_are_rotations_with_constant_alpha():
    w = np.array([0.4, 0.3, 0.2, 0.1, 0.0])
    chain = MarkovChain.cyclic(w)
    for j in range(5):
        np.testing.assert_array_equal(chain.transition[j], np.roll(w, j))
    np.testing.assert_array_equal(chain(np.array([2, 0])), chain.transition[[2, 0]])
    alphas = beta(chain.transition, MixtureDraft(chain, 0.5)(np.arange(5)))
    assert np.ptp(alphas) < 1e-15 and 0 < alphas[0] < 1


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: NGramModel([["a"]], n=0), ValueError, "n must be >= 1"),
        (lambda: NGramModel([["a"]], n=2, smoothing=0), ValueError, "smoothing must be > 0"),
        (lambda: NGramModel([], n=2), ValueError, "at least one sentence"),
        (lambda: NGramModel([["a"]], n=2, vocab=["a", "<s>"]), ValueError, "vocab must hold"),
        (
            lambda: NGramModel([["a", "z"]], n=2, vocab=["<s>", "a"]),
            ValueError,
            "'z' is not in the vocabulary",
        ),
        (
            lambda: MarkovChain(np.array([[0.5, 0.6], [0.5, 0.5]])),
            ValueError,
            "transition is not a distribution",
        ),
        (lambda: MarkovChain(np.full((2, 3), 1 / 3)), ValueError, "transition must be square"),
        (lambda: MarkovChain.cyclic([[0.5, 0.5]]), ValueError, "weights must be 1-D"),
        (lambda: MixtureDraft(MarkovChain(np.eye(2)), 1.5), ValueError, "epsilon must lie in \\[0, 1\\]"),
        (lambda: MixtureDraft(lambda t: t, 0.5), TypeError, "vocab_size"),
        (
            lambda: MixtureDraft(MarkovChain(np.eye(2)), 0.5, noise=np.ones(3) / 3),
            ValueError,
            "noise must have shape",
        ),
        (
            lambda: MixtureDraft(MarkovChain(np.eye(2)), 0.5, noise=np.array([0.7, 0.7])),
            ValueError,
            "noise is not",
        ),
        (lambda: MarkovChain(np.eye(2))(np.array([0, 2])), ValueError, "tokens must lie in \\[0, V\\)"),
        (lambda: MarkovChain(np.eye(2))(np.array([[0]])), ValueError, "tokens must be 1-D"),
        (lambda: MarkovChain(np.eye(2))(np.array([0.0])), TypeError, "tokens must be an integer array"),
    ],
)
def test_bad_model_input(build, error, match):
    with pytest.raises(error, match=match):
        build()


# ------------------------------------------------------------------------------------------------
# regressions from review
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (
            lambda: NGramModel("hello", 2),
            TypeError,
            "sentences must be a sequence of sentences .* not a single str",
        ),
        (
            lambda: NGramModel(["hello world"], 2),
            TypeError,
            "sentences\\[0\\] must be a sequence of word strings",
        ),
        (
            lambda: NGramModel([["a"], "b c"], 2),
            TypeError,
            "sentences\\[1\\] must be a sequence of word strings",
        ),
        (lambda: NGramModel(7, 2), TypeError, "sentences must be a sequence of sentences, got int"),
        (
            lambda: NGramModel([["a", 1]], 2),
            TypeError,
            "sentences\\[0\\]\\[1\\] must be a word string, got 1",
        ),
        (
            lambda: NGramModel([["a", "<s>", "b"]], 2),
            ValueError,
            "sentences\\[0\\]\\[1\\] is the boundary token",
        ),
        (lambda: NGramModel([["a"]], 2, vocab=["<s>", "a", 3]), TypeError, "vocab must hold strings, got 3"),
        (lambda: NGramModel([["a"]], 2, vocab="<s>a"), TypeError, "vocab must be a sequence of word strings"),
        (lambda: NGramModel([["a"]], 2, vocab=["<s>", "a", "<s>"]), ValueError, "vocab must hold distinct"),
    ],
)
def test_ngram_rejects_strings_where_token_sequences_belong(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_ngram_accepts_tuples_and_tokenized_text():
    model = NGramModel([tuple(tokenize("She goes.")), tokenize("i went")], n=2)
    assert model.vocab == ("<s>", ".", "goes", "i", "she", "went")


def test_markov_chain_and_mixture_keep_a_read_only_copy():
    t = np.array([[0.5, 0.5], [0.1, 0.9]])
    chain = MarkovChain(t)
    t[0] = [7.0, -6.0]  # the caller's array changes afterwards: the model does not
    np.testing.assert_array_equal(chain.transition, [[0.5, 0.5], [0.1, 0.9]])
    np.testing.assert_array_equal(chain(np.array([0])), [[0.5, 0.5]])
    assert not chain.transition.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        chain.transition[0, 0] = 2.0
    noise = np.array([0.25, 0.75])
    draft = MixtureDraft(chain, 0.5, noise)
    noise[:] = [5.0, -4.0]
    np.testing.assert_allclose(draft(np.array([0])), [[0.375, 0.625]], atol=1e-15)
    assert not draft.noise.flags.writeable and not MixtureDraft(chain, 0.5).noise.flags.writeable


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ([1, 0], TypeError, "weights must be a floating-point array"),
        (["0.5", "0.5"], TypeError, "weights must be a floating-point array"),
        ([], ValueError, "weights has an empty vocabulary axis"),
        ([0.5, 0.6], ValueError, "weights is not a distribution"),
        ([0.5, np.nan, 0.5], ValueError, "weights is not a distribution: NaN"),
        (0.5, ValueError, "weights must be 1-D"),
    ],
)
def test_cyclic_validates_like_the_constructor(weights, error, match):
    with pytest.raises(error, match=match):
        MarkovChain.cyclic(weights)


def test_cyclic_errors_match_the_constructor_errors():
    with pytest.raises(TypeError, match="must be a floating-point array"):
        MarkovChain(np.eye(2, dtype=int))
    with pytest.raises(TypeError, match="must be a floating-point array"):
        MarkovChain.cyclic(np.array([1, 0]))


class _Fixed:
    """A model with a stated vocab_size whose output has ``width`` columns."""

    def __init__(self, vocab_size, width):
        self.vocab_size, self.width = vocab_size, width

    def __call__(self, tokens):
        return np.full((len(tokens), self.width), 1.0 / self.width)


def test_mixture_rejects_bool_vocab_size_and_a_target_of_another_width():
    with pytest.raises(TypeError, match="int vocab_size attribute, got vocab_size=True"):
        MixtureDraft(_Fixed(True, 1), 0.5)
    with pytest.raises(ValueError, match="target.vocab_size must be >= 1"):
        MixtureDraft(_Fixed(0, 1), 0.5)
    for width in (1, 2):  # width 1 used to broadcast silently to (L, 3)
        draft = MixtureDraft(_Fixed(3, width), 0.5)
        with pytest.raises(
            ValueError, match=f"target returned shape \\(2, {width}\\), expected .*\\(L, 3\\)"
        ):
            draft(np.array([0, 1]))
    np.testing.assert_allclose(MixtureDraft(_Fixed(3, 3), 0.5)(np.array([0])), [[1 / 3] * 3])


def test_float_token_ids_raise_the_same_type_error_in_models_and_sampler():
    chain = MarkovChain(np.eye(2))
    model = NGramModel([["a", "b"]], 2)
    calls = [
        lambda: chain(np.array([0.0, 1.0])),
        lambda: model(np.array([0.0])),
        lambda: model.decode(np.array([1.0])),
        lambda: autoregressive_decode(chain, np.array([0.0]), 1, np.random.default_rng(0)),
    ]
    for call in calls:
        with pytest.raises(TypeError, match="must be an integer array of token ids, got dtype float64"):
            call()


def test_model_docstrings_call_the_per_prefix_quantity_beta():
    import specdec.models as models

    assert "Row by row α" not in MixtureDraft.__doc__ and "β = Σ min(p_T, p_D)" in MixtureDraft.__doc__
    assert "α = E[β]" in models.__doc__


def test_ngram_order_is_bounded_and_text_arguments_are_type_checked():
    from specdec.models import MAX_N, tokenize

    with pytest.raises(ValueError, match=f"^n must be <= {MAX_N}"):
        NGramModel([["a"]], MAX_N + 1)
    assert NGramModel([["a", "b"]], MAX_N).n == MAX_N
    model = NGramModel([["a", "b"]], 2)
    with pytest.raises(TypeError, match="^text must be a string, got 123"):
        model.encode(123)
    with pytest.raises(TypeError, match="^text must be a string, got None"):
        tokenize(None)
