"""Help texts and error messages name only ``parvox`` commands that exist.

Every ``parvox <word>`` in a string of the package's source (help strings, error messages,
docstrings) and in the rendered ``--help`` of every (sub)command must name a real subcommand,
and ``parvox <command> <word>`` a real sub-subcommand where the command has them (``parvox
data build``). ``a parvox weights file`` (an article before ``parvox``) is the package's name
used as an adjective, not a command.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
from pathlib import Path

import parvox
from parvox.cli import build_parser

PACKAGE = Path(parvox.__file__).resolve().parent
#: ``parvox`` followed by a word, not part of a longer name (``python -m parvox train`` counts).
MENTION = re.compile(r"(?<![\w.-])parvox ([a-z][a-z0-9_-]*)(?: ([a-z][a-z0-9_-]*))?")
#: A word before ``parvox`` that makes it an adjective: "not a parvox weights file".
ARTICLE = re.compile(r"\b(a|an|the|no|every|this|that)\s+$", re.IGNORECASE)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def commands() -> dict[str, set[str]]:
    """Each ``parvox`` subcommand -> its own subcommands (empty when it has none)."""
    return {name: set(_subparsers(sub)) for name, sub in _subparsers(build_parser()).items()}


def mentions(text: str) -> list[tuple[str, str | None]]:
    """(command, next word or None) of every ``parvox <command>`` in ``text``."""
    return [(m[1], m[2]) for m in MENTION.finditer(text)
            if not ARTICLE.search(text[:m.start()])]


def source_strings(path: Path) -> list[str]:
    """Every string literal of a module, f-string parts included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def help_texts() -> dict[str, str]:
    """The rendered ``--help`` of ``parvox`` and of every subcommand, by command line."""
    out = {}
    stack = [(["parvox"], build_parser())]
    while stack:
        words, parser = stack.pop()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            parser.print_help()
        out[" ".join(words)] = buf.getvalue()
        stack += [([*words, name], sub) for name, sub in _subparsers(parser).items()]
    return out


def wrong_mentions(texts: dict[str, list[str]]) -> list[str]:
    """``where: parvox <words>`` for each mention of a command that does not exist."""
    known = commands()
    wrong = []
    for where, strings in texts.items():
        for text in strings:
            for command, word in mentions(text):
                if command not in known:
                    wrong.append(f"{where}: parvox {command}")
                elif known[command] and word is not None and word not in known[command]:
                    wrong.append(f"{where}: parvox {command} {word}")
    return sorted(set(wrong))


def test_the_parser_has_the_documented_commands() -> None:
    known = commands()
    assert {"data", "train", "eval", "reconstruct", "app", "plan", "demo"} <= set(known)
    assert known["data"] == {"build", "verify"}


def test_mentions_are_found_and_adjectives_skipped() -> None:
    assert mentions("model config (see parvox models)") == [("models", None)]
    assert mentions("use `parvox data build OUT`") == [("data", "build")]
    assert mentions("python -m parvox train --nproc 2") == [("train", None)]
    assert mentions("not a parvox weights file (no parvox description)") == []
    assert mentions("import parvox.models; parvox") == []


def test_source_strings_name_only_real_commands() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "cli.py" in files
    texts = {str(path.relative_to(PACKAGE.parent)): source_strings(path) for path in files}
    assert wrong_mentions(texts) == []


def test_help_output_names_only_real_commands() -> None:
    texts = help_texts()
    assert {"parvox", "parvox train", "parvox data build"} <= set(texts)
    assert wrong_mentions({where: [text] for where, text in texts.items()}) == []
