"""Errors a user can cause. Each carries a sentence that says what is wrong and what to do."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix (a missing file, a bad argument). The CLI exits 2 with the message."""


class CatalogError(UserError):
    """The catalog folder is missing, not a catalog, or from a newer version of the app."""


class NotFound(UserError):
    """A sku or customer id that is not in the catalog."""


class CatalogReadOnly(CatalogError):
    """A write to a catalog that is open read-only (the user may read it but not change it)."""
