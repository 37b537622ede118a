#!/usr/bin/env bash
# `make package-test`: run the built bundle's self-test as a user's machine would, in a clean environment: no
# variables of ours (env -i), a minimal PATH without .venv, HOME in a fresh temporary folder, offscreen Qt. A data
# file, hidden import or Qt plugin missing from the bundle fails here, not on a user's machine. Runs the unpacked
# archive (what users get), not dist/StyleRec.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="$(python3 -c 'import re; print(re.search(r"__version__ = \"(.+?)\"", open("stylerec_desktop/__init__.py").read())[1])')"
archive="dist/StyleRec-$version-linux-x86_64.tar.gz"
test -f "$archive" || { echo "make package-test: no $archive; run make package first" >&2; exit 1; }
(cd dist && sha256sum --check --quiet "$(basename "$archive").sha256")
scratch="$(mktemp -d /tmp/stylerec-package-test-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/app"
tar -xzf "$archive" -C "$scratch/app"
cd "$scratch"  # not the checkout: nothing of it may be found by accident
env -i PATH=/usr/bin:/bin HOME="$scratch/home" QT_QPA_PLATFORM=offscreen LANG=C.UTF-8 \
    "$scratch/app/StyleRec/StyleRec" --self-test
env -i PATH=/usr/bin:/bin HOME="$scratch/home" LANG=C.UTF-8 "$scratch/app/StyleRec/stylerec" --version --verbose
