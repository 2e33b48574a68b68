"""``python -m specdec tutor "She go to school yesterday."``: correct text from the command line.

Registered in ``specdec.cli`` by ``add_tutor_parser``. Each argument may hold several sentences: the
text is split (:func:`specdec.tutor.tokenizer.split_sentences`) and every sentence is corrected, in
order, one result each. ``-`` streams standard input: one line in, its corrections out at once, so
the command can sit at the end of a pipe. A sentence the tutor cannot read (blank, no letter, another
script, emoji, over the length limit) is reported on stderr as one line naming the sentence and the
rule, and the rest is still corrected; the exit status is then 2, as it is when the model writes no
end token within the length limit (the cut correction is printed, and flagged on stderr). Missing
or damaged weights are one line on stderr and status 2 too; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["add_tutor_parser"]

_LIMITS = (
    "Limits: English in the Latin alphabet with digits and common punctuation; each sentence at most "
    "60 tokens (about 45 words), split longer ones; any number of sentences per argument or line."
)


def _result(c) -> dict:
    return {
        "input": c.learner,
        "correction": c.text,
        "changed": c.changed,
        "new_tokens": c.new_tokens,
        "finished": c.finished,
        "ms_per_token": round(c.ms_per_token, 4),
    }


def _print(c, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_result(c), allow_nan=False), flush=True)
        return
    note = "" if c.finished else "  (no <eos> within the length limit: cut)"
    print(c.text if c.changed else f"{c.text}  (no change)", flush=True)
    print(f"  {c.new_tokens} tokens written, {c.ms_per_token:.2f} ms/token (greedy, KV cache){note}")


def _correct_text(tutor, text: str, where: str, as_json: bool) -> int:
    """Correct every sentence of ``text``; returns how many were refused (each reported on stderr)."""
    from specdec.tutor.tokenizer import split_sentences

    refused = 0
    try:
        parts = split_sentences(text)
    except (TypeError, ValueError) as exc:
        parts, refused = [], 1
        print(f"specdec tutor: error: {where}{exc}", file=sys.stderr)
    if not parts and not refused:
        print(f"specdec tutor: error: {where}no sentence (the text is blank)", file=sys.stderr)
        return 1
    for n, part in enumerate(parts, 1):
        try:
            c = tutor.correct(part)
            _print(c, as_json)
            if not c.finished:  # the model gave up: say so, and fail the exit status
                refused += 1
                label = f"{where}sentence {n}: " if len(parts) > 1 else where
                print(f"specdec tutor: error: {label}no <eos> within {c.new_tokens} tokens: the correction "
                      "above was cut", file=sys.stderr, flush=True)  # fmt: skip
        except ValueError as exc:
            refused += 1
            label = f"{where}sentence {n}: " if len(parts) > 1 else where
            print(f"specdec tutor: error: {label}{exc}", file=sys.stderr, flush=True)
    return refused


def _cmd_tutor(args: argparse.Namespace) -> int:
    from specdec.tutor.api import WEIGHTS, Tutor

    if "-" in args.sentence and args.sentence != ["-"]:
        raise ValueError("sentence: '-' (read stdin) must be the only sentence argument")
    tutor = Tutor.load(args.model, args.weights or WEIGHTS)
    tutor.correct("She goes to school.")  # warm-up: the first forward of a process pays one-off costs
    refused = 0
    if args.sentence == ["-"]:
        lines = 0
        for n, line in enumerate(sys.stdin, 1):
            if line.strip():
                lines += 1
                refused += _correct_text(tutor, line, f"line {n}: ", args.json)
        if not lines:
            raise ValueError("sentence: stdin ('-') held no text (one or more sentences per line)")
    else:
        for n, text in enumerate(args.sentence, 1):
            where = f"argument {n}: " if len(args.sentence) > 1 else ""
            refused += _correct_text(tutor, text, where, args.json)
    return 2 if refused else 0


def add_tutor_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``tutor`` subcommand to ``subparsers`` (from ``parser.add_subparsers()``)."""
    p = subparsers.add_parser(
        "tutor",
        help="correct sentences with the toy grammar tutor (a small transformer, NumPy inference)",
        description="Correct English learner sentences with the toy grammar tutor: greedy decoding with a KV "
        "cache on this CPU, one correction per sentence, in order. " + _LIMITS,
    )
    p.add_argument(
        "sentence", nargs="+", help="text to correct (quote each argument), or - to stream lines from stdin"
    )
    p.add_argument(
        "--model", choices=("tutor", "draft"), default="tutor", help="which shipped model (default tutor)"
    )
    p.add_argument(
        "--weights", default=None, help="folder of the weights files (default: the shipped weights)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per sentence (JSON Lines)")
    p.set_defaults(func=_cmd_tutor)
    return p
