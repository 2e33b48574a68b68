"""The tutor's transformer: the KV-cached forward over T new tokens, masks, positions, dtype, weights files.

Random weights (seeded) so these tests do not depend on training; the shipped weights are tested in
tests/test_tutor.py. Tolerance: float32 round-off. The same logits computed in a different order (T
rows at once against one row at a time, cached keys against recomputed ones) differ by summation
order only, a few units in the last place of values of order 1: F32 below.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from specdec.tutor import model as m

F32 = dict(rtol=1e-5, atol=2e-5)
"""Agreement required between two float32 computations of the same logits / hidden states."""

CFG = m.Config(vocab_size=60, n_ctx=24, d_model=32, n_heads=4, n_layers=2)


@pytest.fixture(scope="module")
def params():
    p = m.init_params(CFG, np.random.default_rng(0))
    rng = np.random.default_rng(1)  # larger weights than the initialisation: logits of order 1 and more
    return {
        k: (v + rng.standard_normal(v.shape).astype(np.float32) * 0.3) if v.ndim == 2 else v
        for k, v in p.items()
    }


@pytest.fixture(scope="module")
def tokens():
    return np.random.default_rng(2).integers(0, CFG.vocab_size, 12)


def run(p, toks, positions, cache=None, mask=None):
    cache = m.KVCache(CFG) if cache is None else cache
    return m.forward(p, CFG, toks, positions, cache, mask) + (cache,)


def test_t_new_tokens_at_once_equal_t_one_token_calls(params, tokens):
    logits, hidden, cache = run(params, tokens, np.arange(12))
    one = m.KVCache(CFG)
    rows = [m.forward(params, CFG, tokens[i : i + 1], np.array([i]), one) for i in range(12)]
    np.testing.assert_allclose(logits, np.concatenate([r[0] for r in rows]), **F32)
    np.testing.assert_allclose(hidden, np.concatenate([r[1] for r in rows]), **F32)
    assert cache.length == one.length == 12
    assert np.abs(logits).max() > 1.0  # the comparison is not between near-zero numbers


def test_last_only_computes_the_head_for_the_last_row_alone(params, tokens):
    logits, hidden, _ = run(params, tokens, np.arange(12))
    last, last_hidden = m.forward(params, CFG, tokens, np.arange(12), m.KVCache(CFG), last_only=True)
    assert last.shape == (1, CFG.vocab_size) and last_hidden.shape == (12, CFG.d_model)
    np.testing.assert_allclose(last, logits[-1:], **F32)
    np.testing.assert_allclose(last_hidden, hidden, **F32)
    with pytest.raises(TypeError, match="last_only must be a bool, got int"):
        m.forward(params, CFG, tokens, np.arange(12), m.KVCache(CFG), last_only=1)


def test_cached_forward_equals_recomputing_from_scratch(params, tokens):
    _, _, cache = run(params, tokens[:7], np.arange(7))
    logits, _, _ = run(params, tokens[7:], np.arange(7, 12), cache)
    full = m.logits_full(params, tokens, CFG, np)  # (12, V): no cache at all
    np.testing.assert_allclose(logits, full[7:], **F32)
    assert cache.length == 12


def test_truncated_cache_forgets_the_dropped_positions(params, tokens):
    _, _, cache = run(params, tokens[:9], np.arange(9))
    cache.truncate(6)  # drop 3 "rejected drafts"
    logits, _, _ = run(params, tokens[6:8], np.arange(6, 8), cache)
    np.testing.assert_allclose(logits, m.logits_full(params, tokens[:8], CFG, np)[6:], **F32)


def test_a_masked_position_has_no_influence(params, tokens):
    """Hide cached position 5 (the newest): changing its token leaves the new tokens' outputs as they were;
    without the mask the same change moves them (the test would notice an ignored mask)."""
    other = tokens.copy()
    other[5] = (tokens[5] + 1) % CFG.vocab_size
    mask = np.ones((3, 9), bool)
    mask[:, 5] = False
    mask[:, 6:] = np.tri(3, dtype=bool)
    out = []
    for toks in (tokens, other):
        _, _, cache = run(params, toks[:6], np.arange(6))
        masked = run(params, toks[6:9], np.arange(6, 9), cache, mask)[:2]
        cache.truncate(6)
        plain = run(params, toks[6:9], np.arange(6, 9), cache)[:2]
        out.append((masked, plain))
    (m_a, p_a), (m_b, p_b) = out
    np.testing.assert_array_equal(m_a[0], m_b[0])
    np.testing.assert_array_equal(m_a[1], m_b[1])
    assert np.abs(p_a[0] - p_b[0]).max() > 1e-3


def test_tree_mask_siblings_match_their_own_chains(params, tokens):
    """Two candidate tokens for the same position, each hidden from the other (a tree of two leaves):
    each row equals the forward of its own chain."""
    _, _, cache = run(params, tokens[:6], np.arange(6))
    a, b = 7, 11
    mask = np.ones((2, 8), bool)
    mask[0, 7] = mask[1, 6] = False
    tree, _, _ = run(params, np.array([a, b]), np.array([6, 6]), cache, mask)
    for row, tok in ((0, a), (1, b)):
        chain = m.logits_full(params, np.append(tokens[:6], tok), CFG, np)[-1]
        np.testing.assert_allclose(tree[row], chain, **F32)


def test_float32_end_to_end(params, tokens):
    logits, hidden, cache = run(params, tokens, np.arange(12))
    assert logits.dtype == hidden.dtype == cache.k.dtype == cache.v.dtype == np.float32
    assert m.logits_full(params, tokens, CFG, np).dtype == np.float32
    x = np.ones((3, 8), np.float32)
    # the pieces keep float32 (a NumPy float64 scalar inside any of them would promote)
    assert m.layer_norm(x, x[0], x[0], np).dtype == np.float32
    assert m.gelu(x, np).dtype == m.softmax(x, np).dtype == np.float32
    q = np.ones((2, 3, 4), np.float32)
    assert m.attend(q, q, q, np.ones((3, 3), bool), np).dtype == np.float32


def test_a_float64_scalar_would_have_been_caught():
    """The pitfall the dtype test guards against is real: a NumPy float64 scalar promotes float32."""
    x = np.ones(3, np.float32)
    assert (x * np.sqrt(np.float64(4))).dtype == np.float64
    assert (x * (1.0 / 2.0)).dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(positions=np.array([0, 1, 30])), ValueError, r"positions must lie in \[0, 24\)"),
        (dict(positions=np.array([0, 1])), ValueError, r"positions must have shape \(3,\)"),
        (dict(positions=np.array([0.0, 1.0, 2.0])), TypeError, "positions must be an integer array"),
        (dict(positions=np.array([-1, 0, 1])), ValueError, "positions must lie in"),
        (dict(tokens=np.array([1, 2, 99])), ValueError, r"tokens must lie in \[0, V\) = \[0, 60\)"),
        (dict(tokens=np.array([1.0, 2.0, 3.0])), TypeError, "tokens must be an integer array"),
        (dict(tokens=np.zeros(0, int), positions=np.zeros(0, int)), ValueError, "at least one new token"),
        (dict(mask=np.ones((3, 4), bool)), ValueError, r"mask must have shape .* \(3, 5\)"),
        (dict(mask=np.ones((3, 5))), TypeError, "mask must be a boolean array"),
        (
            dict(mask=np.eye(3, 5, 2, dtype=bool)[[0, 1, 2]] & np.array([[0], [1], [1]], bool)),
            ValueError,
            "mask row 0 hides every position",
        ),
        (dict(cache="cache"), TypeError, "cache must be a KVCache"),
    ],
)
def test_bad_forward_arguments_name_the_argument(params, kwargs, error, pattern):
    cache = m.KVCache(CFG)
    m.forward(params, CFG, np.array([1, 2]), np.array([0, 1]), cache)
    args = dict(tokens=np.array([3, 4, 5]), positions=np.array([2, 3, 4]), cache=cache, mask=None) | kwargs
    with pytest.raises(error, match=pattern):
        m.forward(params, CFG, args["tokens"], args["positions"], args["cache"], args["mask"])
    if isinstance(args["cache"], m.KVCache):
        assert args["cache"].length == 2  # a refused call leaves the cache as it was


def test_cache_overflow_is_refused(params):
    cache = m.KVCache(CFG, capacity=4)
    m.forward(params, CFG, np.arange(3), np.arange(3), cache)
    with pytest.raises(ValueError, match="room for 4: 2 new tokens do not fit"):
        m.forward(params, CFG, np.arange(2), np.arange(3, 5), cache)
    with pytest.raises(ValueError, match="length must be <= 3"):
        cache.truncate(4)


def test_config_is_checked():
    with pytest.raises(ValueError, match="multiple of n_heads"):
        m.Config(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(TypeError, match="n_layers must be an integer"):
        m.Config(vocab_size=10, n_layers=2.0)
    assert m.param_count(CFG) == sum(a.size for a in m.init_params(CFG, np.random.default_rng(0)).values())


# --- weights files --------------------------------------------------------------------------------


def test_save_and_load_round_trip_as_float32(params, tmp_path):
    m.save(tmp_path / "w", params, CFG, {"note": "x"})
    p, cfg, meta = m.load(tmp_path / "w")
    assert cfg == CFG and meta["note"] == "x"
    for k in params:
        assert p[k].dtype == np.float32
        np.testing.assert_array_equal(p[k], params[k].astype(np.float16).astype(np.float32))


def test_bad_weights_files_raise_one_clear_value_error(params, tmp_path):
    with pytest.raises(ValueError, match=r"weights file .*w\.json is missing"):
        m.load(tmp_path / "w")
    m.save(tmp_path / "w", params, CFG)
    npz = (tmp_path / "w.npz").read_bytes()
    (tmp_path / "w.npz").write_bytes(npz[: len(npz) // 2])
    with pytest.raises(ValueError, match=r"w\.npz cannot be read \(truncated or not an \.npz\)"):
        m.load(tmp_path / "w")
    np.savez(tmp_path / "w.npz", **(params | {"wte": np.zeros((5, 5), np.float16)}))
    with pytest.raises(ValueError, match=r"'wte' has shape \(5, 5\), the config needs \(60, 32\)"):
        m.load(tmp_path / "w")
    np.savez(tmp_path / "w.npz", **{k: v for k, v in params.items() if k != "ln_f.g"})
    with pytest.raises(ValueError, match="has no array 'ln_f.g'"):
        m.load(tmp_path / "w")
    (tmp_path / "w.json").write_text(json.dumps({"config": {"vocab_size": 60, "d_model": 30}}))
    with pytest.raises(ValueError, match=r"w\.json is not a valid model config"):
        m.load(tmp_path / "w")
    (tmp_path / "w.json").write_text("{")
    with pytest.raises(ValueError, match="not a valid model config"):
        m.load(tmp_path / "w")
