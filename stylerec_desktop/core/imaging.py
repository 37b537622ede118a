"""Reading product images safely: validation on import, and RGB pixels for display and processing.

Image files come from users and from suppliers' exports, so anything can be in them: truncated uploads,
renamed PDFs, CMYK print masters, phone photos that rely on EXIF orientation, and files crafted to exhaust
memory. :func:`inspect_image` refuses all the bad ones with an :class:`ImageError` that names the file;
:func:`load_image` turns the good ones into plain RGB the way a viewer would show them. Neither ever writes to
the file. Both are safe to call from several threads at once.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from stylerec_desktop.core.catalog import ImageInfo
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.safe_files import NotARegularFile, open_regular_file

# A file of a few kilobytes can declare a 100,000 x 100,000 canvas that would take 30 GB to decode (a
# "decompression bomb"). The header is checked against this before any pixel is decoded: 64 megapixels is
# larger than any product shot (a 61 MP full-frame camera) and still decodes in well under 1 GB of RGB.
# It is deliberately below PIL's own warning threshold (~89 MP), so PIL's DecompressionBombWarning can only
# fire for images this module refuses anyway.
MAX_PIXELS = 64_000_000
# Smaller than 16 px is an icon or a tracking pixel, not a product shot; longer than 16384 px on a side is a
# banner or a panorama, and past the largest texture many GPUs can display.
MIN_SIDE, MAX_SIDE = 16, 16384
# The file is read whole before its header is checked. 64 MP of uncompressed 16-bit RGBA (a TIFF straight from
# a scanner, the largest file within the pixel limit) is 512 MB; anything longer is not an image we can use.
MAX_IMAGE_BYTES = 512 << 20

# Formats a catalog image may have. Anything else PIL could open (PSD, EPS via Ghostscript, ICO, ...) is
# refused: those are either not product shots or need external tools we do not ship.
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
SUPPORTED_FORMATS_TEXT = "JPEG, PNG, WebP, TIFF, BMP or GIF"

# EXIF orientations that show the stored pixels turned by 90 or 270 degrees, i.e. width and height swapped.
_SWAPPING_ORIENTATIONS = (5, 6, 7, 8)
_WHITE = (255, 255, 255)

# What a damaged file makes PIL raise past its header. Each plugin fails in its own way on garbage (OSError for
# "truncated" or "broken data stream", but also SyntaxError, ValueError, struct.error, EOFError, IndexError...),
# and whatever it is, the cause is the file, so every Exception counts as a bad image, not as a crash.
_DECODE_ERRORS = (Exception,)


class ImageError(UserError):
    """An image file that cannot be used. ``str()`` names the file, what is wrong and what to do.

    ``problem`` and ``expected`` are the two halves on their own, for reports that name the file their own way
    (an importer's per-row error). ``reason`` is one of :data:`IMAGE_ERROR_REASONS`, for code that reacts to
    the kind of problem (a GUI icon, a test).
    """

    def __init__(self, path: Path, problem: str, expected: str, reason: str) -> None:
        self.path = path
        self.problem = problem
        self.expected = expected
        self.reason = reason
        super().__init__(f"Image {path} {problem}; expected {expected}.")


IMAGE_ERROR_REASONS = ("missing", "unreadable", "format", "corrupt", "bomb", "small", "large", "mode", "write")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; only a regular file of at most :data:`MAX_IMAGE_BYTES` is read (a device such as
    /dev/zero or a FIFO would otherwise be read without end)."""
    try:
        stream, size = open_regular_file(path)
        with stream:
            data = stream.read(MAX_IMAGE_BYTES + 1) if size <= MAX_IMAGE_BYTES else b""
        if size > MAX_IMAGE_BYTES or len(data) > MAX_IMAGE_BYTES:
            raise ImageError(
                path,
                f"is larger than {MAX_IMAGE_BYTES >> 20} MB",
                "an image file of at most that size: save it compressed (JPEG, PNG or WebP)",
                "large",
            )
        return data
    except NotARegularFile as special:
        kind = special.kind
        raise ImageError(path, f"is a {kind}, not a file", "an image file saved on disk", "unreadable") from None
    except FileNotFoundError:
        raise ImageError(
            path,
            "does not exist",
            "an image file there: check the file name and the images folder",
            "missing",
        ) from None
    except IsADirectoryError:
        raise ImageError(path, "is a folder, not a file", "the path of an image file", "unreadable") from None
    except OSError as exc:
        raise ImageError(
            path, f"cannot be read ({exc.strerror or exc})", "a file this user account can read", "unreadable"
        ) from exc


def _open_checked(path: Path, data: bytes) -> Image.Image:
    """Open ``data`` lazily (header only) and apply the format and size limits before anything is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # PIL stops at ~179 MP on open (and warns from ~89 MP when warnings are errors): far past our limit.
        raise ImageError(
            path,
            f"declares more pixels than PIL will decode, a possible decompression bomb ({exc})",
            f"an image of at most {MAX_PIXELS // 1_000_000} megapixels",
            "bomb",
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            path, "is not an image in a supported format", f"a {SUPPORTED_FORMATS_TEXT} file", "format"
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageError(
            path, f"has a damaged header ({exc})", "a complete image file: export or download it again", "corrupt"
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(
            path,
            f"declares {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over the "
            f"{MAX_PIXELS // 1_000_000}-megapixel limit that guards against decompression bombs",
            f"an image of at most {MAX_PIXELS // 1_000_000} megapixels: scale it down",
            "bomb",
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(path, f"is only {width}x{height} pixels", f"at least {MIN_SIDE} pixels on each side", "small")
    if max(width, height) > MAX_SIDE:
        raise ImageError(
            path,
            f"is {width}x{height} pixels, too long on one side",
            f"at most {MAX_SIDE} pixels on each side: scale it down",
            "large",
        )
    return image


def _decode(path: Path, image: Image.Image) -> None:
    """Decode every pixel now, so that damage anywhere in the file is found (PIL is lazy)."""
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(path, f"is a possible decompression bomb ({exc})", "an ordinary image file", "bomb") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(
            path,
            f"is truncated or corrupt ({exc})",
            "a complete image file: export or download it again",
            "corrupt",
        ) from None


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DECODE_ERRORS:
        return 1  # broken EXIF is common in camera files; the pixels themselves are fine
    return value if isinstance(value, int) else 1


def inspect_image(path: Path) -> ImageInfo:
    """Fully validate the image at ``path`` and describe it.

    Checks, in order: the file exists and is readable; it is a supported format; its header declares a sane
    size (:data:`MIN_SIDE`..:data:`MAX_SIDE` per side, at most :data:`MAX_PIXELS`) — before decoding, so a
    decompression bomb costs nothing; and every pixel decodes (a truncated file fails).

    Returns an :class:`ImageInfo` with the absolute path, the SHA-256 of the file bytes, and the width and
    height *as displayed*, i.e. swapped when the EXIF orientation turns the picture by 90 or 270 degrees.
    The file is only read. Raises :class:`ImageError`.
    """
    path = Path(path).resolve()
    data = _read_bytes(path)
    with _open_checked(path, data) as image:
        _decode(path, image)
        width, height = image.size
        if _orientation(image) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    return ImageInfo(path=path, sha256=hashlib.sha256(data).hexdigest(), width=width, height=height)


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16/32-bit grey or float pixels -> 8-bit "L", keeping the tonal range.

    PIL's own ``convert("L")`` clips such values at 255, which turns a 16-bit scan almost all white.
    """
    pixels = np.asarray(image)
    if image.mode == "F":
        top = 1.0 if float(pixels.max(initial=0.0)) <= 1.0 else 255.0  # 0..1 floats are the common case
        scaled = pixels.astype(np.float32) * (255.0 / top)
    elif image.mode == "I" and int(pixels.max(initial=0)) <= 255:
        scaled = pixels.astype(np.float32)  # 8-bit values stored in 32-bit ints (some TIFF writers)
    else:
        scaled = pixels.astype(np.float32) / 257.0  # 0..65535 -> 0..255
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Bring any PIL mode to RGB, or to RGBA when the image has transparency to composite later."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("LA", "La", "PA", "RGBa"):
        return image.convert("RGBA")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "L" and "transparency" in image.info:
        return image.convert("RGBA")
    if mode.startswith("I") or mode == "F":
        return _scale_to_8bit(image).convert("RGB")
    # CMYK: PIL already undoes the inverted storage of Adobe CMYK JPEGs while decoding (rawmode "CMYK;I"),
    # so a plain conversion gives the right, non-negative colours. L, 1, YCbCr, HSV, LAB likewise convert.
    return image.convert("RGB")


def load_image(path: Path, max_side: int | None = None) -> Image.Image:
    """The picture at ``path`` as an 8-bit RGB image, as a viewer would show it.

    EXIF orientation is applied; grey, palette, 16-bit and CMYK images are converted to RGB; transparency is
    composited over white (the studio background of product shots). With ``max_side``, the result is scaled
    down (never up) to fit in ``max_side`` x ``max_side`` keeping its aspect ratio; JPEGs are then decoded at
    a reduced scale straight away, which is several times faster for thumbnails.

    The same format and size limits as :func:`inspect_image` apply; raises :class:`ImageError`.
    """
    path = Path(path).resolve()
    return load_image_data(_read_bytes(path), path, max_side)


def read_image_bytes(path: Path) -> bytes:
    """The bytes of the image file at ``path``, read with the same checks as :func:`load_image` (a regular file of
    at most :data:`MAX_IMAGE_BYTES`), to be decoded elsewhere (a cluster worker) with :func:`load_image_data`.
    Raises :class:`ImageError`."""
    return _read_bytes(Path(path).resolve())


def load_image_data(data: bytes, path: Path, max_side: int | None = None) -> Image.Image:
    """:func:`load_image` for the bytes of an image file already read (``path`` is where they came from; it names
    the file in errors and is not opened)."""
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    with _open_checked(path, data) as image:
        if max_side is not None and image.format == "JPEG":
            # The DCT scaling of libjpeg picks a scale that still covers the requested box, so the final
            # thumbnail() below loses no sharpness. The box is square, so orientation does not matter.
            image.draft(None, (max_side, max_side))
        _decode(path, image)
        try:
            picture = ImageOps.exif_transpose(image)
        except _DECODE_ERRORS:
            picture = image.copy()  # unreadable EXIF: show the pixels as stored
    try:
        picture = _to_rgb_or_rgba(picture)
    except ValueError as exc:  # a mode PIL cannot turn into RGB, e.g. a LAB TIFF
        raise ImageError(
            path,
            f"uses the {picture.mode} colour mode, which cannot be shown ({exc})",
            "an RGB or CMYK image",
            "mode",
        ) from None
    if max_side is not None:
        # Resampling RGBA in PIL premultiplies alpha, so scaling before compositing leaves no dark fringes.
        picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if picture.mode == "RGBA":
        background = Image.new("RGB", picture.size, _WHITE)
        background.paste(picture, mask=picture.getchannel("A"))
        picture = background
    return picture
