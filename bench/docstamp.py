"""The stamp a generated doc carries on its first line, so that a test can tell it is stale.

``<!-- generated at commit <sha> from a clean tree; measures: <path> <path> ... -->``

``tests/test_doc_freshness.py`` fails when a measured path changed in a commit the recorded one
does not contain (the doc must be regenerated), or when the doc was generated from a tree with
uncommitted changes in those paths (its numbers belong to no commit).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What each generated doc measures: a change under any of these paths makes it stale.
MEASURES = {
    # git pathspecs: the photo path's mask network in parvox/models is not what it times
    "docs/BENCHMARKS.md": ("parvox/models", ":(exclude)parvox/models/masknet.py",
                           "parvox/parallel", "parvox/train.py",
                           "parvox/data/dataset.py", "parvox/data/sampling.py",
                           "parvox/data/images.py", "bench/throughput.py", "bench/model_bench.py",
                           "bench/links.py", "bench/projection.py", "bench/data_bench.py"),
    # the weights it ships are checked by their sha256 in the card, not by commit: the script
    # writes them, so they are committed with the card, after the measurement
    "docs/MODEL.md": ("parvox/models", "parvox/photo.py", "parvox/masknet.py",
                      "parvox/inference.py", "parvox/reconstruct.py", "parvox/evaluate.py",
                      "parvox/pretrained.py",
                      "parvox/data/dataset.py", "scripts/ship_model.py", "bench/photo_bench.py",
                      "bench/app_bench.py"),
}
PREFIX = "<!-- generated at commit "


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False).stdout.strip()


def stamp(doc: str) -> str:
    """The first line for ``doc`` (a key of :data:`MEASURES`), from the current checkout."""
    paths = MEASURES[doc]
    commit = _git("rev-parse", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", *paths)
    state = "a tree with uncommitted changes" if dirty else "a clean tree"
    return f"{PREFIX}{commit} from {state}; measures: {' '.join(paths)} -->"


def read_stamp(text: str) -> tuple[str, bool, list[str]] | None:
    """(commit, clean, measured paths) from a doc's first line, or None without a stamp."""
    first = text.split("\n", 1)[0]
    if not first.startswith(PREFIX):
        return None
    body = first[len(PREFIX):].removesuffix(" -->")
    head, _, paths = body.partition("; measures: ")
    commit, _, state = head.partition(" from ")
    return commit, state == "a clean tree", paths.split()
