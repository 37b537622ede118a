"""The bundle's one executable: the desktop app, ``--self-test``, or the command line after ``--cli``.

    StyleRec                      # the app
    StyleRec --self-test          # the end-to-end check, offscreen; exit 0 when all pass
    StyleRec --cli info           # `stylerec info` (the `stylerec` launcher beside it does this)

One executable rather than two keeps one copy of everything in the folder.
"""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    # The indexing pool may start worker processes; a frozen app must let them run as workers, not as new apps.
    multiprocessing.freeze_support()
    if len(sys.argv) > 1 and sys.argv[1] == "--cli":
        from stylerec_desktop.cli import main as cli_main

        return cli_main(sys.argv[2:])
    from stylerec_desktop.gui.app import main as gui_main

    return gui_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
