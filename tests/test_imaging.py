"""Image validation, RGB conversion and the thumbnail cache, on small images generated here with PIL."""

from __future__ import annotations

import hashlib
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from stylerec_desktop.core.imaging import MAX_PIXELS, ImageError, inspect_image, load_image
from stylerec_desktop.core.thumbnail_cache import ensure_thumbnail, thumbnail_path

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def save_jpeg(path: Path, size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = RED) -> Path:
    Image.new("RGB", size, colour).save(path, "JPEG", quality=95)
    return path


def noisy_jpeg(path: Path, size: int = 128) -> Path:
    """Noise compresses badly, so the scan data is long and cutting the file in half truncates it mid-scan."""
    pixels = np.random.default_rng(7).integers(0, 256, (size, size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, "JPEG", quality=90)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height``: a decompression bomb without the cost of one."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


# -- inspect_image ---------------------------------------------------------------------------------------------


def test_inspect_good_jpeg_reports_hash_size_and_absolute_path(tmp_path, monkeypatch):
    path = save_jpeg(tmp_path / "tee.jpg", (80, 40))
    monkeypatch.chdir(tmp_path)
    info = inspect_image(Path("tee.jpg"))
    assert info.path == path.resolve() and info.path.is_absolute()
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.width, info.height) == (80, 40)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "nowhere.jpg", "missing"),
        (lambda d: d, "unreadable"),  # a folder
        (lambda d: write(d / "random.jpg", np.random.default_rng(1).bytes(3000)), "format"),
        (lambda d: write(d / "doc.png", b"%PDF-1.4 not an image"), "format"),
        (lambda d: png_header_only(d / "bomb.png", 20_000, 20_000), "bomb"),  # PIL's own limit trips first
        (lambda d: png_header_only(d / "big.png", 8_200, 8_200), "bomb"),  # 67 MP: only our limit trips
        (lambda d: png_header_only(d / "strip.png", 16_500, 16), "large"),
        (lambda d: save_jpeg(d / "icon.jpg", (8, 8)), "small"),
        (lambda d: save_jpeg(d / "line.jpg", (300, 10)), "small"),
    ],
    ids=["missing", "folder", "random-bytes", "text", "bomb-pil", "bomb-ours", "too-long", "tiny", "thin"],
)
def test_inspect_refuses_bad_files_with_a_message_naming_them(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ImageError) as caught:
        inspect_image(path)
    assert caught.value.reason == reason
    assert str(path.resolve()) in str(caught.value)


def test_bomb_is_refused_from_the_header_alone(tmp_path):
    """The fake bomb has no pixel data worth the name: refusing it fast proves nothing was decoded."""
    path = png_header_only(tmp_path / "big.png", 8_200, 8_200)
    assert MAX_PIXELS < 8_200 * 8_200
    with pytest.raises(ImageError, match="decompression bomb"):
        inspect_image(path)


def test_truncated_jpeg_fails(tmp_path):
    path = noisy_jpeg(tmp_path / "whole.jpg")
    data = path.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated") as caught:
        inspect_image(cut)
    assert caught.value.reason == "corrupt"
    inspect_image(path)  # the whole file is fine


def test_truncated_png_fails(tmp_path):
    pixels = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "whole.png"
    Image.fromarray(pixels).save(path)
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ImageError) as caught:
        inspect_image(cut)
    assert caught.value.reason == "corrupt"


def test_exif_orientation_6_swaps_size_and_rotates_pixels(tmp_path):
    # Stored 40 wide x 20 high: top half red, bottom half blue. Orientation 6 = turn 90 degrees clockwise
    # to display, so the top edge ends up on the right.
    stored = Image.new("RGB", (40, 20), BLUE)
    stored.paste(RED, (0, 0, 40, 10))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    path = tmp_path / "phone.jpg"
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    before = path.read_bytes()

    info = inspect_image(path)
    assert (info.width, info.height) == (20, 40)
    picture = load_image(path)
    assert picture.size == (20, 40)
    assert close(picture.getpixel((16, 20)), RED)  # right half
    assert close(picture.getpixel((3, 20)), BLUE)  # left half
    assert path.read_bytes() == before


# -- load_image: conversions -----------------------------------------------------------------------------------


def test_cmyk_jpeg_is_not_a_negative(tmp_path):
    # PIL writes CMYK JPEGs the Adobe way (inverted), as Photoshop does: the classic bug shows this red as cyan.
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(path, "JPEG", quality=95)
    assert Image.open(path).mode == "CMYK"
    picture = load_image(path)
    assert picture.mode == "RGB"
    assert close(picture.getpixel((16, 16)), RED)
    assert inspect_image(path).width == 32


def test_rgba_png_is_composited_on_white(tmp_path):
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))  # fully transparent black
    image.paste((255, 0, 0, 128), (0, 0, 16, 32))  # half-transparent red on the left
    path = tmp_path / "cutout.png"
    image.save(path)
    picture = load_image(path)
    assert picture.mode == "RGB"
    assert close(picture.getpixel((24, 16)), WHITE, 1)  # transparent black shows the white background
    assert close(picture.getpixel((8, 16)), (255, 127, 127), 2)


def test_palette_with_transparency_and_grey_alpha_are_composited_on_white(tmp_path):
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    palette.paste(1, (0, 0, 10, 20))
    palette.save(tmp_path / "p.png", transparency=0)
    picture = load_image(tmp_path / "p.png")
    assert close(picture.getpixel((15, 5)), WHITE, 0) and close(picture.getpixel((5, 5)), (0, 255, 0), 0)

    grey = Image.new("LA", (20, 20), (0, 0))
    grey.save(tmp_path / "la.png")
    assert close(load_image(tmp_path / "la.png").getpixel((5, 5)), WHITE, 0)


def test_grayscale_becomes_grey_rgb(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.new("L", (32, 32), 90).save(path, quality=95)
    picture = load_image(path)
    assert picture.mode == "RGB"
    assert close(picture.getpixel((5, 5)), (90, 90, 90), 2)


def test_16bit_grey_keeps_its_tones(tmp_path):
    # PIL's own convert() clips 16-bit values at 255 (mid-grey would come out white).
    pixels = np.zeros((32, 32), dtype=np.uint16)
    pixels[:, 16:] = 32768
    pixels[:16, :16] = 65535
    path = tmp_path / "scan.png"
    Image.fromarray(pixels).save(path)
    assert Image.open(path).mode.startswith("I")
    picture = load_image(path)
    assert close(picture.getpixel((24, 24)), (128, 128, 128), 1)
    assert close(picture.getpixel((4, 4)), WHITE, 0)
    assert close(picture.getpixel((4, 24)), (0, 0, 0), 0)


def test_max_side_fits_the_box_and_keeps_aspect(tmp_path):
    path = save_jpeg(tmp_path / "wide.jpg", (1000, 500))
    picture = load_image(path, max_side=100)
    assert picture.size == (100, 50)
    assert close(picture.getpixel((50, 25)), RED)
    assert load_image(save_jpeg(tmp_path / "small.jpg", (60, 30)), max_side=100).size == (60, 30)  # never up


def test_load_image_applies_the_same_guards(tmp_path):
    with pytest.raises(ImageError):
        load_image(png_header_only(tmp_path / "bomb.png", 20_000, 20_000))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(noisy_jpeg(tmp_path / "n.jpg").read_bytes()[:1500])
    with pytest.raises(ImageError):
        load_image(cut, max_side=64)


# -- thumbnails ------------------------------------------------------------------------------------------------


def test_thumbnail_path_is_content_addressed():
    digest = "ab" + "0" * 62
    assert thumbnail_path(Path("/t"), digest, 256) == Path("/t/ab") / f"{digest}_256.jpg"
    with pytest.raises(ValueError):
        thumbnail_path(Path("/t"), "../../etc/passwd", 256)


def test_thumbnail_is_made_once_then_served_from_the_cache(tmp_path):
    source = save_jpeg(tmp_path / "tee.jpg", (600, 300), BLUE)
    digest = inspect_image(source).sha256
    thumbs = tmp_path / "thumbs"

    first = ensure_thumbnail(thumbs, source, digest, size=128)
    assert first == thumbnail_path(thumbs, digest, 128)
    with Image.open(first) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (128, 64)
        assert close(thumb.getpixel((64, 32)), BLUE)
    stamp = first.stat().st_mtime_ns

    source.unlink()  # the cache must not need the original any more
    assert ensure_thumbnail(thumbs, source, digest, size=128) == first
    assert first.stat().st_mtime_ns == stamp
    assert ensure_thumbnail(thumbs, source, digest, size=128).read_bytes() == first.read_bytes()


def test_concurrent_workers_leave_one_whole_thumbnail_and_no_temp_files(tmp_path):
    source = noisy_jpeg(tmp_path / "n.jpg", size=512)
    digest = inspect_image(source).sha256
    thumbs = tmp_path / "thumbs"
    results: list[Path] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        results.append(ensure_thumbnail(thumbs, source, digest, size=200))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    with Image.open(results[0]) as thumb:
        thumb.load()  # decodes completely: not a half-written file
        assert thumb.size == (200, 200)
    assert [p.name for p in results[0].parent.iterdir()] == [results[0].name]


def test_bad_image_gives_image_error_and_no_thumbnail(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg at all" * 20)
    digest = hashlib.sha256(bad.read_bytes()).hexdigest()
    with pytest.raises(ImageError):
        ensure_thumbnail(tmp_path / "thumbs", bad, digest)
    assert not thumbnail_path(tmp_path / "thumbs", digest, 256).exists()
