"""``parvox reconstruct``: voxels and a mesh from a user's own photos.

Each photo (any size; RGB, RGBA, grayscale, palette, 16-bit, CMYK) goes through
:mod:`parvox.photo`: the object's mask (a ``--mask`` file, the photo's alpha, or a
segmentation), then the object re-framed as the R2N2 renders frame theirs, on the 240 grey of
the evaluation protocol. The views go through the network together (any number of them).
Without a checkpoint the model shipped in the package is used (:mod:`parvox.pretrained`).
Outputs, all in the binvox frame (the cube of side 1 centred on the origin, voxel ``[x, y, z]``
at ``-0.5 + (i + 0.5) / 32``, +Y up as ShapeNet):

* ``voxels.binvox``: occupancy at probability >= 0.4;
* ``mesh.obj``, ``mesh.ply`` and ``mesh.glb`` (binary glTF 2.0): marching cubes of the
  probability grid at 0.4;
* ``preview.png``: per input the photo with its mask and the network's view, then two shaded
  renders of the mesh.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from parvox.checkpoint import load_model
from parvox.data.binvox import Voxels, encode_binvox
from parvox.data.camera import r2n2_camera
from parvox.data.meshfiles import Mesh, glb_bytes, obj_bytes, ply_bytes
from parvox.errors import DataError, ParvoxError
from parvox.evaluate import MAIN_THRESHOLD
from parvox.inference import predict_occupancy
from parvox.photo import PreparedPhoto, prepare_photo
from parvox.pretrained import PRETRAINED

#: Side of the output cube (ShapeNet models have a unit bounding-box diagonal, so fit inside).
CUBE_SIDE = 1.0
#: Preview tile size (R2N2's render size).
PREVIEW_SIZE = 137
#: Output files by kind, in the order they are listed.
OUTPUT_FILES = {"voxels": "voxels.binvox", "obj": "mesh.obj", "ply": "mesh.ply",
                "glb": "mesh.glb", "preview": "preview.png"}


def load_photo(path: str | os.PathLike[str], size: int) -> torch.Tensor:
    """A photo as the network sees it: (3, size, size) float in [0, 1], the whole photo taken
    as the object (no segmentation; its alpha, when it has one, is the mask)."""
    return prepare_photo(path, segment_photo=False).view(size)


def probability_mesh(prob: np.ndarray, level: float = MAIN_THRESHOLD) -> Mesh:
    """Marching cubes of a (D, D, D) probability grid, in the binvox frame (see module doc)."""
    from skimage.measure import marching_cubes

    dim = prob.shape[0]
    if prob.max() < level:
        raise ParvoxError("the network predicts an empty grid for these photos (no voxel "
                          f"reaches probability {level})")
    verts, faces, _, _ = marching_cubes(np.pad(prob, 1), level=level)
    verts = -CUBE_SIDE / 2 + (verts - 1 + 0.5) * CUBE_SIDE / dim
    return Mesh(verts, np.ascontiguousarray(faces[:, ::-1]))  # outward normals


def _tile(image: np.ndarray) -> np.ndarray:
    """uint8 (137, 137, 3): ``image`` (h, w, 3) scaled (up or down) to fit, centred on
    white."""
    pil = Image.fromarray(image)
    scale = PREVIEW_SIZE / max(pil.size)
    size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    pil = pil.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BILINEAR)
    tile = Image.new("RGB", (PREVIEW_SIZE, PREVIEW_SIZE), "white")
    tile.paste(pil, ((PREVIEW_SIZE - pil.width) // 2, (PREVIEW_SIZE - pil.height) // 2))
    return np.asarray(tile)


def render_mesh(mesh: Mesh, azimuths: Sequence[float] = (30.0, 150.0),
                elevation: float = 25.0) -> list[np.ndarray]:
    """Shaded grey renders of ``mesh`` on white, one uint8 (137, 137, 3) per azimuth."""
    from parvox.data.render import Renderer

    renderer = Renderer(PREVIEW_SIZE)
    try:
        cameras = [r2n2_camera(az, elevation, 0.0, 0.8) for az in azimuths]
        colors = np.full((len(mesh.faces), 3), 170, np.uint8)
        renders = renderer.render_views(mesh.triangles, colors, cameras)
    finally:
        renderer.release()
    out = []
    for rgba in renders:
        alpha = rgba[..., 3:4].astype(np.float32) / 255.0
        out.append((rgba[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8))
    return out


def preview(photos: list[PreparedPhoto], views: list[np.ndarray],
            mesh: Mesh) -> np.ndarray:
    """(137, 137 * (2 n + 2), 3) uint8: per input its photo with the mask used (outside dimmed
    blue) and the network's view, then the mesh rendered from two sides."""
    tiles = []
    for photo, view in zip(photos, views, strict=True):
        tiles += [_tile(photo.mask_overlay()), _tile(view)]
    tiles += render_mesh(mesh)
    return np.concatenate(tiles, axis=1)


def reconstruct(images: list[str], checkpoint: str | os.PathLike[str] | None,
                out: str | os.PathLike[str], *, masks: Sequence[str | None] | None = None,
                segment: bool = True, flip_average: bool = True) -> dict[str, str]:
    """Reconstruct from ``images`` with ``checkpoint`` (``None``: the shipped model); returns
    the written paths by kind. ``masks`` gives a mask file (or ``None``) per image;
    ``flip_average`` averages with the views mirrored (:mod:`parvox.inference`)."""
    if not images:
        raise ParvoxError("give at least one image")
    masks = list(masks) if masks else [None] * len(images)
    if len(masks) != len(images):
        raise ParvoxError(f"{len(masks)} masks for {len(images)} images: give one --mask per "
                          "image, in the same order")
    photos = [prepare_photo(path, mask_path=mask, segment_photo=segment)
              for path, mask in zip(images, masks, strict=True)]
    model, _ = load_model(checkpoint or PRETRAINED)
    size = model.config.image_size
    views = torch.stack([photo.view(size) for photo in photos])
    prob = predict_occupancy(model, views[None], flip_average=flip_average)[0].numpy()
    mesh = probability_mesh(prob)
    shown = [(v.permute(1, 2, 0).numpy() * 255).astype(np.uint8) for v in views]
    return _write_outputs(Path(out), prob, mesh, preview(photos, shown, mesh))


#: The GLB's surface colour (RGBA): a mid blue that reads on white and dark viewers alike.
MESH_COLOUR = (96, 136, 196, 255)


def mesh_files(mesh: Mesh) -> dict[str, bytes]:
    """The mesh as OBJ, PLY and GLB (binary glTF 2.0, coloured :data:`MESH_COLOUR`) file
    contents, by kind."""
    return {"obj": obj_bytes(mesh), "ply": ply_bytes(mesh), "glb": glb_bytes(mesh, MESH_COLOUR)}


def _write_outputs(out: Path, prob: np.ndarray, mesh: Mesh,
                   picture: np.ndarray) -> dict[str, str]:
    """Write all outputs under temporary names, then rename them (all or nothing)."""
    paths = {kind: out / name for kind, name in OUTPUT_FILES.items()}
    tmp = {k: p.with_name(f".{p.name}.tmp") for k, p in paths.items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
        grid = Voxels(prob >= MAIN_THRESHOLD, (-CUBE_SIDE / 2,) * 3, CUBE_SIDE)
        tmp["voxels"].write_bytes(encode_binvox(grid))
        for kind, content in mesh_files(mesh).items():
            tmp[kind].write_bytes(content)
        Image.fromarray(picture).save(tmp["preview"], format="PNG")
        for kind, path in paths.items():
            os.replace(tmp[kind], path)
    except OSError as exc:
        for path in tmp.values():
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise DataError(out, f"cannot write output ({exc.strerror or exc})") from None
    return {k: str(p) for k, p in paths.items()}
