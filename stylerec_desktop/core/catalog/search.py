"""Search text as a person types it: folded for case and accents, matched literally (no wildcards of SQL's own).

The catalog stores a folded copy of what search looks at (see schema v9) and folds the typed words the same way,
so ``cafe`` finds ``Café``, ``STRASSE`` finds ``Straße``, and a typed ``%`` or ``_`` is just that character.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

LIKE_ESCAPE = "\\"


def fold(text: str) -> str:
    """``text`` without case or accents: compatibility-decomposed (NFKD), combining marks dropped, case-folded;
    control characters become spaces (SQLite ends a string at a NUL, and no one types one to find something).

    >>> fold("Crème Brûlée ＣＡＦＥ Straße")
    'creme brulee cafe strasse'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(" " if unicodedata.category(c) == "Cc" else c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare.casefold())


def like_pattern(word: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``word`` anywhere, its ``%``, ``_`` and ``\\`` taken literally."""
    escaped = word.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def search_words(text: str) -> list[str]:
    """The folded words of a typed search (split on whitespace); every one must match."""
    return fold(text).split()


def product_search_text(sku: str, title: str, brand: str, tags: Iterable[str]) -> str:
    """The folded text a product is found by: sku, title, brand and each tag, one per line (so a word cannot match
    across two fields, and a tag is matched as its text, never as JSON)."""
    return "\n".join(fold(part) for part in (sku, title, brand, *tags))


def customer_search_text(customer_id: str, name: str, email: str) -> str:
    """The folded text a customer is found by: id, name and email, one per line."""
    return "\n".join(fold(part) for part in (customer_id, name, email))
