"""Find similar: the "Same product, other colours" strip on a catalog with product groups (stored features, no
networks: tests/feature_catalog.py), and hidden for a product in no group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from feature_catalog import FakeProduct, build_feature_catalog
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.service import INDEX_CACHE
from stylerec_desktop.core.recommend.similar import same_group_products
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.panels.similar import SAME_GROUP_TITLE, SimilarityRole, SimilarPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader

NAVY, ROYAL, BLACK, RED = (30.0, 10.0, -40.0), (45.0, 15.0, -55.0), (10.0, 0.0, 0.0), (50.0, 65.0, 45.0)
PRODUCTS = [
    # a tee in four colours
    FakeProduct("TEE-NAVY", NAVY, look=1, group="TEE"),
    FakeProduct("TEE-RED", RED, look=1, group="TEE"),
    FakeProduct("TEE-ROYAL", ROYAL, look=1, group="TEE"),
    FakeProduct("TEE-BLACK", BLACK, look=1, group="TEE"),
    # a dress in seven shades: its row is longer than the panel is wide
    *[FakeProduct(f"DRESS-{i}", (20.0 + 10 * i, 40.0 - 10 * i, 0.0), look=2, group="DRESS") for i in range(7)],
    # products in no group
    *[FakeProduct(f"CAP-{i}", NAVY, look=3 + i, category="caps") for i in range(4)],
]


@pytest.fixture(scope="module")
def grouped_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    catalog = build_feature_catalog(tmp_path_factory.mktemp("similar-groups") / "catalog", PRODUCTS)
    yield catalog
    catalog.close()


def _panel(qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], catalog: Catalog) -> SimilarPanel:
    runner, thumbnails = services
    panel = SimilarPanel(runner, thumbnails)
    qtbot.addWidget(panel)
    panel.resize(460, 760)
    panel.show()
    panel.set_catalog(catalog)
    return panel


def _show(qtbot: QtBot, panel: SimilarPanel, product_id: int) -> None:
    panel.show_product(product_id)
    qtbot.waitUntil(lambda: not panel.busy and panel.answer() is not None
                    and panel.answer().source.id == product_id, timeout=30_000)  # fmt: skip


def test_the_other_colours_show_closest_first_and_pick_like_results(
    qtbot: QtBot, services: tuple[JobRunner, ThumbnailLoader], grouped_catalog: Catalog
) -> None:
    panel = _panel(qtbot, services, grouped_catalog)
    assert not panel.same_group_box.isVisible()
    source = grouped_catalog.product_by_sku("TEE-NAVY")
    _show(qtbot, panel, source.id)

    expected = same_group_products(INDEX_CACHE.get(grouped_catalog), source.sku)
    assert [e.sku for e in expected] == ["TEE-ROYAL", "TEE-BLACK", "TEE-RED"]
    assert panel.same_group_box.isVisible()
    assert panel.group_title.text() == f"{SAME_GROUP_TITLE} (3)"
    assert panel.same_group_ids() == [e.product_id for e in expected]
    scores = [panel.group_model.index(r).data(SimilarityRole) for r in range(3)]
    assert scores == sorted(scores, reverse=True) == pytest.approx([e.score for e in expected])
    # the threshold filters the neighbours, never the group
    panel.set_threshold(0.99)
    assert len(panel.same_group_ids()) == 3
    panel.set_threshold(0.0)
    # picking another colour opens it, as picking a neighbour does
    with qtbot.waitSignal(panel.productSelected) as picked:
        panel.group_strip.setCurrentIndex(panel.group_model.index(1))
    assert picked.args == [expected[1].product_id]

    # a group too long for the width gets room for its scroll bar below the cards, not over them
    fits = panel.group_strip.height()
    _show(qtbot, panel, grouped_catalog.product_by_sku("DRESS-0").id)
    assert len(panel.same_group_ids()) == 6
    assert panel.group_strip.height() > fits and panel.group_strip.horizontalScrollBar().maximum() > 0

    loner = grouped_catalog.product_by_sku("CAP-0")
    _show(qtbot, panel, loner.id)
    assert not panel.same_group_box.isVisible() and panel.same_group_ids() == []
    assert panel.model.rowCount() > 0  # its neighbours still show
