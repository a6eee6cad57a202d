"""Reconstruction from photos of any mode and size, on the shared real photos."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from orientation import exif_orientation, stored_sideways
from paths import PHOTOS
from PIL import Image

from parvox.data import images
from parvox.data.binvox import read_binvox
from parvox.errors import DataError
from parvox.reconstruct import load_photo, probability_mesh, reconstruct

#: Channels of each PNG colour type.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_photos_upright(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               orientation: int) -> None:
    # a smooth, asymmetric, non-square picture: any wrong turn or flip moves its pixels
    rows, cols = np.mgrid[0:24, 0:40]
    upright = np.dstack([rows * 10, cols * 6, 255 - rows * 4 - cols * 3]).astype(np.uint8)
    stored = stored_sideways(upright, orientation)
    for name in ("photo.png", "photo.jpg", "photo.webp", "photo.avif", "photo.heic"):
        path = tmp_path / name
        # AVIF keeps the tag; HEIC: pillow-heif stores it as the file's own rotation and mirroring
        exif = exif_orientation(orientation).tobytes()
        Image.fromarray(stored).save(path, exif=exif, quality=100)
        got = np.asarray(images.read_photo(path, 240)).astype(int)
        assert got.shape == upright.shape, name
        assert np.abs(got - upright).mean() < (0.01 if name == "photo.png" else 3.0), name
        assert images.photo_size(path) == (40, 24), name
    # a PNG large enough to be decoded in strips reads its eXIf chunk from the header too
    monkeypatch.setattr(images, "MAX_DECODE_PIXELS", 24 * 40 // 4)
    got = np.asarray(images.read_photo(tmp_path / "photo.png", 240)).astype(int)
    assert got.shape == (12, 20, 3)
    box = upright.reshape(12, 2, 20, 2, 3).mean(axis=(1, 3))
    assert np.abs(got - box).max() <= 1


def test_a_truncated_heic_is_one_line_naming_it(tmp_path: Path) -> None:
    # libheif's messages end in a line break; the error stays one line (found by the fuzzer)
    buffer = io.BytesIO()
    Image.new("RGB", (24, 20), (30, 90, 200)).save(buffer, format="HEIF", quality=50)
    path = tmp_path / "IMG_0002.HEIC"
    path.write_bytes(buffer.getvalue()[:-10])
    with pytest.raises(DataError) as error:
        images.read_photo(path, 240)
    message = str(error.value)
    assert message.startswith(f"{path}: cannot read image (") and "iloc" in message
    assert "\n" not in message and message == message.strip()


def test_corrupt_avif_pixels_are_a_data_error(tmp_path: Path) -> None:
    # the AVIF decoder raises RuntimeError on corrupt pixel data (found by the fuzzer)
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 24, 3), np.uint8)).save(
        buffer, format="AVIF")
    data, path = buffer.getvalue(), tmp_path / "photo.avif"
    for at in range(len(data) - 1, len(data) // 3, -1):  # the pixel data is at the end
        corrupt = bytearray(data)
        corrupt[at] ^= 0x10
        try:
            with Image.open(io.BytesIO(bytes(corrupt))) as image:
                image.load()
        except RuntimeError:
            break
        except Exception:  # another failure: try the next byte
            continue
    else:
        pytest.skip("no single-bit corruption makes this AVIF decoder raise RuntimeError")
    path.write_bytes(bytes(corrupt))
    with pytest.raises(DataError, match=r"photo.avif: cannot read image \(Failed to decode"):
        images.read_photo(path, 240)


def test_unreadable_exif_counts_as_upright(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (30, 20), (10, 200, 30)).save(path, exif=exif_orientation(99))
    assert images.read_photo(path, 240).size == (30, 20)
    assert images.photo_size(path) == (30, 20)


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


def test_a_photo_whose_alpha_clears_everything_has_no_object(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (40, 40), (255, 0, 0, 0)).save(path)
    with pytest.raises(DataError, match="clear.png.*no object"):
        load_photo(path, 16)


def test_whole_photo_is_framed_like_a_render(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (120, 40), (255, 255, 255)).save(path)
    view = load_photo(path, 64)  # 0.64 of the 137 frame wide, on the 240 grey
    grey = 240 / 255
    assert torch.allclose(view[:, 2, :], torch.full((3, 64), grey), atol=1e-3)
    assert view[:, 33, 32].min() > 0.99  # the photo sits a little below the middle
    row = view[0, 33]
    width = int((row > (1 + grey) / 2).sum())  # 0.64 * 137 / 127 * 64 = 44 pixels
    assert abs(width - 44) <= 1


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
    lo, hi = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
    np.testing.assert_allclose(lo, [-0.25, -0.375, -0.125], atol=1 / 32)
    np.testing.assert_allclose(hi, [0.25, 0.375, 0.125], atol=1 / 32)
    a, b, c = mesh.triangles.transpose(1, 0, 2)
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6  # signed: > 0 faces outward
    assert volume == pytest.approx(0.5 * 0.75 * 0.25, rel=0.1)


def test_reconstruct_real_photos(tmp_path: Path, checkpoint: Path) -> None:
    photos = sorted(str(p) for p in PHOTOS.glob("*.png"))
    if not photos:
        pytest.skip("shared photos absent")
    out = tmp_path / "rec"
    paths = reconstruct(photos, checkpoint, out)
    assert sorted(p.name for p in out.iterdir()) == ["mesh.glb", "mesh.obj", "mesh.ply",
                                                      "preview.png", "voxels.binvox"]
    assert read_binvox(paths["voxels"]).occupancy.shape == (32, 32, 32)
    preview = Image.open(paths["preview"])
    assert preview.size == (137 * (2 * len(photos) + 2), 137)
    import trimesh

    glb = trimesh.load(paths["glb"], file_type="glb", force="mesh")
    obj = trimesh.load(paths["obj"], file_type="obj", force="mesh", process=False)
    assert Path(paths["glb"]).read_bytes()[:4] == b"glTF"
    assert len(glb.faces) == len(obj.faces) and np.allclose(glb.bounds, obj.bounds, atol=1e-5)


# ------------------------------------------------------------------------------ huge photos


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _write_png(path: Path, width: int, height: int, depth: int, colour: int, idat: bytes,
               extra: bytes = b"", interlace: int = 0) -> None:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    pieces = [idat[i:i + 8192] for i in range(0, len(idat), 8192)] or [b""]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra
                     + b"".join(_chunk(b"IDAT", p) for p in pieces) + _chunk(b"IEND", b""))


def write_huge_png(path: Path, side: int) -> None:
    """A side x side RGB PNG: a dark centred square on a light background, written without
    ever holding the image: each distinct row is deflated once, ending with a full flush (so it
    stands alone), and repeated."""
    light = np.full((side, 3), 200, np.uint8)
    dark = light.copy()
    lo, hi = side // 4, 3 * side // 4
    dark[lo:hi] = 30
    rows = {"light": b"\0" + light.tobytes(), "dark": b"\0" + dark.tobytes()}
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    segments = {k: deflate.compress(r) + deflate.flush(zlib.Z_FULL_FLUSH) for k, r in rows.items()}
    order = ["light"] * lo + ["dark"] * (hi - lo) + ["light"] * (side - hi)
    adler = 1
    for kind in order:
        adler = zlib.adler32(rows[kind], adler)
    idat = (b"\x78\x01" + b"".join(segments[k] for k in order) + deflate.flush()
            + struct.pack(">I", adler))
    _write_png(path, side, side, 8, 2, idat)


def write_huge_jpeg(path: Path, side: int) -> None:
    """A side x side baseline RGB JPEG (side a multiple of 16) of the same picture, written
    without holding the image: two strips of one MCU row are encoded with a restart interval
    of one MCU row, so their entropy-coded data stand alone, and repeated with the restart
    markers renumbered."""
    def encode(dark: bool) -> tuple[bytes, bytes]:
        strip = Image.new("RGB", (side, 16), (200, 200, 200))
        if dark:
            strip.paste((30, 30, 30), (side // 4, 0, 3 * side // 4, 16))
        buffer = io.BytesIO()
        strip.save(buffer, "JPEG", quality=90, subsampling=2, restart_marker_rows=1)
        data = buffer.getvalue()
        sos = data.index(b"\xff\xda")
        start = sos + 2 + struct.unpack(">H", data[sos + 2:sos + 4])[0]
        if b"\xff\xdd" not in data[:start]:
            pytest.skip("this Pillow writes no JPEG restart markers")
        return data[:start], data[start:-2]

    header, light = encode(False)
    header_dark, dark = encode(True)
    assert header == header_dark
    head = bytearray(header)
    sof = head.index(b"\xff\xc0")
    head[sof + 5:sof + 7] = struct.pack(">H", side)
    rows = side // 16
    with open(path, "wb") as handle:
        handle.write(head)
        for row in range(rows):
            handle.write(dark if rows // 4 <= row < 3 * rows // 4 else light)
            if row < rows - 1:
                handle.write(bytes([0xFF, 0xD0 + row % 8]))
        handle.write(b"\xff\xd9")


#: Loads photos as ``reconstruct`` does and reports the peak memory (KiB) before and after,
#: and each view's centre and corner; a full decode of one of the photos would add 1.2 GB (as
#: RGB) or 1.6 GB (as PIL holds RGB, 4 bytes a pixel).
PEAK_SCRIPT = """
import json, resource, sys
from parvox.reconstruct import load_photo
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
views = [load_photo(path, 32) for path in sys.argv[1:]]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before": before, "after": after,
                  "centre": [v[:, 16, 16].max().item() for v in views],
                  "corner": [v[:, 1, 1].min().item() for v in views]}))
"""


def test_huge_photos_load_in_bounded_memory(tmp_path: Path) -> None:
    png, jpeg = tmp_path / "huge.png", tmp_path / "huge.jpg"
    write_huge_png(png, 20000)
    write_huge_jpeg(jpeg, 20000)
    assert png.stat().st_size < 5e6 and jpeg.stat().st_size < 20e6
    for photo in (png, jpeg):  # PIL alone refuses them as decompression bombs
        with pytest.raises(Image.DecompressionBombError):
            Image.open(photo)
    proc = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(png), str(jpeg)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    grown_mb = (report["after"] - report["before"]) / 1024
    assert grown_mb < 300, f"decoding took {grown_mb:.0f} MB"
    assert max(report["centre"]) < 0.15 and min(report["corner"]) > 0.75  # the picture survives


def test_reconstruct_from_a_huge_photo(tmp_path: Path, checkpoint: Path) -> None:
    jpeg = tmp_path / "huge.jpg"
    write_huge_jpeg(jpeg, 20000)
    paths = reconstruct([str(jpeg)], checkpoint, tmp_path / "rec")
    assert Image.open(paths["preview"]).size == (137 * 4, 137)


def _filtered_png_data(raw: np.ndarray, bpp: int, seed: int) -> bytes:
    """The IDAT payload of unfiltered rows ``raw`` (height, row bytes), each row filtered with
    one of the five PNG filters at random."""
    raw = raw.astype(np.int16)
    height, width = raw.shape
    up = np.vstack([np.zeros((1, width), np.int16), raw[:-1]])
    left = np.hstack([np.zeros((height, bpp), np.int16), raw[:, :-bpp]])
    up_left = np.hstack([np.zeros((height, bpp), np.int16), up[:, :-bpp]])
    guess = left + up - up_left
    near_left, near_up, near_ul = abs(guess - left), abs(guess - up), abs(guess - up_left)
    paeth = np.where((near_left <= near_up) & (near_left <= near_ul), left,
                     np.where(near_up <= near_ul, up, up_left))
    predictions = [np.zeros_like(raw), left, up, (left + up) // 2, paeth]
    kinds = np.random.default_rng(seed).integers(0, 5, height)
    out = np.empty((height, width + 1), np.uint8)
    out[:, 0] = kinds
    for kind, prediction in enumerate(predictions):
        rows = kinds == kind
        out[rows, 1:] = (raw[rows] - prediction[rows]) % 256
    return zlib.compress(out.tobytes())


@pytest.mark.parametrize(("depth", "colour"), [
    (1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (1, 3), (4, 3), (8, 3),
    (8, 4), (16, 4), (8, 6), (16, 6)])
def test_png_strips_decode_exactly_as_pil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          depth: int, colour: int) -> None:
    width, height = 123, 97
    rng = np.random.default_rng(depth * 10 + colour)
    row_bytes = (width * depth * PNG_CHANNELS[colour] + 7) // 8
    noise = rng.integers(0, 64, (height, row_bytes))
    raw = (noise + np.arange(row_bytes)[None] // 2 + np.arange(height)[:, None]).astype(np.uint8)
    extra = b""
    if colour == 3:  # a palette with transparent entries
        extra = (_chunk(b"PLTE", rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
                 + _chunk(b"tRNS", bytes(range(0, 256, 2))))
    elif colour == 2 and depth == 8:  # a transparent colour
        extra = _chunk(b"tRNS", struct.pack(">HHH", *raw[0, :3]))
    path = tmp_path / "photo.png"
    bpp = max(1, depth * PNG_CHANNELS[colour] // 8)
    _write_png(path, width, height, depth, colour, _filtered_png_data(raw, bpp, depth), extra)
    with Image.open(path) as full:
        full.load()
        whole = images.flatten(full, 240)
    monkeypatch.setattr(images, "STRIP_BYTES", 3000)  # strips of a few rows
    for divisor in (1, 2, 3):  # reduced by 2, 3 and 4
        monkeypatch.setattr(images, "MAX_DECODE_PIXELS", width * height // divisor**2 - 1)
        factor = images._factor(width * height)
        got = images.read_photo(path, 240)
        assert np.array_equal(np.asarray(got), np.asarray(whole.reduce(factor))), factor


def _tiff_header(width: int, height: int) -> bytes:
    """A grey uncompressed TIFF that claims ``width`` x ``height`` (its pixels are absent)."""
    tags = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 8), (277, 3, 1), (278, 4, height), (279, 4, width * height)]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", tag, kind, 1, value)
                                                 for tag, kind, value in tags)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)


def _progressive_jpeg_header(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 150)).save(buffer, "JPEG", progressive=True)
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc2")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_photos_too_large_to_decode_name_the_file_and_size(tmp_path: Path) -> None:
    cases = {
        "giga.png": ("50000x50000", lambda p: _write_png(p, 50000, 50000, 8, 2, b"")),
        "interlaced.png": ("20000x20000",
                           lambda p: _write_png(p, 20000, 20000, 8, 2, b"", interlace=1)),
        "huge.tif": ("400 Mpx", lambda p: p.write_bytes(_tiff_header(20000, 20000))),
        "big.tif": ("10000x10000", lambda p: p.write_bytes(_tiff_header(10000, 10000))),
        "progressive.jpg": ("20000x20000",
                            lambda p: p.write_bytes(_progressive_jpeg_header(20000, 20000))),
    }
    for name, (size, write) in cases.items():
        path = tmp_path / name
        write(path)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no DecompressionBombWarning either
            with pytest.raises(DataError) as error:
                load_photo(path, 32)
        message = str(error.value)
        assert message.startswith(str(path)) and size in message and "downscale" in message
        assert "\n" not in message


@pytest.mark.parametrize(("flags", "expected"), [([], True), (["--no-flip-average"], False)])
def test_reconstruct_flip_averages_unless_told(tmp_path: Path, checkpoint: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               flags: list[str], expected: bool) -> None:
    import parvox.reconstruct
    from parvox.cli import main
    from parvox.inference import predict_occupancy

    seen = []

    def spy(model: torch.nn.Module, images: torch.Tensor, *, flip_average: bool) -> torch.Tensor:
        seen.append(flip_average)
        return predict_occupancy(model, images, flip_average=flip_average)

    monkeypatch.setattr(parvox.reconstruct, "predict_occupancy", spy)
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (200, 60, 60)).save(photo)
    assert main(["reconstruct", str(photo), "--checkpoint", str(checkpoint), "--no-segment",
                 "--out", str(tmp_path / "out"), *flags]) == 0
    assert seen == [expected]
