"""The mask network's training scenes (parvox.data.masks) and the network's file format and
inference (parvox.masknet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from parvox.data import masks as M
from parvox.data.augment import LUMA
from parvox.errors import DataError
from parvox.masknet import load_masknet, masknet_info, object_probability, save_masknet
from parvox.models.masknet import MaskNet


def render(colour: tuple[int, int, int] = (250, 20, 20), side: int = 137) -> np.ndarray:
    """An R2N2-like RGBA render: an opaque L-shaped object of ``colour`` on transparency."""
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[40:100, 50:70] = (*colour, 255)
    rgba[80:100, 50:110] = (*colour, 255)
    return rgba


def _inner(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels 2 px inside its edge in every direction (away from blurred rims)."""
    return mask & np.roll(mask, 2, 0) & np.roll(mask, -2, 0) & np.roll(mask, 2, 1) \
        & np.roll(mask, -2, 1)


def test_cut_out_keeps_only_the_object_box() -> None:
    piece = M.cut_out(render())
    assert piece.shape == (60, 60, 4) and piece[..., 3].min() == 0 and piece[0, 0, 3] == 255


def test_scene_mask_is_where_the_object_was_pasted() -> None:
    cut = 0
    for seed in range(24):
        rng = np.random.default_rng(seed)
        image, mask = M.scene(render(), rng)
        assert image.shape == (M.MASK_SIDE, M.MASK_SIDE, 3) and image.dtype == np.uint8
        assert mask.shape == (M.MASK_SIDE, M.MASK_SIDE) and mask.dtype == bool
        rows, cols = np.nonzero(mask)
        extent = max(np.ptp(rows), np.ptp(cols)) + 1
        low, high = (f * M.MASK_SIDE for f in M.OBJECT_EXTENT)
        assert extent <= high + 2
        at_edge = mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any()
        cut += at_edge
        if not at_edge:  # the whole object is in the picture: its drawn size
            assert extent >= low - 2
        else:  # cut by the frame, but never by more than the largest overhang
            assert extent >= (1 - 2 * M.MAX_OVERHANG) * low - 2
        # the masked pixels are the (light-jittered, blurred) red object, not the background
        red = image[..., 0].astype(int) - image[..., 1:].astype(int).mean(axis=2)
        inner = _inner(mask)
        assert np.median(red[inner]) > 80
    assert 0 < cut < 24  # some objects hang over the edge (tight framing), most do not


def test_scene_is_a_function_of_the_generator_and_clutter_stays_out_of_the_mask() -> None:
    clutter = lambda: render((20, 250, 20))  # noqa: E731
    a = M.scene(render(), np.random.default_rng(3), other=clutter)
    b = M.scene(render(), np.random.default_rng(3), other=clutter)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    green = 0
    for seed in range(40):
        image, mask = M.scene(render(), np.random.default_rng(seed), other=clutter)
        greenish = (image[..., 1].astype(int) - image[..., [0, 2]].max(axis=2) > 120)
        green += int(greenish.sum())
        assert (greenish & mask).sum() <= 0.02 * mask.sum()
    assert green > 0  # clutter was drawn at all


def test_masknet_shapes_and_its_file_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MaskNet((4, 8, 8)).eval()
    x = torch.rand(2, 3, 32, 32) * 255
    assert model(x).shape == (2, 1, 32, 32)
    path = tmp_path / "m.safetensors"
    save_masknet(model, path, {"steps": 1})
    loaded = load_masknet(path)
    assert loaded.widths == (4, 8, 8)
    assert torch.allclose(loaded(x), model(x), atol=2e-2)  # fp16 weights
    prob = object_probability(np.zeros((50, 70, 3), np.uint8), loaded)
    assert prob.shape == (50, 70) and prob.dtype == np.float32
    assert 0 <= prob.min() <= prob.max() <= 1


def test_bad_masknet_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothere.safetensors: mask network weights not found"):
        load_masknet(tmp_path / "nothere.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 40)
    with pytest.raises(DataError, match="bad.safetensors: cannot load mask network weights"):
        load_masknet(bad)


def test_scene_repaints_the_object_light_when_asked_and_draws_nothing_when_not() -> None:
    dark = render((70, 35, 20))  # luma about 45
    lumas = {0.0: [], 1.0: []}
    for seed in range(16):
        plain = M.scene(dark, np.random.default_rng(seed))
        same = M.scene(dark, np.random.default_rng(seed), repaint=0.0)
        assert np.array_equal(plain[0], same[0]) and np.array_equal(plain[1], same[1])
        for share in lumas:
            image, mask = M.scene(dark, np.random.default_rng(seed), repaint=share)
            inner = _inner(mask)
            lumas[share].append(float(np.median(image[inner].astype(np.float32) @ LUMA)))
    # repainted to a mean luma of 110-215, then light-jittered by up to 30 %
    assert max(lumas[0.0]) < 80 and min(lumas[1.0]) > 0.7 * 110 - 5


def _training_scenes():
    """scripts/train_masknet.py's Scenes class (the script is not a package module)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "train_masknet.py"
    spec = importlib.util.spec_from_file_location("train_masknet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Scenes


def test_training_scenes_draw_each_batch_at_one_of_the_sides(tmp_path: Path) -> None:
    from parvox.data.builder import build_dataset, procedural_jobs

    build_dataset(tmp_path, procedural_jobs(10, ["chair"]), seed=1, show_progress=False)
    scenes = _training_scenes()
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        images, masks = scenes(tmp_path, "train", 2, 0, sides=(32, 48, 64)).draw(rng)
        side = images.shape[-1]
        assert images.shape == (2, 3, side, side) and masks.shape == (2, side, side)
        seen.add(side)
    assert seen == {32, 48, 64}
    # one side draws nothing for it: the scenes drawn straight from the same generator
    single = scenes(tmp_path, "train", 2, 0, sides=(48,))
    images, masks = single.draw(np.random.default_rng(5))
    rng = np.random.default_rng(5)
    for image, mask in zip(images, masks, strict=True):
        picture, truth = M.scene(single.render(rng), rng, 48, other=lambda: single.render(rng))
        assert np.array_equal(image.permute(1, 2, 0).numpy(), picture)
        assert np.array_equal(mask.numpy(), truth)


def test_train_masknet_script_writes_weights_that_load(tmp_path: Path) -> None:
    """scripts/train_masknet.py end to end on a 10-model build: it trains, reports and writes
    a mask network that load_masknet reads."""
    import subprocess
    import sys

    from parvox.data.builder import build_dataset, procedural_jobs

    data = tmp_path / "data"
    build_dataset(data, procedural_jobs(10, ["chair"]), seed=1, show_progress=False)
    out = tmp_path / "m.safetensors"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "scripts" / "train_masknet.py"),
                           "--data", str(data), "--out", str(out), "--steps", "2",
                           "--batch", "2", "--val", "4", "--repaint", "0.5"],
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mask IoU" in done.stdout and "repainted light (4)" in done.stdout
    assert load_masknet(out).widths == (16, 32, 64, 96, 128)
    assert 0.0 <= masknet_info(out)["val_iou_light"] <= 1.0

    # --eval-only reports the weights on both validation sets and writes nothing
    script = [sys.executable, str(root / "scripts" / "train_masknet.py"), "--data", str(data),
              "--val", "4"]
    done = subprocess.run([*script, "--eval-only", "--init", str(out)], capture_output=True,
                          text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1].split("|")
    assert [c.strip() for c in last[1:3]] == ["2", "4"]  # its own steps and scenes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "m.safetensors"]
    for flags, message in ((["--eval-only"], "--eval-only needs --init"),
                           ([], "--out is required"),
                           (["--out", str(tmp_path / "x"), "--repaint", "2"], "--repaint must"),
                           (["--out", str(tmp_path / "x"), "--sides", "160,100"],
                            "--sides must be multiples of 16"),
                           (["--out", str(tmp_path / "x"), "--sides", "big"],
                            "--sides must be multiples of 16")):
        bad = subprocess.run([*script, *flags], capture_output=True, text=True, timeout=300,
                             cwd=root)
        assert bad.returncode != 0 and message in bad.stderr and "Traceback" not in bad.stderr

    # --init continues those weights: the totals add up and both commands are kept; --sides
    # trains and validates at each side and is recorded
    more = tmp_path / "m2.safetensors"
    script = [sys.executable, str(root / "scripts" / "train_masknet.py"), "--data", str(data),
              "--out", str(more), "--steps", "3", "--batch", "2", "--val", "4"]
    done = subprocess.run([*script, "--init", str(out), "--sides", "48,64"], capture_output=True,
                          text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| at 64 (4) |" in done.stdout and "at 48" not in done.stdout
    info = masknet_info(more)
    assert (info["steps"], info["scenes"], info["sides"]) == (5, 10, [48, 64])
    first, second = info["command"].splitlines()
    assert "--init" not in first and f"--init {out}" in second
    missing = subprocess.run([*script, "--init", str(tmp_path / "none.safetensors")],
                             capture_output=True, text=True, timeout=300, cwd=root)
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "none.safetensors: mask network weights not found" in missing.stderr


class _Recorder(torch.nn.Module):
    """A stand-in network that sees red (logit +4 on red, -4 elsewhere) and records the batch
    shapes it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, ...]] = []

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(rgb.shape))
        return rgb[:, :1] * (8 / 255) - 4


def test_object_probability_runs_the_network_at_the_side_asked_and_mirrors_back() -> None:
    photo = np.zeros((60, 90, 3), np.uint8)
    photo[:, :30, 0] = 255  # a red left third: the object
    net = _Recorder()
    plain = object_probability(photo, net, side=192, flip=False)
    assert net.seen == [(1, 3, 192, 192)] and plain.shape == (60, 90)
    assert plain[:, :25].min() > 0.95 and plain[:, 35:].max() < 0.05
    mirrored = object_probability(photo, net, side=160, flip=True)
    assert net.seen[-1] == (2, 3, 160, 160)  # both passes in one batch
    # The mirrored pass's probability is mirrored back before the mean: had it not been, the
    # right third would read 0.5 and the left third 0.5.
    assert mirrored[:, :25].min() > 0.95 and mirrored[:, 35:].max() < 0.05
    np.testing.assert_allclose(mirrored, object_probability(photo, net, side=160), atol=1e-3)
    for bad in (0, 100, -16):
        with pytest.raises(ValueError, match="multiple of 16"):
            object_probability(photo, net, side=bad)


def test_fitted_side_magnifies_small_objects_and_leaves_large_ones() -> None:
    from parvox.masknet import FITTED_SIDES, fitted_side

    prob = np.zeros((200, 300), np.float32)
    prob[50:90, 100:140] = 0.9  # 40 of 200 rows: extent 0.2 (rows 0.2, columns 0.13)
    assert fitted_side(prob, 160, 0.7) == FITTED_SIDES[1]  # 560 wanted, clipped to 224
    prob[:] = 0
    prob[20:180, 50:250] = 0.9  # extent 0.8 (rows) and 0.67 (columns): the larger counts
    assert fitted_side(prob, 160, 0.7) == 144  # 160 * 0.7 / 0.8 = 140, to 16s
    prob[:] = 0
    prob[:, :] = 0.9
    assert fitted_side(prob, 160, 0.7) == FITTED_SIDES[0]  # 112 wanted, clipped to 128
    assert fitted_side(np.zeros((50, 50), np.float32), 160, 0.7) == 160  # nothing found


def test_object_probability_with_a_fill_runs_again_at_the_fitted_side() -> None:
    photo = np.zeros((120, 120, 3), np.uint8)
    photo[50:70, 50:70, 0] = 255  # a small red square: extent 1/6
    net = _Recorder()
    prob = object_probability(photo, net, side=160, fill=0.7)
    assert [shape[-1] for shape in net.seen] == [160, 224]
    assert prob[55:65, 55:65].min() > 0.95 and prob[:40].max() < 0.05
    net.seen.clear()
    object_probability(np.full((120, 120, 3), (255, 0, 0), np.uint8), net, side=160, fill=0.7)
    assert [shape[-1] for shape in net.seen] == [160, 128]


def test_parse_sides_reads_multiples_of_16_and_refuses_the_rest() -> None:
    assert M.parse_sides("160,192,224") == (160, 192, 224)
    assert M.parse_sides("48") == (48,)
    for bad in ("160,100", "0", "-16", "big", "", "160,"):
        with pytest.raises(ValueError):
            M.parse_sides(bad)
