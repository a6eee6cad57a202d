"""The 3D-R2N2 camera: from a ``rendering_metadata.txt`` row to extrinsics and intrinsics.

Conventions (all measured against the real renders and voxels of ``shared/r2n2-samples``,
see ``docs/DATA.md`` and ``tests/test_camera.py``):

* World frame: ShapeNetCore v1's, +Y up; the mesh is normalised so that its bounding box is
  centred on the origin with a unit diagonal.
* Voxels: ShapeNetVox32's grid of ``D**3`` cells is the cube centred on the origin with side
  ``scale`` (the header's ``scale``, the mesh's longest bounding-box extent); voxel ``[x, y, z]``
  has its centre at ``-scale / 2 + (index + 0.5) * scale / D`` on each axis, **without** any
  axis permutation or mirror. The header's ``translate`` is the bounding-box minimum, which
  equals ``-scale / 2`` only on the longest axis, so it is *not* used to place the grid.
* Camera centre: ``distance_ratio * 1.75`` from the origin (1.75 is R2N2's maximum camera
  distance), at ``(cos(el) cos(az), sin(el), cos(el) sin(az))``, looking at the origin with
  +Y up; the in-plane rotation (always 0 in R2N2) rolls the camera about its optical axis.
* Intrinsics: the metadata's field of view (25) is *not* what Blender rendered with; the renders
  used Blender's default 35 mm lens on a 32 mm sensor, i.e. ``2 * atan(16 / 35) = 49.13``
  degrees over the 137-pixel image. Pixel ``(u, v)`` covers ``[u, u + 1) x [v, v + 1)``, so
  the principal point is ``(W / 2, H / 2)``.
* Camera axes are OpenCV's: x right, y down, z forward (points in front have z > 0).

Measured on the 7 real samples with :func:`parvox.data.verify.verify_root`: mean silhouette IoU
0.81, mean coverage 0.99; the z-mirrored grid scores 0.806, an image flip 0.45, a negated
elevation 0.43, a 180 degree azimuth offset 0.66, distance x 2.0 / x 1.5 instead of x 1.75 gives
0.74 / 0.57.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: R2N2 render size in pixels (ShapeNetRendering PNGs are 137 x 137).
R2N2_IMAGE_SIZE = 137
#: R2N2's maximum camera distance: the metadata's distance ratio is a fraction of it.
MAX_CAMERA_DISTANCE = 1.75
#: Blender's default camera: 35 mm focal length, 32 mm sensor width (horizontal field of view).
BLENDER_FOCAL_MM = 35.0
BLENDER_SENSOR_MM = 32.0
#: Field of view the R2N2 renders really used, in degrees (49.134...).
R2N2_FOV_DEG = math.degrees(2.0 * math.atan(BLENDER_SENSOR_MM / 2.0 / BLENDER_FOCAL_MM))
#: R2N2's camera sampling distribution (3D-R2N2 data generation): azimuth U[0, 360),
#: elevation U[25, 30] degrees, distance ratio U[0.65, 0.95], in-plane rotation 0,
#: metadata field of view 25.
R2N2_AZIMUTH_RANGE = (0.0, 360.0)
R2N2_ELEVATION_RANGE = (25.0, 30.0)
R2N2_DISTANCE_RATIO_RANGE = (0.65, 0.95)
R2N2_METADATA_FOV = 25.0


@dataclass(frozen=True)
class Camera:
    """A pinhole camera in OpenCV convention.

    Attributes:
        rotation: (3, 3) float64 world -> camera rotation ``R``.
        translation: (3,) float64 ``t``, so that ``x_cam = R @ x_world + t``.
        intrinsics: (3, 3) float64 ``K`` in pixels.
        width: image width in pixels.
        height: image height in pixels.
    """

    rotation: np.ndarray
    translation: np.ndarray
    intrinsics: np.ndarray
    width: int
    height: int

    @property
    def extrinsics(self) -> np.ndarray:
        """(3, 4) float64 world -> camera matrix ``[R | t]``."""
        return np.concatenate([self.rotation, self.translation[:, None]], axis=1)

    @property
    def center(self) -> np.ndarray:
        """(3,) float64 camera centre in world coordinates."""
        return -self.rotation.T @ self.translation

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project world points.

        Args:
            points: (N, 3) world coordinates.

        Returns:
            ``(uv, depth)``: (N, 2) pixel coordinates (u right, v down; pixel ``(i, j)`` spans
            ``[i, i+1)``) and (N,) depth along the optical axis.
        """
        cam = points @ self.rotation.T + self.translation
        depth = cam[:, 2]
        uvw = cam @ self.intrinsics.T
        return uvw[:, :2] / depth[:, None], depth

    def opengl_matrices(
        self, near: float = 0.05, far: float = 10.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """OpenGL view and projection matrices that rasterise exactly like :meth:`project`.

        Returns:
            ``(view, proj)``, both (4, 4) float64, column-vector convention. The framebuffer row
            0 is the image's bottom row, as OpenGL reads it.
        """
        cv_to_gl = np.diag([1.0, -1.0, -1.0])
        view = np.eye(4)
        view[:3, :3] = cv_to_gl @ self.rotation
        view[:3, 3] = cv_to_gl @ self.translation
        fx, fy = self.intrinsics[0, 0], self.intrinsics[1, 1]
        cx, cy = self.intrinsics[0, 2], self.intrinsics[1, 2]
        w, h = self.width, self.height
        proj = np.zeros((4, 4))
        proj[0, 0] = 2.0 * fx / w
        proj[0, 2] = 1.0 - 2.0 * cx / w
        proj[1, 1] = 2.0 * fy / h
        proj[1, 2] = 2.0 * cy / h - 1.0
        proj[2, 2] = -(far + near) / (far - near)
        proj[2, 3] = -2.0 * far * near / (far - near)
        proj[3, 2] = -1.0
        return view, proj


def intrinsics_matrix(size: int = R2N2_IMAGE_SIZE, fov_deg: float = R2N2_FOV_DEG) -> np.ndarray:
    """(3, 3) pinhole intrinsics of a square ``size`` image with horizontal field ``fov_deg``."""
    focal = size / 2.0 / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[focal, 0.0, size / 2.0], [0.0, focal, size / 2.0], [0.0, 0.0, 1.0]])


def camera_center(azimuth_deg: float, elevation_deg: float, distance_ratio: float) -> np.ndarray:
    """(3,) world position of an R2N2 camera (distance = ratio x 1.75, +Y up)."""
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    dist = distance_ratio * MAX_CAMERA_DISTANCE
    return dist * np.array([math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)])


def look_at(center: np.ndarray, inplane_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """World -> camera ``(R, t)`` of a camera at ``center`` looking at the origin, +Y up.

    OpenCV axes: x right, y down, z towards the origin. ``inplane_deg`` rolls the camera
    counter-clockwise about its optical axis (the image content turns clockwise).
    """
    forward = -center / np.linalg.norm(center)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    norm = np.linalg.norm(right)
    if norm < 1e-9:  # looking straight up or down: any right vector will do
        right = np.array([1.0, 0.0, 0.0])
    else:
        right /= norm
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    if inplane_deg:
        c, s = math.cos(math.radians(inplane_deg)), math.sin(math.radians(inplane_deg))
        roll = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        rotation = roll @ rotation
    return rotation, -rotation @ center


def r2n2_camera(
    azimuth_deg: float,
    elevation_deg: float,
    inplane_deg: float = 0.0,
    distance_ratio: float = 0.8,
    *,
    size: int = R2N2_IMAGE_SIZE,
    fov_deg: float = R2N2_FOV_DEG,
) -> Camera:
    """The camera of one R2N2 view.

    Args:
        azimuth_deg, elevation_deg, inplane_deg, distance_ratio: the first four columns of a
            ``rendering_metadata.txt`` row.
        size: image size in pixels (137 for R2N2's renders).
        fov_deg: the field of view actually rendered with. The metadata's fifth column (25) is
            deliberately not used: the renders were made with Blender's default 49.13 degrees.
    """
    rotation, translation = look_at(camera_center(azimuth_deg, elevation_deg, distance_ratio),
                                    inplane_deg)
    return Camera(rotation, translation, intrinsics_matrix(size, fov_deg), size, size)


def camera_from_metadata(row: np.ndarray | list[float], size: int = R2N2_IMAGE_SIZE) -> Camera:
    """The camera of a ``rendering_metadata.txt`` row ``(az, el, inplane, ratio, fov)``."""
    return r2n2_camera(float(row[0]), float(row[1]), float(row[2]), float(row[3]), size=size)


def sample_view_params(rng: np.random.Generator, n: int = 24) -> np.ndarray:
    """Draw ``n`` metadata rows from R2N2's camera distribution.

    Returns:
        (n, 5) float64 rows ``(azimuth, elevation, 0, distance_ratio, 25)``.
    """
    az = rng.uniform(*R2N2_AZIMUTH_RANGE, size=n)
    el = rng.uniform(*R2N2_ELEVATION_RANGE, size=n)
    ratio = rng.uniform(*R2N2_DISTANCE_RATIO_RANGE, size=n)
    return np.stack([az, el, np.zeros(n), ratio, np.full(n, R2N2_METADATA_FOV)], axis=1)


def voxel_centers(dim: int, scale: float) -> np.ndarray:
    """(dim,) world coordinate of the voxel centres along one axis of a ShapeNetVox32 grid."""
    return -scale / 2.0 + (np.arange(dim) + 0.5) * scale / dim
