"""Short functions: none in the package, the bench scripts or the scripts runs past
``MAX_LINES`` lines (docstring included), so that each reads on one screen."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("parvox", "bench", "scripts")
#: The brief's "short functions", as issue 13 sizes them ("no function over ~50 lines").
MAX_LINES = 50


def long_functions(path: Path, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in ``path`` longer than ``limit`` lines."""
    tree = ast.parse(path.read_text(), str(path))
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > limit]


def test_no_function_is_longer_than_the_limit() -> None:
    found = [f"{path.relative_to(ROOT)}: {name} ({lines} lines)"
             for folder in FOLDERS for path in sorted((ROOT / folder).rglob("*.py"))
             for name, lines in long_functions(path)]
    assert not found, "\n".join(found)


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    path = tmp_path / "long.py"
    path.write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}\n")
    assert long_functions(path) == [("long", MAX_LINES + 1)]
