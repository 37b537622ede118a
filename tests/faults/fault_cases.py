"""The fault suite's tally: how many cases each fault kind ran and how many failed, for the table `make faults`
prints (see conftest.py). A case is one generated input, one kill -9 trial or one concurrent run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

#: ``STYLEREC_FAULTS=full`` (``make faults``): the nightly size. Otherwise the fast part that ``make test`` runs.
FULL = os.environ.get("STYLEREC_FAULTS", "") == "full"

CASES: dict[str, list[int]] = {}  # kind -> [cases, failures]
# kind -> cases that got through to the catalog (an import that was accepted): shows the fuzzing reaches the
# writing code, not only the refusals.
ACCEPTED: dict[str, int] = {}


NOTES: list[str] = []  # lines printed under the table (seeds, skipped parts)


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
