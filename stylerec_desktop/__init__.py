"""StyleRec Desktop: style-aware recommendations and restyling for catalog teams."""

import os

__version__ = "0.1.0"

# Must happen before torch is first imported (OpenMP reads it once, at load). With the default "active" policy an
# idle OpenMP worker spins at every one of the ~60 fork/join points of a style network; when other programs keep
# the cores busy, each join then waits a scheduler time slice for a descheduled spinner, and a 2-thread render on
# a loaded 2-core machine measured 3-5x slower than a 1-thread one. "passive" workers sleep instead (a few
# microseconds to wake). The user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
