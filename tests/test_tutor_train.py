"""The tutor's training: packing sequences into rows, the masked loss, and a tiny run of the real loop
(it needs the optional extra `train`, JAX; CI installs it and never skips these)."""

import importlib.util
import os

import numpy as np
import pytest

from specdec.tutor import model, train
from specdec.tutor.tokenizer import Tokenizer

REQUIRED = "train" in os.environ.get("SPECDEC_EXTRAS", "").split(",")
HAVE_JAX = importlib.util.find_spec("jax") is not None  # found, not imported: collection stays fast
needs_jax = pytest.mark.skipif(not HAVE_JAX and not REQUIRED, reason="the optional extra 'train' is missing")

PAIRS = [
    ("She go home.", "She goes home.", ("verb_sva",)),
    ("I has 2 cats, Tom has 3.", "I have 2 cats, Tom has 3.", ("verb_sva",)),
    ("We met Anna in Lima.", "We met Anna in Lima.", ("clean",)),
    ("he is doctor", "He is a doctor.", ("capitalisation", "determiner", "punctuation")),
] * 30


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.train([s for p in PAIRS for s in p[:2]], 300)


def test_encode_keeps_pairs_that_fit_and_frames_them(tok):
    seqs, lengths, kept = train.encode_pairs(tok, PAIRS[:4] + [("word " * 70, "word " * 70, ("clean",))])
    assert kept == PAIRS[:4] and len(seqs) == 4
    for s, n, (learner, correct, _) in zip(seqs, lengths, kept):
        assert s[n] == tok.sep and s[-1] == tok.eos
        assert tok.decode(s[:n]) == learner and tok.decode(s[n + 1 : -1]) == correct


def test_packed_rows_hold_every_sequence_once_with_its_own_positions(tok):
    seqs, lengths, _ = train.encode_pairs(tok, PAIRS)
    rows = train.pack(seqs, lengths, 64, np.random.default_rng(0))
    R = rows["x"].shape[0]
    assert rows["x"].shape == (R, 64) and rows["w"].dtype == np.float32
    found = []
    for r in range(R):
        for s in np.unique(rows["seg"][r][rows["seg"][r] >= 0]):
            at = np.flatnonzero(rows["seg"][r] == s)
            assert (np.diff(at) == 1).all()  # contiguous
            np.testing.assert_array_equal(rows["pos"][r, at], np.arange(at.size))  # restart at 0
            x, y, w = rows["x"][r, at], rows["y"][r, at], rows["w"][r, at]
            np.testing.assert_array_equal(x[1:], y[:-1])  # y is x shifted
            seq = [*x, y[-1]]
            found.append(tuple(seq))
            n = seq.index(tok.sep)
            np.testing.assert_array_equal(w, np.arange(at.size) >= n)  # loss on the correction and <eos>
    assert sorted(found) == sorted(tuple(s) for s in seqs)
    assert (rows["w"][rows["seg"] < 0] == 0).all()


def test_a_packed_row_scores_each_sequence_as_if_it_were_alone(tok):
    """The segment mask and restarted positions make packing invisible to the model."""
    cfg = model.Config(vocab_size=tok.vocab_size, n_ctx=64, d_model=16, n_heads=2, n_layers=1)
    p = model.init_params(cfg, np.random.default_rng(1))
    seqs, lengths, _ = train.encode_pairs(tok, PAIRS[:3])
    rows = train.pack(seqs, lengths, 64, np.random.default_rng(0))
    r = 0
    got = model.logits_full(p, rows["x"][r], cfg, np, rows["pos"][r], rows["seg"][r])
    for s in np.unique(rows["seg"][r][rows["seg"][r] >= 0]):
        at = np.flatnonzero(rows["seg"][r] == s)
        alone = model.logits_full(p, rows["x"][r, at], cfg, np)
        np.testing.assert_allclose(got[at], alone, rtol=1e-5, atol=1e-5)


@needs_jax
def test_a_tiny_model_trains_and_resumes_where_it_stopped(tok, tmp_path):
    """A few steps of the real loop (seconds): the loss falls, and a run stopped at a checkpoint and
    resumed ends with the same weights as one that was never stopped."""
    seqs, lengths, _ = train.encode_pairs(tok, PAIRS)
    rows = train.pack(seqs, lengths, 64, np.random.default_rng(0))
    cfg = model.Config(vocab_size=tok.vocab_size, n_ctx=64, **train.TINY)
    kw = dict(batch=4, lr=1e-2, seed=0, log_every=5)
    full, rec = train.train_model("m", cfg, rows, steps=30, **kw, eval_rows=rows, out=open(os.devnull, "w"))
    curve = [loss for _, loss in rec["loss_curve"]]
    assert curve[-1] < 0.8 * curve[0] and rec["test_loss"] > 0
    train.train_model(
        "m",
        cfg,
        rows,
        steps=30,
        **kw,
        checkpoints=tmp_path,
        checkpoint_every=7,
        until=16,
        out=open(os.devnull, "w"),
    )
    resumed, rec2 = train.train_model(
        "m", cfg, rows, steps=30, **kw, checkpoints=tmp_path, resume=True, out=open(os.devnull, "w")
    )
    assert rec2["resumed_at_step"] == 16
    for k in full:
        np.testing.assert_allclose(resumed[k], full[k], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["--steps", "0"], "--steps must be at least 1"),
        (["--lr", "2"], "--lr in"),
        (["--only", "x"], "invalid"),
    ],
)
def test_bad_training_arguments_are_one_line(argv, pattern, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(argv)
    assert exc.value.code == 2 and pattern in capsys.readouterr().err
