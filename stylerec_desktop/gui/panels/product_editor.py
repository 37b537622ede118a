"""The product panel's edit mode: a form for a product's title, category, price, stock and tags.

The form only checks what was typed and says what to fix, inline; :func:`changes_from_form` is the pure part that
turns the typed text into the fields that changed. Writing is someone else's job (``gui/edits.py``), so that every
edit goes through the undo stack and the write lane.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from stylerec_desktop.core.catalog import Product
from stylerec_desktop.core.errors import UserError

#: Field names in the order the form shows them (and names them in undo texts).
FIELDS = ("title", "category", "price", "stock", "tags")


def changes_from_form(product: Product, title: str, category: str, price: str, stock: str, tags: str) -> dict:
    """The fields whose typed text differs from ``product``, parsed: ``{"price": 24.5, ...}`` (empty when nothing
    changed). Empty price means no price; empty stock means not counted; tags are comma-separated.

    Raises :class:`UserError` with a sentence naming the field and what would fit; then nothing is to be written.
    """
    new: dict[str, object] = {}
    title = title.strip()
    if not title:
        raise UserError("Title: a product needs a title.")
    new["title"] = title
    new["category"] = category.strip()
    # Compared as text with what the form showed: an imported 19.999 shown as 19.999 stays untouched unless edited.
    if price.strip() != price_text(product.price):
        new["price"] = _price(price)
    new["stock"] = _stock(stock)
    new["tags"] = tuple(dict.fromkeys(tag.strip() for tag in tags.split(",") if tag.strip()))
    old = {"title": product.title, "category": product.category, "price": product.price, "stock": product.stock,
           "tags": product.tags}  # fmt: skip
    return {name: value for name, value in new.items() if value != old[name]}


def price_text(price: float | None) -> str:
    """How the form shows a stored price: two decimals, or every decimal it has when it has more (imports keep
    what the file said), so that showing and saving it again changes nothing."""
    if price is None:
        return ""
    two = f"{price:.2f}"
    return two if float(two) == price else repr(price)


def _price(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    expected = "Give a number of 0 or more with at most 2 decimals, e.g. 19.99, or leave it empty for no price."
    try:
        number = Decimal(text)
    except InvalidOperation:
        hint = " (use a dot for decimals)" if "," in text else ""
        raise UserError(f"Price: {text!r} is not a number{hint}. {expected}") from None
    if not number.is_finite():
        raise UserError(f"Price: {text!r} is not a number. {expected}")
    if number < 0:
        raise UserError(f"Price: {text!r} is negative. {expected}")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise UserError(f"Price: {text!r} has more than 2 decimals. {expected}")
    return float(number)


def _stock(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not text.isascii():
        what = "is negative" if text.startswith("-") else "is not a whole number"
        raise UserError(f"Stock: {text!r} {what}. Give the units on hand (0 or more), or leave it empty.")
    return int(text)


def describe(product: Product, changes: dict) -> str:
    """The undo stack's text for an edit: ``Edit price of TEE-1`` or ``Edit TEE-1 (price, stock)``."""
    names = [name for name in FIELDS if name in changes]
    if len(names) == 1:
        return f"Edit {names[0]} of {product.sku}"
    return f"Edit {product.sku} ({', '.join(names)})"


class ProductEditForm(QWidget):
    """Line edits for the editable fields, Save and Cancel, and a line that says what to fix.

    :attr:`saveRequested` carries the changed fields (parsed) when Save is pressed and the input is valid;
    :attr:`cancelled` when Cancel (or Escape) is pressed.
    """

    saveRequested = Signal(object)  # dict of changed fields
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("productEditor")
        self._product: Product | None = None
        self.title_edit = QLineEdit()
        self.category_edit = QLineEdit()
        self.price_edit = QLineEdit(placeholderText="no price")
        self.stock_edit = QLineEdit(placeholderText="not counted")
        self.stock_edit.setToolTip("Units on hand; 0 marks the product out of stock")
        self.tags_edit = QLineEdit(placeholderText="comma-separated")
        self.error_label = QLabel()
        self.error_label.setObjectName("editError")
        self.error_label.setProperty("role", "error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancelled)
        self._edits = {
            "title": self.title_edit,
            "category": self.category_edit,
            "price": self.price_edit,
            "stock": self.stock_edit,
            "tags": self.tags_edit,
        }
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        for name, edit in self._edits.items():
            edit.setObjectName(f"{name}Edit")
            edit.returnPressed.connect(self.save)
            form.addRow(name.capitalize(), edit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)

    def start(self, product: Product) -> None:
        """Fill the form with ``product``'s values and focus the title."""
        self._product = product
        self.title_edit.setText(product.title)
        self.category_edit.setText(product.category)
        self.price_edit.setText(price_text(product.price))
        self.stock_edit.setText(str(product.stock) if product.stock is not None else "")
        self.stock_edit.setPlaceholderText("not counted (in stock)" if product.in_stock else "not counted (out)")
        self.tags_edit.setText(", ".join(product.tags))
        self.error_label.hide()
        self.title_edit.setFocus()
        self.title_edit.selectAll()

    def product(self) -> Product | None:
        return self._product

    def save(self) -> None:
        """Check the input: say what to fix, or emit :attr:`saveRequested` with the changed fields."""
        if self._product is None:
            return
        try:
            changes = changes_from_form(self._product, *(edit.text() for edit in self._edits.values()))
        except UserError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            field = str(exc).split(":", 1)[0].lower()
            if field in self._edits:
                self._edits[field].setFocus()
                self._edits[field].selectAll()
            return
        self.error_label.hide()
        self.saveRequested.emit(changes)

    def message(self) -> str:
        """The message shown about the input ('' when none)."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)
