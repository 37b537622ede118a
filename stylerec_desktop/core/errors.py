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


def user_error_for(exc: BaseException, catalog: object = None) -> UserError | None:
    """The error a user can act on behind ``exc``, with what to do, or None for a programmer error (a bug: let it
    surface with its traceback). ``catalog`` names the catalog folder in the messages (a path, or None).

    Mapped: disk full (SQLite's "database or disk is full", ``ENOSPC``/``EDQUOT``), a catalog locked by another
    program after the wait, a database or file that may not be written, a damaged database, a disk I/O error.
    The CLI prints the message and exits 2; the GUI shows it beside the job.
    """
    import errno
    import sqlite3

    if isinstance(exc, UserError):
        return exc
    where = f"the catalog in {catalog}" if catalog else "the catalog"
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "disk is full" in text:
            return UserError(f"The disk holding {where} is full. Free some space and run it again: the step that "
                             "failed was rolled back, so the catalog is as it was before it.")  # fmt: skip
        if "locked" in text or "busy" in text:
            return UserError(f"{where[0].upper()}{where[1:]} is locked by another program (still locked after "
                             "waiting for it). Close the other StyleRec window or command that is writing to it, "
                             "then run it again; nothing was changed.")  # fmt: skip
        if "readonly" in text or "read-only" in text:
            return CatalogReadOnly(f"{where[0].upper()}{where[1:]} cannot be written (its file or folder is "
                                   "read-only for this user); nothing was changed. Ask for write permission, or "
                                   "copy the catalog folder somewhere you can write.")  # fmt: skip
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return CatalogError(f"The database of {where} is damaged ({exc}). Restore catalog.sqlite from a "
                                "backup; `sqlite3 catalog.sqlite .recover` may save what is left.")  # fmt: skip
        if "disk i/o error" in text or "unable to open" in text:
            return UserError(f"The disk holding {where} failed to read or write ({exc}). Check that the disk or "
                             "network share is there and has room, then run it again.")  # fmt: skip
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        name = f" {exc.filename}" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return UserError(f"The disk is full (writing{name}). Free some space and run it again.")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return UserError(f"Permission denied:{name or ' a file'} cannot be written or read by this user "
                             f"({exc.strerror}). Choose another place, or ask for permission.")  # fmt: skip
    return None
