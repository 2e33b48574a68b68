"""specdec.speedup against Leviathan et al. 2023 (arXiv 2211.17192v2), section 3 and Tables 1 and 4."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specdec.speedup import MAX_K, expected_tokens_per_step, ops_increase, optimal_k, walltime_speedup

# Table 1 (section 3.5), c = ĉ = 0: (alpha, k, Operations, Speed), printed to 2 decimals.
TABLE_1 = [
    (0.6, 2, 1.53, 1.96),
    (0.7, 3, 1.58, 2.53),
    (0.8, 2, 1.23, 2.44),
    (0.8, 5, 1.63, 3.69),
    (0.9, 2, 1.11, 2.71),
    (0.9, 10, 1.60, 6.86),
]

# Table 4 (Appendix A.3): (task, draft, temp, k, alpha, c, Exp), T5-XXL target on one TPU-v4.
TABLE_4 = [
    ("EnDe", "T5-small", 0, 7, 0.75, 0.02, 3.2),
    ("EnDe", "T5-base", 0, 7, 0.80, 0.04, 3.3),
    ("EnDe", "T5-large", 0, 7, 0.82, 0.11, 2.5),
    ("EnDe", "T5-small", 1, 7, 0.62, 0.02, 2.3),
    ("EnDe", "T5-base", 1, 5, 0.68, 0.04, 2.4),
    ("EnDe", "T5-large", 1, 3, 0.71, 0.11, 2.0),
    ("CNNDM", "T5-small", 0, 5, 0.65, 0.02, 2.4),
    ("CNNDM", "T5-base", 0, 5, 0.73, 0.04, 2.6),
    ("CNNDM", "T5-large", 0, 3, 0.74, 0.11, 2.0),
    ("CNNDM", "T5-small", 1, 5, 0.53, 0.02, 1.9),
    ("CNNDM", "T5-base", 1, 3, 0.55, 0.04, 1.8),
    ("CNNDM", "T5-large", 1, 3, 0.56, 0.11, 1.6),
]


@pytest.mark.parametrize(("alpha", "k", "ops", "speed"), TABLE_1)
def test_table_1_speed_and_operations(alpha, k, ops, speed):
    # Printed to two decimals: the formula must round to the printed value.
    assert abs(walltime_speedup(alpha, k, 0.0) - speed) <= 0.005 + 1e-12
    assert abs(ops_increase(alpha, k, 0.0) - ops) <= 0.005 + 1e-12


@pytest.mark.parametrize(("task", "draft", "temp", "k", "alpha", "c", "exp"), TABLE_4)
def test_table_4_expected_column_within_rounding(task, draft, temp, k, alpha, c, exp):
    # alpha and c are printed to 2 decimals and Exp to 1. Theorem 3.8 grows with alpha and falls
    # with c, so the values the printed inputs allow form the interval [lo, hi]; the printed Exp
    # must be a rounding of some value in it.
    lo = walltime_speedup(alpha - 0.005, k, c + 0.005)
    hi = walltime_speedup(alpha + 0.005, k, c - 0.005)
    assert lo <= exp + 0.05 + 1e-12 and exp - 0.05 - 1e-12 <= hi
    # And with the printed inputs taken literally, within 0.07 (three rows differ by 0.053-0.066).
    assert abs(walltime_speedup(alpha, k, c) - exp) < 0.07


def test_table_4_literal_rows_that_differ_most():
    # Documented on the page: with the printed alpha and c taken literally these three rows come out
    # below the printed Exp by more than half a unit in the last place.
    assert walltime_speedup(0.68, 5, 0.04) == pytest.approx(2.3467, abs=1e-4)
    assert walltime_speedup(0.71, 3, 0.11) == pytest.approx(1.9338, abs=1e-4)
    assert walltime_speedup(0.56, 3, 0.11) == pytest.approx(1.5408, abs=1e-4)


def test_equation_1_limits():
    assert expected_tokens_per_step(1.0, 5) == 6.0
    assert expected_tokens_per_step(1, 1) == 2.0
    assert expected_tokens_per_step(0.0, 7) == 1.0
    assert expected_tokens_per_step(0.5, 1) == pytest.approx(1.5)
    # The closed form equals the capped geometric sum 1 + a + ... + a^k.
    assert expected_tokens_per_step(0.8, 5) == pytest.approx(sum(0.8**i for i in range(6)))


def test_corollary_3_9_k_equals_one():
    for alpha, c in [(0.5, 0.1), (0.9, 0.02), (0.3, 0.0)]:
        assert walltime_speedup(alpha, 1, c) == pytest.approx((1 + alpha) / (1 + c))


def test_negligible_draft_cost_bound_section_3_6():
    # c = 0: speedup is E[tokens], below 1/(1 - alpha) and approaching it as k grows.
    assert walltime_speedup(0.8, 200, 0.0) == pytest.approx(1 / (1 - 0.8), rel=1e-9)
    assert walltime_speedup(0.8, 5, 0.0) < 1 / (1 - 0.8)


def test_generalised_verification_cost():
    base = walltime_speedup(0.8, 5, 0.02)
    assert walltime_speedup(0.8, 5, 0.02, c_verify=1.0) == base
    tau = expected_tokens_per_step(0.8, 5)
    assert walltime_speedup(0.8, 5, 0.0, c_verify=2.0) == pytest.approx(tau / 2)
    assert walltime_speedup(0.8, 5, 0.02, c_verify=3.5) == pytest.approx(tau / (5 * 0.02 + 3.5))


def test_ops_increase_alpha_one_limit():
    # Theorem 3.11's closed form is 0/0 at alpha = 1; the limit is (k c_hat + k + 1) / (k + 1).
    assert ops_increase(1.0, 4, 0.1) == pytest.approx((4 * 0.1 + 5) / 5)
    assert ops_increase(0.999999, 4, 0.1) == pytest.approx(ops_increase(1.0, 4, 0.1), rel=1e-5)


def test_optimal_k_is_the_brute_force_argmax():
    for alpha, c in [(0.8, 0.02), (0.6, 0.05), (0.9, 0.1), (0.95, 0.01)]:
        k, s = optimal_k(alpha, c, k_max=40)
        values = {kk: walltime_speedup(alpha, kk, c) for kk in range(1, 41)}
        best = max(values, key=values.get)
        assert k == best
        assert s == values[best]


def test_optimal_k_known_value_and_c_zero():
    k, s = optimal_k(0.8, 0.02)
    assert k == 11
    assert s == pytest.approx(3.8167, abs=1e-4)
    # With c = 0 and c_verify = 1 every extra draft helps: the optimum is the largest k allowed.
    assert optimal_k(0.7, 0.0, k_max=9)[0] == 9


def test_optimal_k_with_a_verification_cost_curve():
    # A verification cost that is flat to k + 1 = 8 and then grows linearly caps the useful k.
    def cv(k):
        return max(1.0, (k + 1) / 8)

    k, s = optimal_k(0.9, 0.0, k_max=64, c_verify=cv)
    assert 7 <= k <= 20
    assert s == pytest.approx(walltime_speedup(0.9, k, 0.0, cv(k)))
    assert s < optimal_k(0.9, 0.0, k_max=64)[1]


def test_alpha_below_c_gives_no_improvement_at_k_1():
    k, s = optimal_k(0.05, 0.5, k_max=10)
    assert s < 1.0
    assert k == 1


@settings(max_examples=200, deadline=None)
@given(
    alpha=st.floats(0.0, 1.0, allow_nan=False),
    k=st.integers(1, 50),
    c=st.floats(0.0, 2.0, allow_nan=False),
)
def test_properties(alpha, k, c):
    tau = expected_tokens_per_step(alpha, k)
    assert 1.0 - 1e-12 <= tau <= k + 1 + 1e-9
    s = walltime_speedup(alpha, k, c)
    assert s == pytest.approx(tau / (k * c + 1))
    assert walltime_speedup(alpha, k, 0.0) == pytest.approx(tau)
    assert ops_increase(alpha, k, 0.0) >= 1.0 - 1e-9  # rejected drafts can only waste work


WRONG_TYPE = ("0.5", True, 2.5, 2.0, "3")  # a wrong type is a TypeError, a wrong value a ValueError


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(alpha=-0.1, k=3, c=0.0), "alpha"),
        (dict(alpha=1.1, k=3, c=0.0), "alpha"),
        (dict(alpha=math.nan, k=3, c=0.0), "alpha"),
        (dict(alpha="0.5", k=3, c=0.0), "alpha"),
        (dict(alpha=True, k=3, c=0.0), "alpha"),
        (dict(alpha=0.5, k=0, c=0.0), "k"),
        (dict(alpha=0.5, k=-2, c=0.0), "k"),
        (dict(alpha=0.5, k=2.5, c=0.0), "k"),
        (dict(alpha=0.5, k=2.0, c=0.0), "k"),
        (dict(alpha=0.5, k=True, c=0.0), "k"),
        (dict(alpha=0.5, k="3", c=0.0), "k"),
        (dict(alpha=0.5, k=3, c=-0.01), "c"),
        (dict(alpha=0.5, k=3, c=math.inf), "c"),
        (dict(alpha=0.5, k=3, c=math.nan), "c"),
        (dict(alpha=0.5, k=3, c=0.0, c_verify=0.0), "c_verify"),
        (dict(alpha=0.5, k=3, c=0.0, c_verify=-1.0), "c_verify"),
    ],
)
def test_walltime_speedup_bad_input(kwargs, name):
    error = TypeError if any(kwargs[name] is v for v in WRONG_TYPE) else ValueError
    with pytest.raises(error, match=rf"^{name} "):
        walltime_speedup(**kwargs)


def test_other_functions_bad_input():
    with pytest.raises(ValueError, match=r"^alpha "):
        expected_tokens_per_step(1.5, 2)
    with pytest.raises(ValueError, match=r"^k "):
        expected_tokens_per_step(0.5, 0)
    with pytest.raises(ValueError, match=r"^c_hat "):
        ops_increase(0.5, 2, -1.0)
    with pytest.raises(ValueError, match=r"^k_max "):
        optimal_k(0.5, 0.1, k_max=0)
    with pytest.raises(ValueError, match=r"^c "):
        optimal_k(0.5, -0.1)
    with pytest.raises(ValueError, match=r"^c_verify "):
        optimal_k(0.5, 0.1, c_verify=lambda k: 0.0)


# -- limits and finite results (review items 2 and 4) --------------------------------------------


@pytest.mark.parametrize("k", [10**400, MAX_K + 1, 2**64])
def test_huge_k_is_a_value_error_naming_k(k):
    # 0.5 ** (10**400 + 1) used to raise OverflowError.
    for call in (
        lambda: expected_tokens_per_step(0.5, k),
        lambda: walltime_speedup(0.5, k, 0.1),
        lambda: ops_increase(0.5, k, 0.1),
    ):
        with pytest.raises(ValueError, match=rf"^k must be <= {MAX_K}, got "):
            call()


def test_largest_k_is_accepted():
    assert expected_tokens_per_step(0.5, MAX_K) == pytest.approx(2.0)
    assert expected_tokens_per_step(1.0, MAX_K) == MAX_K + 1


def test_k_max_is_capped():
    # k_max = 10**8 used to run for minutes.
    with pytest.raises(ValueError, match=rf"^k_max must be <= {MAX_K}, got 100000000"):
        optimal_k(0.8, 0.02, k_max=10**8)
    k, s = optimal_k(0.8, 0.02, k_max=MAX_K)
    assert (k, s) == optimal_k(0.8, 0.02)


@pytest.mark.parametrize("c_verify", [1e-320, 5e-324])
def test_speedup_that_overflows_is_refused(c_verify):
    # tau / 1e-320 used to come back as inf (printed as Infinity, which is not JSON).
    with pytest.raises(ValueError, match=r"^c_verify is too close to 0"):
        walltime_speedup(0.8, 5, 0.0, c_verify=c_verify)
    with pytest.raises(ValueError, match=r"^c_verify "):
        optimal_k(0.8, 0.0, k_max=4, c_verify=c_verify)
    # A c large enough keeps the denominator away from 0, so the same c_verify is fine there.
    assert math.isfinite(walltime_speedup(0.8, 5, 0.02, c_verify=c_verify))


def test_ops_increase_that_overflows_is_refused():
    with pytest.raises(ValueError, match=r"^c_hat is too large"):
        ops_increase(0.5, 3, 1e308)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(alpha=10**400, k=3, c=0.0), "alpha"),
        (dict(alpha=0.5, k=3, c=10**400), "c"),
        (dict(alpha=0.5, k=3, c=0.0, c_verify=10**400), "c_verify"),
    ],
)
def test_huge_integers_are_value_errors(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        walltime_speedup(**kwargs)


def test_optimal_k_checks_its_arguments_once_not_once_per_k(monkeypatch):
    import specdec._checks as checks

    calls = []
    for name in ("probability", "nonnegative", "positive", "integer"):
        original = getattr(checks, name)
        monkeypatch.setattr(
            checks, name, lambda *a, _f=original, _n=name, **kw: calls.append(_n) or _f(*a, **kw)
        )
    k, s = optimal_k(0.8, 0.02, k_max=4096)
    assert k == 11
    assert len(calls) == 4  # alpha, c, k_max and the constant c_verify, once each
    calls.clear()
    optimal_k(0.8, 0.02, k_max=50, c_verify=lambda k: 1.0 + 0.01 * k)
    assert calls.count("positive") == 50  # a callable's value is checked for each k it returns
