"""``parvox data build``: make an R2N2-layout dataset from procedural shapes or mesh files.

Per model: normalise the mesh as ShapeNetCore v1 is (bounding box centred on the origin, unit
diagonal, +Y up), render 24 views at 137x137 RGBA from cameras drawn from R2N2's distribution
(:func:`parvox.data.camera.sample_view_params`) through the same camera function that
``parvox data verify`` uses, voxelise solid to 32^3 in the bounding cube, and write::

    OUT/ShapeNetRendering/<synset>/<id>/rendering/{00..23}.png, rendering_metadata.txt,
                                                  renderings.txt
    OUT/ShapeNetVox32/<synset>/<id>/model.binvox
    OUT/ShapeNet.json

A model is written into a hidden temporary folder and renamed into place last, so an
interrupted build never leaves a half-written model; a rerun skips complete models. Every
random draw is seeded from ``(seed, synset, id)``, so a build is deterministic for a seed
whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from parvox.data.binvox import Voxels, encode_binvox
from parvox.data.camera import R2N2_IMAGE_SIZE, camera_from_metadata, sample_view_params
from parvox.data.classes import CLASS_TO_SYNSET, CLASSES, SYNSETS
from parvox.data.layout import (
    ModelRef,
    R2N2Layout,
    extend_splits,
    load_splits,
    save_splits,
)
from parvox.data.verify import R2N2_VIEWS
from parvox.data.voxelize import voxelize_mesh
from parvox.errors import DataError, ParvoxError
from parvox.files import check_writable_dir
from parvox.progress import markdown_table, progress_bar

#: ShapeNetVox32's resolution.
VOXEL_RESOLUTION = 32
#: Mesh file types read by ``--source meshes`` (whatever trimesh loads among these).
MESH_EXTENSIONS = (".obj", ".off", ".ply", ".stl", ".glb", ".gltf")
#: Colour of meshes that carry none (a light grey, like ShapeNet's untextured parts).
DEFAULT_GREY = (180, 180, 180)
#: zlib level for the PNGs: 1 is 3x faster than the default for 10% more bytes.
PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class BuildJob:
    """One model to build: procedural (``class_name`` + ``index``) or from ``mesh_path``."""

    synset: str
    model_id: str
    class_name: str
    index: int = 0
    mesh_path: str | None = None
    up: str = "y"

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.synset, self.model_id)


@dataclass(frozen=True)
class JobResult:
    job: BuildJob
    status: str  # "built", "skipped" or "failed"
    seconds: float = 0.0
    error: str = ""
    unwritable: bool = False  # failed writing the output (full disk...): stops every build


# --------------------------------------------------------------------------- jobs


def procedural_jobs(per_class: int, classes: Sequence[str] = CLASSES) -> list[BuildJob]:
    """``per_class`` procedural models of each class, ids ``proc_<class>_<index:05d>``."""
    unknown = [c for c in classes if c not in CLASS_TO_SYNSET]
    if unknown:
        raise ParvoxError(f"unknown class {unknown[0]!r}; choose among {', '.join(CLASSES)}")
    if per_class < 1:
        raise ParvoxError(f"--per-class must be at least 1, got {per_class}")
    return [BuildJob(CLASS_TO_SYNSET[c], f"proc_{c}_{i:05d}", c, index=i)
            for c in classes for i in range(per_class)]


def mesh_jobs(meshes_dir: str | os.PathLike[str], up: str = "y") -> list[BuildJob]:
    """One job per mesh file in ``meshes_dir/<class>/``; ``<class>`` is a class name, a synset
    id, or any other name (then used as the taxonomy id too)."""
    root = Path(meshes_dir)
    if not root.is_dir():
        raise DataError(root, "mesh folder not found")
    if up not in ("y", "z"):
        raise ParvoxError(f"--up must be y or z, got {up!r}")
    jobs = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        synset = CLASS_TO_SYNSET.get(class_dir.name, class_dir.name)
        name = SYNSETS.get(synset, class_dir.name)
        for path in sorted(class_dir.iterdir()):
            if path.suffix.lower() in MESH_EXTENSIONS:
                jobs.append(BuildJob(synset, path.stem, name, mesh_path=str(path), up=up))
    if not jobs:
        raise DataError(root, f"no mesh files ({', '.join(MESH_EXTENSIONS)}) in any "
                        "class subfolder (expected MESHES/<class>/<model>.obj)")
    return jobs


# --------------------------------------------------------------------------- meshes


def normalize_mesh(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """ShapeNetCore v1 normalisation: bounding box centred on the origin, unit diagonal."""
    lo, hi = mesh.bounds
    diagonal = float(np.linalg.norm(hi - lo))
    out = mesh.copy()
    out.apply_translation(-(lo + hi) / 2.0)
    out.apply_scale(1.0 / diagonal)
    return out


def load_mesh_file(path: str, up: str = "y") -> tuple[trimesh.Trimesh, np.ndarray]:
    """Load a mesh file as one triangle mesh with per-face RGB colours.

    Returns:
        ``(mesh, face_colors)``: +Y-up mesh and (F, 3) uint8 colours.
    """
    try:
        with _quiet_trimesh():
            mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many types for bad files
        raise DataError(path, f"cannot read mesh ({type(exc).__name__}: {exc})") from None
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise DataError(path, "mesh has no triangles")
    _check_geometry(path, np.asarray(mesh.vertices), np.asarray(mesh.faces))
    if up == "z":  # Z-up files (common for STL/PLY): rotate so +Z becomes +Y
        mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    return mesh, _face_colors(mesh)


@contextlib.contextmanager
def _quiet_trimesh() -> Iterator[None]:
    """trimesh logs the tracebacks of the loaders it tried on a broken file; the user gets our
    one line instead."""
    logger = logging.getLogger("trimesh")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_geometry(path: str, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Refuse what a mutated or hand-edited file can hold and later steps cannot use: vertices
    that are not (N, 3) finite numbers, faces that are not (F, 3) indices of them, no extent."""
    if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) == 0:
        raise DataError(path, f"mesh vertices have shape {vertices.shape}, expected (N, 3)")
    if not np.all(np.isfinite(vertices)):
        raise DataError(path, "mesh has non-finite (NaN or Inf) vertex coordinates")
    if faces.ndim != 2 or faces.shape[1] != 3:
        raise DataError(path, f"mesh faces have shape {faces.shape}, expected (F, 3) triangles")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise DataError(path, f"mesh faces index vertex {int(faces.max())} but there are "
                              f"{len(vertices)} vertices")
    if not np.ptp(vertices[faces.reshape(-1)], axis=0).max() > 0:
        raise DataError(path, "mesh has no extent (all triangles on one point)")


def _face_colors(mesh: trimesh.Trimesh) -> np.ndarray:
    """(F, 3) uint8 face colours from the mesh's material, texture or colours, else grey."""
    try:
        visual = mesh.visual
        if visual.kind == "texture":
            visual = visual.to_color()
        if visual.kind is not None:
            return np.asarray(visual.face_colors, dtype=np.uint8)[:, :3].copy()
    except Exception:  # noqa: BLE001, S110 - a broken material just means no colour
        pass
    return np.tile(np.array(DEFAULT_GREY, np.uint8), (len(mesh.faces), 1))


def job_mesh(job: BuildJob, seed: int) -> tuple[trimesh.Trimesh, np.ndarray, np.ndarray | None]:
    """``(mesh, face_colors (F, 3) uint8, shininess (F,) or None)`` of a job, not normalised."""
    if job.mesh_path is not None:
        mesh, colors = load_mesh_file(job.mesh_path, job.up)
        return mesh, colors, None
    from parvox.data.procedural import make_shape

    shape = make_shape(job.class_name, _model_seed(seed, job.ref))
    return shape.mesh, shape.face_colors, getattr(shape, "shininess", None)


def _model_seed(seed: int, ref: ModelRef) -> int:
    """A 32-bit seed from the build seed and the model, independent of workers and order."""
    return zlib.crc32(f"{seed}/{ref.synset}/{ref.model_id}".encode())


# --------------------------------------------------------------------------- one model

_RENDERER = None


def _renderer():
    """This process's renderer (one OpenGL context per process, created on first use)."""
    global _RENDERER
    if _RENDERER is None:
        from parvox.data.render import Renderer

        _RENDERER = Renderer(R2N2_IMAGE_SIZE)
    return _RENDERER


def is_complete(layout: R2N2Layout, ref: ModelRef) -> bool:
    """Whether a model's renders, metadata and voxels are all in place."""
    render_dir = layout.rendering_dir(ref)
    return (layout.voxel_path(ref).is_file() and (render_dir / "renderings.txt").is_file()
            and all(layout.image_path(ref, v).is_file() for v in range(R2N2_VIEWS)))


def build_model(root: str, job: BuildJob, seed: int) -> JobResult:
    """Build one model into ``root`` (skipped when already complete)."""
    layout = R2N2Layout(root)
    if is_complete(layout, job.ref):
        return JobResult(job, "skipped")
    start = time.perf_counter()
    try:
        mesh, colors, shininess = job_mesh(job, seed)
        mesh = normalize_mesh(mesh)
        rng = np.random.default_rng(_model_seed(seed, job.ref))
        metadata = sample_view_params(rng, R2N2_VIEWS)
        images = _renderer().render_views(
            mesh.triangles, colors, [camera_from_metadata(row) for row in metadata], shininess)
        occupancy = voxelize_mesh(mesh, VOXEL_RESOLUTION)
        voxels = Voxels(occupancy, tuple(float(v) for v in mesh.bounds[0]),
                        float(mesh.extents.max()))
    except ParvoxError as exc:
        return JobResult(job, "failed", time.perf_counter() - start, str(exc))
    try:
        _write_model(layout, job.ref, images, metadata, voxels)
    except ParvoxError as exc:
        return JobResult(job, "failed", time.perf_counter() - start, str(exc), unwritable=True)
    return JobResult(job, "built", time.perf_counter() - start)


def format_metadata(metadata: np.ndarray) -> str:
    """``rendering_metadata.txt`` text: one ``az el inplane ratio fov`` row per view."""
    rows = [f"{r[0]:.9f} {r[1]:.9f} {r[2]:g} {r[3]:.9f} {r[4]:g}" for r in metadata]
    return "\n".join(rows) + "\n"


def _write_model(layout: R2N2Layout, ref: ModelRef, images: list[np.ndarray],
                 metadata: np.ndarray, voxels: Voxels) -> None:
    """Write voxels (file rename) and then the rendering folder (folder rename, last)."""
    final = layout.rendering_dir(ref).parent  # ShapeNetRendering/<synset>/<id>
    partial = final.parent / f".{ref.model_id}.partial-{os.getpid()}"
    voxel_path = layout.voxel_path(ref)
    tmp = voxel_path.with_name(f".{voxel_path.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        render_dir = partial / "rendering"
        render_dir.mkdir(parents=True)
        for view, image in enumerate(images):
            Image.fromarray(image, "RGBA").save(render_dir / f"{view:02d}.png",
                                                compress_level=PNG_COMPRESS_LEVEL)
        (render_dir / "rendering_metadata.txt").write_text(format_metadata(metadata))
        (render_dir / "renderings.txt").write_text(
            "".join(f"{v:02d}.png\n" for v in range(len(images))))
        voxel_path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(encode_binvox(voxels))
        os.replace(tmp, voxel_path)
        shutil.rmtree(final, ignore_errors=True)  # a stale incomplete folder from a crash
        os.replace(partial, final)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise DataError(exc.filename or final, f"cannot write ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------- dataset


@dataclass
class BuildSummary:
    """Results of a build, for the summary table and the split file."""

    results: list[JobResult]
    seconds: float
    workers: int

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def seconds_per_model_core(self) -> float:
        """Wall seconds x workers per built model (the cost of one model on one core)."""
        built = self.count("built")
        return self.seconds * self.workers / built if built else 0.0

    def table(self) -> str:
        by_class: dict[str, Counter] = {}
        for r in self.results:
            by_class.setdefault(r.job.class_name, Counter())[r.status] += 1
        rows = [(name, c["built"], c["skipped"], c["failed"])
                for name, c in sorted(by_class.items())]
        rows.append(("**total**", self.count("built"), self.count("skipped"), self.count("failed")))
        return markdown_table(["class", "built", "skipped (complete)", "failed"], rows)


def build_dataset(
    out: str | os.PathLike[str],
    jobs: list[BuildJob],
    *,
    seed: int = 0,
    workers: int = 1,
    skip_bad: bool = False,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    show_progress: bool = True,
) -> BuildSummary:
    """Build every job into ``out`` and write ``out/ShapeNet.json``.

    Where ``out`` already has a split file, its models keep their split (a dataset grown to
    more models per class keeps its test models out of training); new models are split among
    themselves.

    Raises:
        DataError: the first failed model, unless ``skip_bad`` (then failures are counted and
            left out of the split file).
    """
    root = Path(out)
    check_writable_dir(root)  # a read-only or forbidden folder stops the build before any work
    split_path = R2N2Layout(root).splits_path()
    # read before any work: a broken split file stops the build with its name
    previous = load_splits(split_path) if split_path.exists() else []
    start = time.perf_counter()
    results = _run_jobs(str(root), jobs, seed, workers, skip_bad, show_progress)
    summary = BuildSummary(results, time.perf_counter() - start, workers)
    good = [r.job.ref for r in results if r.status != "failed"]
    save_splits(split_path, extend_splits(previous, good, fractions, seed))
    return summary


def _run_jobs(root: str, jobs: list[BuildJob], seed: int, workers: int, skip_bad: bool,
              show_progress: bool) -> list[JobResult]:
    bar = progress_bar(len(jobs), desc="build", unit="model", enabled=show_progress)
    results: list[JobResult] = []

    def record(result: JobResult) -> None:
        bar.update(1)
        if result.unwritable:  # not the model's fault: --skip-bad does not apply
            raise ParvoxError(f"{result.error} (building {result.job.model_id})")
        if result.status == "failed" and not skip_bad:
            raise DataError(result.job.mesh_path or result.job.model_id,
                            f"build failed: {result.error} (use --skip-bad to skip bad models)")
        results.append(result)

    with bar:
        if workers <= 1:
            for job in jobs:
                record(build_model(root, job, seed))
        else:
            _run_pool(root, jobs, seed, workers, record)
    return sorted(results, key=lambda r: (r.job.synset, r.job.model_id))


def _run_pool(root: str, jobs: list[BuildJob], seed: int, workers: int, record) -> None:
    """Run jobs on ``workers`` spawned processes (EGL contexts do not survive a fork)."""
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending = {pool.submit(build_model, root, job, seed) for job in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION, timeout=1.0)
                for future in done:
                    record(future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise
