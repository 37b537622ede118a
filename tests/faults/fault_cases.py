"""The fault suite's settings and tally: property-based fuzzing (Hypothesis) of the importers and of search, kill -9
trials of import, index and export, two processes writing one catalog, full disks. ``make test`` runs a fast part
(a few hundred cases); ``make faults`` (``STYLEREC_FAULTS=full``) runs the nightly size. Each kind counts its cases
and failures for the table printed at the end of the run (``tests/conftest.py`` calls :func:`print_table`). A case
is one generated input, one kill -9 trial or one concurrent run.

No conftest.py here on purpose: the GUI tests import their own ``conftest`` by name, which a second one collected
in the same run would shadow.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: ``STYLEREC_FAULTS=full`` (``make faults``): the nightly size. Otherwise the fast part that ``make test`` runs.
FULL = os.environ.get("STYLEREC_FAULTS", "") == "full"

CASES: dict[str, list[int]] = {}  # kind -> [cases, failures]
# kind -> cases that got through to the catalog (an import that was accepted): shows the fuzzing reaches the
# writing code, not only the refusals.
ACCEPTED: dict[str, int] = {}


NOTES: list[str] = []  # lines printed under the table (seeds, skipped parts)
# kind -> [cases checked, files written or changed outside the folders the user chose] (export folder, catalog)
OUTSIDE: dict[str, list[int]] = {}


def count_outside_writes(kind: str, writes: int) -> None:
    """Record one case whose files outside the chosen folders were compared before and after: ``writes`` changed
    or new ones (0 when the promise held)."""
    tally = OUTSIDE.setdefault(kind, [0, 0])
    tally[0] += 1
    tally[1] += writes


def accepted(kind: str) -> None:
    ACCEPTED[kind] = ACCEPTED.get(kind, 0) + 1


@contextmanager
def case(kind: str) -> Iterator[None]:
    """Count one case of ``kind``; an exception inside counts it as failed (and propagates). Hypothesis' own
    control flow (BaseExceptions such as its StopTest) is neither."""
    tally = CASES.setdefault(kind, [0, 0])
    tally[0] += 1
    try:
        yield
    except Exception:
        tally[1] += 1
        raise


def trials(fast: int, full: int) -> int:
    """How many trials of a harness to run in this mode."""
    return full if FULL else fast


def tallies() -> dict[str, Any]:
    """This process's counts, as plain data: what a pytest-xdist worker sends its controller (tests/conftest.py)."""
    return {"cases": CASES, "accepted": ACCEPTED, "notes": NOTES, "outside": OUTSIDE}


def merge(other: dict[str, Any]) -> None:
    """Add another process's :func:`tallies` to this one's, so the controller prints one table for the run."""
    for kind, (cases, failed) in other["cases"].items():
        tally = CASES.setdefault(kind, [0, 0])
        tally[0] += cases
        tally[1] += failed
    for kind, count in other["accepted"].items():
        ACCEPTED[kind] = ACCEPTED.get(kind, 0) + count
    for kind, (checked, writes) in other["outside"].items():
        tally = OUTSIDE.setdefault(kind, [0, 0])
        tally[0] += checked
        tally[1] += writes
    NOTES.extend(note for note in other["notes"] if note not in NOTES)


def print_table(write: Callable[[str], Any]) -> None:
    """The table of cases, failures and cases that reached the code under test, one line per fault kind."""
    if not CASES:
        return
    write("")
    write(f"fault suite ({'full' if FULL else 'fast'}): cases and failures")
    write(f"{'kind':<48}{'cases':>8}{'failed':>8}{'reached':>10}")
    for kind, (cases, failed) in sorted(CASES.items()):
        write(f"{kind:<48}{cases:>8}{failed:>8}{ACCEPTED.get(kind, ''):>10}")
    total, failed = sum(c for c, _ in CASES.values()), sum(f for _, f in CASES.values())
    write(f"{'total':<48}{total:>8}{failed:>8}")
    write("reached: fuzzed inputs the app accepted (the rest were refused with a message), searches that found "
          "something, kill -9 trials whose kill landed while the command ran")
    if OUTSIDE:
        checked, writes = sum(c for c, _ in OUTSIDE.values()), sum(w for _, w in OUTSIDE.values())
        write(f"writes outside the chosen folders: {writes} in {checked} cases checked "
              f"({', '.join(f'{kind}: {c}' for kind, (c, _) in sorted(OUTSIDE.items()))})")  # fmt: skip
    for note in NOTES:
        write(note)


try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the `test` extra installs it; without it the fuzz tests skip themselves
    settings = None

if settings is not None:
    _common: dict[str, Any] = {
        "deadline": None,  # an import on a loaded 2-core machine may take a second: that is not a bug
        "database": None,  # nothing written into the working tree
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        "derandomize": not FULL,  # make test: the same cases every run; make faults: new ones each night
    }
    settings.register_profile("stylerec-fast", max_examples=60, **_common)
    settings.register_profile("stylerec-full", max_examples=2500, **_common)
    settings.load_profile("stylerec-full" if FULL else "stylerec-fast")
