"""Typical acceptance (Medusa §2.3.1): the threshold, the kept path, the exact law of a step (and that it
is not the target's), the sampler against that law, bad input, and the loop's ``acceptance`` argument."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest

from lossless import P_MIN, chisquare_p
from sitecheck import ROOT
from specdec.core.typical import (
    DELTA,
    EPSILON,
    typical_rows,
    typical_step_law,
    typical_threshold,
    typical_verify_tree,
)
from specdec.decode import decode


def test_the_threshold_is_min_of_epsilon_and_delta_times_exp_minus_entropy():
    uniform = np.full(4, 0.25)  # H = log 4, exp(-H) = 1/4
    assert typical_threshold(uniform) == pytest.approx(min(EPSILON, DELTA / 4))
    assert typical_threshold(np.array([1.0, 0.0, 0.0])) == pytest.approx(min(EPSILON, DELTA))
    p = np.array([0.7, 0.2, 0.1])
    h = -sum(x * math.log(x) for x in p)
    assert typical_threshold(p, 0.5, 1.0) == pytest.approx(min(0.5, math.exp(-h)))
    rows = np.stack([uniform, np.array([0.5, 0.5, 0.0, 0.0])])
    assert typical_threshold(rows).shape == (2,)


def test_the_threshold_never_exceeds_the_largest_probability():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(50, 0.1), size=200)  # (200, 50), many peaked rows
    assert (typical_threshold(p, 1.0, 1.0) <= p.max(axis=1) + 1e-12).all()
    kept = typical_rows(p)  # (200, 50): truncated, renormalised, the argmax always kept
    np.testing.assert_allclose(kept.sum(axis=1), 1.0)
    assert (kept[np.arange(200), p.argmax(axis=1)] > 0).all()
    assert ((kept == 0) | (p >= typical_threshold(p)[:, None])).all()


def test_a_plausible_draft_is_always_kept_where_the_exact_rule_would_reject_it():
    """Draft token 1 has p_T 0.3 > threshold: kept with probability 1 (the exact rule keeps it with
    min(1, p_T/p_D) = 0.3 for a one-hot draft), so the first token's law is not p_T."""
    p_T = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    law = typical_step_law([1], [-1], p_T)
    assert sum(v for k, v in law.items() if k[0] == 1) == pytest.approx(1.0)
    assert law[(1, 2)] == pytest.approx(0.8)  # the next token from the truncated row (all pass here)
    first = np.zeros(3)
    for k, v in law.items():
        first[k[0]] += v
    assert np.abs(first - p_T[0]).sum() > 1.0  # far from the target's law


def test_the_deepest_passing_path_is_kept_and_ties_go_to_the_higher_likelihood():
    # root children 0 (token 1) and 1 (token 2); node 2 (token 0) under node 1
    tokens, parents = np.array([1, 2, 0]), np.array([-1, -1, 1])
    p_T = np.array(
        [
            [0.02, 0.60, 0.38],  # root row: tokens 1 and 2 both pass
            [0.10, 0.10, 0.80],  # after node 0
            [0.90, 0.05, 0.05],  # after node 1: token 0 passes
            [0.34, 0.33, 0.33],  # after node 2
        ]
    )
    law = typical_step_law(tokens, parents, p_T)
    assert {k[:2] for k in law} == {(2, 0)}  # depth 2 beats the likelier depth-1 node
    emitted, accepted = typical_verify_tree(tokens, parents, p_T, np.random.default_rng(0))
    assert accepted.tolist() == [1, 2] and emitted[:2].tolist() == [2, 0]
    # two depth-1 nodes only: the likelier one wins
    law = typical_step_law(np.array([2, 1]), np.array([-1, -1]), p_T[:3])
    assert {k[0] for k in law} == {1}


def test_a_token_below_the_threshold_ends_the_path_and_is_never_written():
    p_T = np.array([[0.96, 0.02, 0.02], [0.2, 0.4, 0.4]])
    law = typical_step_law([1], [-1], p_T)  # token 1 at 0.02 is below the threshold
    assert law == {(0,): pytest.approx(1.0)}  # truncated row: only the argmax passes


def test_the_sampler_follows_its_exact_law():
    p_T = np.array([[0.4, 0.35, 0.25], [0.3, 0.3, 0.4], [0.5, 0.3, 0.2]])
    tokens, parents = np.array([1, 2]), np.array([-1, 0])
    law = typical_step_law(tokens, parents, p_T)
    keys = sorted(law)
    rng = np.random.default_rng(7)
    counts = np.zeros(len(keys), dtype=np.int64)
    for _ in range(3000):
        e, _ = typical_verify_tree(tokens, parents, p_T, rng)
        counts[keys.index(tuple(e.tolist()))] += 1
    assert chisquare_p(counts, np.array([law[k] for k in keys])) > P_MIN


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"epsilon": 0.0}, ValueError, "epsilon"),
        ({"delta": float("nan")}, ValueError, "delta"),
        ({"epsilon": "0.1"}, TypeError, "epsilon"),
        ({"delta": 1.5}, ValueError, "delta"),
    ],
)
def test_bad_thresholds_are_refused_by_name(kwargs, error, name):
    with pytest.raises(error, match=name):
        typical_verify_tree([1], [-1], np.full((2, 3), 1 / 3), np.random.default_rng(0), **kwargs)


def test_rows_that_do_not_match_the_tree_are_refused():
    with pytest.raises(ValueError, match="p_target"):
        typical_step_law([1, 2], [-1, 0], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="p_target"):
        typical_step_law([1], [-1], np.array([[0.5, 0.6, 0.0], [1.0, 0.0, 0.0]]))


def test_the_loop_refuses_an_unknown_acceptance():
    model = lambda ctx: np.full((len(ctx), 3), 1 / 3)  # noqa: E731
    with pytest.raises(ValueError, match="acceptance"):
        decode(model, None, [0], 3, np.random.default_rng(0), acceptance="fast")
    with pytest.raises(TypeError, match="acceptance"):
        decode(model, None, [0], 3, np.random.default_rng(0), acceptance=1)


def test_typical_acceptance_on_the_tutor_is_greedy_at_temperature_0_and_runs_when_sampling():
    from specdec.drafters.medusa import MedusaDrafter
    from specdec.targets.cached import CachedTarget
    from specdec.tutor import Tutor

    tutor = Tutor.load()
    target = CachedTarget(tutor, capacity=4 * tutor.cfg.n_ctx)
    medusa, eos = MedusaDrafter.load(tutor, 8), tutor.tokenizer.eos
    p = tutor.prompt("My brother have three cat.")

    def run(acceptance, temperature, drafter=medusa):
        rng = np.random.default_rng(3)
        return decode(
            target, drafter, p, 40, rng, k=4, temperature=temperature, stop=eos, acceptance=acceptance
        )

    plain = run("exact", 0.0, None)
    assert np.array_equal(run("typical", 0.0).tokens, plain.tokens)
    sampled = run("typical", 0.7)
    assert sampled.tokens[-1] == eos and sampled.tau >= 1.0
    assert sampled.tau * sampled.steps == len(sampled.tokens) - 1


def test_the_benchmark_runs_small_and_records_every_method(tmp_path):
    spec = importlib.util.spec_from_file_location("typical_bench", ROOT / "bench" / "typical.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "typical.json"
    assert bench.main(["--held-out", "2", "--pairs", "1", "--record", str(out)]) == 0
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["prompts"] == 3 and set(rec["temperatures"]) == {"0.7", "1.0"}
    for rows in rec["temperatures"].values():
        assert list(rows) == list(bench.METHODS)
        assert rows["sampling"]["tau"] == 1.0 and 0.0 <= rows["Medusa, typical"]["exact_match"] <= 1.0
    assert out.with_suffix(".txt").read_text(encoding="utf-8") == bench.table(rec) + "\n"
