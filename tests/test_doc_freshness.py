"""Generated docs are not older than the code they measure (see ``bench/docstamp.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from docstamp import MEASURES, read_stamp  # noqa: E402


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def stale_reason(doc: str) -> str | None:
    """Why ``doc`` is stale, or None when its recorded commit contains every change to what
    it measures."""
    stamp = read_stamp((ROOT / doc).read_text())
    if stamp is None:
        return "no generated-at stamp on its first line"
    commit, clean, paths = stamp
    if not clean:
        return f"generated from uncommitted changes to {' '.join(paths)}"
    if sorted(paths) != sorted(MEASURES[doc]):
        return "its stamp lists other paths than bench/docstamp.py's MEASURES"
    last = git("log", "-1", "--format=%H", "--", *paths).stdout.strip()
    if git("cat-file", "-e", f"{commit}^{{commit}}").returncode:
        return f"recorded commit {commit[:12]} is not in this repository"
    if git("merge-base", "--is-ancestor", last, commit).returncode:
        return (f"generated at {commit[:12]}, but {last[:12]} changed what it measures "
                f"since: regenerate it")
    return None


@pytest.mark.skipif(git("rev-parse", "HEAD").returncode != 0, reason="not a git checkout")
@pytest.mark.parametrize("doc", sorted(MEASURES))
def test_generated_doc_is_not_older_than_its_code(doc: str) -> None:
    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        git("fetch", "--unshallow", "--quiet")  # the history is the evidence
    assert stale_reason(doc) is None, f"{doc}: {stale_reason(doc)}"


def test_model_card_describes_the_shipped_weights() -> None:
    import hashlib
    import re

    card = (ROOT / "docs" / "MODEL.md").read_text()
    recorded = re.search(r"\| weights sha256 \| `([0-9a-f]{64})` \|", card)
    assert recorded, "docs/MODEL.md records no weights sha256"
    weights = ROOT / "parvox" / "weights" / "small-procedural.safetensors"
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == recorded.group(1)
    masknet = ROOT / "parvox" / "weights" / "masknet.safetensors"
    recorded = re.search(r"`parvox/weights/masknet.safetensors` \([0-9.]+ MB, sha256 "
                         r"`([0-9a-f]{64})`\)", card)
    assert recorded, "docs/MODEL.md records no mask network sha256"
    assert hashlib.sha256(masknet.read_bytes()).hexdigest() == recorded.group(1)


def test_the_check_catches_a_stale_doc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stamp at the first commit that touched the measured paths is stale today; one from a
    dirty tree or without a stamp is refused."""
    import test_doc_freshness as me

    paths = MEASURES["docs/BENCHMARKS.md"]
    first = git("log", "--reverse", "--format=%H", "--", *paths).stdout.split()
    if len(first) < 2:
        pytest.skip("history too short")
    fake = tmp_path / "docs" / "BENCHMARKS.md"
    fake.parent.mkdir()
    repo = ROOT
    monkeypatch.setattr(me, "ROOT", tmp_path)  # the doc is read from here, git runs in repo
    monkeypatch.setattr(me, "git", lambda *a: subprocess.run(
        ["git", *a], cwd=repo, capture_output=True, text=True, check=False))
    fake.write_text(f"<!-- generated at commit {first[0]} from a clean tree; measures: "
                    f"{' '.join(paths)} -->\n")
    assert "regenerate" in stale_reason("docs/BENCHMARKS.md")
    fake.write_text(f"<!-- generated at commit {first[-1]} from a tree with uncommitted changes; "
                    f"measures: {' '.join(paths)} -->\n")
    assert "uncommitted" in stale_reason("docs/BENCHMARKS.md")
    fake.write_text("# Benchmarks\n")
    assert "no generated-at stamp" in stale_reason("docs/BENCHMARKS.md")
