"""File names of exported images from templates such as ``{sku}_{preset}`` or ``{category}/{seq:04}_{title:.40}``.

Product fields come from suppliers' spreadsheets and can hold anything: slashes, ``..``, device names such as
``CON``, control characters, right-to-left overrides, 2,000-character titles. Nothing in a field may decide where
a file goes, so field values are flattened to one safe name part *before* they are put into the template; only
the template's own ``/`` make sub-folders, and a template that climbs out of the export folder is refused.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.safe_files import refuse_link

TOKENS = ("sku", "title", "category", "style", "preset", "w", "h", "date", "seq", "segment")
DEFAULT_TEMPLATE = "{sku}_{preset}"
# Names the export writes itself at its top level; no image may take them.
RESERVED_FILES = ("manifest.csv", "manifest.json")
# 255 bytes is the name limit of every common file system; the rest is left for a collision suffix, the
# extension and the temporary-file prefix used while a file is written.
MAX_PART_BYTES = 150
# Leaves room for the export folder's own path under Windows' classic 260-character limit in common cases.
MAX_PATH_CHARS = 200
_MAX_DEPTH = 4

_INT_TOKENS = {"w", "h", "seq"}
# Characters Windows refuses in names, plus both separators; control and format characters are handled apart.
_FORBIDDEN = set('<>:"/\\|?*')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class NameFields:
    """The values a template's tokens stand for, for one exported file. ``seq`` counts items from 1."""

    sku: str
    title: str = ""
    category: str = ""
    style: str = ""
    preset: str = ""
    w: int = 0
    h: int = 0
    date: str = ""
    seq: int = 1
    segment: str = ""


def _clean_value(value: str) -> str:
    """One field value as text that cannot contain a path separator or a character a file system refuses."""
    # NFKC first: it turns look-alikes such as the fullwidth solidus (U+FF0F) into "/", which is then replaced.
    text = unicodedata.normalize("NFKC", value)
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace():
            out.append(" ")  # tabs and line breaks from spreadsheet cells become plain spaces
        elif char in _FORBIDDEN or category in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            # Cf covers the bidi overrides that can make "gpj.exe" display as "exe.jpg".
            out.append("_")
        else:
            out.append(char)
    return _SPACES.sub(" ", "".join(out)).strip()


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def safe_part(text: str) -> str:
    """``text`` made into one safe file or folder name part (never empty, ``.`` or ``..``, never a device name)."""
    part = unicodedata.normalize("NFC", _clean_value(text))
    part = _truncate_utf8(part, MAX_PART_BYTES)
    # Windows silently drops trailing dots and spaces (two names would then clash), and a leading dot hides the
    # file on macOS and Linux; dropping both also makes "." and ".." impossible.
    part = part.strip(" .")
    if not part:
        return "_"
    if part.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        part = "_" + part
    elif part[0] in "-=+@":
        # A leading "-" reads as an option to command-line tools, and = + @ as a formula to spreadsheets that
        # open the manifest.
        part = "_" + part
    return part


class NameTemplate:
    """A parsed file name template. Raises :class:`UserError` on construction when the template is unusable."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._parts = self._parse(template)

    @staticmethod
    def _parse(template: str) -> list[tuple[str, str | None, str]]:
        if not template.strip():
            raise UserError("The file name template is empty: use tokens such as {sku}_{preset}.")
        if any(unicodedata.category(char) == "Cs" for char in template):
            raise UserError(
                "The file name template holds bytes that are not text (a lone surrogate); type it again as plain text."
            )
        unix_absolute = template.startswith(("/", "\\"))
        windows_absolute = re.match(r"[A-Za-z]:", template) is not None
        if unix_absolute or windows_absolute:
            raise UserError(
                f"The file name template {template!r} is an absolute path: names are relative to the export folder."
            )
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise UserError(
                f"The file name template {template!r} is not valid ({exc}); write literal braces as {{{{ and }}}}."
            ) from None
        parts: list[tuple[str, str | None, str]] = []
        sample = NameFields("SKU", "Title", "Category", "Style", "square", 1080, 1080, "2024-01-31", 1, "segment")
        for literal, name, spec, conversion in parsed:
            for piece in re.split(r"[/\\]", literal):
                if piece.strip() in ("..", "."):
                    raise UserError(
                        f"The file name template {template!r} uses {piece.strip()!r}: "
                        "files must stay in the export folder."
                    )
            if name is None:
                parts.append((literal, None, ""))
                continue
            if name not in TOKENS:
                shown = "{" + name + "}" if name else "{}"
                raise UserError(
                    f"Unknown token {shown} in the file name template; use "
                    + ", ".join("{" + t + "}" for t in TOKENS)
                    + "."
                )
            if conversion is not None or "{" in (spec or ""):
                raise UserError(f"The token {{{name}}} in the file name template has an unsupported modifier.")
            try:
                format(getattr(sample, name), spec or "")
            except ValueError as exc:
                raise UserError(
                    f"The format {spec!r} of {{{name}}} in the file name template is not valid ({exc})."
                ) from None
            parts.append((literal, name, spec or ""))
        if not any(name for _, name, _ in parts):
            raise UserError(f"The file name template {template!r} has no token, so every file would get the same name.")
        return parts

    @property
    def uses(self) -> set[str]:
        """The tokens the template uses."""
        return {name for _, name, _ in self._parts if name}

    def render(self, fields: NameFields) -> str:
        """The file's path relative to the export folder, ``/``-separated, without extension."""
        values = asdict(fields)
        text = []
        for literal, name, spec in self._parts:
            text.append(literal.replace("\\", "/"))
            if name is not None:
                value = values[name]
                if name in _INT_TOKENS:
                    value = int(value)
                text.append(_clean_value(format(value, spec)))
        pieces = [safe_part(piece) for piece in "".join(text).split("/") if piece.strip()]
        if not pieces:
            pieces = ["_"]
        if len(pieces) > _MAX_DEPTH:
            # Folder levels beyond the limit are folded into the last folder's name.
            pieces = [*pieces[: _MAX_DEPTH - 2], safe_part("_".join(pieces[_MAX_DEPTH - 2 : -1])), pieces[-1]]
        # Over the path budget, the longest part is cut by the excess until it fits; parts are at most
        # _MAX_DEPTH, so this ends with every part still a recognisable prefix.
        while len("/".join(pieces)) > MAX_PATH_CHARS:
            excess = len("/".join(pieces)) - MAX_PATH_CHARS
            longest = max(range(len(pieces)), key=lambda i: len(pieces[i]))
            pieces[longest] = safe_part(pieces[longest][: max(8, len(pieces[longest]) - excess)])
        return "/".join(pieces)


class NameAllocator:
    """Hands out unique relative paths within one export; a clash gets ``-2``, ``-3``, ... before the extension.

    Names are compared case-insensitively (Windows and macOS file systems are), and against the folders already
    handed out, so a file never takes a folder's name. Uniqueness is decided among this export's names only,
    not against files already on disk, so re-running the same export gives the same names.
    """

    def __init__(self) -> None:
        self._used: set[str] = {name.casefold() for name in RESERVED_FILES}
        self._folders: set[str] = set()

    def allocate(self, stem: str, extension: str) -> str:
        """A unique ``stem + extension`` (``stem`` from :meth:`NameTemplate.render`, ``extension`` like ``.jpg``)."""
        folder, _, base = stem.rpartition("/")
        candidate = f"{stem}{extension}"
        number = 1
        while candidate.casefold() in self._used or candidate.casefold() in self._folders:
            number += 1
            candidate = f"{folder + '/' if folder else ''}{base}-{number}{extension}"
        self._used.add(candidate.casefold())
        parents = PurePosixPath(candidate).parents
        self._folders.update(str(p).casefold() for p in parents if str(p) != ".")
        return candidate


def inside(root: Path, relative: str) -> Path:
    """``root / relative``, after checking that it really lies inside ``root`` (a last line of defence).

    Nothing below ``root`` may be a symbolic link, neither a folder on the way nor the file itself: a link
    there (someone else's, since an export never makes one) could send the file anywhere. ``root`` itself is
    the folder the user chose and may be one. The path returned is not resolved, so it names what is written.

    Raises :class:`UserError` naming the link; ``ValueError`` for a name that climbs out by itself (a
    programming error: names from :class:`NameTemplate` always pass).
    """
    relative_path = PurePosixPath(relative)
    if relative_path.is_absolute() or ".." in relative_path.parts or "\\" in relative or not relative_path.parts:
        raise ValueError(f"export name escapes the export folder: {relative!r}")
    target = root
    for part in relative_path.parts:
        target = target / part
        refuse_link(target)
    return target
