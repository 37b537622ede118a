"""Write ``stylerec_desktop/_build_info.py``: the commit and date a bundle or wheel is built from.

    python packaging/write_build_info.py            # from the checkout's git state
    python packaging/write_build_info.py --remove   # after the build, so the checkout reports git again

Run by ``make package`` before PyInstaller. ``core/about.py`` reads the module; the file is not in git.
"""

from __future__ import annotations

import argparse
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "stylerec_desktop" / "_build_info.py"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remove", action="store_true", help="delete the generated module")
    args = parser.parse_args()
    if args.remove:
        TARGET.unlink(missing_ok=True)
        return 0
    commit = git("describe", "--always", "--dirty", "--abbrev=10") or "unknown"
    # The build's own time: a dirty tree's commit date would claim a state that never existed.
    date = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    TARGET.write_text(
        '"""Written by packaging/write_build_info.py at build time; not in git."""\n\n'
        f"COMMIT = {commit!r}\nDATE = {date!r}\n",
        encoding="utf-8",
    )
    print(f"build info: {commit} {date} -> {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
