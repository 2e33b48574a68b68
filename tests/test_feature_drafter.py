"""A drafter that reads the target's features is one new class: here, one that proposes the argmax of the
last feature row (for a model without hidden states, its output row). Nothing else changes: the loop hands
every drafter the features, and verification keeps the output the target's."""

from __future__ import annotations

import numpy as np
import pytest

from lossless import P_MIN, chisquare_p
from specdec.core.rows import one_hot, softmax
from specdec.decode import autoregressive_decode, decode
from specdec.drafters.base import Context, Draft, Drafter
from specdec.models import MarkovChain
from specdec.targets.cached import CachedTarget
from specdec.tutor import Tutor


class LastFeatureArgmax(Drafter):
    """Proposes one token: the argmax of the newest feature row, with a one-hot row. Records what it saw."""

    def __init__(self, vocab_size: int):
        self.vocab_size, self.seen = vocab_size, []

    def propose(self, context: Context, k: int, rng) -> Draft:
        self.seen.append((context.tokens.copy(), context.features.copy()))
        x = np.array([int(context.features[-1].argmax()) % self.vocab_size])
        return Draft(x, one_hot(x, self.vocab_size))


# a chain that mostly stays where it is: the argmax of the row before the newest token is often right again
STICKY = MarkovChain(np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.1, 0.7]]))


def test_the_drafter_sees_the_targets_rows_and_keeps_greedy_output():
    drafter = LastFeatureArgmax(3)
    prompt = np.array([0, 1, 2])
    run = decode(STICKY, drafter, prompt, 30, np.random.default_rng(0), k=1, temperature=0)
    plain = autoregressive_decode(STICKY, prompt, 30, np.random.default_rng(0), temperature=0)
    np.testing.assert_array_equal(run.tokens, plain.tokens)
    for tokens, features in drafter.seen:  # features: the target's rows of every token but the newest
        np.testing.assert_array_equal(features, STICKY(tokens[:-1]))
    assert sum(run.accepted_per_step) > 0 and run.tau * run.steps == len(run.tokens) - 1


def test_sampling_with_the_feature_drafter_stays_exact():
    counts = np.zeros((3, 3), dtype=np.int64)
    rng = np.random.default_rng(5)
    for _ in range(3000):
        a, b = decode(STICKY, LastFeatureArgmax(3), [0, 2], 3, rng, k=1).tokens[1:]
        counts[a, b] += 1
    first = STICKY.transition[2]  # the prefill writes token 1 after 2; tokens 2 and 3 are verified
    law = (first @ STICKY.transition)[:, None] * STICKY.transition
    assert chisquare_p(counts, law) > P_MIN


@pytest.fixture(scope="module")
def tutor():
    return Tutor.load()


def test_on_the_tutor_the_features_are_its_last_hidden_states(tutor):
    drafter = LastFeatureArgmax(tutor.vocab_size)
    prompt = tutor.prompt("She go to school yesterday.")
    target = CachedTarget(tutor)
    run = decode(target, drafter, prompt, 12, np.random.default_rng(0), k=1, temperature=0)
    plain = autoregressive_decode(tutor, prompt, len(run.tokens), np.random.default_rng(0), temperature=0)
    np.testing.assert_array_equal(run.tokens, plain.tokens)
    tokens, features = drafter.seen[-1]
    logits, hidden = tutor.forward(tokens[:-1], np.arange(len(tokens) - 1), tutor.new_cache())
    assert features.shape == (len(tokens) - 1, tutor.cfg.d_model)
    np.testing.assert_allclose(features, hidden, atol=1e-4, rtol=0)
    assert softmax(logits).shape == (len(tokens) - 1, tutor.vocab_size)
