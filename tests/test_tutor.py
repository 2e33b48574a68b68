"""The shipped grammar tutor: its weights, its corrections, its use as a sampler target, its command line,
and the recorded training and benchmark runs."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from sitecheck import ROOT
from specdec.cli import main
from specdec.sampling import PromptLookup, autoregressive_decode, speculative_decode
from specdec.tutor import WEIGHTS, Tutor

TRAIN = json.loads((ROOT / "bench" / "results" / "tutor-train.json").read_text(encoding="utf-8"))
BENCH = json.loads((ROOT / "bench" / "results" / "tutor-bench.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tutor():
    return Tutor.load()


def test_shipped_weights_are_small_float16_and_load_as_float32(tutor):
    files = [WEIGHTS / f for f in ("tutor.npz", "tutor.json", "draft.npz", "draft.json", "vocab.json")]
    assert sum(f.stat().st_size for f in files) <= 10 * 2**20
    with np.load(WEIGHTS / "tutor.npz") as z:
        assert {z[k].dtype for k in z.files} == {np.dtype(np.float16)}
    assert {a.dtype for a in tutor.params.values()} == {np.dtype(np.float32)}
    n = sum(a.size for a in tutor.params.values())
    assert 1_000_000 <= n <= 5_000_000
    draft = Tutor.load("draft")
    assert draft.tokenizer.words == tutor.tokenizer.words
    assert sum(a.size for a in draft.params.values()) < n / 3


@pytest.mark.parametrize(
    ("learner", "correction"),
    [
        ("She go to school yesterday.", "She went to school yesterday."),
        ("My brother have three cat.", "My brother has three cats."),
        ("He is engineer.", "He is an engineer."),
        ("They are interested on music.", "They are interested in music."),
        ("Tom drinks always coffee.", "Tom always drinks coffee."),
        ("My freind works in a bank.", "My friend works in a bank."),
    ],
)
def test_the_tutor_corrects(tutor, learner, correction):
    c = tutor.correct(learner)
    assert c.text == correction and c.changed and c.finished
    assert c.new_tokens == len(c.tokens) + 1  # + <eos>
    assert c.ms_per_token > 0


def test_the_tutor_copies_a_correct_sentence(tutor):
    c = tutor.correct("My sister works in a bank every morning.")
    assert not c.changed and c.text == "My sister works in a bank every morning."


def test_the_tutor_is_a_sampler_target(tutor):
    """As a model (L,) -> (L, V), the tutor drives the speculative sampler. At temperature 0 prompt lookup
    (drafts copied from the learner's sentence) gives exactly the greedy correction, in fewer target calls."""
    prompt = tutor.prompt("last week my parents buy a new phone .")
    probs = tutor(prompt)
    assert probs.shape == (prompt.shape[0], tutor.vocab_size)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    n = len(tutor.correct("last week my parents buy a new phone .").tokens) + 1
    plain = autoregressive_decode(tutor, prompt, n, np.random.default_rng(0), temperature=0.0)
    spec = speculative_decode(
        tutor, PromptLookup(tutor.vocab_size), prompt, n, 8, np.random.default_rng(0), temperature=0.0
    )
    assert tutor.tokenizer.words_of(plain.tokens) == "last week my parents bought a new phone . <eos>".split()
    np.testing.assert_array_equal(spec.tokens, plain.tokens)
    assert spec.target_calls < plain.target_calls
    with pytest.raises(ValueError, match="at most n_ctx = 40"):
        tutor(np.zeros(41, np.int64))


def test_bad_input_to_the_library(tutor):
    with pytest.raises(TypeError, match="sentence must be a string"):
        tutor.correct(b"she go")
    with pytest.raises(ValueError, match="at most 16 tokens"):
        tutor.correct("she goes to school . " * 4)
    with pytest.raises(ValueError, match="'quixotic'"):
        tutor.correct("she is quixotic .")
    with pytest.raises(TypeError, match="name must be a string"):
        Tutor.load(3)


# --- the recorded runs ----------------------------------------------------------------------------


def test_training_record():
    assert TRAIN["train_pairs"] >= 50_000 and TRAIN["test_pairs"] >= 1_000
    tutor = TRAIN["models"]["tutor"]
    assert tutor["wall_time_s"] <= 30 * 60
    curve = [loss for _, loss in tutor["loss_curve"]]
    assert curve[-1] < curve[0] / 20
    assert set(TRAIN["models"]) == {"tutor", "draft"}


def test_benchmark_record_meets_the_target_and_matches_the_weights(tutor):
    t = BENCH["models"]["tutor"]
    assert t["held_out"]["exact_match"] >= 0.9 and BENCH["target_met"]
    assert t["held_out"]["pairs"] == TRAIN["test_pairs"] and t["hand_written_382"]["pairs"] == 382
    assert t["parameters"] == sum(a.size for a in tutor.params.values())
    curve = t["cost_curve"]
    assert curve["tokens"] == list(range(1, 17)) and curve["ratio"][0] == 1.0
    assert len(curve["ms"]) == 16 and min(curve["ms"]) > 0


# --- the command line -----------------------------------------------------------------------------


def test_cli_text(capsys):
    assert main(["tutor", "She go to school yesterday."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "She went to school yesterday."
    assert lines[1] == "  tokens: she went to school yesterday . <eos>"
    assert "7 tokens written" in lines[2] and "ms/token" in lines[2]


def test_cli_json_and_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("he is doctor .\n\nmy sister works in a bank .\n"))
    assert main(["tutor", "-", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = [(c["correction"], c["changed"]) for c in out["corrections"]]
    assert got == [("He is a doctor.", True), ("My sister works in a bank.", False)]
    assert out["max_sentence_tokens"] == 16 and out["corrections"][0]["ms_per_token"] > 0


def test_cli_entry_point_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "specdec", "tutor", "--json", "he go home ."],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["corrections"][0]["correction"] == "He goes home."


def _broken(tmp_path, how: str):
    for f in ("tutor.npz", "tutor.json", "vocab.json"):
        shutil.copy(WEIGHTS / f, tmp_path / f)
    if how == "missing":
        (tmp_path / "tutor.npz").unlink()
    elif how == "truncated":
        raw = (tmp_path / "tutor.npz").read_bytes()
        (tmp_path / "tutor.npz").write_bytes(raw[: len(raw) // 3])
    elif how == "shape":
        with np.load(WEIGHTS / "tutor.npz") as z:
            arrays = {k: z[k] for k in z.files}
        arrays["wpe"] = arrays["wpe"][:10]
        np.savez(tmp_path / "tutor.npz", **arrays)
    return str(tmp_path)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["tutor", ""], "at least one word"),
        (["tutor", "she go " * 9], "at most 16 tokens"),
        (["tutor", "she likes quidditch ."], "vocabulary of .* words: 'quidditch'"),
        (["tutor", "-", "she go"], "'-' .* must be the only sentence"),
        (["tutor", "x", "--weights", "MISSING"], "missing"),
        (["tutor", "x", "--weights", "TRUNCATED"], r"cannot be read \(truncated"),
        (["tutor", "x", "--weights", "SHAPE"], r"'wpe' has shape \(10, 160\), the config needs \(40, 160\)"),
        (["tutor", "x", "--model", "big"], "invalid choice: 'big'"),
    ],
)
def test_cli_bad_input_is_one_line_status_2(capsys, tmp_path, argv, pattern):
    argv = [_broken(tmp_path, a.lower()) if a in ("MISSING", "TRUNCATED", "SHAPE") else a for a in argv]
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse refuses --model big itself
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("specdec tutor: error: "), err
    assert re.search(pattern, err), err


def test_cli_empty_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n  \n"))
    assert main(["tutor", "-"]) == 2
    assert "stdin ('-') held no sentence" in capsys.readouterr().err


def test_the_page_opens_with_the_recorded_numbers():
    """The opening paragraph of docs/tutor.md quotes the records; re-recording fails this until it follows."""
    page = (ROOT / "docs" / "tutor.md").read_text(encoding="utf-8")
    opening = page.split("```pycon")[0]
    t = BENCH["models"]["tutor"]
    lat = t["latency"]
    for phrase in [
        f"trained in about {round(TRAIN['models']['tutor']['wall_time_s'] / 60)} minutes",
        f"On {TRAIN['test_pairs']:,} held-out",
        f"for {t['held_out']['exact_match']:.1%} of them".replace("%", " %"),
        f"copies {t['clean_copy_rate']:.1%} of".replace("%", " %"),
        f"it gets {t['hand_written_382']['exact_match']:.1%} right".replace("%", " %"),
        f"a token in {lat['ms_per_token_median']:.2f} ms",
        f"a correction of {lat['output_tokens_mean']:.1f} tokens (the end token included) takes "
        f"{lat['ms_per_correction_median']:.1f} ms",
        f"costs {t['cost_curve']['ratio'][4]:.2f}× one",
    ]:
        assert phrase in " ".join(opening.split()), phrase
