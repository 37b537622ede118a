"""Writers: every format read back for its size, sRGB profile, provenance XMP and EXIF; atomic writes."""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from _icc import matrix_profile
from PIL import Image, ImageCms, JpegImagePlugin

from stylerec_desktop.core.export.presets import ExportPreset
from stylerec_desktop.core.export.writers import (
    NS,
    SOURCE_TYPE_ENHANCED,
    SOURCE_TYPE_RESTYLED,
    Provenance,
    build_exif,
    build_xmp,
    encode_image,
    read_xmp,
    recipe_id,
    to_srgb,
    write_atomic,
)

RECIPE = {
    "engine": "arbitrary",
    "source": "starry-night.jpg",
    "options": {"strength": 0.8, "preserve_colour": True, "mask": "background"},
    "seed": 42,
    "model_hashes": {"style_predictor": "ab12" * 16, "style_transformer": "cd34" * 16},
}


def _provenance(recipe: dict | None = RECIPE) -> Provenance:
    return Provenance.for_item("SKU-<1>&", "Robe d'été \"Lin\"", "Starry", recipe, segment="bold-colour")


def _picture() -> Image.Image:
    image = Image.new("RGB", (300, 200), (240, 240, 240))
    image.paste((200, 30, 40), (100, 50, 200, 150))
    return image


def _icc_description(image: Image.Image) -> str:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    return ImageCms.getProfileDescription(profile)


@pytest.mark.parametrize(
    "preset",
    [
        ExportPreset("a", 300, 200, format="jpeg", quality=85, subsampling="4:4:4", progressive=True),
        ExportPreset("b", 300, 200, format="jpeg", subsampling="4:2:0"),
        ExportPreset("c", 300, 200, format="png"),
        ExportPreset("d", 300, 200, format="webp", quality=80),
        ExportPreset("e", 300, 200, format="webp", lossless=True),
    ],
    ids=["jpeg-444-progressive", "jpeg-420", "png", "webp-lossy", "webp-lossless"],
)
def test_every_format_carries_srgb_profile_and_provenance(preset: ExportPreset) -> None:
    provenance = _provenance()
    data = encode_image(_picture(), preset, xmp=build_xmp(provenance), exif=build_exif(provenance, preset.size))
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[preset.format]
        assert image.size == (300, 200)
        assert "sRGB" in _icc_description(image)
        xmp = read_xmp(image.info["xmp"])
        exif = image.getexif()
        if preset.format == "jpeg":
            assert JpegImagePlugin.get_sampling(image) == (0 if preset.subsampling == "4:4:4" else 2)
            assert bool(image.info.get("progressive")) == preset.progressive
        if preset.lossless:
            assert b"VP8L" in data  # the lossless WebP bitstream
            assert image.getpixel((150, 100)) == (200, 30, 40)
    assert xmp["digital_source_type"] == SOURCE_TYPE_RESTYLED
    assert xmp["sku"] == "SKU-<1>&" and xmp["title"] == "Robe d'été \"Lin\""
    assert xmp["styleSource"] == "starry-night.jpg" and xmp["engine"] == "arbitrary"
    assert xmp["seed"] == "42" and xmp["segment"] == "bold-colour"
    assert xmp["recipeId"] == recipe_id(RECIPE)
    import json

    assert json.loads(xmp["options"]) == RECIPE["options"]
    assert json.loads(xmp["modelHashes"]) == RECIPE["model_hashes"]
    assert "restyled" in xmp["description"] and "SKU-<1>&" in xmp["description"]
    assert "restyled" in exif[0x010E] and "Robe d'ete" in exif[0x010E]  # ASCII-only EXIF, accents dropped
    assert exif[0x0131].startswith("StyleRec Desktop")


def test_xmp_is_plain_well_formed_rdf() -> None:
    packet = build_xmp(_provenance()).decode("utf-8")
    assert packet.startswith("<?xpacket begin=") and packet.endswith('<?xpacket end="w"?>')
    body = packet[packet.index("<x:xmpmeta") : packet.rindex("</x:xmpmeta>") + len("</x:xmpmeta>")]
    root = ElementTree.fromstring(body)
    found = root.find(f".//{{{NS['Iptc4xmpExt']}}}DigitalSourceType")
    assert found is not None
    assert found.text == "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    description = root.find(f".//{{{NS['dc']}}}description/{{{NS['rdf']}}}Alt/{{{NS['rdf']}}}li")
    assert description is not None and description.get("{http://www.w3.org/XML/1998/namespace}lang") == "x-default"


def test_control_characters_in_fields_do_not_break_the_xmp() -> None:
    provenance = Provenance.for_item("A\x00B", "Title\x1b[31m red\ufffe", "style\x07")
    fields = read_xmp(build_xmp(provenance))
    assert fields["sku"] == "AB" and fields["title"] == "Title[31m red" and fields["styleSource"] == "style"


def test_source_types_by_what_was_done() -> None:
    assert _provenance(None).digital_source_type == ""  # an untouched catalog photo claims nothing
    assert "exported by" in _provenance(None).description
    colour = Provenance.for_item("A", recipe={"engine": "colour", "source": "x.jpg"})
    assert colour.digital_source_type == SOURCE_TYPE_ENHANCED
    generated = Provenance.for_item("A", recipe={"engine": "x", "digital_source_type": "trainedAlgorithmicMedia"})
    assert generated.digital_source_type.endswith("/trainedAlgorithmicMedia")
    assert recipe_id({"id": "r-17"}) == "r-17"
    assert recipe_id(RECIPE) == recipe_id(dict(reversed(list(RECIPE.items()))))  # stable, order-free hash
    assert len(recipe_id(RECIPE)) == 16 and recipe_id(None) == ""


def test_wide_gamut_source_is_converted_to_srgb() -> None:
    adobe = matrix_profile()
    image = Image.new("RGB", (8, 8), (100, 180, 100))
    image.paste((128, 128, 128), (0, 0, 4, 8))
    converted, note = to_srgb(image, adobe)
    assert note == ""
    r, g, b = converted.getpixel((6, 4))
    # Adobe RGB's green is far more saturated than sRGB's: in sRGB numbers the same colour is a purer green.
    assert g - r > 180 - 100 + 40
    grey = converted.getpixel((1, 4))
    assert max(grey) - min(grey) <= 2  # neutrals stay neutral
    same, note = to_srgb(image, ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    assert note == "" and same.tobytes() == image.tobytes()
    unchanged, note = to_srgb(image, b"not a profile")
    assert "damaged" in note and unchanged.tobytes() == image.tobytes()
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    assert "not an RGB profile" in to_srgb(image, lab)[1]


def test_kept_exif_is_corrected_and_stripped_by_default() -> None:
    source = Image.Exif()
    source[0x010F] = "Canon"  # Make
    source[0x0112] = 6  # Orientation: the export's pixels are already upright
    provenance = _provenance(None)
    kept = Image.Exif()
    kept.load(build_exif(provenance, (1080, 1350), source.tobytes()))
    assert kept[0x010F] == "Canon" and kept[0x0112] == 1
    assert "exported by" in kept[0x010E]
    stripped = Image.Exif()
    stripped.load(build_exif(provenance, (1080, 1350)))
    assert 0x010F not in stripped and 0x0112 not in stripped


def test_write_atomic_leaves_nothing_behind_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.jpg"
    write_atomic(target, b"first")
    assert target.read_bytes() == b"first"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"second")
    assert target.read_bytes() == b"first"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]
