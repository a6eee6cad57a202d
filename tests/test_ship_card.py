"""scripts/ship_model.py's targets table: one pass and flip-averaged, judged apart."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import ship_model  # noqa: E402

from parvox.files import sha256_file  # noqa: E402


def _report(one: float, five: float, floor: float = 0.3) -> dict:
    def entry(mean: float) -> dict:
        return {"0.4": {"mean": mean}}

    return {"iou": {"1": entry(one), "5": entry(five)},
            "floors": {"class_mean": {"0.4": {"mean": floor}}}}


def _rows(reports: dict) -> dict[str, str]:
    rows = [line for line in ship_model.card_targets(reports) if line.startswith("| real")
            or line.startswith("| procedural")]
    return {row.split(" | ")[0].lstrip("| "): row for row in rows}


@pytest.mark.parametrize(("plain", "flipped", "met"), [
    (0.56, 0.54, "| yes |"),  # the protocol's single pass meets it: flip averaging is moot
    (0.54, 0.56, "| yes, flip-averaged only |"),
    (0.54, 0.545, "| **no** |"),
])
def test_the_real_one_view_row_says_which_prediction_met_it(plain: float, flipped: float,
                                                            met: str) -> None:
    reports = {"real": _report(plain, 0.62), "real-flip": _report(flipped, 0.62),
               "procedural": _report(0.57, 0.64), "procedural-flip": _report(0.58, 0.64)}
    row = _rows(reports)["real ShapeNet renders, class-mean IoU@0.4, 1 view ≥ 0.55"]
    assert row.endswith(met)
    assert f"{plain:.3f} in one pass, {flipped:.3f} flip-averaged" in row


def test_without_flip_reports_only_the_single_pass_counts() -> None:
    rows = _rows({"real": _report(0.54, 0.59), "procedural": _report(0.57, 0.64)})
    assert all("flip" not in row for row in rows.values())
    assert rows["real ShapeNet renders, 5 views ≥ 0.60"].endswith("| **no** |")
    assert rows["procedural test split, 1 view ≥ 0.55"].endswith("| yes |")


def _export_args(**over) -> SimpleNamespace:
    args = {"build_command": "parvox data build data/x --per-class 3", "remeasure": False,
            "command": ["parvox train --steps 5", "parvox train --steps 9 --resume"],
            "schedule": "lr 1e-4 to 9", "generator": None, "machine": None, "average": []}
    return SimpleNamespace(**{**args, **over})


def test_remeasure_reads_back_what_the_export_recorded(tmp_path: Path) -> None:
    """The card of a re-measure says of the training what the export's card said: the
    commands, schedule and loss from the provenance, the rest from the shipped file."""
    from parvox.pretrained import WEIGHTS_FILE, read_weights

    meta = read_weights(WEIGHTS_FILE)[1]
    (tmp_path / "model").mkdir()
    facts = {"config": meta["train"], "steps": meta["step"], "samples": meta["samples"],
             "train_s": meta["train_seconds"], "final_loss": 0.1234,
             "averaged_from": meta.get("averaged_from")}
    ship_model.write_provenance(_export_args(), facts, tmp_path)
    args = _export_args(build_command=None, command=[], schedule=None, remeasure=True)
    assert ship_model.remeasured_facts(args, tmp_path) == facts
    assert args.command == ["parvox train --steps 5", "parvox train --steps 9 --resume"]
    assert (args.build_command, args.schedule) == ("parvox data build data/x --per-class 3",
                                                   "lr 1e-4 to 9")
    assert (args.generator, args.machine) == (meta["generator_commit"], meta["machine"])
    assert "--remeasure" in " ".join(ship_model.remeasured_note(args))
    assert "(written by the export)" in " ".join(ship_model.remeasured_note(args))
    assert ship_model.remeasured_note(_export_args()) == []


def test_remeasure_refuses_a_provenance_of_other_weights(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    with pytest.raises(SystemExit, match="provenance.json: not found"):
        ship_model.remeasured_facts(_export_args(), tmp_path)
    ship_model.write_provenance(_export_args(), {"final_loss": 0.1}, tmp_path)
    path = ship_model.provenance_path(tmp_path)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "weights_sha256": "ab" * 32}))
    with pytest.raises(SystemExit, match="describes weights abababababab, not .*small-procedural"):
        ship_model.remeasured_facts(_export_args(), tmp_path)


def test_the_committed_provenance_is_the_shipped_files() -> None:
    """docs/model/provenance.json names the weights in the package, so the card can be
    re-measured from a fresh clone."""
    docs = Path(ship_model.ROOT) / "docs"
    args = _export_args(remeasure=True)
    assert ship_model.remeasured_facts(args, docs)["steps"] > 0
    assert args.command and args.build_command.startswith("parvox data build")


def _weights(path: Path, value: float, step: int, **meta) -> Path:
    from parvox.files import write_half_safetensors

    tensors = {"w": torch.full((2, 3), value), "count": torch.tensor([7])}
    header = {"config": "small", "step": step, "train": {"batch": 4}, "samples": 8 * step,
              "train_seconds": step, **meta}
    return write_half_safetensors(path, tensors, {"parvox": json.dumps(header)})


def test_average_weights_is_the_mean_and_names_its_sources(tmp_path: Path) -> None:
    from parvox.pretrained import average_weights

    a, b = _weights(tmp_path / "a.safetensors", 1.0, 10), _weights(tmp_path / "b.safetensors",
                                                                  2.0, 20)
    state, meta = average_weights([a, b])
    assert torch.equal(state["w"], torch.full((2, 3), 1.5))
    assert torch.equal(state["count"], torch.tensor([7]))
    assert meta["step"] == 20  # the last file's training facts
    assert [s["step"] for s in meta["averaged_from"]] == [10, 20]
    assert meta["averaged_from"][0]["sha256"] == sha256_file(a)


def test_average_weights_refuses_other_networks(tmp_path: Path) -> None:
    from parvox.errors import ParvoxError
    from parvox.files import write_half_safetensors
    from parvox.pretrained import average_weights

    a = _weights(tmp_path / "a.safetensors", 1.0, 10)
    with pytest.raises(ParvoxError, match="at least two"):
        average_weights([a])
    wide = _weights(tmp_path / "wide.safetensors", 1.0, 10, model_overrides={"hidden_channels": 96})
    with pytest.raises(ParvoxError, match="wide.safetensors.*another network"):
        average_weights([a, wide])
    shaped = write_half_safetensors(tmp_path / "shape.safetensors",
                                    {"w": torch.ones(3, 2), "count": torch.tensor([7])},
                                    {"parvox": json.dumps({"config": "small"})})
    with pytest.raises(ParvoxError, match="tensor w is \\(3, 2\\)"):
        average_weights([a, shaped])
    counted = write_half_safetensors(tmp_path / "count.safetensors",
                                     {"w": torch.ones(2, 3), "count": torch.tensor([8])},
                                     {"parvox": json.dumps({"config": "small"})})
    with pytest.raises(ParvoxError, match="integer buffer count differs"):
        average_weights([a, counted])


def test_ship_average_keeps_the_last_files_provenance(tmp_path: Path, monkeypatch) -> None:
    """--average ships the mean under a new provenance: the last file's commands with the
    averaging appended, tied to the mean's sha256; the card names both sources."""
    shipped = tmp_path / "shipped.safetensors"
    monkeypatch.setattr(ship_model, "WEIGHTS_FILE", shipped)
    a = _weights(tmp_path / "a.safetensors", 1.0, 10)
    b = _weights(tmp_path / "b.safetensors", 2.0, 20, machine="m", generator_commit="g")
    (tmp_path / "model").mkdir()
    args = _export_args(average=[str(a), str(b)], command=["python average"])
    with pytest.raises(SystemExit, match="provenance.json: not found"):
        ship_model.average(args, tmp_path)
    assert not shipped.exists()  # nothing written before the provenance is checked
    monkeypatch.setattr(ship_model, "WEIGHTS_FILE", b)
    ship_model.write_provenance(_export_args(), {"final_loss": 0.1}, tmp_path)
    monkeypatch.setattr(ship_model, "WEIGHTS_FILE", shipped)
    args = _export_args(average=[str(a), str(b)], command=["python average"])
    facts = ship_model.average(args, tmp_path)
    record = json.loads(ship_model.provenance_path(tmp_path).read_text())
    assert record["weights_sha256"] == sha256_file(shipped)
    assert record["commands"] == ["parvox train --steps 5", "parvox train --steps 9 --resume",
                                  "python average"]
    assert "b.safetensors" in record["source"]
    assert (facts["steps"], facts["final_loss"], args.machine) == (20, 0.1, "m")
    row = " ".join(ship_model.averaging_row(facts))
    assert "step 10" in row and "step 20" in row
    assert "--average" in " ".join(ship_model.remeasured_note(args))
    assert ship_model.averaging_row({"averaged_from": None}) == []
