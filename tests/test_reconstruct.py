"""Reconstruction from photos of any mode and size, on the shared real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from paths import PHOTOS
from PIL import Image

from parvox.checkpoint import save_checkpoint
from parvox.data.binvox import read_binvox
from parvox.errors import DataError
from parvox.models import create_model
from parvox.reconstruct import load_photo, probability_mesh, reconstruct


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model = create_model("tiny")
    head = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Conv3d)][-1]
    with torch.no_grad():  # an untrained net: bias it towards "occupied" so a mesh exists
        head.bias.copy_(torch.tensor([0.0, 2.0]))
    save_checkpoint(run, 1, model.state_dict(), None, {"config": "tiny", "train": {}})
    return run


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "CMYK", "I;16"])
def test_photo_modes(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(0, 255, (50, 80, 3), dtype=np.uint8)
    image = Image.fromarray(array, "RGB")
    if mode == "I;16":
        image = Image.fromarray(array[..., 0].astype(np.uint16) * 257)
        assert image.mode.startswith("I;16")
    elif mode != "RGB":
        image = image.convert(mode)
    path = tmp_path / ("photo.tif" if mode == "CMYK" else "photo.png")
    image.save(path)
    tensor = load_photo(path, 32)
    assert tensor.shape == (3, 32, 32) and tensor.dtype == torch.float32
    assert tensor.min() >= 0.0 and tensor.max() <= 1.0 and tensor.std() > 0.02


def test_transparent_pixels_become_test_grey(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (40, 40), (255, 0, 0, 0)).save(path)
    assert torch.allclose(load_photo(path, 16), torch.full((3, 16, 16), 240 / 255), atol=1e-3)


def test_centre_square_crop(tmp_path: Path) -> None:
    array = np.zeros((20, 60, 3), np.uint8)
    array[:, 20:40] = 255  # only the centre square is white
    path = tmp_path / "wide.png"
    Image.fromarray(array).save(path)
    assert load_photo(path, 16).min() > 0.9


def test_bad_photos_name_the_file(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (3, 3)).save(tiny)
    with pytest.raises(DataError, match="tiny.png.*too small"):
        load_photo(tiny, 32)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match="broken.png"):
        load_photo(broken, 32)


def test_mesh_is_in_the_binvox_frame() -> None:
    prob = np.zeros((32, 32, 32), np.float32)
    prob[8:24, 4:28, 12:20] = 1.0
    mesh = probability_mesh(prob)
    lo, hi = mesh.bounds
    np.testing.assert_allclose(lo, [-0.25, -0.375, -0.125], atol=1 / 32)
    np.testing.assert_allclose(hi, [0.25, 0.375, 0.125], atol=1 / 32)
    assert mesh.volume > 0  # outward-facing triangles


def test_reconstruct_real_photos(tmp_path: Path, checkpoint: Path) -> None:
    photos = sorted(str(p) for p in PHOTOS.glob("*.png"))
    if not photos:
        pytest.skip("shared photos absent")
    out = tmp_path / "rec"
    paths = reconstruct(photos, checkpoint, out)
    assert sorted(p.name for p in out.iterdir()) == ["mesh.obj", "mesh.ply", "preview.png",
                                                      "voxels.binvox"]
    assert read_binvox(paths["voxels"]).occupancy.shape == (32, 32, 32)
    preview = Image.open(paths["preview"])
    assert preview.size == (137 * (len(photos) + 2), 137)
