"""``parvox reconstruct``: voxels and a mesh from a user's own photos.

Each photo (any size; RGB, RGBA, grayscale, palette, 16-bit, CMYK) is centre-cropped to a square
and resized to the model's input size; transparent pixels are composited on the 240 grey of the
evaluation protocol. The views go through the network together (any number of them). Outputs,
all in the binvox frame (the cube of side 1 centred on the origin, voxel ``[x, y, z]`` at
``-0.5 + (i + 0.5) / 32``, +Y up as ShapeNet):

* ``voxels.binvox``: occupancy at probability >= 0.4;
* ``mesh.obj`` and ``mesh.ply``: marching cubes of the probability grid at 0.4;
* ``preview.png``: the inputs beside two shaded renders of the mesh.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import torch
import trimesh
from PIL import Image

from parvox.data.binvox import Voxels, encode_binvox
from parvox.data.camera import r2n2_camera
from parvox.data.dataset import TEST_BACKGROUND
from parvox.data.images import read_photo
from parvox.errors import DataError, ParvoxError
from parvox.evaluate import MAIN_THRESHOLD, load_model

#: Side of the output cube (ShapeNet models have a unit bounding-box diagonal, so fit inside).
CUBE_SIDE = 1.0
#: Preview tile size (R2N2's render size).
PREVIEW_SIZE = 137


def load_photo(path: str | os.PathLike[str], size: int) -> torch.Tensor:
    """A photo as the network sees it: (3, size, size) float in [0, 1]. Photos of any size are
    decoded in bounded memory (see :func:`parvox.data.images.read_photo`)."""
    rgb = read_photo(path, TEST_BACKGROUND, min_side=size * 4)
    if min(rgb.size) < 8:
        raise DataError(path, f"image too small ({rgb.width}x{rgb.height}; need at least 8x8)")
    side = min(rgb.size)
    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
    square = rgb.crop((left, top, left + side, top + side)).resize((size, size),
                                                                   Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(square, dtype=np.float32) / 255.0).permute(2, 0, 1)


def probability_mesh(prob: np.ndarray, level: float = MAIN_THRESHOLD) -> trimesh.Trimesh:
    """Marching cubes of a (D, D, D) probability grid, in the binvox frame (see module doc)."""
    from skimage.measure import marching_cubes

    dim = prob.shape[0]
    if prob.max() < level:
        raise ParvoxError("the network predicts an empty grid for these photos (no voxel "
                          f"reaches probability {level})")
    verts, faces, _, _ = marching_cubes(np.pad(prob, 1), level=level)
    verts = -CUBE_SIDE / 2 + (verts - 1 + 0.5) * CUBE_SIDE / dim
    return trimesh.Trimesh(verts, faces[:, ::-1], process=False)  # outward normals


def preview(inputs: list[np.ndarray], mesh: trimesh.Trimesh) -> np.ndarray:
    """(137, 137 * (n + 2), 3) uint8: the inputs, then the mesh rendered from two sides."""
    from parvox.data.render import Renderer

    renderer = Renderer(PREVIEW_SIZE)
    try:
        cameras = [r2n2_camera(az, 25.0, 0.0, 0.8) for az in (30.0, 150.0)]
        colors = np.full((len(mesh.faces), 3), 170, np.uint8)
        renders = renderer.render_views(mesh.triangles, colors, cameras)
    finally:
        renderer.release()
    tiles = [np.asarray(Image.fromarray(i).resize((PREVIEW_SIZE,) * 2)) for i in inputs]
    for rgba in renders:
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        tiles.append((rgba[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8))
    return np.concatenate(tiles, axis=1)


def reconstruct(images: list[str], checkpoint: str | os.PathLike[str],
                out: str | os.PathLike[str]) -> dict[str, str]:
    """Reconstruct from ``images`` with ``checkpoint``; returns the written paths by kind."""
    if not images:
        raise ParvoxError("give at least one image")
    model, _ = load_model(checkpoint)
    size = model.config.image_size
    views = torch.stack([load_photo(path, size) for path in images])
    device = next(model.parameters()).device
    with torch.no_grad():
        prob = torch.softmax(model(views[None].to(device)), dim=1)[0, 1].float().cpu().numpy()
    mesh = probability_mesh(prob)
    inputs = [(v.permute(1, 2, 0).numpy() * 255).astype(np.uint8) for v in views]
    picture = preview(inputs, mesh)
    return _write_outputs(Path(out), prob, mesh, picture)


def _write_outputs(out: Path, prob: np.ndarray, mesh: trimesh.Trimesh,
                   picture: np.ndarray) -> dict[str, str]:
    """Write all outputs under temporary names, then rename them (all or nothing)."""
    paths = {"voxels": out / "voxels.binvox", "obj": out / "mesh.obj", "ply": out / "mesh.ply",
             "preview": out / "preview.png"}
    tmp = {k: p.with_name(f".{p.name}.tmp") for k, p in paths.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        grid = Voxels(prob >= MAIN_THRESHOLD, (-CUBE_SIDE / 2,) * 3, CUBE_SIDE)
        tmp["voxels"].write_bytes(encode_binvox(grid))
        tmp["obj"].write_text(trimesh.exchange.obj.export_obj(mesh))
        tmp["ply"].write_bytes(trimesh.exchange.ply.export_ply(mesh))
        Image.fromarray(picture).save(tmp["preview"], format="PNG")
        for kind, path in paths.items():
            os.replace(tmp[kind], path)
    except OSError as exc:
        for path in tmp.values():
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise DataError(out, f"cannot write output ({exc.strerror or exc})") from None
    return {k: str(p) for k, p in paths.items()}
