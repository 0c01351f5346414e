#!/usr/bin/env bash
# Install the Debian packages the tests use, if missing:
#   required: ExifTool (libimage-exiftool-perl) and ffmpeg, the independent witnesses, and Node.js with
#   npm, which run @trustnxt/c2pa-ts (a second C2PA implementation, pinned in tests/js/package-lock.json,
#   installed into tests/js/node_modules here, never while the tests run);
#   optional: Chromium, which renders the HTML report in one test (skipped, saying why, without it;
#   under CI=true that test fails instead, since CI runs as root and can always install it).
set -euo pipefail
missing=()
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
want_chromium=0
command -v chromium >/dev/null 2>&1 || want_chromium=1
js_witness() {
  local here
  here="$(cd "$(dirname "$0")/.." && pwd)/tests/js"
  [ -f "$here/node_modules/@trustnxt/c2pa-ts/package.json" ] && return 0
  echo "installing the C2PA witness (@trustnxt/c2pa-ts) into tests/js/node_modules" >&2
  npm install --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
}
[ ${#missing[@]} -eq 0 ] && [ $want_chromium -eq 0 ] && { js_witness; exit 0; }
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  [ ${#missing[@]} -eq 0 ] && { echo "note: chromium not installed; the HTML rendering test will be skipped" >&2; js_witness; exit 0; }
  echo "error: need ${missing[*]}; run as root or install them with your package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $want_chromium -eq 1 ]; then
  echo "installing chromium (for the HTML report test)" >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || echo "note: chromium could not be installed; the HTML rendering test will be skipped" >&2
fi
js_witness
