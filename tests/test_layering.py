"""The architecture's layering rules, read from every import statement of the package
(module level and inside functions, absolute and relative):

* ``parvox.models`` is single-device model code: no data, parallel, run or CLI code, and no
  ``torch.distributed``;
* ``parvox.data`` knows nothing of models or parallelism;
* ``parvox.parallel`` applies plans to models: no data, run or CLI code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import parvox

PACKAGE = Path(parvox.__file__).parent
#: Top-level modules that run things or face the user.
RUN = ("parvox.train", "parvox.evaluate", "parvox.reconstruct", "parvox.demo", "parvox.photo",
       "parvox.pretrained", "parvox.checkpoint")
CLI = ("parvox.cli", "parvox.app", "parvox.__main__")
RULES = {
    "parvox.models": ("parvox.data", "parvox.parallel", *RUN, *CLI, "torch.distributed"),
    "parvox.data": ("parvox.models", "parvox.parallel", *RUN, *CLI),
    "parvox.parallel": ("parvox.data", *RUN, *CLI),
}


def imports(path: Path, root: Path = PACKAGE.parent) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path`` (a module under ``root``);
    ``from a import b`` also yields ``a.b`` (``b`` may be a module)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = ".".join(parts[:-1])  # a module's package; an __init__'s own package
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(layer: str, forbidden: tuple[str, ...], root: Path = PACKAGE.parent) -> list[str]:
    bad = []
    for path in sorted((root / layer.replace(".", "/")).rglob("*.py")):
        for line, name in imports(path, root):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(root)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layering_rules(layer: str) -> None:
    assert violations(layer, RULES[layer]) == []


def test_the_rules_see_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself, on a fake package: function-level, relative and ``from`` imports of
    a forbidden module are all caught, an allowed sibling is not."""
    models = tmp_path / "parvox" / "models"
    models.mkdir(parents=True)
    (models / "probe.py").write_text(
        "from . import layers\n"
        "def f():\n"
        "    import torch.distributed as dist\n"
        "    from ..data import binvox\n"
        "    from parvox import cli\n")
    found = violations("parvox.models", RULES["parvox.models"], tmp_path)
    assert [v.split(" imports ")[1] for v in found] == [
        "torch.distributed", "parvox.data", "parvox.data.binvox", "parvox.cli"]
