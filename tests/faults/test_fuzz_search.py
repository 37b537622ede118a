"""Search, fed generated text: it never fails, and finds exactly the products (and customers) a reference written
in plain Python finds: those where every folded typed word is a substring of a folded sku, title, brand or tag
(id, name or email). The reference shares only ``fold`` with the catalog; its matching is a Python ``in``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_cases import accepted, case

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, ProductRecord  # noqa: E402
from stylerec_desktop.core.catalog.search import fold  # noqa: E402

PRODUCTS = [
    ProductRecord("CAF-1", "Café Crème Mug", "home", brand="Maison É", tags=("café", "cup", "50% off")),
    ProductRecord("LIN_2", "Linen Dress", "women", brand="Nord", tags=("summer", "sale_item")),
    ProductRecord("STR-3", "Straße Boots", "shoes", brand="Ünter", tags=('quote"d', "[x]", "a,b")),
    ProductRecord("ZEN-4", "ＺＥＮ Bowl 禅", "home", tags=("ceramic", "\\back")),
    ProductRecord("NEA-5", "NEAR OR AND NOT", "misc", tags=("*", "^start", "col:on")),
]  # fmt: skip
CUSTOMERS = [
    CustomerRecord("C%01", "Zoë Martín", "zoe_m@example.com"),
    CustomerRecord("C0002", "Ann Lee", "ann@example.com"),
    CustomerRecord("C0003", "Bo Chen", "bo.chen@gmail.com"),
]
PIECES = [t for p in PRODUCTS for t in (p.sku, p.title, p.brand, *p.tags)] + [
    t for c in CUSTOMERS for t in (c.customer_id, c.name, c.email)
]


@pytest.fixture(scope="module")
def catalog() -> Iterator[Catalog]:
    with tempfile.TemporaryDirectory(prefix="stylerec-fuzz-search-") as folder:
        catalog = Catalog.create(Path(folder) / "catalog")
        catalog.upsert_products(PRODUCTS)
        catalog.upsert_customers(CUSTOMERS)
        yield catalog
        catalog.close()


def _expected(text: str, fields: dict[str, list[str]]) -> set[str]:
    words = fold(text).split()
    return {key for key, parts in fields.items() if all(any(w in fold(p) for p in parts) for w in words)}


# Typed text: anything at all, or a slice of what the catalog holds (so many searches do find something), with
# its case changed and punctuation around it.
@st.composite
def typed(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=12))
    piece = draw(st.sampled_from(PIECES))
    start = draw(st.integers(0, len(piece)))
    end = draw(st.integers(start, len(piece)))
    part = piece[start:end]
    part = part.upper() if draw(st.booleans()) else part
    return draw(st.sampled_from(["", " ", "%", '"'])) + part + draw(st.sampled_from(["", " ", " x", "_"]))


@given(text=typed())
def test_product_search_matches_the_reference(catalog: Catalog, text: str) -> None:
    with case("fuzz: product search"):
        found = {catalog.product(i).sku for i in catalog.search_product_ids(text)}
        fields = {p.sku: [p.sku, p.title, p.brand, *p.tags] for p in PRODUCTS}
        assert found == _expected(text, fields), text
        if found and text.strip():
            accepted("fuzz: product search")


@given(text=typed())
def test_customer_search_matches_the_reference(catalog: Catalog, text: str) -> None:
    with case("fuzz: customer search"):
        found = {c.customer_id for c in catalog.customers(text)}
        fields = {c.customer_id: [c.customer_id, c.name, c.email] for c in CUSTOMERS}
        assert found == _expected(text, fields), text
        if found and text.strip():
            accepted("fuzz: customer search")
