#!/bin/sh
# Install StyleRec Desktop for this user from the unpacked folder this script is in: a menu entry and icon under
# ~/.local/share, `stylerec` and `stylerec-desktop` commands in ~/.local/bin. The folder itself stays where it is
# (move it first, e.g. to ~/.local/opt/StyleRec). ./uninstall.sh removes what this adds.
set -eu
here="$(dirname "$(readlink -f "$0")")"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="$HOME/.local/bin"
mkdir -p "$data/applications" "$data/metainfo" "$bin"
cp -r "$here/share/icons" "$data/"
sed "s|^Exec=stylerec-desktop|Exec=$here/StyleRec|" "$here/share/applications/stylerec-desktop.desktop" \
    > "$data/applications/stylerec-desktop.desktop"
cp "$here/share/metainfo/io.stylerec.Desktop.metainfo.xml" "$data/metainfo/"
ln -sf "$here/StyleRec" "$bin/stylerec-desktop"
ln -sf "$here/stylerec" "$bin/stylerec"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data/icons/hicolor" 2>/dev/null || true
echo "StyleRec Desktop installed: the menu entry 'StyleRec Desktop', and stylerec / stylerec-desktop in $bin"
