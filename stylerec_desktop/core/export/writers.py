"""Encoding exported images: sRGB with its ICC profile, provenance metadata, and atomic writes.

Ad platforms and browsers assume sRGB, and many ignore embedded profiles, so every file is converted to sRGB
(from the source's own profile when it has one) and says so with an embedded sRGB profile. Every file also says
where it came from: an XMP packet with a human description, the IPTC Digital Source Type for AI-modified images
(what ad platforms read to label AI content), and StyleRec's own fields to re-render it; plus a plain EXIF
ImageDescription for tools that read only EXIF.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import struct
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import cv2
import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from stylerec_desktop import __version__
from stylerec_desktop.core.export.presets import ExportPreset

# The atomic, link-refusing file writes every export file goes through; kept importable from here, where the
# export's other writing lives.
from stylerec_desktop.core.safe_files import (  # noqa: F401 - re-exported
    TEMP_PREFIX,
    atomic_file,
    fsync_folder,
    is_temp_name,
    write_atomic,
)

SOFTWARE = f"StyleRec Desktop {__version__}"
# IPTC NewsCodes "Digital Source Type" vocabulary (https://cv.iptc.org/newscodes/digitalsourcetype/).
IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# A captured product photo whose pixels a trained model (a style network) has reworked: captured media combined
# with trained-algorithmic media. A picture a model made with no photo behind it is "trainedAlgorithmicMedia";
# a classical, untrained colour transfer only "algorithmicallyEnhanced" the photo.
SOURCE_TYPE_RESTYLED = IPTC_SOURCE_TYPES + "compositeWithTrainedAlgorithmicMedia"
SOURCE_TYPE_GENERATED = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"
SOURCE_TYPE_ENHANCED = IPTC_SOURCE_TYPES + "algorithmicallyEnhanced"
_UNTRAINED_ENGINES = {"colour", "color"}

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    # Our own namespace. Like every XMP namespace it is an identifier, not a page to fetch.
    "stylerec": "http://ns.stylerec.app/provenance/1.0/",
}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# (our XMP property, Provenance attribute) in the order written.
_OWN_FIELDS = (
    ("sku", "sku"),
    ("title", "title"),
    ("styleSource", "style_source"),
    ("engine", "engine"),
    ("options", "options_json"),
    ("seed", "seed"),
    ("modelHashes", "model_hashes_json"),
    ("recipeId", "recipe_id"),
    ("segment", "segment"),
)
# A JPEG APP1 segment holds at most 65,533 bytes, less the XMP signature.
_MAX_XMP_BYTES = 65_000

_EXIF_DESCRIPTION, _EXIF_SOFTWARE, _EXIF_ORIENTATION = 0x010E, 0x0131, 0x0112
_EXIF_IFD, _EXIF_WIDTH, _EXIF_HEIGHT = 0x8769, 0xA002, 0xA003
# Everything XML 1.0 forbids in a document: C0 controls except tab/CR/LF, surrogates, U+FFFE and U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def recipe_id(recipe: Mapping[str, Any] | None) -> str:
    """The recipe's own ``id``, or a stable 16-hex-digit hash of its content; empty for no recipe."""
    if not recipe:
        return ""
    own = recipe.get("id") or recipe.get("recipe_id")
    if own:
        return str(own)
    return hashlib.sha256(_canonical_json(dict(recipe)).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Provenance:
    """Where one exported image came from, as written into its metadata.

    Build it with :meth:`for_item`. ``digital_source_type`` is an IPTC NewsCodes URI, or empty for an image
    that no algorithm changed (then none is claimed).
    """

    sku: str
    title: str = ""
    style_source: str = ""
    engine: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    model_hashes: Mapping[str, str] = field(default_factory=dict)
    recipe_id: str = ""
    segment: str = ""
    digital_source_type: str = ""
    description: str = ""
    date: str = ""

    @property
    def options_json(self) -> str:
        return _canonical_json(dict(self.options)) if self.options else ""

    @property
    def model_hashes_json(self) -> str:
        return _canonical_json(dict(self.model_hashes)) if self.model_hashes else ""

    @classmethod
    def for_item(
        cls,
        sku: str,
        title: str = "",
        style: str = "",
        recipe: Mapping[str, Any] | None = None,
        segment: str | None = None,
        date: str = "",
    ) -> Provenance:
        """Provenance of a catalog product (``recipe`` None) or of a render made with ``recipe``.

        A recipe is the style engine's record of a render; the keys read are ``id``, ``engine``, ``source``
        (or ``style_source``), ``options``, ``seed``, ``model_hashes`` and, to override the default,
        ``digital_source_type`` (a NewsCodes URI or just its last part, e.g. ``trainedAlgorithmicMedia``).
        """
        recipe = dict(recipe or {})
        engine = str(recipe.get("engine") or "")
        source = str(recipe.get("source") or recipe.get("style_source") or style or "")
        source_type = str(recipe.get("digital_source_type") or "")
        if source_type and "/" not in source_type:
            source_type = IPTC_SOURCE_TYPES + source_type
        elif not source_type and recipe:
            source_type = SOURCE_TYPE_ENHANCED if engine.lower() in _UNTRAINED_ENGINES else SOURCE_TYPE_RESTYLED
        seed = recipe.get("seed")
        name = f"{title} (SKU {sku})" if title else f"SKU {sku}"
        if recipe:
            how = f" with the {engine} engine" if engine else ""
            style_text = f" in the style of {source}" if source else ""
            description = f"Product image of {name}, restyled by {SOFTWARE}{how}{style_text}."
        else:
            description = f"Product image of {name}, exported by {SOFTWARE}."
        return cls(
            sku=sku,
            title=title,
            style_source=source,
            engine=engine,
            options=dict(recipe.get("options") or {}),
            seed=int(seed) if seed is not None else None,
            model_hashes={str(k): str(v) for k, v in dict(recipe.get("model_hashes") or {}).items()},
            recipe_id=recipe_id(recipe),
            segment=segment or "",
            digital_source_type=source_type,
            description=description,
            date=date,
        )


def _xml_text(value: object) -> str:
    """``value`` as XML character data: escaped, and without the control characters XML 1.0 cannot hold at all
    (a NUL or an escape code pasted into a product title would otherwise make the whole packet unreadable)."""
    return escape(_XML_INVALID.sub("", str(value)))


def build_xmp(provenance: Provenance) -> bytes:
    """The XMP packet (UTF-8) for ``provenance``; :func:`read_xmp` parses it back."""
    own = []
    for prop, attribute in _OWN_FIELDS:
        value = getattr(provenance, attribute)
        if value is None or value == "":
            continue
        own.append(f"   <stylerec:{prop}>{_xml_text(str(value))}</stylerec:{prop}>")
    source_type = ""
    if provenance.digital_source_type:
        source_type = (
            f"   <Iptc4xmpExt:DigitalSourceType>{_xml_text(provenance.digital_source_type)}"
            "</Iptc4xmpExt:DigitalSourceType>\n"
        )
    date = f"   <xmp:CreateDate>{_xml_text(provenance.date)}</xmp:CreateDate>\n" if provenance.date else ""
    namespaces = "\n".join(f'    xmlns:{p}="{NS[p]}"' for p in ("dc", "xmp", "Iptc4xmpExt", "stylerec"))
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{NS["x"]}" x:xmptk="{_xml_text(SOFTWARE)}">\n'
        f' <rdf:RDF xmlns:rdf="{NS["rdf"]}">\n'
        f'  <rdf:Description rdf:about=""\n{namespaces}>\n'
        "   <dc:description><rdf:Alt>"
        f'<rdf:li xml:lang="x-default">{_xml_text(provenance.description)}</rdf:li>'
        "</rdf:Alt></dc:description>\n"
        f"{source_type}"
        f"   <xmp:CreatorTool>{_xml_text(SOFTWARE)}</xmp:CreatorTool>\n"
        f"{date}" + "\n".join(own) + "\n  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    data = packet.encode("utf-8")
    if len(data) > _MAX_XMP_BYTES:
        raise ValueError(f"provenance XMP is {len(data)} bytes, more than a JPEG can hold; shorten the options")
    return data


def read_xmp(data: bytes | str) -> dict[str, str]:
    """Parse an XMP packet into a flat dict: ``description``, ``digital_source_type``, ``creator_tool``,
    ``create_date`` and our own fields by their XMP names (``sku``, ``styleSource``, ``options``, ...).

    Raises ``xml.etree.ElementTree.ParseError`` for a packet that is not well-formed XML.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    root = ElementTree.fromstring(text[text.index("<x:xmpmeta") : text.index("</x:xmpmeta>") + len("</x:xmpmeta>")])
    result: dict[str, str] = {}
    for description in root.iter(f"{{{NS['rdf']}}}Description"):
        for child in description:
            namespace, _, name = child.tag[1:].partition("}")
            if namespace == NS["dc"] and name == "description":
                items = list(child.iter(f"{{{NS['rdf']}}}li"))
                if items:
                    result["description"] = items[0].text or ""
            elif namespace == NS["Iptc4xmpExt"] and name == "DigitalSourceType":
                result["digital_source_type"] = child.text or ""
            elif namespace == NS["xmp"] and name == "CreatorTool":
                result["creator_tool"] = child.text or ""
            elif namespace == NS["xmp"] and name == "CreateDate":
                result["create_date"] = child.text or ""
            elif namespace == NS["stylerec"]:
                result[name] = child.text or ""
    return result


def _ascii(text: str) -> str:
    """EXIF text fields are ASCII: transliterate accents (é -> e) and replace what has no ASCII form."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "replace").decode("ascii")


def build_exif(provenance: Provenance, size: tuple[int, int], source_exif: bytes | None = None) -> bytes:
    """EXIF with a readable ImageDescription and Software; the source's own tags too when ``source_exif`` is given.

    Kept source tags are corrected for what the export changed: the pixels are already upright (Orientation 1)
    and have a new pixel size.
    """
    exif = Image.Exif()
    if source_exif:
        with contextlib.suppress(Exception):  # broken EXIF in a supplier's file is dropped rather than fatal
            exif.load(source_exif)
        if _EXIF_ORIENTATION in exif:
            exif[_EXIF_ORIENTATION] = 1
        sub = exif.get_ifd(_EXIF_IFD)
        if sub:
            sub[_EXIF_WIDTH], sub[_EXIF_HEIGHT] = size
    exif[_EXIF_DESCRIPTION] = _ascii(provenance.description)
    exif[_EXIF_SOFTWARE] = SOFTWARE
    return exif.tobytes()


@lru_cache(maxsize=1)
def srgb_profile() -> ImageCms.ImageCmsProfile:
    """LittleCMS's built-in sRGB profile (description "sRGB built-in", 588 bytes)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """The bytes of :func:`srgb_profile`, as embedded in every exported file.

    LittleCMS stamps a profile it creates with the current time, which would make the same export give other
    bytes (and SHA-256) in every run; the stamp is set to a fixed date so exports are reproducible.
    """
    data = bytearray(srgb_profile().tobytes())
    data[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
    if any(data[84:100]):
        # A v4 profile ID is the MD5 of the profile with the flags, intent and ID fields zeroed; keep it valid.
        blank = bytearray(data)
        blank[44:48] = blank[64:68] = b"\0" * 4
        blank[84:100] = b"\0" * 16
        data[84:100] = hashlib.md5(bytes(blank), usedforsecurity=False).digest()
    return bytes(data)


@lru_cache(maxsize=32)
def _to_srgb_transform(icc_profile: bytes) -> ImageCms.ImageCmsTransform | None:
    """A cached RGB -> sRGB transform for an embedded profile; None when it is not an RGB profile or is sRGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    except (OSError, ImageCms.PyCMSError):
        return None
    if profile.profile.xcolor_space.strip() != "RGB":
        return None
    if "srgb" in (profile.profile.profile_description or "").lower():
        return None  # already sRGB (any vendor's copy); converting would only round twice
    # Perceptual intent maps wide-gamut colours smoothly into sRGB; matrix profiles without perceptual tables
    # fall back to relative colorimetric inside LittleCMS.
    return ImageCms.buildTransform(profile, srgb_profile(), "RGB", "RGB", ImageCms.Intent.PERCEPTUAL)


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> tuple[Image.Image, str]:
    """Convert an RGB ``image`` whose pixels are in ``icc_profile`` to sRGB.

    Returns the image and a note: empty when it is sRGB now, else a sentence why the profile was not applied
    (a grey or CMYK profile on pixels that are already RGB, or a damaged profile); the pixels are then taken as
    sRGB, which is what every viewer without colour management does anyway.
    """
    if image.mode != "RGB":
        image = image.convert("RGB")
    if not icc_profile:
        return image, ""
    transform = _to_srgb_transform(bytes(icc_profile))
    if transform is None:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        except (OSError, ImageCms.PyCMSError):
            return image, "The source's colour profile is damaged; its pixels were taken as sRGB."
        if profile.profile.xcolor_space.strip() == "RGB":
            return image, ""
        return image, "The source's colour profile is not an RGB profile; its colours were taken as sRGB."
    # The transform's own apply: applyTransform's result is typed Optional for its in-place mode.
    return transform.apply(image), ""


_SAMPLING = {"4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}
_XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_ICC_JPEG_HEADER = b"ICC_PROFILE\x00"
_ICC_CHUNK = 65519  # the most profile bytes one APP2 segment holds besides its 14-byte header


def _segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment: 0xFF, the marker, the big-endian length (counting itself), the payload."""
    if len(payload) + 2 > 0xFFFF:
        raise ValueError(f"a JPEG segment holds at most 65533 bytes, not {len(payload)}")
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def encode_jpeg(image: Image.Image, preset: ExportPreset, *, icc: bytes, xmp: bytes, exif: bytes) -> bytes:
    """JPEG bytes of an RGB ``image`` with the Exif (APP1), XMP (APP1) and ICC profile (APP2) segments.

    Encoded by OpenCV's libjpeg, which releases Python's lock while it works: Pillow's encoder holds it for the
    whole file when Huffman tables are optimised (measured: a 1080x1920 encode kept other threads, the GUI's
    among them, waiting up to 77 ms), so an export in the background made the window stutter. The metadata
    segments go right after the JFIF header, where Pillow and other writers put them.
    """
    bgr = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    params = [
        cv2.IMWRITE_JPEG_QUALITY, preset.quality,
        cv2.IMWRITE_JPEG_OPTIMIZE, 1,  # Huffman optimisation: a few percent smaller, a few percent slower
        cv2.IMWRITE_JPEG_PROGRESSIVE, int(preset.progressive),
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, _SAMPLING[preset.subsampling],
    ]  # fmt: skip
    ok, encoded = cv2.imencode(".jpg", bgr, params)
    if not ok:
        raise ValueError("OpenCV could not encode the picture as JPEG")
    data = encoded.tobytes()
    position = 2  # after SOI; then past the JFIF APP0 segment, which must come first
    if data[2:4] == b"\xff\xe0":
        position = 4 + int.from_bytes(data[4:6], "big")
    segments = []
    if exif:
        segments.append(_segment(0xE1, exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif))
    if xmp:
        segments.append(_segment(0xE1, _XMP_JPEG_HEADER + xmp))
    chunks = [icc[i : i + _ICC_CHUNK] for i in range(0, len(icc), _ICC_CHUNK)]
    for number, chunk in enumerate(chunks, start=1):
        segments.append(_segment(0xE2, _ICC_JPEG_HEADER + bytes([number, len(chunks)]) + chunk))
    return data[:position] + b"".join(segments) + data[position:]


def encode_image(image: Image.Image, preset: ExportPreset, *, xmp: bytes, exif: bytes) -> bytes:
    """Encode an sRGB ``image`` as ``preset`` says, with the sRGB profile, ``xmp`` and ``exif`` embedded."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    buffer = io.BytesIO()
    icc = srgb_icc()
    if preset.format == "jpeg":
        return encode_jpeg(image, preset, icc=icc, xmp=xmp, exif=exif)
    if preset.format == "webp":
        image.save(
            buffer,
            format="WEBP",
            quality=preset.quality if not preset.lossless else 100,
            lossless=preset.lossless,
            method=4,
            icc_profile=icc,
            exif=exif,
            xmp=xmp,
        )
    else:
        info = PngImagePlugin.PngInfo()
        # The iTXt key Adobe defined for XMP in PNG; stored uncompressed, as readers expect.
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
        # Level 6 is the usual size/speed balance; 9 is several times slower for a percent or two.
        image.save(buffer, format="PNG", compress_level=6, icc_profile=icc, exif=exif, pnginfo=info)
    return buffer.getvalue()
