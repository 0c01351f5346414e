#!/usr/bin/env bash
# Install the Debian packages the tests use, if missing: ExifTool (libimage-exiftool-perl) and ffmpeg,
# the independent witnesses; Chromium, the browser the HTML report is rendered in (driven by Playwright
# through its executable_path: Playwright's own browser builds are not downloaded); and Node.js with
# npm, which run @trustnxt/c2pa-ts (a second C2PA implementation, pinned in tests/js/package-lock.json,
# installed into tests/js/node_modules here, never while the tests run); OpenSSL, the test time-stamp
# authority and the independent verifier of signed QC sign-offs (`openssl cms -verify`).
set -euo pipefail
missing=()
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
js_witness() {
  local here
  here="$(cd "$(dirname "$0")/.." && pwd)/tests/js"
  [ -f "$here/node_modules/@trustnxt/c2pa-ts/package.json" ] && return 0
  echo "installing the C2PA witness (@trustnxt/c2pa-ts) into tests/js/node_modules" >&2
  npm install --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
}
if [ ${#missing[@]} -gt 0 ]; then
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
fi
js_witness
