"""Exports fed hostile names and planted links never write outside the export folder.

Each generated case: a file-name template (tokens mixed with slashes, ``..``, absolute paths, drive letters, control
characters, very long text), product fields that hold the same (skus, titles, categories, styles, segments from
suppliers' spreadsheets can hold anything), and sometimes symbolic links planted in the export folder where the
export would write (an image, the journal, a manifest, the zip), pointing at files outside it. The export either
finishes or refuses with a UserError; in both cases every file outside the export folder (the sources, the files
the links point at, the working directory) is byte for byte as before and no new one appeared.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_cases import accepted, case, count_outside_writes
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stylerec_desktop.core.errors import UserError  # noqa: E402
from stylerec_desktop.core.export import ExportItem, ExportOptions, export_job, parse_presets  # noqa: E402
from stylerec_desktop.core.export.job import JOURNAL_NAME  # noqa: E402
from stylerec_desktop.core.jobs import run_job  # noqa: E402

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")

HOSTILE = ["../", "..", "/", "\\", "./", "../../etc/passwd", "/tmp/x", "C:", "C:\\x", "~", "~/x", "\x00", "\n", "\t",
           ".", "...", " ", "CON", "nul.txt", "a" * 300, "é" * 120, "\ud800", "{", "}", "{{", "}}", "%s", "$HOME",
           "..\\..\\x", "x/../../y", ".stylerec-export-journal.jsonl", "manifest", "out.zip", "/dev/null"]  # fmt: skip
TOKENS = ["{sku}", "{title}", "{category}", "{style}", "{preset}", "{w}", "{h}", "{date}", "{seq}", "{segment}",
          "{seq:04}", "{title:.40}", "{sku:>300}"]  # fmt: skip
text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
template = st.lists(st.one_of(st.sampled_from(TOKENS), text), min_size=1, max_size=6).map("".join)
fields = st.tuples(text, text, text, text, text).map(lambda t: ("SKU" + t[0] if not t[0] else t[0], *t[1:]))
# Where a planted link sits: the names the export writes with the default template, its own files, a folder.
LINK_NAMES = ["P-1_thumb.jpg", "P-1_thumb.png", JOURNAL_NAME, "manifest.csv", "manifest.json", "out.zip",
              "P-1", "sub"]  # fmt: skip


@pytest.fixture(scope="module")
def root() -> Iterator[Path]:
    """A folder per module: ``src`` (the product images), ``outside`` (files links point at), a working directory
    and one export folder per case."""
    with tempfile.TemporaryDirectory(prefix="stylerec-fuzz-export-") as folder:
        root = Path(folder)
        (root / "src").mkdir()
        for i, colour in enumerate([(200, 40, 40), (30, 120, 200)]):
            Image.new("RGB", (60 + 20 * i, 80), colour).save(root / "src" / f"p{i}.png")
        (root / "outside").mkdir()
        for name in ("victim.txt", "victim.jpg"):
            (root / "outside" / name).write_bytes(b"the user's own file, which no export may touch\n")
        (root / "cwd").mkdir()
        yield root


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Relative path -> content hash (or link target) of everything under ``root`` except ``skip``."""
    seen = {}
    for path in sorted(root.rglob("*")):
        if path == skip or skip in path.parents:
            continue
        if path.is_symlink():
            seen[path.relative_to(root).as_posix()] = "link:" + os.readlink(path)
        elif path.is_file():
            seen[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[path.relative_to(root).as_posix()] = "dir"
    return seen


_case_number = iter(range(10**9))


@given(
    template=template,
    values=st.lists(fields, min_size=1, max_size=2),
    links=st.lists(st.tuples(st.sampled_from(LINK_NAMES), st.sampled_from(["victim.txt", "victim.jpg", "gone"])),
                   max_size=2, unique_by=lambda link: link[0]),  # fmt: skip
    zipped=st.booleans(),
)
def test_hostile_names_and_links_never_write_outside_the_export_folder(
    root: Path, template: str, values: list[tuple[str, ...]], links: list[tuple[str, str]], zipped: bool
) -> None:
    out = root / f"out-{next(_case_number)}"
    out.mkdir()
    for name, target in links:
        (out / name).symlink_to(root / "outside" / target)
    planted = {name: os.readlink(out / name) for name, _ in links}
    items = [ExportItem(sku or "P-1", title, category, root / "src" / f"p{i % 2}.png", style=style, segment=segment)
             for i, (sku, title, category, style, segment) in enumerate(values)]  # fmt: skip
    before = _snapshot(root, out)
    kind = "fuzz: export names and planted links"
    with case(kind):
        here = Path.cwd()
        os.chdir(root / "cwd")  # a write relative to the working directory would land here
        try:
            run_job(export_job(items, parse_presets("thumb"), out, ExportOptions(template=template, zip=zipped,
                                                                                  workers=1)))  # fmt: skip
            accepted(kind)
        except UserError as exc:
            assert str(exc).strip(), "a refusal must say why"
        finally:
            os.chdir(here)
        after = _snapshot(root, out)
        count_outside_writes(kind, sum(before.get(k) != v for k, v in after.items()) + len(before.keys() - after))
        assert after == before, "the export changed or created a file outside its folder"
        for name, target in planted.items():  # a link the export did not create is left alone or refused, never used
            assert not (out / name).exists() or (out / name).is_symlink() and os.readlink(out / name) == target
        for path in out.rglob("*"):
            assert out in path.resolve().parents or path.is_symlink(), f"{path} resolves outside the export folder"
