"""Medusa-1 heads and the EAGLE draft: greedy output identical to autoregressive decoding on the tutor,
sampling lossless (the exact law of one step on a small chain, a chi-square through the loop on the chain
and on the tutor), the EAGLE cache, arguments refused, and a few training steps."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lossless import P_MIN, TUTOR_TV, chisquare_p
from specdec.core.verify import tree_step_law
from specdec.decode import decode
from specdec.drafters.base import Context
from specdec.drafters.eagle import EagleDrafter
from specdec.drafters.medusa import MedusaDrafter, medusa_tree
from specdec.models import MarkovChain
from specdec.targets.cached import CachedTarget
from specdec.tutor import Tutor
from specdec.tutor.heads import init_eagle

CHAIN = MarkovChain(np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.1, 0.6]]))
SENTENCES = [
    "My brother have three cat.",
    "She go to school yesterday.",
    "I has a apple and he have two dog.",
    "They was happy when we arrive.",
    "He don't like the movies that she like.",
]


def toy_medusa(seed: int = 0) -> MedusaDrafter:
    """Two random heads on the chain's rows (d = V = 3), every rank path up to 8 nodes."""
    rng = np.random.default_rng(seed)
    params = {}
    for k in (1, 2):
        params[f"head{k}.w"] = rng.standard_normal((3, 3)).astype(np.float32)
        params[f"head{k}.b"] = rng.standard_normal(3).astype(np.float32)
    tree = medusa_tree(np.array([[0.6, 0.3, 0.1], [0.5, 0.3, 0.2]]), 8)
    return MedusaDrafter(params, rng.standard_normal((3, 3)), tree)


def toy_eagle(seed: int = 0, **options) -> EagleDrafter:
    """A random one-layer draft on the chain's rows (d = V = 3, one attention head), weights scaled up so
    its rows are far from uniform."""
    rng = np.random.default_rng(seed)
    params = {k: (a * 30 if a.ndim == 2 else a) for k, a in init_eagle(3, rng).items()}
    embed, pos, head = (
        rng.standard_normal((3, 3)),
        rng.standard_normal((64, 3)),
        3 * rng.standard_normal((3, 3)),
    )
    return EagleDrafter(params, embed, pos, head, **({"n_heads": 1} | options))


def chain_context(tokens) -> Context:
    tokens = np.asarray(tokens, dtype=np.int64)
    return Context(tokens, CHAIN(tokens[:-1]))


def law_of_next(last: int, m: int) -> dict[tuple[int, ...], float]:
    """The chain's exact law of the next m tokens after ``last``."""
    P = CHAIN.transition
    out = {}
    for ys in itertools.product(range(3), repeat=m):
        prob, prev = 1.0, last
        for y in ys:
            prob, prev = prob * P[prev, y], y
        out[ys] = prob
    return out


def step_law_extended(draft, last: int, m: int) -> dict[tuple[int, ...], float]:
    """The law of one verification step of ``draft`` after ``last``, each outcome continued by the chain
    to m tokens: equal to :func:`law_of_next` exactly when the step is lossless."""
    P = CHAIN.transition
    tokens, parents = draft.tokens, draft.tree_parents
    rows = [P[last]]
    for i in range(len(tokens)):
        rows.append(P[tokens[i]])  # a Markov target: the row after node i depends on its token only
    law = tree_step_law(tokens, parents, np.array(rows), draft.p_D, rule=draft.rule)
    out = dict.fromkeys(itertools.product(range(3), repeat=m), 0.0)
    for ys, w in law.items():
        for rest, q in law_of_next(ys[-1], m - len(ys)).items() if len(ys) < m else [((), 1.0)]:
            out[ys[:m] + rest] += w * q
    return out


@pytest.mark.parametrize("context", [[0, 1], [2, 2, 0], [1, 0, 2, 1]])
@pytest.mark.parametrize("make", [toy_medusa, lambda: toy_eagle(tree="dynamic", top_k=2, depth=3, nodes=6)])
def test_one_step_has_exactly_the_targets_law(make, context):
    drafter = make()
    draft = drafter.propose(chain_context(context), 3, np.random.default_rng(0))
    assert draft.rule == "one-hot" and len(draft.tokens) >= 3
    assert len(set(zip(draft.tree_parents.tolist(), draft.tokens.tolist(), strict=True))) == len(draft.tokens)
    got, want = step_law_extended(draft, context[-1], 4), law_of_next(context[-1], 4)
    for ys in want:
        assert got[ys] == pytest.approx(want[ys], abs=1e-12)


def test_eagle_static_tree_sampled_without_replacement_is_lossless_through_the_loop():
    rng = np.random.default_rng(7)
    counts = np.zeros((3, 3, 3), dtype=np.int64)
    drafter = toy_eagle(tree="static", branching=(2, 2), temperature=1.0)
    for _ in range(2600):  # enough for lossless.TOY_TV over 27 cells
        run = decode(CHAIN, drafter, [0, 2], 4, rng, k=2)
        counts[tuple(run.tokens[1:])] += 1
        assert run.drafted_per_step[0] == 6  # the first step drafts the whole 2 + 4 tree
    first = CHAIN.transition[2]  # token 1; tokens 2 … 4 then follow the chain
    law = np.einsum("a,ab,bc,cd->bcd", first, *[CHAIN.transition] * 3)
    assert chisquare_p(counts, law) > P_MIN


def test_medusa_greedy_law_and_loop_on_the_chain():
    rng = np.random.default_rng(3)
    counts = np.zeros((3, 3, 3), dtype=np.int64)
    drafter = toy_medusa()
    for _ in range(2600):  # enough for lossless.TOY_TV over 27 cells
        counts[tuple(decode(CHAIN, drafter, [1], 4, rng, k=2).tokens[1:])] += 1
    law = np.einsum("a,ab,bc,cd->bcd", CHAIN.transition[1], *[CHAIN.transition] * 3)
    assert chisquare_p(counts, law) > P_MIN
    greedy = decode(CHAIN, toy_medusa(), [1], 12, rng, k=2, temperature=0).tokens
    assert greedy.tolist() == decode(CHAIN, None, [1], 12, rng, temperature=0).tokens.tolist()


# --- the tutor --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tutor():
    return Tutor.load()


@pytest.fixture(scope="module")
def drafters(tutor):
    return {
        "medusa": MedusaDrafter.load(tutor, 16),
        "eagle": EagleDrafter.load(tutor),
        "eagle-2": EagleDrafter.load(tutor, tree="dynamic", nodes=16),
    }


def test_greedy_output_is_autoregressive_on_every_prompt(tutor, drafters):
    target, eos = CachedTarget(tutor, capacity=4 * tutor.cfg.n_ctx), tutor.tokenizer.eos
    taus = {name: [] for name in drafters}
    for s in SENTENCES:
        p = tutor.prompt(s)
        ref = decode(target, None, p, 60, np.random.default_rng(0), temperature=0, stop=eos).tokens.tolist()
        for name, d in drafters.items():
            run = decode(target, d, p, 60, np.random.default_rng(0), k=8, temperature=0, stop=eos)
            assert run.tokens.tolist() == ref, (name, s)
            taus[name].append(run.tau)
    for name, t in taus.items():  # trained heads: more than one token per forward on average
        assert np.mean(t) > 1.3, (name, t)


def test_the_eagle_cache_gives_what_a_fresh_draft_gives(tutor, drafters):
    target, eos = CachedTarget(tutor), tutor.tokenizer.eos
    used = drafters["eagle"]
    decode(
        target, used, tutor.prompt(SENTENCES[2]), 9, np.random.default_rng(0), k=4, temperature=0, stop=eos
    )
    tokens = used._seen.copy()  # the context of its last proposal
    feats = tutor.forward(tokens[:-1], np.arange(len(tokens) - 1), tutor.new_cache())[1]
    a = used.propose(Context(tokens, feats), 3, np.random.default_rng(0))
    b = EagleDrafter.load(tutor).propose(Context(tokens, feats), 3, np.random.default_rng(0))
    assert a.tokens.tolist() == b.tokens.tolist() and a.parents.tolist() == b.parents.tolist()
    assert a.cost == 3 and b.cost == 3  # the catch-up, then one forward per level below the first


def _pooled_chisquare(counts: dict, law: dict) -> float:
    """Chi-square over the cells of expected count >= 5, the rest (and the unseen mass) pooled."""
    n = sum(counts.values())
    big = [c for c in law if law[c] * n >= 5]
    obs = [counts.get(c, 0) for c in big] + [n - sum(counts.get(c, 0) for c in big)]
    exp = [law[c] for c in big] + [max(0.0, 1.0 - sum(law[c] for c in big))]
    return chisquare_p(np.array(obs), np.array(exp), max_tv=TUTOR_TV)


@pytest.mark.parametrize("name", ["medusa", "eagle"])
def test_sampling_on_the_tutor_follows_its_law(tutor, drafters, name):
    """Tokens 1 … 4 after a prompt at temperature 1.5 (the first step drafts 2 deep), 400 runs:
    chi-square against the tutor's own law, cells with expected count < 5 pooled; p > P_MIN, with
    draws enough for lossless.TUTOR_TV."""
    drafter = MedusaDrafter.load(tutor, 8)
    temperature = 1.5
    if name == "eagle":
        drafter = EagleDrafter.load(tutor, temperature=temperature, branching=(3, 2))
    target = CachedTarget(tutor)
    p = tutor.prompt("She go to school yesterday.")
    rng = np.random.default_rng(11)
    counts: dict = {}
    for _ in range(400):
        t = tuple(decode(target, drafter, p, 4, rng, k=2, temperature=temperature).tokens.tolist())
        counts[t] = counts.get(t, 0) + 1
    law = {}
    for t in counts:  # the exact probability of every observed sequence
        rows = tutor(np.concatenate([p, t[:3]]))[-4:] ** (1 / temperature)
        rows /= rows.sum(axis=1, keepdims=True)
        law[t] = float(np.prod(rows[np.arange(4), t]))
    assert _pooled_chisquare(counts, law) > P_MIN


# --- arguments ----------------------------------------------------------------------------------------


def test_bad_arguments_are_refused_naming_them():
    d = toy_medusa()
    with pytest.raises(TypeError, match="params"):
        MedusaDrafter("heads", np.eye(3), [(0,)])
    with pytest.raises(ValueError, match="tree"):
        MedusaDrafter(d.params, np.eye(3), [(0, 0)])  # the parent path (0,) is missing
    with pytest.raises(ValueError, match="accuracy"):
        medusa_tree(np.array([[1.5, 0.2]]), 4)
    with pytest.raises(TypeError, match="context"):
        d.propose(np.array([0, 1]), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="tree"):
        toy_eagle(tree="sideways")
    with pytest.raises(ValueError, match="n_heads"):
        toy_eagle(n_heads=2)
    with pytest.raises(ValueError, match="context.features"):
        toy_eagle().propose(Context(np.array([0, 1, 2]), np.zeros((1, 3))), 2, np.random.default_rng(0))


def test_a_few_training_steps_write_weights_and_a_record(tmp_path):
    pytest.importorskip("jax")
    from specdec.tutor import train_heads

    argv = [
        "--method",
        "eagle",
        "--train-pairs",
        "60",
        "--steps",
        "3",
        "--log-every",
        "1",
        "--eval-rows",
        "2",
        "--test-pairs",
        "100",
        "--out",
        str(tmp_path),
    ]
    assert train_heads.main(argv) == 0
    rec = json.loads((tmp_path / "heads-train.json").read_text())["methods"]["eagle"]
    assert [s for s, _ in rec["loss_curve"]] == [1, 2, 3] and all(
        np.isfinite(x) for _, x in rec["loss_curve"]
    )
    assert len(rec["rank_accuracy"][0]) == train_heads.RANKS and rec["weights_bytes"] < 2_000_000
    meta = json.loads((tmp_path / "eagle.json").read_text())
    assert meta["method"] == "eagle" and (tmp_path / "eagle.npz").is_file()


# --- the recorded runs --------------------------------------------------------------------------------


def test_shipped_weights_are_small_and_carry_the_recorded_accuracies():
    from sitecheck import ROOT
    from specdec.tutor.api import WEIGHTS

    record = json.loads((ROOT / "bench" / "results" / "heads-train.json").read_text(encoding="utf-8"))
    for method in ("medusa", "eagle"):
        assert (WEIGHTS / f"{method}.npz").stat().st_size <= 2_000_000
        meta = json.loads((WEIGHTS / f"{method}.json").read_text(encoding="utf-8"))
        assert meta["rank_accuracy"] == record["methods"][method]["rank_accuracy"]
        assert record["methods"][method]["train_s"] < 15 * 60  # the budget per head set


def test_the_recorded_sweep_table_is_its_json():
    import importlib.util

    from sitecheck import ROOT

    spec = importlib.util.spec_from_file_location("heads_sweep", ROOT / "bench" / "heads_sweep.py")
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    record = json.loads((ROOT / "bench" / "results" / "heads-sweep.json").read_text(encoding="utf-8"))
    assert (ROOT / "bench" / "results" / "heads-sweep.txt").read_text(encoding="utf-8") == sweep.table(
        record
    ) + "\n"
    assert all(r["greedy_identical"] for r in record["sweep"]) and len(record["sweep"]) == 2 * len(
        sweep.SIZES
    )
    for method in ("medusa", "eagle-2"):
        rows = [r for r in record["sweep"] if r["method"] == method]
        assert record[f"best_{method}_cpu"] == max(rows, key=lambda r: r["decode_speedup"])["nodes"]
