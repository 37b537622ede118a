"""Export presets and file naming: built-ins, custom sizes, settings JSON, templates and their sanitisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.naming import (
    MAX_PART_BYTES,
    MAX_PATH_CHARS,
    NameAllocator,
    NameFields,
    NameTemplate,
    inside,
    safe_part,
)
from stylerec_desktop.core.export.presets import (
    BUILTIN_PRESETS,
    ExportPreset,
    parse_preset,
    parse_presets,
    presets_from_json,
    presets_to_json,
)


def test_builtin_presets_are_the_ad_formats() -> None:
    sizes = {name: (p.width, p.height) for name, p in BUILTIN_PRESETS.items()}
    assert sizes == {
        "square": (1080, 1080),
        "portrait": (1080, 1350),
        "story": (1080, 1920),
        "landscape": (1200, 628),
        "web": (2000, 2000),
        "thumb": (400, 400),
    }


def test_parse_presets_builtin_custom_and_user_defined() -> None:
    assert parse_preset("Square") is BUILTIN_PRESETS["square"]
    custom = parse_preset("1200x800")
    assert (custom.name, custom.width, custom.height) == ("custom-1200x800", 1200, 800)
    mine = ExportPreset("square", 1000, 1000, format="png")
    assert parse_preset("square", {"square": mine}) is mine  # user presets win
    assert [p.name for p in parse_presets("square, story,square")] == ["square", "story"]
    with pytest.raises(UserError, match="Unknown export preset 'poster'.*landscape.*1200x800"):
        parse_preset("poster")
    with pytest.raises(UserError, match="width"):
        parse_preset("5x5000")


def test_user_presets_round_trip_through_json() -> None:
    presets = [
        ExportPreset("banner", 1456, 180, format="webp", quality=80, lossless=False, background="#f0f0f0"),
        ExportPreset("print-jpeg", 3000, 3000, progressive=True, subsampling="4:4:4", margin=0.0),
    ]
    loaded = presets_from_json(presets_to_json(presets))
    assert list(loaded.values()) == presets
    assert loaded["banner"].background_rgb() == (240, 240, 240)
    assert loaded["banner"].extension == ".webp"


@pytest.mark.parametrize(
    "document",
    ['{"presets": [{"name": "x", "width": 10, "height": 100}]}', "not json", '{"presets": 3}',
     '{"presets": [{"name": "Bad Name", "width": 100, "height": 100}]}',
     '{"presets": [{"name": "a", "width": "wide", "height": 100}]}',
     '{"presets": [{"name": "a", "width": 100, "height": 100, "format": "gif"}]}'],
)
def test_broken_preset_settings_are_user_errors(document: str) -> None:
    with pytest.raises(UserError):
        presets_from_json(document)


def test_with_format_switches_the_extension() -> None:
    png = BUILTIN_PRESETS["square"].with_format("PNG")
    assert (png.format, png.extension, png.width) == ("png", ".png", 1080)
    assert BUILTIN_PRESETS["square"].with_format("jpg").extension == ".jpg"


def _fields(**values: object) -> NameFields:
    base = dict(sku="SKU-1", title="Linen shirt", category="tops", style="Van Gogh", preset="square", w=1080,
                h=1080, date="2024-05-01", seq=7)
    base.update(values)
    return NameFields(**base)  # type: ignore[arg-type]


def test_template_tokens_and_format_specs() -> None:
    template = NameTemplate("{category}/{seq:04}_{sku}_{title:.5}_{preset}_{w}x{h}_{date}_{style}")
    assert template.render(_fields()) == "tops/0007_SKU-1_Linen_square_1080x1080_2024-05-01_Van Gogh"
    assert template.uses >= {"category", "seq", "title"}


def test_unknown_token_is_named_in_the_error() -> None:
    with pytest.raises(UserError, match=r"Unknown token \{colour\}.*\{sku\}"):
        NameTemplate("{sku}_{colour}")
    with pytest.raises(UserError, match=r"Unknown token \{sku.__class__\}"):
        NameTemplate("{sku.__class__}")  # attribute access is not a token either
    with pytest.raises(UserError, match="modifier"):
        NameTemplate("{sku!r}")
    with pytest.raises(UserError, match="format"):
        NameTemplate("{sku:04d}")
    with pytest.raises(UserError, match="not valid"):
        NameTemplate("{sku")
    with pytest.raises(UserError, match="no token"):
        NameTemplate("photo")


@pytest.mark.parametrize("template", ["../{sku}", "{sku}/../../x", "/etc/{sku}", "C:\\{sku}", "..\\{sku}", "./{sku}"])
def test_templates_that_leave_the_export_folder_are_refused(template: str) -> None:
    with pytest.raises(UserError, match="export folder"):
        NameTemplate(template)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("../../x", "_.._x"),
        ("/etc/passwd", "_etc_passwd"),
        ("..", "_"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1", "_LPT1"),
        ("a\\b:c*d?e\"f<g>h|i", "a_b_c_d_e_f_g_h_i"),
        ("evil\u202egpj.exe", "evil_gpj.exe"),  # right-to-left override
        ("tab\tand\nnewline", "tab and newline"),
        ("\uff0e\uff0e\uff0fx", "_x"),  # fullwidth "../" normalises to a real one, which is then neutralised
        ("Cafe\u0301", "Café"),  # decomposed accents are composed (NFC)
        ("  .hidden. ", "hidden"),
        ("-rf", "_-rf"),  # not an option to command-line tools
        ("=HYPERLINK(1)", "_=HYPERLINK(1)"),  # not a formula in the manifest
        ("", "_"),
    ],
)
def test_field_values_cannot_escape_or_misbehave(value: str, expected: str) -> None:
    name = NameTemplate("{title}").render(_fields(title=value))
    assert name == expected
    assert "/" not in name


def test_malicious_fields_stay_inside_the_export_folder(tmp_path: Path) -> None:
    template = NameTemplate("{category}/{sku}_{title}")
    for bad in ("../../x", "/etc/passwd", "..", "C:\\Windows\\x", "a/../../b", "\x00", "~/.ssh/id"):
        rel = template.render(_fields(sku=bad, title=bad, category=bad))
        assert len(Path(rel).parts) == 2  # exactly the template's one folder level
        assert inside(tmp_path, rel + ".jpg").is_relative_to(tmp_path)


def test_very_long_names_are_cut_to_file_system_limits() -> None:
    long_title = "Ω" * 2000
    name = NameTemplate("{sku}_{title}").render(_fields(title=long_title))
    assert len(name.encode("utf-8")) <= MAX_PART_BYTES
    deep = NameTemplate("{title}/{title}/{title}/{title}/{title}/{sku}").render(_fields(title="x" * 300))
    assert len(deep) <= MAX_PATH_CHARS
    assert deep.endswith("/SKU-1")
    assert safe_part("é" * 500).encode("utf-8").__len__() <= MAX_PART_BYTES


def test_collisions_get_a_suffix_case_insensitively() -> None:
    allocator = NameAllocator()
    assert allocator.allocate("a/Shoe", ".jpg") == "a/Shoe.jpg"
    assert allocator.allocate("a/shoe", ".jpg") == "a/shoe-2.jpg"
    assert allocator.allocate("a/SHOE", ".jpg") == "a/SHOE-3.jpg"
    assert allocator.allocate("a/Shoe", ".png") == "a/Shoe.png"
    assert allocator.allocate("manifest", ".json") == "manifest-2.json"  # the export's own files are taken


def test_inside_rejects_escapes(tmp_path: Path) -> None:
    for rel in ("../x.jpg", "/etc/passwd", "a/../../x.jpg", "a\\..\\x.jpg"):
        with pytest.raises(ValueError):
            inside(tmp_path, rel)
