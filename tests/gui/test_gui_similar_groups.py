"""Find similar: the "Same product, other colours" strip on a catalog with product groups (the drawn tees of
tests/recommend_support.py, each pattern in four colours), and hidden for a product in no group."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot
from recommend_support import build_catalog

from stylerec_desktop.core.catalog import Catalog, ImageInfo, ProductRecord
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.indexing import index_catalog
from stylerec_desktop.core.recommend.service import INDEX_CACHE
from stylerec_desktop.core.recommend.similar import same_group_products
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.panels.similar import SAME_GROUP_TITLE, SimilarityRole, SimilarPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


@pytest.fixture(scope="module")
def grouped_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    catalog = build_catalog(tmp_path_factory.mktemp("similar-groups"), variants=1, groups=True)
    image = catalog.product_by_sku("dots-neon-0").primary_image
    assert image is not None
    # a product in no group (it reuses a tee's photo: no other file to draw)
    loner_image = ImageInfo(image.path, image.sha256, image.width, image.height)
    catalog.upsert_products([ProductRecord("LONER", "A tee of its own", "tees", images=(loner_image,))])
    # dots-0 in three more colourways (reusing a photo), so its row is longer than the panel is wide
    catalog.upsert_products(
        [ProductRecord(f"dots-extra-{i}", f"Dots tee extra {i}", "tees", images=(loner_image,), item_group_id="dots-0")
         for i in range(3)]
    )  # fmt: skip
    run_job(index_catalog(catalog, device="cpu"))
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
    source = grouped_catalog.product_by_sku("stripes-navy-0")
    _show(qtbot, panel, source.id)

    expected = same_group_products(INDEX_CACHE.get(grouped_catalog), source.sku)
    assert {e.sku for e in expected} == {"stripes-pastel-0", "stripes-earth-0", "stripes-neon-0"}
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
    _show(qtbot, panel, grouped_catalog.product_by_sku("dots-navy-0").id)
    assert len(panel.same_group_ids()) == 6
    assert panel.group_strip.height() > fits and panel.group_strip.horizontalScrollBar().maximum() > 0

    loner = grouped_catalog.product_by_sku("LONER")
    _show(qtbot, panel, loner.id)
    assert not panel.same_group_box.isVisible() and panel.same_group_ids() == []
    assert panel.model.rowCount() > 0  # its neighbours still show
