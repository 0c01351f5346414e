#!/usr/bin/env bash
# Regenerate docs/check-report.png: stamp the bundled fixtures (one with its approval
# removed, one left unstamped), check them, and screenshot the HTML report in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=.venv/bin
$bin/aidisclose stamp fixtures/images/photo.jpg fixtures/video/clip.mov fixtures/audio/tone.wav \
  -r fixtures/example-record.toml -o "$work/delivery" >/dev/null
$bin/python - "$work" <<'PY'
import sys
from pathlib import Path
from aidisclose import load_record, stamp
work = Path(sys.argv[1])
data = load_record("fixtures/example-record.toml").to_json_dict()
del data["approval_reference"]
from aidisclose.record import validate_record
copy = work / "plate.tif"
copy.write_bytes(Path("fixtures/images/plate.tif").read_bytes())
stamp(copy, validate_record(data), output_dir=work / "delivery")
PY
cp fixtures/images/overlay.png "$work/delivery/unstamped.png"
(cd "$work" && "$OLDPWD/$bin/aidisclose" check delivery --format html --output report.html) || true
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars \
  --window-size=1100,1500 --screenshot="$PWD/docs/check-report.png" "file://$work/report.html" 2>/dev/null
echo "wrote docs/check-report.png"
