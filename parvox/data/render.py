"""Headless OpenGL rendering of coloured meshes to R2N2-style RGBA images.

Rasterised by OpenGL through moderngl on an EGL context, which on a machine without a GPU is
Mesa's llvmpipe (the system packages ``libegl1 libegl-mesa0 libgl1-mesa-dri``). Each view uses
:class:`parvox.data.camera.Camera`, so the renders agree with the camera convention that
``parvox data verify`` checks on the real ShapeNet renders.

Shading: per-face colours, flat normals, two-sided Lambert from a key light above the camera, a
fill light and a rim light, a Blinn-Phong highlight scaled by each face's shininess, and 4x
multisampling so edges are anti-aliased like Blender's. The background stays transparent
(alpha 0) and the RGB of edge pixels is un-premultiplied.
"""

from __future__ import annotations

import numpy as np

from parvox.data.camera import Camera
from parvox.errors import ParvoxError

_VERTEX_SHADER = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec3 in_normal;
in vec3 in_color;
in float in_shine;
out vec3 v_pos;
out vec3 v_normal;
out vec3 v_color;
out float v_shine;
void main() {
    gl_Position = mvp * vec4(in_pos, 1.0);
    v_pos = in_pos;
    v_normal = in_normal;
    v_color = in_color;
    v_shine = in_shine;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec3 eye;
uniform vec3 key_dir;
uniform vec3 fill_dir;
uniform vec3 rim_dir;
in vec3 v_pos;
in vec3 v_normal;
in vec3 v_color;
in float v_shine;
out vec4 frag;
void main() {
    vec3 n = normalize(v_normal);
    vec3 to_eye = normalize(eye - v_pos);
    if (dot(n, to_eye) < 0.0) n = -n;  // two-sided: meshes may be open or mis-oriented
    float diffuse = 0.30 + 0.60 * max(dot(n, key_dir), 0.0) + 0.25 * max(dot(n, fill_dir), 0.0)
                  + 0.15 * max(dot(n, rim_dir), 0.0);
    vec3 half_vec = normalize(key_dir + to_eye);
    float spec = v_shine * pow(max(dot(n, half_vec), 0.0), 8.0 + 56.0 * v_shine);
    vec3 rgb = v_color * diffuse + vec3(0.6 * spec);
    frag = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
"""

#: Multisampling factor for anti-aliased silhouettes.
MSAA_SAMPLES = 4


class Renderer:
    """Renders one mesh from many cameras with one OpenGL context per process.

    Args:
        size: square image size in pixels (137 for R2N2).
    """

    def __init__(self, size: int = 137) -> None:
        import moderngl

        try:
            self.ctx = moderngl.create_standalone_context(backend="egl")
        except Exception as exc:  # noqa: BLE001 - any EGL failure means the same to a user
            raise ParvoxError(
                f"cannot open a headless OpenGL (EGL) context ({exc}); install Mesa's EGL "
                "drivers: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri"
            ) from None
        self.size = size
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.program = self.ctx.program(vertex_shader=_VERTEX_SHADER,
                                        fragment_shader=_FRAGMENT_SHADER)
        self._msaa = self.ctx.framebuffer(
            color_attachments=[self.ctx.renderbuffer((size, size), 4, samples=MSAA_SAMPLES)],
            depth_attachment=self.ctx.depth_renderbuffer((size, size), samples=MSAA_SAMPLES),
        )
        self._resolved = self.ctx.framebuffer(
            color_attachments=[self.ctx.renderbuffer((size, size), 4)])

    def render_views(
        self,
        triangles: np.ndarray,
        face_colors: np.ndarray,
        cameras: list[Camera],
        shininess: np.ndarray | None = None,
    ) -> list[np.ndarray]:
        """Render a triangle soup from each camera.

        Args:
            triangles: (F, 3, 3) float vertex positions in the world frame.
            face_colors: (F, 3) uint8 RGB per face.
            cameras: cameras whose image size equals ``self.size``.
            shininess: (F,) float in [0, 1] per face (default 0.2).

        Returns:
            One (size, size, 4) uint8 RGBA image per camera, row 0 at the top.
        """
        vao, buffer = self._upload(triangles, face_colors, shininess)
        try:
            return [self._render_one(vao, camera) for camera in cameras]
        finally:
            vao.release()
            buffer.release()

    def _upload(self, triangles: np.ndarray, face_colors: np.ndarray,
                shininess: np.ndarray | None):
        tri = np.asarray(triangles, dtype=np.float32)
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        shine = np.full(len(tri), 0.2, np.float32) if shininess is None else shininess
        per_vertex = np.concatenate([
            tri,
            np.repeat(normals[:, None], 3, axis=1),
            np.repeat(np.asarray(face_colors, np.float32)[:, None, :3] / 255.0, 3, axis=1),
            np.repeat(np.asarray(shine, np.float32)[:, None, None], 3, axis=1),
        ], axis=2).astype(np.float32)
        buffer = self.ctx.buffer(per_vertex.tobytes())
        vao = self.ctx.vertex_array(
            self.program, [(buffer, "3f 3f 3f 1f", "in_pos", "in_normal", "in_color", "in_shine")])
        return vao, buffer

    def _render_one(self, vao, camera: Camera) -> np.ndarray:
        view, proj = camera.opengl_matrices()
        eye = camera.center
        right, down, forward = camera.rotation
        self.program["mvp"].write((proj @ view).T.astype(np.float32).tobytes())
        self.program["eye"].value = tuple(eye)
        self.program["key_dir"].value = tuple(_unit(-forward - 0.9 * down + 0.4 * right))
        self.program["fill_dir"].value = tuple(_unit(-forward + 0.3 * down - 0.8 * right))
        self.program["rim_dir"].value = tuple(_unit(forward - 0.5 * down))
        self._msaa.use()
        self._msaa.clear(0.0, 0.0, 0.0, 0.0)
        vao.render()
        self.ctx.copy_framebuffer(self._resolved, self._msaa)
        raw = self._resolved.read(components=4, dtype="f1")
        rgba = np.frombuffer(raw, np.uint8).reshape(self.size, self.size, 4)[::-1]
        return _unpremultiply(rgba)

    def release(self) -> None:
        """Free the OpenGL context."""
        self.ctx.release()


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight-alpha RGBA from the resolved multisample image (background is 0, so edge
    pixels hold colour x coverage)."""
    out = rgba.copy()
    alpha = rgba[..., 3:4].astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        rgb = np.where(alpha > 0, rgba[..., :3] * (255.0 / alpha), 0.0)
    out[..., :3] = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    return out
