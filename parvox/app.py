"""``parvox app``: reconstruct in the browser (Gradio, served locally, nothing from outside).

Upload 1 to :data:`MAX_PHOTOS` photos of one object (or click an example), see the mask found
for each (or untick :data:`FIND_OBJECT` to take photos whole, the command line's
``--no-segment``), turn the result around in a 3D viewer, move the voxel threshold (the mesh
is re-made from the kept probability grid, the network does not run again), download GLB,
OBJ, PLY and binvox. The photo path is :mod:`parvox.photo`, the same as ``parvox reconstruct``'s.

Safe by default: binds 127.0.0.1; Gradio's analytics off and no web fonts (the page asks
nothing of any other host); uploads are limited in bytes (:data:`MAX_UPLOAD`) and pixels
(:data:`MAX_PIXELS`, checked from the header before decoding); one request runs at a time
(Gradio's queue, concurrency 1) so concurrent users are answered in turn; a bad upload is one
message in the page and the server goes on serving.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data.binvox import Voxels, encode_binvox  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.evaluate import MAIN_THRESHOLD  # noqa: E402
from parvox.inference import predict_occupancy  # noqa: E402
from parvox.photo import NoObjectFound, PreparedPhoto, prepare_photo  # noqa: E402
from parvox.pretrained import PRETRAINED  # noqa: E402
from parvox.reconstruct import CUBE_SIDE, mesh_files, probability_mesh  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

#: Photos of one object per request.
MAX_PHOTOS = 5
#: Largest upload, per file (Gradio refuses larger ones before they reach parvox).
MAX_UPLOAD = "25mb"
#: Largest photo in pixels, read from the file's header before anything is decoded.
MAX_PIXELS = 40_000_000
#: The page's switch for segmentation (off: a photo without alpha is the object whole).
FIND_OBJECT = "find the object in each photo"
#: Default listening address and port.
HOST, PORT = "127.0.0.1", 7860


@dataclass
class Result:
    """One reconstruction: the probability grid and where its files are."""

    prob: np.ndarray
    folder: Path


class Reconstructor:
    """The model, loaded once, and the request handlers the page calls."""

    def __init__(self, checkpoint: str | os.PathLike[str] | None = None,
                 workdir: str | os.PathLike[str] | None = None) -> None:
        self.model, _ = load_model(checkpoint or PRETRAINED)
        self.size = self.model.config.image_size
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="parvox-app-"))

    def photos(self, files: list[str] | None, segment: bool = True) -> list[PreparedPhoto]:
        """Check and prepare the uploads (one clear ParvoxError for the first bad one);
        ``segment=False`` takes each whole photo without alpha as the object (the command
        line's ``--no-segment``)."""
        files = [f for f in files or [] if f]
        if not files:
            raise ParvoxError("upload 1 to 5 photos of one object")
        if len(files) > MAX_PHOTOS:
            raise ParvoxError(f"at most {MAX_PHOTOS} photos of one object, got {len(files)}")
        try:
            return [prepare_photo(check_upload(path), segment_photo=segment) for path in files]
        except NoObjectFound as exc:  # the command line's remedies are not on this page
            raise ParvoxError(f"{Path(exc.path).name}: {exc.finding}; upload the photo cut "
                              "out (a PNG with a transparent background: its alpha is the "
                              f"mask), or untick \"{FIND_OBJECT}\" to take the whole photo"
                              ) from None

    def predict(self, photos: list[PreparedPhoto]) -> np.ndarray:
        """(32, 32, 32) occupancy probability of the views together."""
        views = torch.stack([p.view(self.size) for p in photos])[None]
        return predict_occupancy(self.model, views, flip_average=True)[0].numpy()

    def files(self, prob: np.ndarray, threshold: float) -> tuple[str, list[str]]:
        """Write the mesh at ``threshold`` (GLB, OBJ, PLY) and the voxels; (GLB, all files)."""
        folder = Path(tempfile.mkdtemp(dir=self.workdir))
        mesh = probability_mesh(prob, threshold)
        paths = []
        for kind, content in mesh_files(mesh).items():
            path = folder / f"parvox.{kind}"
            path.write_bytes(content)
            paths.append(str(path))
        grid = Voxels(prob >= threshold, (-CUBE_SIDE / 2,) * 3, CUBE_SIDE)
        (folder / "parvox.binvox").write_bytes(encode_binvox(grid))
        paths.append(str(folder / "parvox.binvox"))
        return paths[2], paths  # GLB first in the viewer

    def run(self, files: list[str] | None, threshold: float, progress: Any = None,
            segment: bool = True) -> tuple:
        """The page's main call: (mask gallery, GLB, downloads, kept grid)."""
        import gradio as gr

        progress = progress or (lambda *args, **kwargs: None)
        try:
            progress(0.1, desc="finding the object")
            photos = self.photos(files, segment)
            progress(0.5, desc="running the network")
            prob = self.predict(photos)
            progress(0.8, desc="making the mesh")
            glb, downloads = self.files(prob, threshold)
        except ParvoxError as exc:
            raise gr.Error(one_line(exc), print_exception=False) from None
        gallery = [(p.mask_overlay(), f"{Path(p.path).name}: mask from {p.mask_source}")
                   for p in photos]
        release_memory()
        return gallery, glb, downloads, prob

    def remesh(self, prob: np.ndarray | None, threshold: float) -> tuple:
        """The threshold slider: a new mesh from the kept grid, without the network."""
        import gradio as gr

        if prob is None:
            return None, None
        try:
            glb, downloads = self.files(prob, threshold)
        except ParvoxError as exc:
            raise gr.Error(one_line(exc), print_exception=False) from None
        return glb, downloads


def _libc() -> Any:
    """glibc, or None elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def limit_arenas(count: int = 2) -> None:
    """At most ``count`` malloc arenas (glibc's M_ARENA_MAX): the request threads share them
    instead of each growing its own."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-8, count)  # M_ARENA_MAX


def release_memory() -> None:
    """Hand freed heap back to the system (glibc keeps freed arena memory, so a burst of
    requests would otherwise leave the server that much larger for good)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def one_line(exc: BaseException) -> str:
    """An error as one line, uploads named by their file name (not the server's folders)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    temp = re.escape(str(Path(tempfile.gettempdir())))
    return re.sub(temp + r"/[^\s:'\"]*/([^/\s:'\"]+)", r"\1", text)


def check_upload(path: str) -> str:
    """Refuse what the photo reader should not even start on: no file, an empty file, too many
    pixels (from the header), an animation."""
    from parvox.errors import DataError

    name = Path(path).name
    if not Path(path).is_file():
        raise DataError(name, "upload missing")
    if Path(path).stat().st_size == 0:
        raise DataError(name, "the file is empty")
    try:
        with Image.open(path) as image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError:
        raise DataError(name, f"too many pixels; the page takes up to {MAX_PIXELS / 1e6:.0f} "
                              "Mpx (use parvox reconstruct for larger photos, or downscale)"
                        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(name, "not an image we can read") from exc
    if width * height > MAX_PIXELS:
        raise DataError(name, f"{width}x{height} is {width * height / 1e6:.0f} Mpx; the page "
                              f"takes up to {MAX_PIXELS / 1e6:.0f} Mpx (use parvox reconstruct "
                              "for larger photos, or downscale)")
    if frames > 1:
        raise DataError(name, f"an animation of {frames} frames; upload a still photo")
    return path


def examples() -> list[tuple[list[str], str]]:
    """(files, label) of the page's examples: the shared photos, and three views of three real
    ShapeNet samples' renders (never trained on)."""
    from parvox.data.classes import class_name

    shared = shared_dir()
    found = [([str(p)], f"{p.stem} photo") for p in sorted((shared / "photos").glob("*.png"))]
    models = sorted((shared / "r2n2-samples" / "ShapeNetRendering").glob("*/*/rendering"))
    for folder in [m for m in models if class_name(m.parent.parent.name) in
                   ("chair", "car", "airplane")]:
        views = [str(folder / f"{v:02d}.png") for v in (0, 6, 12)]
        found.append((views, f"{class_name(folder.parent.parent.name)} renders (3 views)"))
    return found


def build(checkpoint: str | os.PathLike[str] | None = None) -> Any:
    """The page (a ``gradio.Blocks``), its model loaded."""
    import gradio as gr

    rec = Reconstructor(checkpoint)
    with gr.Blocks(title="parvox", analytics_enabled=False) as page:
        gr.Markdown("# parvox: a 3D shape from photos\nUpload 1 to 5 photos of one object "
                    "(or click an example). The object is found in each photo (its alpha, or a "
                    "segmentation), re-framed like the training renders, and reconstructed as "
                    "32³ voxels. Where the segmentation misses, upload the photo cut out (a PNG "
                    "with a transparent background).")
        with gr.Row():
            with gr.Column():
                files = gr.File(label="photos (1 to 5)", file_count="multiple")
                threshold = gr.Slider(0.1, 0.9, value=MAIN_THRESHOLD, step=0.05,
                                      label="voxel threshold (re-meshes without rerunning)")
                segment = gr.Checkbox(value=True, label=FIND_OBJECT,
                                      info="untick when each photo shows only the object")
                go = gr.Button("Reconstruct", variant="primary")
                masks = gr.Gallery(label="mask found in each photo", columns=5, height=220,
                                   object_fit="contain", allow_preview=False, preview=False,
                                   elem_id="masks")
            with gr.Column():
                viewer = gr.Model3D(label="result (drag to turn)", clear_color=(1, 1, 1, 1),
                                    height=420, elem_id="viewer")
                downloads = gr.File(label="download", file_count="multiple")
        grid = gr.State(None)

        def run(files, threshold, segment=True, progress=gr.Progress()):  # noqa: B008 - idiom
            return rec.run(files, threshold, progress, segment)

        outputs = [masks, viewer, downloads, grid]
        go.click(run, [files, threshold, segment], outputs, api_name="reconstruct")
        threshold.release(rec.remesh, [grid, threshold], [viewer, downloads], api_name="remesh")
        found = examples()
        if found:
            gr.Examples([[paths] for paths, _ in found], inputs=[files], outputs=outputs,
                        fn=lambda f: run(f, MAIN_THRESHOLD), run_on_click=True,
                        cache_examples=False, label="examples",
                        example_labels=[label for _, label in found], elem_id="examples")
    page.queue(default_concurrency_limit=1, max_size=64)
    page.parvox = rec  # for tests
    return page


def serve(checkpoint: str | None = None, host: str = HOST, port: int = PORT,
          block: bool = True) -> Any:
    """Build and launch the page; returns it (``block=False`` returns at once)."""
    limit_arenas()
    page = build(checkpoint)
    shared = shared_dir()
    import gradio as gr

    theme = gr.themes.Base(font=["ui-sans-serif", "system-ui", "sans-serif"],
                           font_mono=["ui-monospace", "monospace"])  # no web fonts
    page.launch(server_name=host, server_port=port, max_file_size=MAX_UPLOAD, theme=theme,
                allowed_paths=[str(shared / "photos"), str(shared / "r2n2-samples")],
                prevent_thread_lock=not block, quiet=not block, ssr_mode=False,
                show_error=True)
    return page


def clean(page: Any) -> None:
    """Close a page started with ``block=False`` and remove its files."""
    page.close()
    shutil.rmtree(page.parvox.workdir, ignore_errors=True)
