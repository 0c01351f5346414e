#!/usr/bin/env bash
# Install the Debian packages the tests use, if missing: ExifTool (libimage-exiftool-perl) and ffmpeg,
# the independent witnesses, and Chromium, the browser the HTML report is rendered in (driven by
# Playwright through its executable_path: Playwright's own browser builds are not downloaded).
set -euo pipefail
missing=()
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "error: need ${missing[*]}; run as root or install them with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
echo "installing system packages: ${missing[*]}" >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
