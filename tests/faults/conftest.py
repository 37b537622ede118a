"""The fault suite: property-based fuzzing (Hypothesis) of the importers and of search, kill -9 trials of import,
index and export, two processes writing one catalog. ``make test`` runs a fast part (a few hundred cases);
``make faults`` (``STYLEREC_FAULTS=full``) runs the nightly size and prints a table of cases and failures."""

from __future__ import annotations

from typing import Any

from fault_cases import ACCEPTED, CASES, FULL, NOTES

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the `test` extra installs it; without it the fuzz tests skip themselves
    settings = None

if settings is not None:
    common: dict[str, Any] = {
        "deadline": None,  # an import on a loaded 2-core machine may take a second: that is not a bug
        "database": None,  # nothing written into the working tree
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        "derandomize": not FULL,  # make test: the same cases every run; make faults: new ones each night
    }
    settings.register_profile("stylerec-fast", max_examples=60, **common)
    settings.register_profile("stylerec-full", max_examples=2500, **common)
    settings.load_profile("stylerec-full" if FULL else "stylerec-fast")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CASES:
        return
    write = terminalreporter.write_line
    write("")
    write(f"fault suite ({'full' if FULL else 'fast'}): cases and failures")
    write(f"{'kind':<48}{'cases':>8}{'failed':>8}{'reached':>10}")
    for kind, (cases, failed) in sorted(CASES.items()):
        write(f"{kind:<48}{cases:>8}{failed:>8}{ACCEPTED.get(kind, ''):>10}")
    total, failed = sum(c for c, _ in CASES.values()), sum(f for _, f in CASES.values())
    write(f"{'total':<48}{total:>8}{failed:>8}")
    write("reached: fuzzed inputs the app accepted (the rest were refused with a message), searches that found "
          "something, kill -9 trials whose kill landed while the command ran")
    for note in NOTES:
        write(note)
