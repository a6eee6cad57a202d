"""Fuzz targets: every reader that outside input reaches, each with a corpus of valid files.

A case is a valid file mutated by a few byte-level edits (flips, insertions of random or
"interesting" bytes such as huge numbers, deletions, truncation, duplicated runs). A reader
passes a case when it returns or raises :class:`~parvox.errors.ParvoxError` (one line naming
the file), within :data:`CASE_SECONDS`; any other exception, or a case over time, is a
finding. ``tests/test_fuzz.py`` runs a short campaign in ``make test``; ``bench/fuzz_readers.py``
runs thousands of cases in ``make bench``.
"""

from __future__ import annotations

import io
import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from parvox.errors import ParvoxError

#: Wall-clock bound of one case (a reader slower than this on a file of a few KB hangs).
CASE_SECONDS = 5.0
#: Byte strings that make parsers overflow, allocate or loop when pasted into a number.
INTERESTING = [b"0", b"-1", b"99999999", b"2147483648", b"1e308", b"nan", b"inf", b"-0",
               b"\x00", b"\xff\xff\xff\xff", b"\n", b"\r\n", b" ", b"[", b"{", b'"',
               b"\xef\xbb\xbf"]


@dataclass(frozen=True)
class Target:
    """One reader: the file suffix it expects, its valid files, and the call under test."""

    suffix: str
    seeds: Callable[[], list[bytes]]
    read: Callable[[Path], object]


def _png(mode: str, size: tuple[int, int] = (24, 20), **save: object) -> bytes:
    rng = np.random.default_rng(0)
    channels = {"RGBA": 4, "RGB": 3, "L": 1}[mode]
    array = rng.integers(0, 255, (size[1], size[0], channels), dtype=np.uint8)
    if mode == "RGBA":
        array[..., 3] = 0
        array[5:15, 6:18, 3] = 255  # an object in the middle
    image = Image.fromarray(array[..., 0] if mode == "L" else array, mode)
    buffer = io.BytesIO()
    image.save(buffer, **{"format": "PNG", **save})
    return buffer.getvalue()


def photo_seeds() -> list[bytes]:
    rgb = Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 24, 3), np.uint8))
    out = [_png("RGBA"), _png("RGB"), _png("L"), _png("RGBA", interlace=1)]
    from orientation import exif_orientation  # importing parvox.data.images registers HEIF

    turned = exif_orientation(6)  # the reader turns the photo upright

    for fmt, extra in (("JPEG", {"quality": 80}), ("JPEG", {"progressive": True}),
                       ("JPEG", {"exif": turned}), ("GIF", {}), ("TIFF", {}), ("BMP", {}),
                       ("WEBP", {}), ("AVIF", {"exif": turned}), ("HEIF", {"quality": 50})):
        buffer = io.BytesIO()
        rgb.save(buffer, format=fmt, **extra)
        out.append(buffer.getvalue())
    return out


def read_photo_case(path: Path) -> object:
    from parvox.photo import prepare_photo

    return prepare_photo(path, segment_photo=False).view(16)


def binvox_seeds() -> list[bytes]:
    from parvox.data.binvox import Voxels, encode_binvox

    grid = np.zeros((8, 8, 8), bool)
    grid[2:6, 1:7, 3:5] = True
    out = [encode_binvox(Voxels(grid, (-0.5, -0.5, -0.5), 1.0))]
    from paths import SAMPLES

    out += [p.read_bytes() for p in sorted(SAMPLES.glob("ShapeNetVox32/*/*/model.binvox"))[:1]]
    return out


def read_binvox_case(path: Path) -> object:
    from parvox.data.binvox import read_binvox

    return read_binvox(path)


def metadata_seeds() -> list[bytes]:
    rows = [f"{15 * i:.6f} {25 + i % 5:.6f} 0 {0.7 + 0.01 * i:.6f} 25" for i in range(24)]
    return ["\n".join(rows).encode(), ("\n".join(rows[:3]) + "\n").encode()]


def read_metadata_case(path: Path) -> object:
    from parvox.data.layout import read_rendering_metadata

    return read_rendering_metadata(path)


def splits_seeds() -> list[bytes]:
    entry = {"taxonomy_id": "03001627", "taxonomy_name": "chair", "train": ["a", "b"],
             "val": ["c"], "test": ["d"]}
    return [json.dumps([entry]).encode(), json.dumps([entry, {**entry, "taxonomy_id": "1"}],
                                                     indent=1).encode()]


def read_splits_case(path: Path) -> object:
    from parvox.data.layout import load_splits

    return load_splits(path)


def config_seeds() -> list[bytes]:
    table = {"config": "small", "data": "d", "out": "o", "steps": 10, "batch": 4,
             "views": [1, 5], "lr": 0.0003, "flip": True, "model_overrides": {"image_size": 64}}
    toml = ('config = "small"\ndata = "d"\nsteps = 10\nviews = [1, 5]\nlr = 3e-4\n'
            "flip = true\n[model_overrides]\nimage_size = 64\n")
    return [json.dumps(table).encode(), toml.encode()]


def _read_config(path: Path) -> object:
    from parvox.configfile import checked_fields, read_config_file
    from parvox.models.config import ModelConfig
    from parvox.train import TrainConfig

    values = checked_fields(read_config_file(path), TrainConfig, path)
    checked_fields(values.get("model_overrides", {}), ModelConfig, path, "model_overrides.")
    return values


def mesh_seeds() -> list[bytes]:
    import trimesh

    box = trimesh.creation.box((1.0, 0.5, 0.3))
    return [trimesh.exchange.obj.export_obj(box).encode(),
            trimesh.exchange.off.export_off(box).encode(),
            trimesh.exchange.ply.export_ply(box, encoding="ascii"),
            trimesh.exchange.ply.export_ply(box),
            trimesh.exchange.stl.export_stl(box),
            trimesh.exchange.stl.export_stl_ascii(box).encode(),
            trimesh.exchange.gltf.export_glb(trimesh.Scene(box))]


MESH_SUFFIXES = (".obj", ".off", ".ply", ".ply", ".stl", ".stl", ".glb")


def read_mesh_case(path: Path) -> object:
    from parvox.data.builder import load_mesh_file, normalize_mesh

    mesh, colors = load_mesh_file(str(path))
    return normalize_mesh(mesh), colors


#: Every reader outside input reaches (meshes: one target per format).
TARGETS: dict[str, Target] = {
    "photo.png": Target(".png", photo_seeds, read_photo_case),
    "binvox": Target(".binvox", binvox_seeds, read_binvox_case),
    "rendering_metadata.txt": Target(".txt", metadata_seeds, read_metadata_case),
    "ShapeNet.json": Target(".json", splits_seeds, read_splits_case),
    "config.json": Target(".json", lambda: config_seeds()[:1], _read_config),
    "config.toml": Target(".toml", lambda: config_seeds()[1:], _read_config),
    **{f"mesh{suffix}-{i}": Target(suffix, lambda i=i: [mesh_seeds()[i]], read_mesh_case)
       for i, suffix in enumerate(MESH_SUFFIXES)},
}


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed file with 1-4 byte-level edits."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "insert", "interesting", "delete", "truncate",
                                   "duplicate")))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "interesting":
            data[at:at] = draw(st.sampled_from(INTERESTING))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 32))]
        elif op == "truncate":
            del data[at:]
        elif op == "duplicate" and data:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start:start + draw(st.integers(1, 64))] * draw(st.integers(1, 8))
    return bytes(data)


class CaseTimeout(Exception):
    """A case ran past :data:`CASE_SECONDS`."""


def _alarm(signum: int, frame: object) -> None:
    raise CaseTimeout


def run_case(target: Target, data: bytes, folder: Path) -> str | None:
    """None when the reader answered well; else a one-line description of the finding."""
    path = folder / f"case{target.suffix}"
    path.write_bytes(data)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    start = time.perf_counter()
    try:
        target.read(path)
    except ParvoxError as exc:
        if "\n" in str(exc).strip():
            return f"multi-line error: {str(exc)[:200]!r}"
    except CaseTimeout:
        return f"hang: over {CASE_SECONDS} s"
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if time.perf_counter() - start > CASE_SECONDS:
        return f"slow: {time.perf_counter() - start:.1f} s"
    return None
