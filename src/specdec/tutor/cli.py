"""``python -m specdec tutor "She go to school yesterday."``: correct sentences from the command line.

Registered in ``specdec.cli`` by ``add_tutor_parser``. Prints the correction, its tokens and
the ms/token measured after one warm-up correction; ``--json`` prints JSON instead; ``-`` reads one
sentence per line from stdin.
Bad input (an empty or over-long sentence, unknown words, missing, truncated or misshapen weights)
raises ``ValueError``, which the command line turns into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_tutor_parser"]


def _sentences(args: argparse.Namespace) -> list[str]:
    if args.sentence != ["-"]:
        return args.sentence
    lines = [line.strip() for line in sys.stdin.read().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("sentence: stdin ('-') held no sentence (one sentence per line)")
    return lines


def _cmd_tutor(args: argparse.Namespace) -> int:
    from specdec.tutor.api import MAX_SENTENCE_TOKENS, WEIGHTS, Tutor

    if "-" in args.sentence and args.sentence != ["-"]:
        raise ValueError("sentence: '-' (read stdin) must be the only sentence argument")
    tutor = Tutor.load(args.model, args.weights or WEIGHTS)
    sentences = _sentences(args)
    tutor.correct("she goes to school .")  # warm-up: the first forward of a process pays one-off costs
    results = []
    for n, sentence in enumerate(sentences, start=1):
        try:
            c = tutor.correct(sentence)
        except ValueError as exc:
            where = f"line {n}: " if args.sentence == ["-"] else ""
            raise ValueError(f"{where}{exc}") from None
        results.append((sentence, c))
    if args.json:
        out = {
            "model": args.model,
            "max_sentence_tokens": MAX_SENTENCE_TOKENS,
            "corrections": [
                {
                    "input": s,
                    "correction": c.text,
                    "changed": c.changed,
                    "tokens": c.tokens,
                    "learner_tokens": c.learner,
                    "new_tokens": c.new_tokens,
                    "finished": c.finished,
                    "ms_per_token": round(c.ms_per_token, 4),
                }
                for s, c in results
            ],
        }
        sys.stdout.write(json.dumps(out, indent=2, allow_nan=False) + "\n")
        return 0
    for _, c in results:
        note = "" if c.finished else f" (no <eos> within {c.new_tokens} tokens: cut)"
        print(c.text if c.changed else f"{c.text}  (no change)")
        print(f"  tokens: {' '.join(c.tokens)} <eos>" if c.finished else f"  tokens: {' '.join(c.tokens)}")
        print(
            f"  {c.new_tokens} tokens written, {c.ms_per_token:.2f} ms/token "
            f"(batch 1, greedy, KV cache){note}"
        )
    return 0


def add_tutor_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``tutor`` subcommand to ``subparsers`` (from ``parser.add_subparsers()``)."""
    p = subparsers.add_parser(
        "tutor",
        help="correct sentences with the toy grammar tutor (a small transformer, NumPy inference)",
        description="Correct English learner sentences with the toy grammar tutor: greedy decoding with a KV "
        "cache on this CPU. Sentences: at most 16 tokens (words and . , ?), words from the tutor's "
        "vocabulary.",
    )
    p.add_argument(
        "sentence", nargs="+", help="sentences to correct (quote each one), or - to read lines from stdin"
    )
    p.add_argument(
        "--model", choices=("tutor", "draft"), default="tutor", help="which shipped model (default tutor)"
    )
    p.add_argument(
        "--weights", default=None, help="folder of the weights files (default: the shipped weights)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_tutor)
    return p
