#!/bin/sh
# Remove what install.sh added (menu entry, icons, commands). The app folder, your catalogs and settings stay:
# delete the folder yourself; catalogs live where you made them (the default one under ~/.local/share/StyleRec).
set -eu
data="${XDG_DATA_HOME:-$HOME/.local/share}"
rm -f "$data/applications/stylerec-desktop.desktop" "$data/metainfo/io.stylerec.Desktop.metainfo.xml"
find "$data/icons/hicolor" -name 'stylerec-desktop.*' -delete 2>/dev/null || true
rm -f "$HOME/.local/bin/stylerec" "$HOME/.local/bin/stylerec-desktop"
echo "StyleRec Desktop's menu entry and commands are removed; delete its folder to remove the app itself."
