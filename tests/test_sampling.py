"""Speculative sampling is lossless: exact (analytic), sampled (chi-square), τ against Leviathan Eq. 1,
greedy equality, and loud failure on bad input. Fixed seeds; tolerances stated where used.

Notation: p_T target, p_D draft, k drafts per step, α acceptance rate, τ tokens per target call.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossless import P_MIN, TOY_TV, after_first_law, chisquare_p, detectable_tv, first_token_law
from specdec.core.rows import (
    SHORT_ROW,
    residual_weights,
    sample,
    sample_rows,
    softmax,
    standardize_logit_rows,
    standardize_rows,
)
from specdec.models import MarkovChain, MixtureDraft, NGramModel
from specdec.sampling import (
    ROW_SUM_TOL,
    SpeculativeResult,
    autoregressive_decode,
    beta,
    residual,
    speculative_decode,
    standardize,
    verify,
    verify_batch,
)


def draw_from_rows(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Test-side sampler (independent of the library's): one index per row of p (..., V)."""
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1])[..., None] * cdf[..., -1:]
    return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)


def eq1(alpha: float, k: int) -> float:
    """Leviathan et al. Equation 1: expected tokens per step, (1 − α^(k+1)) / (1 − α)."""
    return k + 1.0 if alpha == 1 else (1 - alpha ** (k + 1)) / (1 - alpha)


# ------------------------------------------------------------------------------------------------
# exact: the first emitted token is distributed as p_T, analytically, for all kinds of rows
# ------------------------------------------------------------------------------------------------


@st.composite
def row_pairs(draw):
    """(p_T, p_D) over V <= 12: random rows with zeros, one-hot rows, disjoint supports, identical rows."""
    V = draw(st.integers(1, 12))
    weights = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), min_size=V, max_size=V)

    def row(ws):
        ws = np.array(ws)
        if ws.sum() == 0:
            ws[draw(st.integers(0, V - 1))] = 1.0
        return ws / ws.sum()

    def one_hot():
        r = np.zeros(V)
        r[draw(st.integers(0, V - 1))] = 1.0
        return r

    kind = draw(st.sampled_from(["random", "one_hot", "disjoint", "identical", "mixed"]))
    if kind == "random":
        return row(draw(weights)), row(draw(weights))
    if kind == "one_hot":
        return one_hot(), one_hot()
    if kind == "identical":
        p = row(draw(weights))
        return p, p.copy()
    if kind == "mixed":
        return (one_hot(), row(draw(weights))) if draw(st.booleans()) else (row(draw(weights)), one_hot())
    if V == 1:  # two distributions over one token cannot have disjoint supports
        return np.ones(1), np.ones(1)
    cut = draw(st.integers(1, V - 1))
    a, b = np.array(draw(weights)), np.array(draw(weights))
    a[cut:], b[:cut] = 0.0, 0.0
    a[0] += a.sum() == 0
    b[-1] += b.sum() == 0
    return a / a.sum(), b / b.sum()


def first_token_distribution(p_T: np.ndarray, p_D: np.ndarray) -> np.ndarray:
    """P(first emitted token = y), from the rule: draw x ~ p_D, keep it with probability
    min(1, p_T(x)/p_D(x)), otherwise draw from residual(p_T, p_D). Sums over every draft x, its accept
    branch and its reject branch."""
    V = len(p_T)
    out = np.zeros(V)
    r = residual(p_T, p_D)
    for x in range(V):
        if p_D[x] == 0:
            continue
        accept = min(1.0, p_T[x] / p_D[x])
        out[x] += p_D[x] * accept
        out += p_D[x] * (1.0 - accept) * r
    return out


@settings(max_examples=300, deadline=None)
@given(row_pairs())
def test_first_token_is_exactly_p_T(pair):
    p_T, p_D = pair
    np.testing.assert_allclose(first_token_distribution(p_T, p_D), p_T, rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(row_pairs())
def test_residual_and_alpha_identities(pair):
    p_T, p_D = pair
    r = residual(p_T, p_D)
    alpha = beta(p_T, p_D)
    assert np.all(np.isfinite(r)) and np.all(r >= 0) and abs(r.sum() - 1) < 1e-12
    assert 0 <= alpha <= 1 + 1e-12
    assert abs(alpha - (1 - 0.5 * np.abs(p_T - p_D).sum())) < 1e-12  # α = 1 − D_LK = 1 − TV (Lemma 3.3)
    if alpha < 1 - 1e-9:  # the mass of max(0, p_T − p_D) is 1 − α (Leviathan A.1)
        np.testing.assert_allclose(r * (1 - alpha), np.maximum(p_T - p_D, 0), atol=1e-12)
    if alpha < 1 - 1e-9:  # a token the draft over-proposes (p_D > p_T) is never a correction
        assert np.all(r[p_D > p_T] == 0)


def test_residual_of_identical_rows_is_p_T_not_nan():
    p = np.array([[0.2, 0.8, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(residual(p, p.copy()), p)


def test_beta_shapes_and_values():
    p_T = np.array([0.5, 0.5, 0.0])
    p_D = np.array([0.0, 0.5, 0.5])
    a = beta(p_T, p_D)
    assert isinstance(a, float) and a == 0.5
    rows = beta(np.stack([p_T, p_T, p_T]), np.stack([p_D, p_T, [0, 0, 1.0]]))
    assert rows.shape == (3,)
    np.testing.assert_allclose(rows, [0.5, 1.0, 0.0])


# ------------------------------------------------------------------------------------------------
# the implementation follows the rule: decisions replayed from the same seed
# ------------------------------------------------------------------------------------------------


def random_step(rng, k, V, zeros=True):
    p_T = rng.dirichlet(np.full(V, 0.5), size=k + 1)
    p_D = rng.dirichlet(np.full(V, 0.5), size=k)
    if zeros:
        p_T[rng.random(p_T.shape) < 0.2] = 0.0
        p_T[np.arange(k + 1), rng.integers(0, V, k + 1)] += 0.1
        p_T /= p_T.sum(axis=1, keepdims=True)
    x = draw_from_rows(p_D, rng)
    return p_T, p_D, x


def test_verify_accepts_exactly_when_r_times_p_D_is_below_p_T():
    """Replays Algorithm 1's decision: n = first i with r_i >= p_T(x_i)/p_D(x_i), from the documented
    draws."""
    data = np.random.default_rng(11)
    seen = set()
    for seed in range(400):
        k = 1 + seed % 5
        p_T, p_D, x = random_step(data, k, 6)
        tokens, n = verify(p_T, p_D, x, np.random.default_rng(seed))
        r = np.random.default_rng(seed).random(k)  # verify's first k uniforms
        ok = r * p_D[np.arange(k), x] < p_T[np.arange(k), x]
        expected_n = k if ok.all() else int(np.argmin(ok))
        assert n == expected_n and len(tokens) == n + 1
        np.testing.assert_array_equal(tokens[:n], x[:n])
        last_row = p_T[k] if n == k else np.maximum(p_T[n] - p_D[n], 0)
        assert last_row[tokens[-1]] > 0  # the last token is a possible draw of its distribution
        seen.add(n)
    assert {0, 1, 2, 3} <= seen  # rejections at several positions and full acceptance both occurred


def test_verify_batch_of_one_equals_verify_for_the_same_seed():
    data = np.random.default_rng(12)
    for seed in range(300):
        k, V = 1 + seed % 4, (3, 50, 3000)[seed % 3]  # 3000 > 2048 exercises the two-level sampler
        p_T, p_D, x = random_step(data, k, V)
        t1, n1 = verify(p_T, p_D, x, np.random.default_rng(seed))
        tb, nb = verify_batch(p_T[None], p_D[None], x[None], np.random.default_rng(seed))
        assert nb.tolist() == [n1]
        np.testing.assert_array_equal(tb[0, : n1 + 1], t1)
        assert np.all(tb[0, n1 + 1 :] == -1)


def test_verify_batch_rows_are_independent_of_the_batch_layout():
    """Output format: accepted drafts, then the last token, then -1; n_accepted matches."""
    rng = np.random.default_rng(13)
    B, k, V = 500, 4, 7
    p_T = rng.dirichlet(np.ones(V), size=(B, k + 1))
    p_D = rng.dirichlet(np.ones(V), size=(B, k))
    x = draw_from_rows(p_D, rng)
    tokens, n = verify_batch(p_T, p_D, x, np.random.default_rng(1))
    assert tokens.shape == (B, k + 1) and n.shape == (B,) and tokens.dtype == np.int64
    for b in range(B):
        assert np.all(tokens[b, : n[b]] == x[b, : n[b]])
        assert 0 <= tokens[b, n[b]] < V
        assert np.all(tokens[b, n[b] + 1 :] == -1)


def test_sampler_never_returns_a_zero_weight_token_even_at_the_edge():
    """u just below 1 lands on the last positive weight, in one- and two-level sampling."""
    u_top = np.array([np.nextafter(1.0, 0.0)])
    for V in (5, 2048, 2049, 40_000):
        w = np.random.default_rng(V).random(V)
        w[-(V // 3 + 1) :] = 0.0  # a zero tail
        last_positive = np.flatnonzero(w)[-1]
        assert sample_rows(w[None], u_top)[0] == last_positive
        assert sample_rows(w[None], np.zeros(1))[0] == np.flatnonzero(w)[0]
        draws = sample_rows(np.repeat(w[None], 200, 0), np.random.default_rng(0).random(200))
        assert np.all(w[draws] > 0)


@pytest.mark.parametrize(
    ("temperature", "top_p"), [(1.0, 1.0), (0.7, 1.0), (1.5, 1.0), (0.7, 0.9), (0.0, 1.0)]
)
def test_standardising_logits_gives_the_law_of_standardising_their_softmax(temperature, top_p):
    """softmax(z / T), then top-p, is standardize(softmax(z), T, top_p): to float64 rounding from float64
    logits, within float32's from float32 logits (the decoding loop's path for a model's logits)."""
    z = np.random.default_rng(4).standard_normal((6, 50)) * 4.0
    want = standardize_rows(softmax(z), temperature, top_p)
    np.testing.assert_allclose(standardize_logit_rows(z, temperature, top_p), want, rtol=0, atol=1e-12)
    z32 = z.astype(np.float32)
    want32 = standardize_rows(softmax(z32.astype(np.float64)), temperature, top_p)
    got32 = standardize_logit_rows(z32, temperature, top_p)
    assert got32.dtype == np.float64
    np.testing.assert_allclose(got32, want32, rtol=0, atol=1e-6)


def test_one_short_row_is_drawn_as_sample_rows_draws_it():
    """sample() runs a short row's inverse CDF on a list: the same token as sample_rows for the same
    uniform, zero weights, unnormalised rows and the edge below 1 included."""
    rng = np.random.default_rng(3)
    for _ in range(3000):
        V = int(rng.integers(1, SHORT_ROW + 1))
        w = rng.random(V) * (rng.random(V) < 0.6) * 3.0  # zeros, and a total that is not 1
        w[rng.integers(V)] += 0.5  # at least one positive weight
        seed = int(rng.integers(1 << 31))
        want = sample_rows(w[None], np.array([np.random.default_rng(seed).random()]))[0]
        assert sample(w, np.random.default_rng(seed)) == want
    w = np.array([0.2, 0.0, 0.7, 0.0])

    class Top:  # a Generator stand-in whose uniform is the largest float below 1
        def random(self):
            return float(np.nextafter(1.0, 0.0))

    assert sample(w, Top()) == 2 == sample_rows(w[None], np.array([Top().random()]))[0]


# ------------------------------------------------------------------------------------------------
# sampled: chi-square goodness of fit against the target's own distribution
# ------------------------------------------------------------------------------------------------

N_BATCH = 240_000


def batch_inputs(p_T_rows, p_D_rows, B, rng):
    p_T = np.ascontiguousarray(np.broadcast_to(p_T_rows, (B, *p_T_rows.shape)))
    p_D = np.ascontiguousarray(np.broadcast_to(p_D_rows, (B, *p_D_rows.shape)))
    return p_T, p_D, draw_from_rows(p_D, rng)


CASES = {
    "random with zeros": (
        np.array([[0.30, 0.00, 0.25, 0.05, 0.40], [0.10, 0.20, 0.30, 0.40, 0.00], [0.0, 0.5, 0.0, 0.0, 0.5]]),
        np.array([[0.10, 0.40, 0.10, 0.30, 0.10], [0.25, 0.25, 0.25, 0.25, 0.00]]),
    ),
    "disjoint supports": (
        np.array([[0.6, 0.4, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25]]),
        np.array([[0.0, 0.0, 0.3, 0.7], [0.5, 0.5, 0.0, 0.0]]),
    ),
    "one-hot draft": (
        np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]]),
        np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_verify_batch_first_token_and_accept_counts_fit(case):
    p_T_rows, p_D_rows = CASES[case]
    k = len(p_D_rows)
    p_T, p_D, x = batch_inputs(p_T_rows, p_D_rows, N_BATCH, np.random.default_rng(21))
    tokens, n = verify_batch(p_T, p_D, x, np.random.default_rng(22))
    V = p_T_rows.shape[1]
    assert chisquare_p(np.bincount(tokens[:, 0], minlength=V), p_T_rows[0]) > P_MIN
    # rows here do not depend on earlier tokens, so acceptances are independent with β_i = Σ min(p_T_i, p_D_i)
    b = beta(p_T_rows[:k], p_D_rows)
    p_n = np.array([np.prod(b[:j]) * (1 - b[j]) for j in range(k)] + [np.prod(b)])
    assert chisquare_p(np.bincount(n, minlength=k + 1), p_n) > P_MIN
    # given all k accepted, the bonus token follows p_T[k]
    bonus = tokens[n == k, k]
    if detectable_tv(len(bonus), V) <= TOY_TV:  # enough all-accepted rows to test the bonus
        assert chisquare_p(np.bincount(bonus, minlength=V), p_T_rows[k]) > P_MIN


def test_the_chi_square_check_catches_a_sampler_that_skips_the_residual():
    """Power check: resampling rejected positions from p_T (instead of the residual) fails the same test."""
    p_T_rows, p_D_rows = CASES["random with zeros"]
    p_T, p_D, x = batch_inputs(p_T_rows, p_D_rows, N_BATCH, np.random.default_rng(21))
    tokens, n = verify_batch(p_T, p_D, x, np.random.default_rng(22))
    wrong = tokens[:, 0].copy()
    rejected_first = n == 0
    wrong[rejected_first] = draw_from_rows(p_T[rejected_first, 0], np.random.default_rng(23))
    assert chisquare_p(np.bincount(wrong, minlength=5), p_T_rows[0]) < P_MIN


TARGET = MarkovChain(
    np.array([[0.5, 0.3, 0.2, 0], [0.1, 0.6, 0.3, 0], [0.3, 0, 0.4, 0.3], [0.25, 0.25, 0.25, 0.25]])
)
DRAFT = MarkovChain(np.array([[0.2, 0.2, 0.3, 0.3], [0.6, 0.4, 0, 0], [0.3, 0.3, 0.4, 0], [0, 0, 0.5, 0.5]]))


def target_joint(temperature=1.0, top_p=1.0):
    """Exact joint P(second, third) of the target chain after prompt [0], under the same standardisation:
    the tokens the loop's first step writes, after the prompt's forward wrote the first."""
    rows = standardize(TARGET.transition, temperature, top_p)
    return after_first_law(rows, rows[0])  # (V, V)


LOOP_DRAWS = 2500  # runs of the loop per sampled check: enough for TOY_TV over 16 cells (lossless.py)


@pytest.mark.parametrize(("k", "temperature", "top_p"), [(1, 1.0, 1.0), (3, 1.0, 1.0), (2, 0.6, 0.8)])
def test_speculative_decode_joint_of_the_first_verified_tokens_fits_the_target(k, temperature, top_p):
    rng = np.random.default_rng(100 + k)
    prompt = np.array([0])
    counts = np.zeros((4, 4), dtype=np.int64)
    for _ in range(LOOP_DRAWS):
        a, b = speculative_decode(  # k + 2 tokens: the first step drafts all k
            TARGET, DRAFT, prompt, k + 2, k, rng, temperature=temperature, top_p=top_p
        ).tokens[1:3]
        counts[a, b] += 1
    assert chisquare_p(counts, target_joint(temperature, top_p)) > P_MIN


def test_temperature_must_shape_both_rows_before_the_acceptance_test():
    """Standardising p_T and p_D first gives exactly the tempered target; drafting at temperature while
    testing against raw rows (temperature applied 'after') does not."""
    p_T, p_D = TARGET.transition[0], DRAFT.transition[0]
    goal = standardize(p_T, 0.6)
    q_T, q_D = standardize(p_T, 0.6), standardize(p_D, 0.6)
    assert np.abs(first_token_law(q_T, q_D, q_D, residual(q_T, q_D)) - goal).max() < 1e-12
    late = first_token_law(p_T, q_D, p_D, residual(p_T, p_D))  # drafts tempered, accept/reject on raw rows
    assert np.abs(late - goal).max() > 0.05


# ------------------------------------------------------------------------------------------------
# τ against Leviathan Equation 1, with α the same after every prefix
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "k"), [(0.6, 4), (0.85, 3), (0.3, 2)])
def test_tokens_per_step_match_equation_1_in_verify_batch(alpha, k):
    """p_D = α·p_T + (1 − α)·q with q on the other half of the vocabulary: Σ min(p_T, p_D) = α exactly."""
    rng = np.random.default_rng(31)
    B, V = 200_000, 8
    p_T = np.zeros((k + 1, V))
    p_T[:, : V // 2] = rng.dirichlet(np.ones(V // 2), size=k + 1)
    q = np.zeros((k, V))
    q[:, V // 2 :] = rng.dirichlet(np.ones(V // 2), size=k)
    p_D = alpha * p_T[:k] + (1 - alpha) * q
    np.testing.assert_allclose(beta(p_T[:k], p_D), alpha, atol=1e-12)
    p_Tb, p_Db, x = batch_inputs(p_T, p_D, B, rng)
    _, n = verify_batch(p_Tb, p_Db, x, np.random.default_rng(32))
    per_step = n + 1
    se = per_step.std(ddof=1) / np.sqrt(B)
    assert abs(per_step.mean() - eq1(alpha, k)) < 3 * se


def test_tau_of_speculative_decode_matches_equation_1_on_a_cyclic_chain():
    """Every row of MarkovChain.cyclic is a rotation of one vector, so a uniform-noise mixture draft has the
    same α after every prefix: the i.i.d. assumption of Eq. 1 holds exactly."""
    target = MarkovChain.cyclic([0.55, 0.2, 0.1, 0.08, 0.05, 0.02, 0.0, 0.0])
    draft = MixtureDraft(target, epsilon=0.6)
    alphas = beta(target.transition, draft(np.arange(8)))
    assert np.ptp(alphas) < 1e-12
    alpha, k = float(alphas[0]), 3
    res = speculative_decode(target, draft, np.array([0]), 6000, k, np.random.default_rng(41))
    per_step = np.array(res.accepted_per_step) + 1
    se = per_step.std(ddof=1) / np.sqrt(len(per_step))
    assert abs(res.tokens_per_target_call - per_step.mean()) < 1e-12
    assert abs(res.tokens_per_target_call - eq1(alpha, k)) < 3 * se
    # accepted / drafted is E[n]/k: drafts after a rejection are discarded untested, so it is below α
    expected_rate = (eq1(alpha, k) - 1) / k
    se_rate = np.std(per_step - 1, ddof=1) / k / np.sqrt(len(per_step))
    assert abs(res.accepted_fraction - expected_rate) < 3 * se_rate
    assert res.accepted_fraction < alpha


# ------------------------------------------------------------------------------------------------
# decoding loops: greedy equality, bookkeeping, reproducibility
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy():
    target = NGramModel.from_corpus(n=3)
    drafts = [NGramModel.from_corpus(n=1), NGramModel.from_corpus(n=2), MixtureDraft(target, 0.7)]
    return target, drafts


def test_greedy_equality_on_a_markov_chain_whose_draft_disagrees_often():
    # greedy target: 0 -> 1 -> 2 -> 3 -> 0 ...; the draft's argmax agrees except after token 2
    target = MarkovChain(
        np.array([[0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.7, 0.1], [0.2, 0.1, 0.3, 0.4], [0.5, 0.2, 0.2, 0.1]])
    )
    draft = MarkovChain(
        np.array([[0.1, 0.7, 0.1, 0.1], [0.1, 0.2, 0.6, 0.1], [0.1, 0.1, 0.6, 0.2], [0.4, 0.3, 0.2, 0.1]])
    )
    greedy = autoregressive_decode(target, [0], 40, np.random.default_rng(0), temperature=0).tokens
    assert greedy[:5].tolist() == [1, 2, 3, 0, 1]
    for k in (1, 2, 4, 7):
        spec = speculative_decode(target, draft, [0], 40, k, np.random.default_rng(5), temperature=0)
        np.testing.assert_array_equal(spec.tokens, greedy)
        assert min(spec.accepted_per_step) < k  # rejections did happen


@pytest.mark.parametrize("max_new_tokens", [0, 1, 2, 7, 30])
def test_bookkeeping(toy, max_new_tokens):
    target, drafts = toy
    k = 4
    res = speculative_decode(
        target, drafts[1], target.encode("she"), max_new_tokens, k, np.random.default_rng(3)
    )
    assert res.tokens.shape == (max_new_tokens,) and res.tokens.dtype == np.int64
    steps = len(res.accepted_per_step)
    assert res.target_calls == (steps + 1 if max_new_tokens else 0)  # the prompt's forward writes one
    # every step drafts min(k, tokens still needed after its own): k except possibly near the end
    assert res.draft_calls == sum(res.drafted_per_step) <= k * steps
    assert all(0 <= a <= d <= k for a, d in zip(res.accepted_per_step, res.drafted_per_step, strict=True))
    assert res.written_per_step == [a + 1 for a in res.accepted_per_step]  # nothing written is cut
    if steps:
        assert res.tau * steps == max_new_tokens - 1  # τ counts the tokens written, the first excluded
    ar = autoregressive_decode(target, target.encode("she"), max_new_tokens, np.random.default_rng(3))
    assert ar.tokens.shape == (max_new_tokens,) and ar.target_calls == max_new_tokens and ar.draft_calls == 0
    if max_new_tokens <= 1:
        assert res.draft_calls == 0 and np.isnan(res.tokens_per_target_call)


def test_same_seed_same_output_and_the_global_rng_is_untouched(toy):
    target, drafts = toy
    np.random.seed(1234)
    before = np.random.get_state()[1].copy()
    runs = [
        speculative_decode(target, drafts[2], target.encode("my"), 30, 3, np.random.default_rng(9), top_p=0.9)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].tokens, runs[1].tokens)
    assert runs[0].accepted_per_step == runs[1].accepted_per_step
    other = speculative_decode(
        target, drafts[2], target.encode("my"), 30, 3, np.random.default_rng(10), top_p=0.9
    )
    assert not np.array_equal(other.tokens, runs[0].tokens)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# ------------------------------------------------------------------------------------------------
# standardisation (Leviathan section 2.2)
# ------------------------------------------------------------------------------------------------


def test_standardize():
    p = np.array([0.1, 0.4, 0.2, 0.3, 0.0])
    assert standardize(p) is p or np.array_equal(standardize(p), p)
    np.testing.assert_array_equal(standardize(p, 0), [0, 1, 0, 0, 0])
    np.testing.assert_allclose(standardize(p, 0.5), p**2 / (p**2).sum(), atol=1e-15)
    np.testing.assert_allclose(standardize(p, 2.0), np.sqrt(p) / np.sqrt(p).sum(), atol=1e-15)
    np.testing.assert_allclose(standardize(p, top_p=0.65), [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0], atol=1e-15)
    np.testing.assert_allclose(standardize(p, top_p=0.4), [0, 1, 0, 0, 0], atol=1e-15)
    np.testing.assert_allclose(
        standardize(p, top_p=0.75), [0, 0.4 / 0.9, 0.2 / 0.9, 0.3 / 0.9, 0], atol=1e-15
    )
    np.testing.assert_allclose(standardize(p, 0.5, top_p=0.9), [0, 16 / 29, 4 / 29, 9 / 29, 0], atol=1e-15)
    ties = np.array([0.25, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(standardize(ties, 0), [1, 0, 0, 0])  # argmax: first index on ties
    np.testing.assert_allclose(standardize(ties, top_p=0.5), [0.5, 0.5, 0, 0])  # nucleus: stable order
    rows = standardize(np.stack([p, p[::-1]]), 0.7, 0.9)
    assert rows.shape == (2, 5) and np.allclose(rows.sum(1), 1)


# ------------------------------------------------------------------------------------------------
# bad input: ValueError / TypeError naming the argument; nothing renormalised
# ------------------------------------------------------------------------------------------------

GOOD_T = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])  # (k+1, V), k = 2
GOOD_D = np.array([[0.4, 0.6, 0.0], [0.1, 0.1, 0.8]])  # (k, V)
GOOD_X = np.array([1, 2])
RNG = np.random.default_rng(0)


def with_entry(a, where, value):
    a = a.copy()
    a[where] = value
    return a


BAD_VERIFY = [
    ("negative entry", dict(p_target=with_entry(GOOD_T, (1, 0), -0.1)), ValueError, "p_target.*negative"),
    ("NaN entry", dict(p_draft=with_entry(GOOD_D, (0, 2), np.nan)), ValueError, "p_draft.*NaN"),
    ("inf entry", dict(p_target=with_entry(GOOD_T, (0, 2), np.inf)), ValueError, "p_target.*sums to inf"),
    (
        "sum off by 1e-5",
        dict(p_target=with_entry(GOOD_T, (2, 0), 1 + 1e-5)),
        ValueError,
        "p_target.*row \\(2,\\)",
    ),
    (
        "sum off by -1e-3",
        dict(p_draft=with_entry(GOOD_D, (1, 2), 0.799)),
        ValueError,
        "p_draft.*not 1 within",
    ),
    ("p_target rows != k+1", dict(p_target=GOOD_T[:2]), ValueError, "p_target must have shape"),
    (
        "p_draft wrong V",
        dict(p_draft=np.array([[0.5, 0.5], [0.5, 0.5]])),
        ValueError,
        "p_draft must have V=3",
    ),
    (
        "draft_tokens wrong length",
        dict(draft_tokens=np.array([1])),
        ValueError,
        "draft_tokens must have shape",
    ),
    (
        "k = 0",
        dict(p_target=GOOD_T[:1], p_draft=GOOD_D[:0], draft_tokens=GOOD_X[:0]),
        ValueError,
        "k .* >= 1",
    ),
    ("draft token >= V", dict(draft_tokens=np.array([1, 3])), ValueError, "draft_tokens must lie in"),
    ("draft token < 0", dict(draft_tokens=np.array([-1, 2])), ValueError, "draft_tokens must lie in"),
    (
        "draft token of p_D 0",
        dict(draft_tokens=np.array([2, 2])),
        ValueError,
        "draft_tokens\\[0\\].*probability 0",
    ),
    (
        "float draft tokens",
        dict(draft_tokens=np.array([1.0, 2.0])),
        TypeError,
        "draft_tokens must be an integer",
    ),
    (
        "int probabilities",
        dict(p_draft=np.array([[0, 1, 0], [0, 0, 1]])),
        TypeError,
        "p_draft must be a floating",
    ),
    ("p_target one dimension short", dict(p_target=GOOD_T[0]), ValueError, "p_target must be [23]-D"),
    ("legacy global RNG", dict(rng=np.random), TypeError, "rng must be a numpy.random.Generator"),
]


@pytest.mark.parametrize(("case", "change", "error", "match"), BAD_VERIFY, ids=[c[0] for c in BAD_VERIFY])
def test_verify_rejects_bad_input(case, change, error, match):
    args = dict(p_target=GOOD_T, p_draft=GOOD_D, draft_tokens=GOOD_X, rng=RNG) | change
    with pytest.raises(error, match=match):
        verify(**args)
    batched = {name: (np.asarray(v)[None] if name != "rng" else v) for name, v in args.items()}
    with pytest.raises(
        error, match=match.replace("\\[0\\]", "\\[0, 0\\]").replace("row \\(2,\\)", "row \\(0, 2\\)")
    ):
        verify_batch(**batched)


def test_inputs_within_tolerance_are_used_as_given_not_renormalised():
    p_T = GOOD_T.copy()
    p_T[2] = [1 - 5e-7, 0.0, 0.0]  # within ROW_SUM_TOL: accepted, and not rescaled
    assert 5e-7 < ROW_SUM_TOL
    before = p_T.copy()
    verify(p_T, GOOD_D, GOOD_X, np.random.default_rng(0))
    np.testing.assert_array_equal(p_T, before)
    with pytest.raises(ValueError, match="p_target"):
        beta(np.array([0.5, 0.6]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="p_draft must have the shape"):
        residual(np.array([0.5, 0.5]), np.array([1.0]))


def wrong_rows_model(tokens):
    return np.full((len(tokens) + 1, 3), 1 / 3)


def wrong_vocab_model(tokens):
    return np.full((len(tokens), 5), 0.2)


def not_a_distribution_model(tokens):
    return np.full((len(tokens), 3), 0.3)


def UNIFORM(tokens):
    return np.full((len(tokens), 3), 1 / 3)


BAD_DECODE = [
    ("k = 0", dict(k=0), ValueError, "k must be >= 1"),
    ("k float", dict(k=2.0), TypeError, "k must be an int"),
    ("temperature < 0", dict(temperature=-0.1), ValueError, "temperature must be >= 0"),
    ("temperature nan", dict(temperature=float("nan")), ValueError, "temperature"),
    ("top_p = 0", dict(top_p=0.0), ValueError, "top_p must lie in \\(0, 1\\]"),
    ("top_p > 1", dict(top_p=1.5), ValueError, "top_p must lie in \\(0, 1\\]"),
    ("max_new_tokens < 0", dict(max_new_tokens=-1), ValueError, "max_new_tokens must be >= 0"),
    ("empty prompt", dict(prompt=np.array([], dtype=int)), ValueError, "prompt must be a non-empty"),
    ("prompt token >= V", dict(prompt=np.array([0, 3])), ValueError, "prompt token ids must be < V=3"),
    ("float prompt", dict(prompt=np.array([0.0])), TypeError, "prompt must be an integer"),
    (
        "target wrong rows",
        dict(target=wrong_rows_model),
        ValueError,
        "target must return a \\(len\\(tokens\\), V\\)",
    ),
    (
        "draft wrong rows",
        dict(drafter=wrong_rows_model),
        ValueError,
        "drafter must return a \\(len\\(tokens\\), V\\)",
    ),
    ("vocabularies differ", dict(target=wrong_vocab_model), ValueError, "share a vocabulary"),
    (
        "draft not a distribution",
        dict(drafter=not_a_distribution_model),
        ValueError,
        "drafter output is not a dis",
    ),
    (
        "drafter neither",
        dict(drafter=42),
        TypeError,
        "drafter must be a drafter .* or a model callable.* got int",
    ),
    ("target not callable", dict(target="uniform"), TypeError, "target must be a model callable"),
    (
        "prompt past a model's V",
        dict(target=MarkovChain(np.eye(3)), prompt=np.array([0, 3])),
        ValueError,
        "^prompt token ids must be < V=3",
    ),
    ("target not a distribution", dict(target=not_a_distribution_model), ValueError, "target output is not"),
    ("rng not a Generator", dict(rng=0), TypeError, "rng must be a numpy.random.Generator"),
]


@pytest.mark.parametrize(("case", "change", "error", "match"), BAD_DECODE, ids=[c[0] for c in BAD_DECODE])
def test_speculative_decode_rejects_bad_input(case, change, error, match):
    args = (
        dict(
            target=UNIFORM,
            drafter=UNIFORM,
            prompt=np.array([0]),
            max_new_tokens=5,
            k=2,
            rng=np.random.default_rng(0),
        )
        | change
    )
    rng = args.pop("rng")
    with pytest.raises(error, match=match):
        speculative_decode(
            args.pop("target"),
            args.pop("drafter"),
            args.pop("prompt"),
            args.pop("max_new_tokens"),
            args.pop("k"),
            rng,
            **args,
        )


BAD_AR = [c for c in BAD_DECODE if not {"drafter", "k"} & set(c[1]) and c[0] != "vocabularies differ"]


@pytest.mark.parametrize(("case", "change", "error", "match"), BAD_AR, ids=[c[0] for c in BAD_AR])
def test_autoregressive_decode_rejects_bad_input(case, change, error, match):
    args = dict(target=UNIFORM, prompt=np.array([0]), max_new_tokens=5, rng=np.random.default_rng(0)) | change
    with pytest.raises(error, match=match):
        autoregressive_decode(
            args.pop("target"), args.pop("prompt"), args.pop("max_new_tokens"), args.pop("rng"), **args
        )


def test_standardize_and_alpha_reject_bad_rows():
    with pytest.raises(ValueError, match="temperature"):
        standardize(np.array([0.5, 0.5]), temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        standardize(np.array([0.5, 0.5]), top_p=0)
    with pytest.raises(ValueError, match="p is not a distribution"):
        standardize(np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="p_draft.*negative"):
        beta(np.array([0.5, 0.5]), np.array([1.5, -0.5]))


# ------------------------------------------------------------------------------------------------
# regressions from review
# ------------------------------------------------------------------------------------------------


class CountingModel:
    """Wraps a model, counts its calls, and fails the test at once past ``limit`` calls (instead of
    hanging)."""

    def __init__(self, model, limit):
        self.model, self.limit, self.calls = model, limit, 0

    def __call__(self, tokens):
        self.calls += 1
        assert self.calls <= self.limit, f"model called {self.calls} times, more than the {self.limit} needed"
        return self.model(tokens)


@pytest.mark.parametrize(
    ("k", "max_new_tokens"), [(2000, 1), (10**6, 1), (10**6, 3), (5, 12), (3, 7), (1, 4)]
)
def test_speculative_decode_never_drafts_more_than_is_needed(k, max_new_tokens):
    """A step drafts min(k, tokens still needed − 1): a huge k costs nothing, no step writes past the end."""
    draft = CountingModel(DRAFT, limit=max_new_tokens * (max_new_tokens + 1) // 2)
    target = CountingModel(TARGET, limit=max_new_tokens)
    res = speculative_decode(target, draft, [0], max_new_tokens, k, np.random.default_rng(7))
    assert res.tokens.shape == (max_new_tokens,)
    assert res.draft_calls == draft.calls == sum(res.drafted_per_step)
    assert res.target_calls == target.calls == 1 + len(res.accepted_per_step) == 1 + len(res.drafted_per_step)
    done = 1  # the prompt's forward wrote the first token
    for accepted, drafted in zip(res.accepted_per_step, res.drafted_per_step, strict=True):
        assert drafted == min(k, max_new_tokens - done - 1) and 0 <= accepted <= drafted
        done += accepted + 1
    assert done == max_new_tokens
    if res.draft_calls:
        assert res.accepted_fraction == sum(res.accepted_per_step) / res.draft_calls  # over what was drafted
    if max_new_tokens == 1:
        assert res.draft_calls == 0 and res.target_calls == 1 and np.isnan(res.tau)
    else:
        assert res.tokens_per_target_call == (done - 1) / (res.target_calls - 1)


def test_huge_k_is_still_exact_for_the_first_verified_tokens():
    """With k = 10**6 each step is Algorithm 1 with γ = min(k, needed): the joint law is still the
    target's."""
    rng = np.random.default_rng(77)
    counts = np.zeros((4, 4), dtype=np.int64)
    for _ in range(LOOP_DRAWS):
        a, b = speculative_decode(TARGET, CountingModel(DRAFT, limit=3), [0], 4, 10**6, rng).tokens[1:3]
        counts[a, b] += 1
    assert chisquare_p(counts, target_joint()) > P_MIN


def test_speculative_result_accepted_fraction_is_accepted_over_actually_drafted():
    res = SpeculativeResult(
        tokens=np.zeros(6, dtype=np.int64),
        target_calls=3,
        draft_calls=5,
        k=4,
        accepted_per_step=[2, 1],
        drafted_per_step=[4, 1],
        written_per_step=[3, 2],
    )
    assert res.accepted_fraction == 3 / 5 and res.tokens_per_target_call == 2.5 == res.tau
    assert res.tau * res.steps == len(res.tokens) - 1
    cut = SpeculativeResult(
        tokens=np.zeros(4, dtype=np.int64), target_calls=3, accepted_per_step=[2, 1], written_per_step=[2, 1]
    )  # a stop token ended the second step early: only what was written counts
    assert cut.tau == 1.5 and np.isnan(cut.accepted_fraction)


@pytest.mark.parametrize("fn", [beta, residual])
def test_pair_functions_reject_0d_and_3d_input_with_a_value_error_naming_the_argument(fn):
    row = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match="p_target must be a \\(V,\\) row or an \\(n, V\\) array"):
        fn(np.float64(1), np.float64(1))
    with pytest.raises(ValueError, match="p_draft must be a \\(V,\\) row"):
        fn(row, np.float64(1))
    with pytest.raises(ValueError, match="p_target .* got shape \\(1, 1, 2\\)"):
        fn(row[None, None], row[None, None])


def test_top_p_counts_mass_within_rounding_of_top_p_as_reaching_it():
    p = np.array([0.7, 0.2, 0.1])
    assert 0.7 + 0.2 < 0.9  # 0.8999999999999999: the sum that used to keep the third token
    np.testing.assert_allclose(standardize(p, top_p=0.9), [0.7 / 0.9, 0.2 / 0.9, 0.0], atol=1e-15)
    np.testing.assert_allclose(standardize(p, top_p=0.9 + 1e-9), [0.7, 0.2, 0.1], atol=1e-15)  # clearly above
    np.testing.assert_array_equal(standardize(p, top_p=1e-15), [1.0, 0.0, 0.0])  # the top token always stays


def test_tiny_temperature_is_greedy_without_warnings_or_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        np.testing.assert_array_equal(standardize(np.array([0.7, 0.3]), 1e-320), [1.0, 0.0])
        np.testing.assert_array_equal(standardize(np.array([0.3, 0.7]), 5e-324), [0.0, 1.0])
        np.testing.assert_array_equal(standardize(np.array([0.4, 0.2, 0.4]), 1e-320), [0.5, 0.0, 0.5])  # ties
        low = standardize(np.array([0.7, 0.3], dtype=np.float32), 1e-320)  # 1e-320 is 0 in float32
        assert low.dtype == np.float32
        np.testing.assert_array_equal(low, [1.0, 0.0])
        rows = standardize(np.array([[0.1, 0.6, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25]]), 1e-300, top_p=0.5)
        assert np.all(np.isfinite(rows))
        np.testing.assert_array_equal(rows, [[0, 1, 0, 0], [0.5, 0.5, 0, 0]])


@pytest.mark.parametrize("V", [2, 300])  # the matrix-vector row sums (V <= 256) and the reduction
def test_infinite_input_raises_only_the_value_error(V):
    bad = np.zeros(V)
    bad[0], bad[1] = np.inf, -np.inf  # inf − inf: NaN sum, formerly with an "invalid value" RuntimeWarning
    good = np.full(V, 1.0 / V)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="p is not a distribution"):
            standardize(bad)
        with pytest.raises(ValueError, match="p_target is not a distribution"):
            beta(bad, good)
        with pytest.raises(ValueError, match="p_draft is not a distribution"):
            residual(good, np.where(np.arange(V) == 0, np.inf, 0.0))
        big = np.full(V, np.finfo(float).max)  # a sum past the float range
        with pytest.raises(ValueError, match="p_draft is not a distribution"):
            verify(np.stack([good, good]), big[None], np.array([0]), np.random.default_rng(0))


def test_standardize_returns_a_new_array_even_when_nothing_changes():
    p = np.array([0.1, 0.4, 0.5])
    for kwargs in ({}, dict(temperature=1.0, top_p=1.0)):
        out = standardize(p, **kwargs)
        assert out is not p and not np.shares_memory(out, p)
        out[0] = 99.0
        np.testing.assert_array_equal(p, [0.1, 0.4, 0.5])


def test_one_dimensional_row_errors_do_not_print_an_empty_row_index():
    with pytest.raises(ValueError) as err:
        beta(np.array([0.5, 0.6]), np.array([0.5, 0.5]))
    assert "row ()" not in str(err.value) and "p_target is not a distribution: it sums to 1.1" in str(
        err.value
    )


def bad_last_row_model(tokens):
    out = np.full((len(tokens), 3), 1 / 3)
    out[-1] = 0.3
    return out


def test_model_errors_name_the_argument_shapes_and_the_row_of_the_model_output():
    prompt = np.array([0, 1, 2])
    with pytest.raises(ValueError) as err:
        autoregressive_decode(bad_last_row_model, prompt, 2, np.random.default_rng(0))
    msg = str(err.value)  # row 2 of the target's (3, 3) output is bad, not "row (0,)" of the slice used
    assert msg.startswith("target output is not a distribution: row (2,) sums to")
    assert "target returned shape (3, 3) for 3 input tokens (expected (3, V))" in msg
    with pytest.raises(ValueError) as err:
        speculative_decode(UNIFORM, bad_last_row_model, prompt, 5, 2, np.random.default_rng(0))
    # the prompt's forward wrote a fourth token, then the drafter read all four
    assert str(err.value).startswith("drafter output is not a distribution: row (3,) sums to")
    assert "drafter returned shape (4, 3) for 4 input tokens (expected (4, V))" in str(err.value)
    with pytest.raises(ValueError) as err:  # the prompt's forward: row 2 of the target's rows is bad
        speculative_decode(bad_last_row_model, UNIFORM, prompt, 5, 2, np.random.default_rng(0))
    assert str(err.value).startswith("target output is not a distribution: row (2,) sums to")
    assert "target returned shape (3, 3) for 3 input tokens (expected (3, V))" in str(err.value)
    with pytest.raises(
        ValueError,
        match="target must return a \\(len\\(tokens\\), V\\) = \\(3, V\\) array for "
        "its 3 input tokens, got shape \\(4, 3\\)",
    ):
        speculative_decode(wrong_rows_model, UNIFORM, prompt, 5, 2, np.random.default_rng(0))
    with pytest.raises(
        ValueError,
        match="Draft.p_D has V=3 columns, the target V=5: draft and target must share a vocabulary",
    ):
        speculative_decode(wrong_vocab_model, UNIFORM, prompt, 5, 2, np.random.default_rng(0))


class ClaimsCheckedRows:
    """A model that says its rows are checked where it is built (``rows_checked``), as MarkovChain and
    NGramModel do, wrapping one whose last row is not a distribution."""

    rows_checked = True

    def __init__(self, shape_ok: bool = True):
        self.shape_ok = shape_ok

    def __call__(self, tokens):
        return bad_last_row_model(tokens) if self.shape_ok else wrong_rows_model(tokens)


def test_a_model_with_checked_rows_skips_the_value_check_but_not_the_shape_check():
    """The toy models check their tables once, so the loop does not re-check every row they return; the
    (L, V) shape of every output is still checked."""
    assert TARGET.rows_checked is True and NGramModel.from_corpus(n=1).rows_checked is True

    class Doubled(MarkovChain):  # computes its rows another way: it loses the claim
        def __call__(self, tokens):
            return 2 * super().__call__(tokens)

    assert Doubled(TARGET.transition).rows_checked is False
    prompt = np.array([0, 1, 2])
    greedy = dict(temperature=0)  # argmax only: nothing downstream reads the row's values
    autoregressive_decode(
        ClaimsCheckedRows(), prompt, 2, np.random.default_rng(0), **greedy
    )  # not re-checked
    with pytest.raises(ValueError, match="target output is not a distribution"):
        autoregressive_decode(bad_last_row_model, prompt, 2, np.random.default_rng(0), **greedy)  # checked
    with pytest.raises(ValueError, match="target must return a \\(len\\(tokens\\), V\\)"):
        autoregressive_decode(
            ClaimsCheckedRows(shape_ok=False), prompt, 2, np.random.default_rng(0), **greedy
        )


def test_one_residual_helper_with_the_fall_back_to_p_T():
    """_residual_weights is the single implementation: residual rows, and p_T where there is no residual
    mass."""
    p_T = np.array([[0.2, 0.8, 0.0], [0.5, 0.5, 0.0]])
    p_D = np.array([[0.2, 0.8, 0.0], [0.1, 0.2, 0.7]])
    w, mass = residual_weights(p_T, p_D)
    np.testing.assert_array_equal(w[0], p_T[0])  # identical rows: the fall-back
    np.testing.assert_allclose(w[1], [0.4, 0.3, 0.0], atol=1e-15)
    np.testing.assert_allclose(mass, [0.0, 0.7], atol=1e-15)
    out = p_D.copy()
    assert residual_weights(p_T, out, out=out)[0] is out  # in place, as verify_batch uses it
    np.testing.assert_allclose(residual(p_T, p_D), [p_T[0], [4 / 7, 3 / 7, 0.0]], atol=1e-15)
    # verify on the identical row falls back to p_T as well (a one-hot p_T makes the draw deterministic)
    one_hot = np.array([0.0, 1.0, 0.0])
    tokens, n = verify(np.stack([one_hot, one_hot]), one_hot[None], np.array([1]), np.random.default_rng(0))
    assert n == 1 and tokens.tolist() == [1, 1]
