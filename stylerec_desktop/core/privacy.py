"""Customer privacy in everything that leaves the app: pseudonyms, hashed audiences and the privacy check.

Exported images, manifests, campaign files and file names carry no customer identifier unless the user opts in per
export. A customer's taste used as a style is then described as :data:`TASTE_OF_A_CUSTOMER`, and named in file names
as ``customer-taste`` (numbered when one export uses several).

Ad teams that need audiences get, on request, one file per campaign segment in the form the ad platforms accept for
customer-match uploads: the SHA-256 hex digest of each member's normalised email, never the email itself (see
:func:`normalise_email`).

:func:`scan_folder` looks through an export folder (file names; EXIF, XMP, IPTC, PNG text and JPEG comments of
images; manifests, campaign files and any other file as text; the entries of zips) for every customer id, name,
email and hashed email of the catalog, and lists what it finds.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, IptcImagePlugin

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError

#: How a customer's taste is described in exported metadata and manifests when ids are not included.
TASTE_OF_A_CUSTOMER = "Taste of a customer"
#: The ``{style}`` file-name token of a customer's taste when ids are not included.
CUSTOMER_TASTE_NAME = "customer-taste"
#: The column header of an audience file. Google Ads' Customer Match upload template names its column "Email" and
#: accepts SHA-256 hex values in it; Meta's custom-audience file upload reads a column "email" case-insensitively.
AUDIENCE_HEADER = "Email"

# Names shorter than this are too common as words ("Ann", "Bo") to report as a customer's name inside a product
# title or a file name without drowning the real findings; ids and emails are always checked.
MIN_NAME_LENGTH = 4
# A file larger than this is not read as text (an export holds images and small manifests, never such text).
MAX_TEXT_BYTES = 64 << 20
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif"}
_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits
_HEX64 = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
# PIL's image.info keys that hold numbers or binary blocks (EXIF is read through getexif below, ICC holds no text
# a person typed); every other key is a text block (XMP, PNG text chunks, JPEG comments).
_NOT_TEXT_INFO = {"icc_profile", "exif", "dpi", "jfif", "jfif_version", "jfif_density", "jfif_unit", "progressive",
                  "progression", "adobe", "adobe_transform", "gamma", "transparency", "duration", "loop"}  # fmt: skip


def shareable_recipe(recipe: dict[str, object], include_customer_ids: bool = False) -> dict[str, object]:
    """``recipe`` as it may be written next to a render that leaves the app: a customer's taste keeps its style
    vector (the pixels need it, and 100 style numbers name nobody) but loses the customer's id and the label that
    names them, unless ``include_customer_ids``. Other recipes come back unchanged (a copy)."""
    from stylerec_desktop.core.export.items import is_customer_taste  # export imports this module

    shared = dict(recipe)
    style = shared.get("style")
    if include_customer_ids or not isinstance(style, dict) or not is_customer_taste(style):
        return shared
    shared["style"] = {k: v for k, v in style.items() if k != "customer"} | {"label": TASTE_OF_A_CUSTOMER}
    return shared


def normalise_email(email: str) -> str:
    """``email`` as the ad platforms normalise it before hashing: leading and trailing whitespace removed and
    lower-cased; for ``gmail.com`` and ``googlemail.com`` addresses also every ``.`` removed from the part before
    the ``@`` and everything from a ``+`` on dropped there.

    Sources: Google Ads API, "Normalize and hash user-provided data"
    (https://developers.google.com/google-ads/api/docs/conversions/enhance-conversions and the Customer Match
    guide it links): trim, lower-case, and remove the periods before the domain of gmail.com and googlemail.com
    addresses. Meta Marketing API, custom audiences (https://developers.facebook.com/docs/marketing-api/audiences/
    guides/custom-audiences): trim and lower-case, SHA-256. Google's page does not mention ``+`` suffixes; dropping
    them for Gmail (whose mail ignores them) follows the IAB Tech Lab UID2 normalisation rules
    (https://unifiedid.com/docs/getting-started/gs-normalization-encoding), which only makes more of the same
    person's addresses match.

    >>> normalise_email("  Jane.Doe+ads@GoogleMail.com ")
    'janedoe@googlemail.com'
    """
    text = email.strip().lower()
    local, at, domain = text.rpartition("@")
    if at and domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        text = f"{local}@{domain}"
    return text


def hashed_email(email: str) -> str:
    """The 64-digit lower-case hex SHA-256 of :func:`normalise_email` ``(email)`` (UTF-8), as audiences upload it."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


def audience_csv_bytes(emails: Iterable[str]) -> tuple[bytes, int]:
    """An audience file: a header line and one hashed email per line (sorted, repeats once), and how many of
    ``emails`` were empty or not an address (left out). UTF-8, LF line ends."""
    hashed, skipped = set(), 0
    for email in emails:
        if "@" not in email.strip():
            skipped += 1
            continue
        hashed.add(hashed_email(email))
    lines = [AUDIENCE_HEADER, *sorted(hashed)]
    return ("\n".join(lines) + "\n").encode("utf-8"), skipped


# -- the check ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRecord:
    """What identifies one customer: the catalog's customer id, name and email (the last two may be empty)."""

    customer_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Finding:
    """One customer identifier found: ``path`` (relative to the folder, ``/``-separated; ``a.zip!b.jpg`` inside a
    zip), ``where`` (``file name``, ``XMP``, ``EXIF``, ``IPTC``, ``text``...), ``kind`` (``customer id``, ``name``,
    ``email``, ``hashed email``), ``customer_id`` (whose it is) and ``value`` (the text found)."""

    path: str
    where: str
    kind: str
    customer_id: str
    value: str

    def describe(self) -> str:
        return f"{self.path} ({self.where}): {self.kind} of customer {self.customer_id}: {self.value}"


class IdentifierMatcher:
    """Finds the identifiers of ``people`` in text: ids, names (at least :data:`MIN_NAME_LENGTH` characters) and
    emails, case-insensitively and as whole words (``C0005`` is not found inside ``C00051``; ``_``, ``-`` and
    ``.`` separate words as they do in file names); and hashed emails (64 hex digits equal to
    :func:`hashed_email` of a customer's email).

    Terms are indexed by their first word, so a text is read once whatever the number of customers (a regular
    expression alternating 60,000 terms took seconds per kilobyte)."""

    def __init__(self, people: Iterable[PersonRecord]) -> None:
        self._by_first_word: dict[str, list[tuple[str, str, str]]] = {}  # word -> [(term, kind, customer id)]
        self._odd: list[tuple[str, str, str]] = []  # terms that do not start with a letter or digit
        self._hashes: dict[str, str] = {}
        seen: set[str] = set()
        for person in people:
            for kind, value in (("customer id", person.customer_id), ("email", person.email.strip()),
                                ("name", person.name.strip())):  # fmt: skip
                term = value.casefold()
                if not term or term in seen or (kind == "name" and len(term) < MIN_NAME_LENGTH):
                    continue
                seen.add(term)
                first = _WORD.match(term)
                if first is None:
                    self._odd.append((term, kind, person.customer_id))
                else:
                    self._by_first_word.setdefault(first.group(0), []).append((term, kind, person.customer_id))
            if "@" in person.email:
                self._hashes[hashed_email(person.email)] = person.customer_id
        for terms in self._by_first_word.values():
            terms.sort(key=lambda t: -len(t[0]))  # an email before an id that is a part of it

    def find(self, text: str) -> Iterator[tuple[str, str, str]]:
        """``(kind, customer id, value)`` for every identifier in ``text``."""
        folded = text.casefold()
        for word in _WORD.finditer(folded):
            at = word.start()
            for term, kind, customer_id in self._by_first_word.get(word.group(0), ()):
                end = at + len(term)
                if folded.startswith(term, at) and not _is_word_char(folded, end):
                    yield kind, customer_id, folded[at:end]
                    break
        for term, kind, customer_id in self._odd:
            at = folded.find(term)
            while at >= 0:
                if not _is_word_char(folded, at - 1) and not _is_word_char(folded, at + len(term)):
                    yield kind, customer_id, term
                at = folded.find(term, at + 1)
        if self._hashes:
            for match in _HEX64.finditer(text):
                hashed_id = self._hashes.get(match.group(0).lower())
                if hashed_id is not None:
                    yield "hashed email", hashed_id, match.group(0)


def _is_word_char(text: str, index: int) -> bool:
    """Whether ``text[index]`` exists and is a letter or digit (a match next to one is inside a longer word)."""
    return 0 <= index < len(text) and text[index].isalnum()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


def image_metadata(data: bytes) -> list[tuple[str, str]]:
    """``(where, text)`` of every metadata block of an image file's bytes: XMP, EXIF (the main and Exif IFDs),
    IPTC, PNG text chunks and JPEG comments. Pixels are not read. An unreadable image gives ``[]``."""
    blocks: list[tuple[str, str]] = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            for info_key, value in image.info.items():
                key = str(info_key)  # Pillow types info keys as str | tuple; text blocks have str keys
                if key in _NOT_TEXT_INFO:
                    continue
                where = "XMP" if "xmp" in key.lower() else ("comment" if key == "comment" else f"text {key}")
                blocks.append((where, _text(value)))
            exif = image.getexif()
            texts = [_text(v) for v in exif.values()]
            texts += [_text(v) for v in exif.get_ifd(0x8769).values()]
            if texts:
                blocks.append(("EXIF", "\n".join(texts)))
            iptc = IptcImagePlugin.getiptcinfo(image) if image.format in ("JPEG", "TIFF") else None
            if iptc:
                blocks.append(("IPTC", "\n".join(_text(v) for v in iptc.values())))
    except Exception:  # noqa: BLE001 - a file a supplier broke is not this check's concern: it has no metadata
        return blocks
    return blocks


def _scan_bytes(name: str, data: bytes, matcher: IdentifierMatcher) -> Iterator[Finding]:
    """Findings in one file's content (``name`` is its reported path)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        blocks = image_metadata(data)
    elif suffix == ".zip":
        yield from _scan_zip(name, data, matcher)
        return
    else:
        blocks = [("text", data.decode("utf-8", errors="replace"))]
    for where, text in blocks:
        for kind, customer_id, value in matcher.find(text):
            yield Finding(name, where, kind, customer_id, value)


def _scan_zip(name: str, data: bytes, matcher: IdentifierMatcher) -> Iterator[Finding]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with archive:
        for info in archive.infolist():
            inner = f"{name}!{info.filename}"
            for kind, customer_id, value in matcher.find(info.filename):
                yield Finding(inner, "file name", kind, customer_id, value)
            if info.is_dir() or info.file_size > MAX_TEXT_BYTES:
                continue
            yield from _scan_bytes(inner, archive.read(info), matcher)


def _regular_files(folder: Path) -> Iterator[Path]:
    """Every regular file under ``folder``, links not followed (a link out of the folder is not part of it)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for file in sorted(files):
            path = Path(root) / file
            if path.is_file() and not path.is_symlink():
                yield path


def scan_folder(folder: Path | str, people: Iterable[PersonRecord] | IdentifierMatcher) -> list[Finding]:
    """Every identifier of ``people`` in the export folder ``folder``: in each file's path (relative to it) and
    content. Findings are in path order; each (path, where, kind, customer, value) once."""
    folder = Path(folder)
    matcher = people if isinstance(people, IdentifierMatcher) else IdentifierMatcher(people)
    findings: dict[Finding, None] = {}
    for path in _regular_files(folder):
        relative = path.relative_to(folder).as_posix()
        for kind, customer_id, value in matcher.find(relative):
            findings.setdefault(Finding(relative, "file name", kind, customer_id, value))
        if path.stat().st_size > MAX_TEXT_BYTES and path.suffix.lower() not in _IMAGE_SUFFIXES | {".zip"}:
            continue
        for finding in _scan_bytes(relative, path.read_bytes(), matcher):
            findings.setdefault(finding)
    return list(findings)


def summary(findings: Sequence[Finding], folder: Path | str, limit: int = 20) -> list[str]:
    """Lines for people: a count, then up to ``limit`` findings."""
    if not findings:
        return [f"privacy check: no customer id, name or email in {folder}"]
    customers = len({f.customer_id for f in findings})
    lines = [f"privacy check: {len(findings)} customer identifiers ({customers} customers) in {folder}:"]
    lines += [f"  {f.describe()}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more (`stylerec privacy-check {folder}` lists them all)")
    return lines


def catalog_people(catalog: Catalog) -> list[PersonRecord]:
    """Every customer of ``catalog`` as a :class:`PersonRecord`."""
    return [PersonRecord(c.customer_id, c.name, c.email) for c in catalog.customers("", limit=None)]


def privacy_check(catalog: Catalog, folder: Path | str) -> list[Finding]:
    """:func:`scan_folder` with every customer of ``catalog``. ``folder`` must be a folder (UserError otherwise)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give the export folder to check.")
    return scan_folder(folder, catalog_people(catalog))
