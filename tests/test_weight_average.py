"""bench/weight_average.py: the paired class-mean difference and its standard error."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import weight_average  # noqa: E402

AIRPLANE, CHAIR = "02691156", "03001627"


def test_paired_difference_is_the_class_mean_of_per_sample_differences() -> None:
    synsets = [AIRPLANE] * 3 + [CHAIR] * 2
    reference = np.array([0.5, 0.5, 0.5, 0.2, 0.4])
    candidate = np.array([0.6, 0.5, 0.7, 0.2, 0.3])  # airplane +0.1, chair -0.05 per sample
    r = weight_average.paired(synsets, candidate, reference)
    assert r["mean"] == pytest.approx(np.mean([0.6, 0.25]))  # of the class means, not samples
    assert r["diff"] == pytest.approx(np.mean([0.1, -0.05]))
    # s.e. of the class mean: each class's variance of the differences over its count
    var = np.var([0.1, 0.0, 0.2], ddof=1) / 3 + np.var([0.0, -0.1], ddof=1) / 2
    assert r["two_se"] == pytest.approx(2 * np.sqrt(var) / 2)
    assert (r["up"], r["down"]) == (1, 1)
    assert r["per_class"] == pytest.approx({"airplane": 0.6, "chair": 0.25})


def test_a_model_against_itself_differs_by_nothing() -> None:
    scores = np.array([0.1, 0.9, 0.4, 0.3])
    r = weight_average.paired([AIRPLANE, AIRPLANE, CHAIR, CHAIR], scores, scores)
    assert (r["diff"], r["two_se"], r["up"], r["down"]) == (0.0, 0.0, 0, 0)


def test_the_mean_of_a_file_with_itself_scores_as_the_file(tmp_path: Path,
                                                            checkpoint: Path) -> None:
    """End to end on a tiny build: a mean of one file twice is that file (no difference, on
    every sample), and a mean with other weights is scored apart from it."""
    import json
    import subprocess

    import torch
    from safetensors import safe_open

    from parvox.data.builder import build_dataset, procedural_jobs
    from parvox.files import write_half_safetensors
    from parvox.pretrained import export_weights, read_weights

    data = tmp_path / "data"
    build_dataset(data, procedural_jobs(10, ["chair"]), seed=1, show_progress=False)
    w = export_weights(checkpoint, tmp_path / "w.safetensors")
    tensors, _ = read_weights(w)
    with safe_open(str(w), "pt") as handle:  # the same network with every weight zero
        zero = write_half_safetensors(
            tmp_path / "zero.safetensors",
            {n: torch.zeros_like(t) if t.is_floating_point() else t for n, t in tensors.items()},
            handle.metadata())
    report = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, str(Path(weight_average.__file__)), "--data", str(data), "--split",
         "test", "--reference", str(w), "--average", f"same={w},{w}",
         "--average", f"half={w},{zero}", "--json", str(report)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    scores = json.loads(report.read_text())["report"]
    assert scores["same"]["diff"] == 0.0 and scores["same"]["two_se"] == 0.0
    assert scores["half"]["diff"] != 0.0
    assert "| same |" in done.stdout
