"""Tests of the binvox v1 reader/writer against hand-built files and the real R2N2 samples."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from paths import SAMPLES  # noqa: E402

from parvox.data.binvox import (
    BinvoxError,
    Voxels,
    encode_binvox,
    parse_binvox,
    read_binvox,
    write_binvox,
)
from parvox.errors import DataError

#: Occupied voxel counts of the shared samples (from their README).
SAMPLE_COUNTS = {
    "02691156/sample_airplane": 771,
    "02828884/sample_bench": 1263,
    "02958343/sample_car": 2294,
    "03001627/sample_chair": 1755,
    "03636649/sample_lamp": 320,
    "04090263/sample_rifle": 382,
    "04530566/sample_watercraft": 1303,
}
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared R2N2 samples absent")

HEADER4 = b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\nscale 1\ndata\n"


def sample_path(key: str) -> Path:
    return SAMPLES / "ShapeNetVox32" / key / "model.binvox"


def split_file(data: bytes) -> tuple[bytes, bytes]:
    """Split a binvox file into header (through 'data\\n') and body."""
    end = data.index(b"\ndata\n") + len(b"\ndata\n")
    return data[:end], data[end:]


def expand_runs(body: bytes) -> list[int]:
    """Reference RLE expansion, pair by pair in plain Python (independent of the module)."""
    out: list[int] = []
    for value, count in zip(body[0::2], body[1::2], strict=True):
        out.extend([value] * count)
    return out


# --------------------------------------------------------------------------- real samples


@needs_samples
@pytest.mark.parametrize("key", sorted(SAMPLE_COUNTS))
def test_sample_occupied_counts(key: str) -> None:
    vox = read_binvox(sample_path(key))
    assert vox.occupancy.dtype == np.bool_
    assert vox.occupancy.shape == (32, 32, 32)
    assert vox.dim == 32
    assert int(vox.occupancy.sum()) == SAMPLE_COUNTS[key]


@needs_samples
@pytest.mark.parametrize("key", sorted(SAMPLE_COUNTS))
def test_sample_rewrite_round_trips(key: str, tmp_path: Path) -> None:
    original = read_binvox(sample_path(key))
    out = tmp_path / "model.binvox"
    write_binvox(out, original)
    again = read_binvox(out)
    np.testing.assert_array_equal(again.occupancy, original.occupancy)
    assert again.translate == original.translate
    assert again.scale == original.scale
    # Our float formatting matches the R2N2 files' own, so even the bytes agree.
    assert out.read_bytes() == sample_path(key).read_bytes()


@needs_samples
def test_sample_header_values() -> None:
    vox = read_binvox(sample_path("03636649/sample_lamp"))
    assert vox.translate == (-0.134392, -0.462469, -0.134392)
    assert vox.scale == 0.924938


@needs_samples
def test_read_is_fast() -> None:
    data = sample_path("02958343/sample_car").read_bytes()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(100):
            parse_binvox(data, "car")
        best = min(best, (time.perf_counter() - start) / 100)
    assert best < 1e-3


# --------------------------------------------------------------------------- axis order


def test_reader_axis_order_from_hand_built_bytes() -> None:
    # One occupied voxel at linear index 1*16 + 3*4 + 2 = 30, i.e. x=1, z=3, y=2.
    body = bytes([0, 30, 1, 1, 0, 33])
    vox = parse_binvox(HEADER4 + body, "hand")
    assert vox.occupancy.shape == (4, 4, 4)
    assert np.argwhere(vox.occupancy).tolist() == [[1, 2, 3]]


def test_writer_axis_order() -> None:
    occ = np.zeros((4, 4, 4), dtype=bool)
    occ[1, 2, 3] = True  # x=1, y=2, z=3
    header, body = split_file(encode_binvox(Voxels(occ, (0.0, 0.0, 0.0), 1.0)))
    assert header == HEADER4
    stream = expand_runs(body)
    assert len(stream) == 64
    assert stream.index(1) == 1 * 16 + 3 * 4 + 2
    assert sum(stream) == 1


def test_asymmetric_grid_round_trip() -> None:
    rng = np.random.default_rng(1)
    occ = rng.random((8, 8, 8)) < 0.3
    vox = parse_binvox(encode_binvox(Voxels(occ, (0.0, 0.0, 0.0), 1.0)), "rand")
    np.testing.assert_array_equal(vox.occupancy, occ)
    assert vox.occupancy.flags.c_contiguous


# --------------------------------------------------------------------------- writer


def test_byte_exact_round_trip() -> None:
    rng = np.random.default_rng(0)
    occ = rng.random((16, 16, 16)) < 0.4
    vox = Voxels(occ, (0.1, -0.25, 1.0 / 3.0), 0.7)
    data = encode_binvox(vox)
    again = parse_binvox(data, "mem")
    assert again.translate == vox.translate  # shortest repr round-trips floats exactly
    assert again.scale == 0.7
    assert encode_binvox(again) == data


def test_integral_floats_written_without_point_zero() -> None:
    header, _ = split_file(encode_binvox(Voxels(np.zeros((2, 2, 2), bool), (0.0, -1.0, 2.5), 1.0)))
    assert header == b"#binvox 1\ndim 2 2 2\ntranslate 0 -1 2.5\nscale 1\ndata\n"


def test_full_grid_splits_runs_at_255() -> None:
    occ = np.ones((32, 32, 32), dtype=bool)
    _, body = split_file(encode_binvox(Voxels(occ)))
    # 32768 = 128 * 255 + 128
    assert body == bytes([1, 255]) * 128 + bytes([1, 128])
    assert parse_binvox(encode_binvox(Voxels(occ)), "full").occupancy.all()


def test_long_runs_of_both_values() -> None:
    flat = np.zeros(32**3, dtype=bool)
    flat[300:1000] = True  # a 300-run of zeros, a 700-run of ones, then a long run of zeros
    occ = flat.reshape(32, 32, 32).transpose(0, 2, 1)  # linear x*D*D + z*D + y -> [x, y, z]
    _, body = split_file(encode_binvox(Voxels(occ)))
    counts = list(body[1::2])
    assert all(1 <= c <= 255 for c in counts)
    assert list(body[0:8]) == [0, 255, 0, 45, 1, 255, 1, 255]
    assert expand_runs(body) == flat.astype(int).tolist()


def test_write_to_missing_folder_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="out.binvox"):
        write_binvox(tmp_path / "nope" / "out.binvox", Voxels(np.zeros((2, 2, 2), bool)))


def test_header_comments_accepted() -> None:
    data = (
        b"#binvox 1\n# made by hand\ndim 4 4 4\n#another\ntranslate 1 2 3\nscale 0.5\ndata\n"
        + bytes([0, 64])
    )
    vox = parse_binvox(data, "comments")
    assert vox.translate == (1.0, 2.0, 3.0)
    assert vox.scale == 0.5
    assert not vox.occupancy.any()


# --------------------------------------------------------------------------- errors

BAD_FILES = {
    "underrun": (HEADER4 + bytes([0, 60]), "truncated"),
    "overrun": (HEADER4 + bytes([0, 60, 1, 5]), "too long"),
    "odd_body": (HEADER4 + bytes([0, 64, 1]), "truncated"),
    "zero_count": (HEADER4 + bytes([0, 0, 0, 64]), "zero run"),
    "bad_value": (HEADER4 + bytes([2, 64]), "value 2"),
    "bad_magic": (b"#binvox 2\ndim 4 4 4\ntranslate 0 0 0\nscale 1\ndata\n" + bytes([0, 64]), "v1"),
    "no_dim": (b"#binvox 1\ntranslate 0 0 0\nscale 1\ndata\n" + bytes([0, 64]), "dim"),
    "no_scale": (b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\ndata\n" + bytes([0, 64]), "scale"),
    "non_cubic": (b"#binvox 1\ndim 4 4 2\ntranslate 0 0 0\nscale 1\ndata\n", "cubic"),
    "garbled_dim": (b"#binvox 1\ndim four 4 4\ntranslate 0 0 0\nscale 1\ndata\n", "dim"),
    "garbled_translate": (b"#binvox 1\ndim 4 4 4\ntranslate 0 x 0\nscale 1\ndata\n", "translate"),
    "short_translate": (b"#binvox 1\ndim 4 4 4\ntranslate 0 0\nscale 1\ndata\n", "translate"),
    "nan_scale": (b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\nscale nan\ndata\n", "scale"),
    "unknown_line": (b"#binvox 1\ndim 4 4 4\nfoo 1\ntranslate 0 0 0\nscale 1\ndata\n", "foo"),
    "no_data_line": (b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\nscale 1\n", "data"),
    "empty": (b"", "data"),
    "binary_junk": (bytes(range(256)), "binvox"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_malformed_file_is_data_error_naming_it(case: str, tmp_path: Path) -> None:
    data, problem = BAD_FILES[case]
    path = tmp_path / f"{case}.binvox"
    path.write_bytes(data)
    with pytest.raises(BinvoxError) as info:
        read_binvox(path)
    assert isinstance(info.value, DataError)
    message = str(info.value)
    assert f"{case}.binvox" in message
    assert problem in message
    assert "\n" not in message


def test_missing_file_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.binvox: binvox file not found"):
        read_binvox(tmp_path / "missing.binvox")


def test_directory_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_binvox(tmp_path)
