"""Tests of the photo augmentation (parvox.data.augment) and its use by R2N2Dataset."""

from __future__ import annotations

import numpy as np
import pytest
from paths import SAMPLES  # noqa: E402

from parvox.data import augment as A
from parvox.data.augment import Augment
from parvox.data.dataset import R2N2Dataset

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared R2N2 samples absent")


def square_rgba(size: int = 137, half: int = 20) -> np.ndarray:
    """A uint8 RGBA frame with an opaque mid-grey square of side 2*half at its centre."""
    rgba = np.zeros((size, size, 4), np.uint8)
    c = size // 2
    rgba[c - half:c + half, c - half:c + half] = (100, 150, 200, 255)
    return rgba


def bbox(alpha: np.ndarray) -> tuple[float, float, float]:
    """(centre row, centre col, side) of the pixels with alpha > 127."""
    rows, cols = np.nonzero(alpha > 127)
    return ((rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2,
            float(rows.max() - rows.min() + 1))


def test_augment_rejects_out_of_range_strengths() -> None:
    with pytest.raises(ValueError, match="backgrounds"):
        Augment(backgrounds=1.5)
    assert not Augment().active and Augment(frame=0.1).active


def test_frame_jitter_scales_and_moves_by_the_drawn_amounts() -> None:
    rgba = square_rgba()
    amount = 0.3
    for seed in range(5):
        draws = np.random.default_rng(seed)
        scale = 1.0 + draws.uniform(-amount, amount)
        dx, dy = draws.uniform(-amount / 2, amount / 2, 2) * 137
        row, col, side = bbox(A.jitter_frame(rgba, np.random.default_rng(seed), amount)[..., 3])
        row0, col0, side0 = bbox(rgba[..., 3])
        assert side == pytest.approx(side0 * scale, abs=2.0)
        # the object's centre sits at the frame centre, so it moves by exactly the shift
        assert (row - row0, col - col0) == pytest.approx((dy, dx), abs=1.5)


def test_frame_jitter_keeps_colours_without_dark_fringes() -> None:
    moved = A.jitter_frame(square_rgba(), np.random.default_rng(3), 0.2)
    seen = moved[moved[..., 3] > 30][:, :3].astype(int)
    # premultiplied resampling: partly transparent edge pixels keep the object's colour
    assert np.abs(seen - (100, 150, 200)).max() <= 8  # 8-bit rounding; a straight
    # (not premultiplied) resample would pull edge pixels halfway to black


def test_light_jitter_is_identity_at_zero_and_ignores_transparent_pixels() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 255, (32, 32, 3)).astype(np.float32)
    alpha = np.zeros((32, 32, 1), np.float32)
    alpha[8:24, 8:24] = 1.0
    assert np.allclose(A.jitter_light(rgb, alpha, np.random.default_rng(1), 0.0), rgb, atol=1e-3)
    other = rgb.copy()
    other[alpha[..., 0] == 0] = 0.0  # only the background changes
    a = A.jitter_light(rgb, alpha, np.random.default_rng(2), 0.5)
    b = A.jitter_light(other, alpha, np.random.default_rng(2), 0.5)
    inside = alpha[..., 0] == 1
    assert np.allclose(a[inside], b[inside], atol=1e-3)
    assert not np.allclose(a[inside], rgb[inside], atol=1.0)


@pytest.mark.parametrize("kind", list(A.BACKGROUND_KINDS))
def test_backgrounds_are_varied_images_in_range(kind: str) -> None:
    rng = np.random.default_rng(7)
    other = lambda: np.random.default_rng(1).uniform(0, 255, (137, 137, 3))  # noqa: E731
    images = [A.background(kind, (96, 80), rng, other) for _ in range(6)]
    for image in images:
        assert image.shape == (96, 80, 3) and image.dtype == np.float32
        assert image.min() >= 0 and image.max() <= 255
    # not plain colours, and not the same image twice
    assert max(float(image.std(axis=(0, 1)).max()) for image in images) > 5
    assert not np.allclose(images[0], images[1])


def test_unknown_background_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown background"):
        A.background("sky", (8, 8), np.random.default_rng(0))


@needs_samples
def test_dataset_backgrounds_replace_the_plain_colour_only_outside_the_object() -> None:
    plain = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=3)
    varied = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=3,
                         augment=Augment(backgrounds=1.0))
    a, b = plain[(2, 5)]["images"].numpy(), varied[(2, 5)]["images"].numpy()
    assert np.array_equal(plain[(2, 5)]["view_ids"], varied[(2, 5)]["view_ids"])
    corner = (slice(None), slice(None), slice(0, 6), slice(0, 6))
    # R2N2's plain background: one colour per view in the corners; varied ones change
    assert a[corner].std(axis=(2, 3)).max() < 1e-6
    assert not np.allclose(a[corner], b[corner])
    # opaque object pixels are untouched: only the background was replaced
    same = np.all(np.abs(a - b) < 1e-6, axis=1).mean()
    assert 0.03 < same < 0.9


@needs_samples
def test_augmented_samples_are_a_function_of_the_key_and_evaluation_ignores_them() -> None:
    aug = Augment(backgrounds=0.7, light=0.4, frame=0.2)
    one = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=4,
                      augment=aug)
    two = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=4,
                      augment=aug)
    assert np.array_equal(one[(1, 9)]["images"], two[(1, 9)]["images"])
    assert not np.array_equal(one[(1, 9)]["images"], one[(1, 10)]["images"])
    test_plain = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=False, views=2)
    test_aug = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=False, views=2,
                           augment=aug)
    assert np.array_equal(test_plain[3]["images"], test_aug[3]["images"])


@needs_samples
def test_protocol_view_is_the_datasets_test_view() -> None:
    from parvox.data.dataset import load_rgba, protocol_view

    test = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=False, views=2,
                       image_size=64)
    ref = test.models[3]
    view = protocol_view(load_rgba(test.layout.image_path(ref, 1)), 64)
    assert np.array_equal(view.numpy(), test[3]["images"][1].numpy())


def test_reframe_puts_any_object_at_r2n2s_median_size_and_position() -> None:
    from parvox.data.framing import FRAME_CENTRE, FRAME_EXTENT, reframe_render

    for half, shift in ((10, (-30, 25)), (50, (8, -6))):
        rgba = np.roll(square_rgba(half=half), shift, axis=(0, 1))
        row, col, side = bbox(reframe_render(rgba)[..., 3])
        assert side / 137 == pytest.approx(FRAME_EXTENT, abs=1.5 / 137)
        assert ((row + 0.5) / 137, (col + 0.5) / 137) == pytest.approx(FRAME_CENTRE, abs=1 / 137)
    empty = np.zeros((137, 137, 4), np.uint8)
    assert reframe_render(empty) is empty


def _object_sides(images: np.ndarray) -> np.ndarray:
    """Bounding-box long side of what differs from the corner colour, per view (V, 3, S, S)."""
    sides = []
    for image in images:
        away = np.abs(image - image[:, :1, :1]).max(axis=0) > 0.02
        rows, cols = np.nonzero(away)
        sides.append(max(rows.max() - rows.min(), cols.max() - cols.min()) + 1)
    return np.array(sides)


@needs_samples
def test_dataset_reframes_the_drawn_share_of_views() -> None:
    from parvox.data.framing import FRAME_EXTENT

    always = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=5,
                         flip=False, augment=Augment(reframe=1.0))
    never = R2N2Dataset(SAMPLES, "test", allow_missing_splits=True, train=True, views=5,
                        flip=False)
    size = always.image_size
    expected = FRAME_EXTENT * 137 * size / 127  # the 127 crop resized to the input size
    framed = np.concatenate([_object_sides(always[(i, 0)]["images"].numpy()) for i in range(7)])
    plain = np.concatenate([_object_sides(never[(i, 0)]["images"].numpy()) for i in range(7)])
    assert np.abs(framed - expected).max() <= 3
    assert np.abs(plain - expected).max() > 10  # the renders' own sizes vary


def test_repaint_lights_the_object_keeping_its_shading() -> None:
    rgb = np.zeros((32, 32, 3), np.float32)
    rgb[8:24, 8:24] = np.linspace(10, 60, 16, dtype=np.float32)[:, None, None] * (1.0, 0.6, 0.3)
    alpha = np.zeros((32, 32, 1), np.float32)
    alpha[8:24, 8:24] = 1.0
    lumas = []
    for seed in range(40):
        out = A.repaint_light(rgb, alpha, np.random.default_rng(seed))
        inside = out[8:24, 8:24]
        luma = inside @ A.LUMA
        lumas.append(float(luma.mean()))
        # one albedo factor: the shading's ratios are kept where no channel clipped at 255
        ratio = luma[:, 0] / (rgb[8:24, 8, :] @ A.LUMA)
        unclipped = inside[:, 0].max(axis=-1) < 254.5
        assert unclipped.sum() >= 4
        assert np.allclose(ratio[unclipped], ratio[unclipped][0], rtol=1e-4)
        assert np.all(np.diff(luma[:, 0]) >= 0)  # brighter stays brighter
    low, high = A.REPAINT_LUMA
    assert low - 1e-3 <= min(lumas) and max(lumas) <= high + 1e-3
    assert max(lumas) - min(lumas) > 0.5 * (high - low)  # drawn across the range
    # a dark object comes out light: the mean luma of the source is about 25
    assert min(lumas) > 4 * float((rgb[8:24, 8:24] @ A.LUMA).mean())
    # the saturation kept varies from none (grey) to all (the source's hue)
    spreads = [float(np.ptp(A.repaint_light(rgb, alpha, np.random.default_rng(s))[16, 16]))
               for s in range(40)]
    assert min(spreads) < 0.1 * max(spreads)


def test_luma_gain_weights_pixels_by_their_share_of_the_object() -> None:
    value = np.array([[10.0, 30.0], [200.0, 0.0]], np.float32)
    weight = np.array([[1.0, 0.5], [0.0, 0.0]], np.float32)  # mean (10 + 15) / 1.5
    assert A.luma_gain(value, weight, 100.0) == np.float32(100.0 / (25.0 / 1.5))
    assert A.luma_gain(value, (value > 20).astype(np.float32), 115.0) == np.float32(1.0)
    assert A.luma_gain(value, np.zeros_like(weight), 150.0) == 1.0  # no object: untouched
    assert A.luma_gain(np.zeros_like(value), weight, 150.0) == 150.0  # black counts as luma 1


@needs_samples
def test_dataset_repaints_the_drawn_share_of_views_and_nothing_when_off() -> None:
    def mean_object_luma(ds: R2N2Dataset, key: tuple[int, int]) -> np.ndarray:
        item = ds[key]
        images = item["images"].numpy() * 255.0  # (V, 3, S, S) on R2N2's plain background
        lumas = []
        for image in images:
            away = np.abs(image - image[:, :1, :1]).max(axis=0) > 8  # the object's pixels
            lumas.append(float((np.moveaxis(image, 0, -1) @ A.LUMA)[away].mean()))
        return np.array(lumas)

    kwargs = dict(allow_missing_splits=True, train=True, views=5, flip=False)
    always = R2N2Dataset(SAMPLES, "test", augment=Augment(repaint=1.0), **kwargs)
    never = R2N2Dataset(SAMPLES, "test", augment=Augment(repaint=0.0, light=0.2), **kwargs)
    light = R2N2Dataset(SAMPLES, "test", augment=Augment(light=0.2), **kwargs)
    low, high = A.REPAINT_LUMA
    # every sample, the red car and the dark rifle too, comes out in a light material
    for i in range(7):
        lumas = mean_object_luma(always, (i, 0))
        assert np.all(lumas > low - 25) and np.all(lumas < high + 25)
        # off, the draw is not even made: the samples are those of the same config without it
        assert np.array_equal(never[(i, 0)]["images"], light[(i, 0)]["images"])
