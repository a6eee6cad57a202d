"""The README matches the tree: its layout block and status table name paths that exist, and
the layout lists every module of ``parvox/`` and every ``parvox/*/`` folder.

The layout block (the fenced block under "## Layout of the code") is read like this: a line
that starts in the first column begins with a path (``parvox/data/``, ``parvox/train.py``)
whose folder is the base of the line; an indented line continues the previous line's base. A
name with a file extension or a trailing ``/`` is a path: relative to the base when bare
(``layout.py``, ``procedural/``), relative to the repository when it holds a ``/`` before its
end (``docs/BENCHMARKS.md``).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGE = ROOT / "parvox"
EXTENSIONS = ("py", "md", "sh", "json", "toml", "png", "safetensors")
#: A file name with a known extension, or a folder name with its trailing slash.
PATH = re.compile(r"(?<![\w./-])(?:[\w.-]+/)*(?:[\w.-]+\.(?:" + "|".join(EXTENSIONS)
                  + r")\b|[\w.-]+/)(?![\w/])")


def section(text: str, heading: str) -> str:
    """The text from ``heading`` to the next heading of the same or a higher level."""
    start = text.index(heading + "\n")
    level = heading.split(" ")[0]
    rest = text[start + len(heading) + 1:]
    end = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[:end.start()] if end else rest


def layout_block(text: str) -> list[str]:
    """The lines of the first fenced block under "## Layout of the code"."""
    body = section(text, "## Layout of the code")
    match = re.search(r"^```\n(.*?)^```", body, re.MULTILINE | re.DOTALL)
    assert match, "no fenced block under '## Layout of the code'"
    return match[1].splitlines()


def resolve(token: str, base: str) -> str:
    """A path of the layout block, relative to the repository."""
    return token if "/" in token.rstrip("/") else base + token


def layout_paths(lines: list[str]) -> list[str]:
    """Every path the layout block names, relative to the repository, in order."""
    paths, base = [], ""
    for line in lines:
        tokens = [m[0] for m in PATH.finditer(line)]
        if not line[:1].isspace():
            first = line.split()[0].rstrip(",")
            assert PATH.fullmatch(first) and "/" in first, f"layout line without a path: {line}"
            base = first if first.endswith("/") else first.rsplit("/", 1)[0] + "/"
            paths.append(first)
            tokens = tokens[1:]
        paths += [resolve(token, base) for token in tokens]
    return paths


def status_paths(text: str) -> list[str]:
    """The repository paths (``docs/X.md``, ``bench/x.py``) named in the status table."""
    table = [line for line in section(text, "## Status").splitlines() if line.startswith("|")]
    return [m[0] for line in table for m in PATH.finditer(line) if "/" in m[0].rstrip("/")]


def test_the_layout_parser_reads_bases_and_repository_paths() -> None:
    lines = ["parvox/data/       binvox.py layout.py (see docs/DATA.md)",
             "                   procedural/ (the shape generator, no torch.distributed)",
             "parvox/train.py evaluate.py", "parvox/pretrained.py, parvox/weights/   export"]
    assert layout_paths(lines) == [
        "parvox/data/", "parvox/data/binvox.py", "parvox/data/layout.py", "docs/DATA.md",
        "parvox/data/procedural/", "parvox/train.py", "parvox/evaluate.py",
        "parvox/pretrained.py", "parvox/weights/"]


def test_every_layout_path_exists() -> None:
    paths = layout_paths(layout_block(README.read_text(encoding="utf-8")))
    assert len(paths) > 20
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert missing == []
    assert [p for p in paths if p.endswith("/") and not (ROOT / p).is_dir()] == []


def test_the_layout_lists_every_parvox_module_and_folder() -> None:
    listed = set(layout_paths(layout_block(README.read_text(encoding="utf-8"))))
    modules = {f"parvox/{p.name}" for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    folders = {f"parvox/{p.name}/" for p in PACKAGE.iterdir()
               if p.is_dir() and not p.name.startswith(("__", "."))}
    assert sorted(modules - listed) == []
    assert sorted(folders - listed) == []


def test_a_folder_whose_modules_are_listed_has_all_of_them_listed() -> None:
    """``parvox/data/`` names its modules one by one: a new module must join the list."""
    listed = set(layout_paths(layout_block(README.read_text(encoding="utf-8"))))
    for folder in sorted(p for p in PACKAGE.iterdir() if p.is_dir()):
        prefix = f"parvox/{folder.name}/"
        named = {p for p in listed if p.startswith(prefix) and p.endswith(".py")}
        if named:
            modules = {prefix + p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
            assert sorted(modules - named) == [], prefix


def test_every_status_table_path_exists() -> None:
    paths = status_paths(README.read_text(encoding="utf-8"))
    assert "docs/RESULTS.md" in paths
    assert [p for p in paths if not (ROOT / p).exists()] == []


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    named = set(re.findall(r"\bmake (\w+)", README.read_text(encoding="utf-8")))
    assert {"demo", "test", "bench", "fuzz"} <= named
    assert sorted(named - targets) == []
