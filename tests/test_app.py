"""``parvox app`` through its API (gradio_client): results, the threshold slider, bad uploads,
concurrent users, the listening address, and no connection to any other host."""

from __future__ import annotations

import os
import socket
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from orientation import exif_orientation, stored_sideways
from paths import PHOTOS
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

#: One port per pytest-xdist worker: the load scheduler may send this module's tests to both.
PORT = 7871 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


class OutboundGuard:
    """Records every connection this process opens to a host other than loopback."""

    def __init__(self) -> None:
        self.outbound: list[str] = []
        self._connect = socket.socket.connect

    def __enter__(self) -> OutboundGuard:
        guard = self

        def connect(sock: socket.socket, address: object) -> None:
            host = address[0] if isinstance(address, tuple) else str(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in (
                    "127.0.0.1", "::1", "localhost"):
                guard.outbound.append(str(address))
                raise OSError(f"parvox test: outbound connection to {address} refused")
            return guard._connect(sock, address)

        socket.socket.connect = connect  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path):
    """The page served on 127.0.0.1 with the tiny test network, under the outbound guard."""
    from parvox.app import clean, serve
    from parvox.pretrained import export_weights

    weights = export_weights(checkpoint, tmp_path_factory.mktemp("w") / "tiny.safetensors")
    with OutboundGuard() as guard:
        page = serve(str(weights), port=PORT, block=False)
        client = gradio_client.Client(f"http://127.0.0.1:{PORT}/", verbose=False)
        yield page, client, guard
        clean(page)
    assert guard.outbound == [], f"the app connected to {guard.outbound}"


def reconstruct(client, *paths: Path, threshold: float = 0.4, segment: bool | None = None):
    files = [gradio_client.handle_file(str(p)) for p in paths]
    if segment is None:  # the switch left as the page starts
        return client.predict(files, threshold, api_name="/reconstruct")
    return client.predict(files, threshold, segment, api_name="/reconstruct")


def photo(tmp_path: Path, name: str = "object.png") -> Path:
    """A photo with an alpha channel: an object in the middle."""
    rgba = np.zeros((120, 160, 4), np.uint8)
    rgba[30:90, 40:120] = (200, 60, 40, 255)
    path = tmp_path / name
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def listening_addresses(port: int) -> list[str]:
    """The local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append(address)
    return found


def test_binds_loopback_only(app) -> None:
    page, _, _ = app
    assert page.server_name == "127.0.0.1"
    assert listening_addresses(PORT) == ["0100007F"]  # 127.0.0.1, not 0.0.0.0 (00000000)


def test_reconstruct_gives_masks_mesh_and_downloads(app, tmp_path: Path) -> None:
    _, client, _ = app
    gallery, glb, downloads, *_ = reconstruct(client, photo(tmp_path))
    assert len(gallery) == 1 and "mask from alpha" in gallery[0]["caption"]
    assert Path(glb).read_bytes()[:4] == b"glTF"
    assert sorted(Path(p).suffix for p in downloads) == [".binvox", ".glb", ".obj", ".ply"]


def test_threshold_slider_remeshes_without_the_network(app, tmp_path: Path) -> None:
    page, client, _ = app
    reconstruct(client, photo(tmp_path))
    calls = []
    hook = page.parvox.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        import trimesh

        low, _ = client.predict(0.3, api_name="/remesh")
        high, _ = client.predict(0.7, api_name="/remesh")
    finally:
        hook.remove()
    assert calls == []
    faces = [len(trimesh.load(p, file_type="glb", force="mesh").faces) for p in (low, high)]
    assert faces[0] != faces[1]


def _png_header_only(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                        zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def bad_uploads(tmp_path: Path) -> list[tuple[list[Path], str]]:
    """(files, what the message must name) for each bad upload of the issue."""
    text = tmp_path / "notes.png"
    text.write_text("not a picture at all\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.png"
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)
    Image.fromarray(noise).save(tmp_path / "full.png")
    whole = (tmp_path / "full.png").read_bytes()
    truncated.write_bytes(whole[:len(whole) * 3 // 5])
    huge = tmp_path / "huge.png"
    _png_header_only(huge, 30000, 30000)
    bomb = tmp_path / "bomb.png"  # 144 Mpx of one colour: a few hundred KB on disk
    raw = (b"\0" + b"\0" * 12000 * 3) * 12000
    ihdr = struct.pack(">IIBBBBB", 12000, 12000, 8, 2, 0, 0, 0)
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
        for k, d in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(raw, 9)), (b"IEND", b""))))
    gif = tmp_path / "moving.gif"
    frames = [Image.new("RGB", (40, 40), (i * 60, 0, 0)) for i in range(3)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    six = [photo(tmp_path, f"view{i}.png") for i in range(6)]
    return [([text], "notes.png"), ([empty], "empty.png: the file is empty"),
            ([truncated], "truncated.png"), ([huge], "huge.png: too many pixels"),
            ([bomb], "bomb.png: 12000x12000"), ([gif], "moving.gif: an animation of 3 frames"),
            (six, "at most 5 photos of one object, got 6")]


def test_bad_uploads_are_one_message_and_the_server_goes_on(app, tmp_path: Path) -> None:
    _, client, _ = app
    good = photo(tmp_path, "good.png")
    for files, expected in bad_uploads(tmp_path):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - gradio_client's AppError
            reconstruct(client, *files)
        message = str(caught.value)
        assert expected in message and "\n" not in message.strip(), message
        assert "/tmp/" not in message  # no server paths
        gallery, glb, *_ = reconstruct(client, good)  # still serving
        assert len(gallery) == 1


def test_no_object_found_offers_the_pages_remedies(app, tmp_path: Path) -> None:
    _, client, _ = app
    wall = tmp_path / "wall.jpg"
    Image.new("RGB", (160, 120), (180, 170, 160)).save(wall)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - gradio_client's AppError
        reconstruct(client, wall)
    message = str(caught.value)
    assert "wall.jpg: no object found" in message and "untick" in message, message
    assert "--mask" not in message and "--no-segment" not in message  # not on this page
    gallery, glb, *_ = reconstruct(client, wall, segment=False)  # the switch off: all of it
    assert "wall.jpg: mask from whole photo" in gallery[0]["caption"]
    assert Path(glb).is_file()


def test_sixteen_bit_tiff_is_read(app, tmp_path: Path) -> None:
    _, client, _ = app
    grey = np.zeros((100, 100), np.uint16)
    grey[30:70, 25:75] = 60000
    path = tmp_path / "deep.tif"
    Image.fromarray(grey).save(path)
    assert Image.open(path).mode.startswith("I;16")
    gallery, glb, *_ = reconstruct(client, path)
    assert len(gallery) == 1 and Path(glb).is_file()


def test_iphone_heic_photo_is_read_upright(app, tmp_path: Path) -> None:
    _, client, _ = app
    rgb = np.full((120, 160, 3), 235, np.uint8)  # landscape: an object on a plain wall
    rgb[35:85, 50:110] = (200, 60, 40)
    path = tmp_path / "IMG_0001.HEIC"  # stored turned, as a phone held upright stores it
    Image.fromarray(stored_sideways(rgb, 6)).save(path, format="HEIF", quality=95,
                                                  exif=exif_orientation(6).tobytes())
    gallery, glb, *_ = reconstruct(client, path)
    assert len(gallery) == 1 and Path(glb).is_file()
    with Image.open(gallery[0]["image"]) as shown:
        assert shown.width > shown.height  # the mask is shown on the photo as it was taken


def test_eight_concurrent_users_are_all_answered(app, tmp_path: Path) -> None:
    page, _, _ = app
    path = photo(tmp_path)
    results: dict[int, object] = {}

    def user(i: int) -> None:
        client = gradio_client.Client(f"http://127.0.0.1:{PORT}/", verbose=False)
        try:
            results[i] = reconstruct(client, path)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results[i] = exc

    threads = [threading.Thread(target=user, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert sorted(results) == list(range(8))
    assert all(isinstance(r, tuple) and len(r[0]) == 1 for r in results.values()), results


@pytest.mark.skipif(not PHOTOS.is_dir(), reason="shared photos absent")
def test_shared_photo_example(app) -> None:
    _, client, _ = app
    gallery, glb, downloads, *_ = reconstruct(client, PHOTOS / "car.png")
    assert "car.png: mask from alpha" in gallery[0]["caption"]


def test_cli_refuses_a_bad_port() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "parvox", "app", "--port", "70000"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["parvox: error: --port must be in 1..65535, "
                                                "got 70000"]



