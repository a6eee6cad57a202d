"""Image-mode handling shared by the dataset, ``data verify`` and ``reconstruct`` (PIL only),
and the bounded-memory decoding of user photos of any size.

:func:`read_photo` reads a photo into at most :data:`MAX_DECODE_PIXELS` pixels without ever
holding the full-size image:

* baseline JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (PIL's ``draft``);
* non-interlaced PNG is inflated and unfiltered in strips of rows: each strip's filtered rows,
  preceded by the previous strip's last decoded row stored unfiltered, go through PIL's own PNG
  row decoder, so every strip is decoded exactly as a full decode would;
* other formats (TIFF, WebP, AVIF, HEIF/HEIC, BMP, GIF, interlaced PNG, progressive JPEG,
  whose decoders need the whole image or a whole-image buffer) are decoded whole up to
  :data:`MAX_FULL_DECODE_PIXELS` and refused above it;

then reduced strip by strip (a box filter over ``factor`` x ``factor`` pixels) after
transparency is composited on the background grey, and turned upright as the file's EXIF
Orientation tag says (phones store a portrait photo's pixels sideways and set that tag; every
viewer shows it upright, so the network must see it so too). Photos above
:data:`MAX_PHOTO_PIXELS` are refused. Every failure is a :class:`~parvox.errors.DataError`
naming the file.
"""

from __future__ import annotations

import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin
from pillow_heif import register_heif_opener

from parvox.errors import DataError

# HEIF/HEIC, the photo format of iPhones, for every PIL reader once this module is imported
# (pillow-heif's plugin): its decoder applies the file's own rotation and mirroring and reports
# EXIF Orientation 1 after, so such a photo is turned once.
register_heif_opener()

#: Photos larger than this are reduced by an integer factor while they are decoded.
MAX_DECODE_PIXELS = 4096 * 4096
#: Largest photo read at all (PNG and baseline JPEG: decoded in bounded memory).
MAX_PHOTO_PIXELS = 1_000_000_000
#: Largest photo of the formats decoded whole (TIFF, WebP, interlaced PNG, progressive JPEG...).
MAX_FULL_DECODE_PIXELS = 8192 * 8192
#: Bytes of decoded pixels (as PIL holds them, 4 a pixel) per strip.
STRIP_BYTES = 8 << 20

#: The 8 bytes every PNG file starts with (PNG spec, section 5.2).
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
_BYTE_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}  # PIL modes stored byte for byte
#: EXIF's Orientation tag (EXIF 2.32, tag 0x0112; TIFF 6.0 "Orientation").
ORIENTATION_TAG = 0x0112
#: Per Orientation value, the transpose that shows the stored pixels upright. The value says
#: where the stored 0th row and 0th column lie as the image is seen: 2 top/right, 3 bottom/
#: right, 4 bottom/left, 5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom (1: top/left,
#: stored upright; any other value is treated as 1, as viewers do).
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
#: What decoders raise on a corrupt file (RuntimeError: the AVIF and HEIF decoders' "failed to
#: decode" on corrupt pixel data, found by the fuzzer).
_READ_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, zlib.error,
                struct.error, Image.DecompressionBombError)


def to_rgba(image: Image.Image) -> Image.Image:
    """An image of any mode as 8-bit RGBA: palette, grey, grey+alpha, RGB (with PNG ``tRNS``
    transparency), CMYK, and 16/32-bit grey (full scale 0..65535 -> 0..255)."""
    if image.mode.startswith("I"):
        grey = np.asarray(image).astype(np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return image if image.mode == "RGBA" else image.convert("RGBA")


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel or PNG ``tRNS``)."""
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def flatten(image: Image.Image, background: int) -> Image.Image:
    """RGB from any mode; transparency is composited on the grey ``background``."""
    if not has_alpha(image):
        if image.mode == "RGB":
            return image
        return image.convert("RGB") if not image.mode.startswith("I") else \
            to_rgba(image).convert("RGB")
    under = Image.new("RGBA", image.size, (background,) * 3 + (255,))
    return Image.alpha_composite(under, to_rgba(image)).convert("RGB")


def read_photo(path: str | os.PathLike[str], background: int | None,
               min_side: int = 0) -> Image.Image:
    """``path`` as an RGB image of at most :data:`MAX_DECODE_PIXELS` pixels, transparency on
    the grey ``background`` (or, with ``background=None``, an RGBA image that keeps it);
    decoded in bounded memory whatever its size (see the module doc). A JPEG is decoded at the
    smallest of the scales 1, 1/2, 1/4 and 1/8 that keeps its shorter side >= ``min_side``
    (when given).

    Raises:
        DataError: unreadable, corrupt, or too large to decode (naming the file and the size).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # PIL on corrupt EXIF/TIFF tags
            return _read_photo(path, background, min_side)
    except _READ_ERRORS as exc:
        raise DataError(path, f"cannot read image ({_reason(exc)})") from None


def _read_photo(path: str | os.PathLike[str], background: int | None,
                min_side: int) -> Image.Image:
    """:func:`read_photo` without its error translation."""
    with _open(path) as image:
        width, height = image.size
        if width * height > MAX_PHOTO_PIXELS:
            raise _too_large(path, image, MAX_PHOTO_PIXELS, "photos")
        turn = UPRIGHT.get(orientation(image))
        if _strip_png(image):
            factor = _factor(width * height)
            strips = _png_strips(image, _strip_rows(image.width, factor))
        else:
            _load_whole(path, image, min_side)  # a JPEG draft shrinks image.size
            factor = _factor(image.width * image.height)
            strips = _crop_strips(image, _strip_rows(image.width, factor))
        reduced = _reduce_strips(strips, image.size, factor, background)
        return reduced.transpose(turn) if turn is not None else reduced


def orientation(image: Image.Image) -> int:
    """The EXIF Orientation of an opened, not yet decoded image (1, upright, when it has none
    or the EXIF block cannot be read). A PNG's ``eXIf`` chunk counts when it comes before the
    pixel data (PIL would decode the whole image to look after it)."""
    try:
        if isinstance(image, PngImagePlugin.PngImageFile):
            exif = Image.Exif()
            exif.load(image.info.get("exif", b""))
        else:
            exif = image.getexif()
        value = exif.get(ORIENTATION_TAG, 1)
    except _READ_ERRORS + (KeyError, TypeError, IndexError):
        return 1
    return value if value in UPRIGHT else 1


def photo_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of a photo as it is seen, from the file's header: the stored size,
    swapped when its EXIF Orientation turns it a quarter (values 5 to 8).

    Raises:
        DataError: missing or unreadable file.
    """
    try:
        with _open(path) as image:
            width, height = image.size
            return (height, width) if orientation(image) >= 5 else (width, height)
    except FileNotFoundError:
        raise DataError(path, "image file not found") from None
    except _READ_ERRORS as exc:
        raise DataError(path, f"cannot read image ({_reason(exc)})") from None


def _open(path: str | os.PathLike[str]) -> Image.Image:
    """PNG and JPEG open without PIL's decompression-bomb limit (179 Mpx; they are decoded in
    bounded memory here); other formats keep it (they are decoded whole)."""
    with open(path, "rb") as handle:
        head = handle.read(len(PNG_SIGNATURE))
    if head.startswith(PNG_SIGNATURE):
        return PngImagePlugin.PngImageFile(path)
    if head.startswith(_JPEG_SIGNATURE):
        return JpegImagePlugin.JpegImageFile(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as exc:
            pixels = re.search(r"\((\d+) pixels\)", str(exc))
            size = f"{int(pixels[1]) / 1e6:.0f} Mpx" if pixels else "too many pixels"
            raise DataError(path, f"image too large to decode ({size}; formats other than PNG "
                            f"and JPEG are read up to {MAX_FULL_DECODE_PIXELS / 1e6:.0f} Mpx): "
                            "downscale it (e.g. to 4096 pixels on the long side) or save it as "
                            "PNG or JPEG") from None


def _too_large(path: str | os.PathLike[str], image: Image.Image, limit: int, what: str,
               alternative: str = "") -> DataError:
    width, height = image.size
    return DataError(path, f"image too large to decode ({width}x{height}, "
                     f"{width * height / 1e6:.0f} Mpx; {what} are read up to "
                     f"{limit / 1e6:.0f} Mpx): downscale it (e.g. to 4096 pixels on the long "
                     f"side){f' or {alternative}' if alternative else ''}")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _factor(pixels: int) -> int:
    """The reduction factor that brings ``pixels`` to at most :data:`MAX_DECODE_PIXELS`."""
    factor = max(1, math.ceil(math.sqrt(pixels / MAX_DECODE_PIXELS)))
    while pixels / factor**2 > MAX_DECODE_PIXELS:  # guard against rounding
        factor += 1
    return factor


def _strip_rows(width: int, factor: int) -> int:
    """Rows per strip: about :data:`STRIP_BYTES` of decoded pixels, a multiple of ``factor``."""
    return max(factor, STRIP_BYTES // (4 * width) // factor * factor)


def _load_whole(path: str | os.PathLike[str], image: Image.Image, min_side: int) -> None:
    """Decode the image whole (a baseline JPEG at reduced scale), or refuse it if too large."""
    width, height = image.size
    if isinstance(image, JpegImagePlugin.JpegImageFile):
        progressive = image.info.get("progressive") or image.info.get("progression")
        if progressive and width * height > MAX_FULL_DECODE_PIXELS:
            # libjpeg buffers all coefficients of a progressive JPEG, whatever the draft scale
            raise _too_large(path, image, MAX_FULL_DECODE_PIXELS, "progressive JPEGs",
                             "save it as baseline JPEG or PNG")
        scale = _jpeg_scale(width, height, min_side)
        if scale > 1:
            image.draft("RGB", (width // scale, height // scale))
    elif width * height > MAX_FULL_DECODE_PIXELS:
        if isinstance(image, PngImagePlugin.PngImageFile):
            raise _too_large(path, image, MAX_FULL_DECODE_PIXELS, "interlaced PNGs",
                             "save it without interlacing")
        raise _too_large(path, image, MAX_FULL_DECODE_PIXELS,
                         f"{image.format} images" if image.format else "images of this format",
                         "save it as PNG or JPEG")
    image.load()


def _jpeg_scale(width: int, height: int, min_side: int) -> int:
    """The JPEG decoding scale divisor (1, 2, 4 or 8): at least the one that brings the image
    within :data:`MAX_DECODE_PIXELS`, larger while the shorter side stays >= ``min_side``."""
    scale = 1
    while scale < 8:
        fits = width * height / scale**2 <= MAX_DECODE_PIXELS
        if fits and not (min_side > 0 and min(width, height) // (2 * scale) >= min_side):
            break
        scale *= 2
    return scale


def _crop_strips(image: Image.Image, rows: int) -> Iterator[Image.Image]:
    """A decoded image in strips of ``rows`` rows (the image itself if it has no more)."""
    if rows >= image.height:
        yield image
        return
    for top in range(0, image.height, rows):
        yield image.crop((0, top, image.width, min(top + rows, image.height)))


def _reduce_strips(strips: Iterable[Image.Image], size: tuple[int, int], factor: int,
                   background: int | None) -> Image.Image:
    """Flatten (or, without ``background``, convert to RGBA) and reduce horizontal strips (each
    a multiple of ``factor`` rows high but the last) and stack them: the same pixels as reducing
    the whole image at once."""
    out: Image.Image | None = None
    top = 0
    for strip in strips:
        rgb = flatten(strip, background) if background is not None else to_rgba(strip)
        if factor > 1:
            rgb = rgb.reduce(factor)
        if out is None:
            if strip.size == size:
                return rgb
            out = Image.new(rgb.mode, (-(-size[0] // factor), -(-size[1] // factor)))
        out.paste(rgb, (0, top))
        top += rgb.height
    if out is None or top != out.height:
        raise EOFError("image data ends early")
    return out


# ----------------------------------------------------------------------------------------------
# PNG in strips of rows


def _strip_png(image: Image.Image) -> bool:
    """A PNG decoded in strips: non-interlaced, larger than :data:`MAX_DECODE_PIXELS`."""
    return (isinstance(image, PngImagePlugin.PngImageFile)
            and not image.info.get("interlace")
            and image.width * image.height > MAX_DECODE_PIXELS)


def _png_layout(image: PngImagePlugin.PngImageFile) -> tuple[int, int]:
    """(bytes per complete pixel for the filters, bytes per row) from the IHDR chunk."""
    assert image.fp is not None
    image.fp.seek(len(PNG_SIGNATURE))
    length, kind = struct.unpack(">I4s", image.fp.read(8))
    ihdr = image.fp.read(13)
    if kind != b"IHDR" or length != 13 or len(ihdr) != 13:
        raise SyntaxError("no IHDR chunk")
    depth, colour = ihdr[8], ihdr[9]
    if colour not in _PNG_CHANNELS:
        raise SyntaxError(f"unknown PNG colour type {colour}")
    bits = depth * _PNG_CHANNELS[colour]
    return max(1, bits // 8), (image.width * bits + 7) // 8


def _idat(handle: BinaryIO) -> Iterator[bytes]:
    """The payload of a PNG's IDAT chunks in pieces of at most 1 MiB, CRCs checked."""
    handle.seek(len(PNG_SIGNATURE))
    seen = False
    while True:
        head = handle.read(8)
        if len(head) < 8:
            raise EOFError("PNG ends before its image data")
        length, kind = struct.unpack(">I4s", head)
        if kind != b"IDAT":
            if seen:
                return  # the IDAT chunks are consecutive
            if kind == b"IEND":
                raise EOFError("PNG has no image data")
            handle.seek(length + 4, os.SEEK_CUR)
            continue
        seen = True
        crc = zlib.crc32(kind)
        left = length
        while left:
            piece = handle.read(min(left, 1 << 20))
            if not piece:
                raise EOFError("PNG image data is truncated")
            crc = zlib.crc32(piece, crc)
            left -= len(piece)
            yield piece
        stored = handle.read(4)
        if len(stored) < 4 or struct.unpack(">I", stored)[0] != crc:
            raise SyntaxError("broken PNG file (bad IDAT checksum)")


def _png_strips(image: PngImagePlugin.PngImageFile, rows: int) -> Iterator[Image.Image]:
    """The PNG in strips of ``rows`` rows, in its own mode (palette and transparency kept)."""
    assert image.fp is not None
    if not image.tile:
        raise EOFError("PNG has no image data")
    bpp, row_bytes = _png_layout(image)
    rawmode = image.tile[0][3]
    width, height = image.size
    inflate = zlib.decompressobj()
    pieces = _idat(image.fp)
    previous: np.ndarray | None = None
    for top in range(0, height, rows):
        count = min(rows, height - top)
        filtered = _inflate(inflate, pieces, count * (row_bytes + 1))
        lines = np.frombuffer(filtered, np.uint8).reshape(count, row_bytes + 1)
        if previous is not None:  # the last decoded row, unfiltered, as context for the first
            lines = np.concatenate([np.concatenate([[0], previous]).astype(np.uint8)[None],
                                    lines])
        decoded = _unfilter(lines, bpp)
        if previous is not None:
            decoded = decoded[1:]
        previous = decoded[-1].copy()
        strip = Image.frombytes(image.mode, (width, count), decoded.tobytes(), "raw", rawmode)
        if image.mode == "P" and image.palette is not None:
            strip.putpalette(image.palette)
        if "transparency" in image.info:
            strip.info["transparency"] = image.info["transparency"]
        yield strip


def _inflate(inflate: zlib._Decompress, pieces: Iterator[bytes], size: int) -> bytes:
    """The next ``size`` bytes of the inflated stream, never more."""
    out = bytearray()
    while len(out) < size:
        data = inflate.unconsumed_tail or next(pieces, b"")
        if not data:
            raise EOFError("PNG image data is truncated")
        out += inflate.decompress(data, size - len(out))
        if inflate.eof and len(out) < size:
            raise EOFError("PNG image data ends early")
    return bytes(out)


def _unfilter(lines: np.ndarray, bpp: int) -> np.ndarray:
    """Undo the PNG filters of ``lines`` (rows of a filter byte then the row) with PIL's own
    row decoder. Byte ``i`` of a row only ever depends on bytes ``i - bpp`` of the row and ``i``
    and ``i - bpp`` of the row above, so the row is decoded as an 8-bit L, LA, RGB or RGBA
    image of bpp bytes per pixel (16-bit RGB and RGBA: two interleaved halves of 3 or 4)."""
    count, stride = lines.shape
    group = bpp if bpp in _BYTE_MODES else bpp // 2
    mode = _BYTE_MODES[group]
    if group == bpp:
        parts = [lines]
    else:
        pixels = lines[:, 1:].reshape(count, -1, bpp)
        parts = [np.concatenate([lines[:, :1], pixels[:, :, k:k + group].reshape(count, -1)],
                                axis=1) for k in range(0, bpp, group)]
    decoded = []
    for part in parts:
        size = ((part.shape[1] - 1) // group, count)
        data = zlib.compress(np.ascontiguousarray(part).tobytes(), 0)
        decoded.append(np.asarray(Image.frombytes(mode, size, data, "zip", mode)))
    if len(decoded) == 1:
        return decoded[0].reshape(count, stride - 1)
    return np.concatenate(decoded, axis=2).reshape(count, stride - 1)
