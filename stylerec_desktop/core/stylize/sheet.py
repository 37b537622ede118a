"""Contact sheets: a labelled grid of pictures (inputs down, styles across) to compare renders at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

LABEL_HEIGHT = 18
GAP = 6


def contact_sheet(
    rows: Sequence[Sequence[Image.Image | None]],
    column_labels: Sequence[str],
    row_labels: Sequence[str] = (),
    cell: int = 256,
) -> Image.Image:
    """A white sheet of ``cell``-px thumbnails: ``rows[r][c]`` under ``column_labels[c]`` (None leaves it blank).

    Each picture keeps its aspect ratio inside its cell; ``row_labels`` are written above each row's first cell.
    """
    columns = len(column_labels)
    if any(len(row) != columns for row in rows):
        raise ValueError("every row needs one picture (or None) per column label")
    row_height = cell + LABEL_HEIGHT
    width = GAP + columns * (cell + GAP)
    height = LABEL_HEIGHT + GAP + len(rows) * (row_height + GAP)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for c, label in enumerate(column_labels):
        draw.text((GAP + c * (cell + GAP) + 2, 3), label[:40], fill=(30, 30, 30))
    for r, row in enumerate(rows):
        top = LABEL_HEIGHT + GAP + r * (row_height + GAP)
        if r < len(row_labels):
            draw.text((GAP + 2, top + 2), row_labels[r][:40], fill=(90, 90, 90))
        for c, picture in enumerate(row):
            if picture is None:
                continue
            thumb = picture.convert("RGB").copy()
            thumb.thumbnail((cell, cell), Image.Resampling.LANCZOS)
            left = GAP + c * (cell + GAP) + (cell - thumb.width) // 2
            sheet.paste(thumb, (left, top + LABEL_HEIGHT + (cell - thumb.height) // 2))
    return sheet
