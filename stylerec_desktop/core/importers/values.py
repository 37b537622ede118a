"""Parsing one cell. Each parser takes what the file held (text from a CSV, any JSON value from JSON Lines)
and returns a clean value, or raises :class:`BadValue` with the two halves of a :class:`RowError` message."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stylerec_desktop.core.catalog import EVENT_KINDS

SKU_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces. Stricter checks reject
# real addresses; the point is to catch shifted columns and typos like "anna.example.com".
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CURRENCY_PATTERN = re.compile(r"[A-Za-z]{3}")
MAX_ID_LENGTH = 128
# Every number must be finite and fit what SQLite stores (a 64-bit integer, a double) and what JSON can print:
# 1e400 reads as a float infinity, 99999999999999999999 overflows SQLite's INTEGER. The limits are far above any
# real value, and say plainly what is expected.
MAX_PRICE = Decimal("1e12")  # a trillion in the currency's unit: room for currencies with large unit values
MAX_QUANTITY = 1_000_000  # per row; rows of one event add up (see importers.events), still far below 2**63
_QUANTITY_DIGITS = len(str(MAX_QUANTITY))
# Event times are stored as fixed-width UTC text ("%Y" is four digits only from year 1000); the range is that of
# any real shop history, and leaves no room for a time zone to overflow a date at the ends of Python's calendar.
EARLIEST_EVENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_EVENT = datetime(2200, 1, 1, tzinfo=UTC)

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_QUOTE_LIMIT = 40  # long values are cut in messages, so one bad row stays one line


class BadValue(ValueError):
    """A value that does not fit its column: ``problem`` says what is wrong, ``expected`` what would fit."""

    def __init__(self, problem: str, expected: str) -> None:
        super().__init__(f"{problem} (expected {expected})")
        self.problem = problem
        self.expected = expected


def quoted(value: Any) -> str:
    """The value as the user wrote it, quoted and shortened for a message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 3] + "..."
    return repr(text)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """Any cell as text: strings stripped; JSON numbers and booleans as written; lists/objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def required_text(value: Any, what: str) -> str:
    result = text(value)
    if not result:
        raise BadValue("empty", what)
    return result


def sku(value: Any) -> str:
    result = text(value)
    if not result:
        raise BadValue("empty", "a sku: 1-64 letters, digits, '-', '_' or '.'")
    if not SKU_PATTERN.fullmatch(result):
        raise BadValue(f"{quoted(result)} is not a valid sku", "1-64 letters, digits, '-', '_' or '.'")
    return result


def identifier(value: Any, what: str) -> str:
    """A customer id: any text without line breaks, at most :data:`MAX_ID_LENGTH` characters."""
    result = required_text(value, what)
    if len(result) > MAX_ID_LENGTH or any(ch in result for ch in "\r\n\t"):
        raise BadValue(f"{quoted(result)} is not a usable id", f"{what}: one line, at most {MAX_ID_LENGTH} characters")
    return result


def group_id(value: Any) -> str:
    """A product group id (``item_group_id``): any one-line text up to :data:`MAX_ID_LENGTH` characters; empty
    means the product is in no group. JSON numbers are fine (feeds often number their groups)."""
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        raise BadValue(f"{quoted(value)} is not a group id", "text such as DRESS-104, or empty for no group")
    result = text(value)
    if len(result) > MAX_ID_LENGTH or any(ch in result for ch in "\r\n\t"):
        raise BadValue(f"{quoted(result)} is not a usable group id", f"one line, at most {MAX_ID_LENGTH} characters")
    return result


def price(value: Any) -> float | None:
    """A decimal from 0 to :data:`MAX_PRICE`; empty means unknown (None). Always finite."""
    expected = "a decimal >= 0, e.g. 19.99"
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadValue(f"{quoted(value)} is not a number", expected)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        hint = " (use a dot for decimals, no thousands separator)" if "," in str(value) else ""
        raise BadValue(f"{quoted(value)} is not a number{hint}", expected) from None
    if not number.is_finite():
        raise BadValue(f"{quoted(value)} is not a number", expected)
    if number < 0:
        raise BadValue(f"{quoted(value)} is negative", expected)
    if number > MAX_PRICE:
        raise BadValue(f"{quoted(value)} is too large", f"a decimal from 0 to {MAX_PRICE:,.0f}")
    return float(number)


def currency(value: Any) -> str:
    if is_empty(value):
        return "USD"
    result = text(value)
    if not CURRENCY_PATTERN.fullmatch(result):
        raise BadValue(f"{quoted(value)} is not a currency code", "3 letters, e.g. USD or EUR")
    return result.upper()


def boolean(value: Any, default: bool) -> bool:
    if is_empty(value):
        return default
    if isinstance(value, bool):
        return value
    word = text(value).lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise BadValue(f"{quoted(value)} is not true or false", "true/false, yes/no, y/n or 1/0")


def string_list(value: Any, what: str) -> list[str]:
    """``a;b;c`` text or a JSON list of strings -> stripped, non-empty, first occurrence kept."""
    if is_empty(value):
        return []
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise BadValue(f"{quoted(value)} is not a list of text", f"{what} separated by ';', or a JSON list")
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def email(value: Any) -> str:
    result = text(value)
    if result and not EMAIL_PATTERN.fullmatch(result):
        raise BadValue(f"{quoted(value)} is not an email address", "an address like anna@example.com, or empty")
    return result


def iso_date(value: Any) -> str:
    """An ISO date (``2024-03-01``), returned in that form; empty stays empty."""
    result = text(value)
    if not result:
        return ""
    try:
        return date.fromisoformat(result).isoformat()
    except ValueError:
        raise BadValue(f"{quoted(value)} is not a date", "an ISO date, e.g. 2024-03-01") from None


def timestamp(value: Any) -> datetime:
    """ISO-8601 date and time; ``Z`` or an offset; no zone means UTC; a date alone means midnight UTC.

    Returned in UTC, from :data:`EARLIEST_EVENT` (included) to :data:`LATEST_EVENT` (excluded).
    """
    expected = "an ISO-8601 time, e.g. 2024-03-01T14:30:00Z, 2024-03-01 14:30+02:00 or 2024-03-01"
    result = text(value)
    if not result:
        raise BadValue("empty", expected)
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(result)
    except ValueError:
        raise BadValue(f"{quoted(value)} is not a date and time", expected) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first day Python can represent in UTC
        moment = None
    if moment is None or not EARLIEST_EVENT <= moment < LATEST_EVENT:
        years = f"{EARLIEST_EVENT.year} to {LATEST_EVENT.year - 1}"
        raise BadValue(f"{quoted(value)} is out of range", f"a time in the years {years}")
    return moment


def quantity(value: Any) -> int:
    """A whole number from 1 to :data:`MAX_QUANTITY`; empty means 1."""
    expected = f"a whole number from 1 to {MAX_QUANTITY:,}"
    if is_empty(value):
        return 1
    if isinstance(value, bool):
        raise BadValue(f"{quoted(value)} is not a whole number", expected)
    if isinstance(value, int):
        number = value
    else:
        word = text(value)
        if not re.fullmatch(r"\+?\d+", word):
            raise BadValue(f"{quoted(value)} is not a whole number", expected)
        digits = word.lstrip("+").lstrip("0") or "0"
        # Too many digits is too large, decided before int(): Python refuses to convert over 4,300 digits.
        number = int(digits) if len(digits) <= _QUANTITY_DIGITS else MAX_QUANTITY + 1
    if number < 1:
        raise BadValue(f"{quoted(value)} is less than 1", expected)
    if number > MAX_QUANTITY:
        raise BadValue(f"{quoted(value)} is too large", expected)
    return number


def event_kind(value: Any) -> str:
    expected = " | ".join(EVENT_KINDS)
    result = text(value).lower()
    if not result:
        raise BadValue("empty", expected)
    if result not in EVENT_KINDS:
        raise BadValue(f"{quoted(value)} is not an event kind", expected)
    return result


def attributes(value: Any) -> dict[str, str]:
    """A JSON object of free attributes -> ``{name: text}``, empty values left out."""
    if is_empty(value):
        return {}
    if not isinstance(value, dict):
        raise BadValue(f"{quoted(value)} is not an object", 'a JSON object, e.g. {"colour": "red"}')
    return {str(key).strip(): text(item) for key, item in value.items() if str(key).strip() and text(item)}
