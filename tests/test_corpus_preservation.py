"""Stamping keeps every Exif, IPTC and XMP entry the record does not own, on every still of the public corpus.

ExifTool reads each file before and after (``-a -G1 -json``); only the tags named
below may differ, each in the one way named. Where the shared corpus is not there
(a fresh clone), the sweep runs over the copies of it in fixtures/foreign/.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from aidisclose import load_record, stamp
from aidisclose.errors import DisclosureError

from .conftest import EXAMPLE_RECORD, FIXTURES

CORPUS = Path("/work/shared/corpus")
SOURCE = CORPUS if CORPUS.is_dir() else FIXTURES / "foreign"
STILLS = sorted(p for p in SOURCE.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".tif", ".tiff", ".png", ".webp"})

#: Corpus files stamp refuses, and the reason it gives (crash and CVE reproducers, truncated files).
REFUSED = {
    "c2pa-rs/MultiPage.tif": "stamping would change the essence",
    "c2pa-rs/tiff_poc.tiff": "the file is truncated or corrupt",
    "exiftool/ExifTool.jpg": "the file is truncated or corrupt",
    "exiv2/2018-01-09-exiv2-crash-001.tiff": "content is not JPEG",
    "exiv2/2018-01-09-exiv2-crash-002.tiff": "the file is truncated or corrupt",
    "exiv2/2018-01-09-exiv2-crash-003.tiff": "the file is truncated or corrupt",
    "exiv2/crash-23eba73bb01cb01caa96a389eb12955c34b98a37.jpg": "content is not JPEG",
    "exiv2/cve_2017_1000126_stack-oob-read.webp": "cannot read the metadata",
    "exiv2/cve_2017_18005_reproducer.tiff": "the file is truncated or corrupt",
    "exiv2/exiv2-bug1247.jpg": "cannot read the metadata",
}

#: Groups that are ours, or tell of the file system and the file's layout rather than its metadata.
OURS_AND_FILE = {"SourceFile", "System", "File", "XMP-aidisclose"}
#: Free to change: the XMP writer's name.
ANY_VALUE = {"XMP-x:XMPToolkit"}
#: Offsets ExifTool gives from the start of the file: they move where exiv2 lays a TIFF or WebP out anew.
OFFSETS = {"IFD0:StripOffsets", "IFD1:ThumbnailOffset"}


def _exiftool(path: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(["exiftool", "-a", "-G1", "-json", *args, str(path)], capture_output=True, text=True)
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The standard tags the example record writes and their values: a stamp of an image that has none."""
    folder = tmp_path_factory.mktemp("blank")
    blank = folder / "blank.jpg"
    Image.new("RGB", (8, 8), "gray").save(blank)
    before = _exiftool(blank)
    after = _exiftool(stamp(blank, load_record(EXAMPLE_RECORD), output_dir=folder / "out").destination)
    return {k: v for k, v in after.items() if k.split(":")[0] not in OURS_AND_FILE and k not in before}


def unexplained(before: dict[str, Any], after: dict[str, Any], written: dict[str, Any], layout: bool) -> list[str]:
    """Each tag that differs in a way the list above does not allow."""
    wrong = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new or key.split(":")[0] in OURS_AND_FILE or key in ANY_VALUE:
            continue
        if key in written and isinstance(written[key], list):  # names merged: the old ones first, then the record's
            allowed = _as_list(new)[: len(_as_list(old))] == _as_list(old) and set(written[key]) <= set(_as_list(new))
        elif key in written:
            allowed = new == written[key]
        elif key == "RIFF:WebP_Flags":
            allowed = set(str(new).split(", ")) == set(str(old or "XMP").split(", ")) | {"XMP"}
        elif key == "Photoshop:IPTCDigest":  # brought up to date where it was current, or there was no IIM
            current = old == before.get("File:CurrentIPTCDigest") or "File:CurrentIPTCDigest" not in before
            allowed = current and new == after.get("File:CurrentIPTCDigest")
        elif key == "ExifTool:Warning":  # a warning may go (exiv2 put PNG Exif before IDAT), none may come
            allowed = new is None
        else:
            allowed = key in OFFSETS and layout
        if not allowed:
            wrong.append(f"{key}: {old!r} -> {new!r}")
    return wrong


@pytest.mark.slow
@pytest.mark.parametrize("path", STILLS, ids=lambda p: str(p.relative_to(SOURCE)))
def test_stamping_keeps_every_entry_the_record_does_not_own(
    path: Path, written: dict[str, Any], tmp_path: Path
) -> None:
    record = load_record(EXAMPLE_RECORD)
    name = str(path.relative_to(SOURCE))
    if name in REFUSED:
        with pytest.raises(DisclosureError) as refused:
            stamp(path, record, output_dir=tmp_path, discard_credentials=True)
        assert REFUSED[name] in refused.value.one_line()
        assert list(tmp_path.iterdir()) == []
        return
    before = _exiftool(path)
    # Content credentials are let go on purpose here (what is checked is every other entry); stamping
    # without that is refused, as tests/test_provenance.py shows.
    result = stamp(path, record, output_dir=tmp_path, discard_credentials=True)
    after = _exiftool(result.destination)
    layout = before.get("File:MIMEType") in {"image/tiff", "image/webp"}
    assert unexplained(before, after, written, layout) == []
    if before.get("IFD1:ThumbnailOffset") != after.get("IFD1:ThumbnailOffset"):
        thumbnails = [_exiftool(p, "-b", "-IFD1:ThumbnailImage") for p in (path, result.destination)]
        assert thumbnails[0].get("IFD1:ThumbnailImage") == thumbnails[1].get("IFD1:ThumbnailImage")


def test_the_refused_files_are_in_the_corpus() -> None:
    """The list of refusals names files that are there, so a renamed or removed one is noticed."""
    if SOURCE is CORPUS:
        assert {n for n in REFUSED if (CORPUS / n).is_file()} == set(REFUSED)
    else:
        assert not [n for n in REFUSED if (SOURCE / n).exists()]


def test_the_sweep_sees_every_kind_of_still() -> None:
    kinds = {p.suffix.lower().replace("jpeg", "jpg").replace("tiff", "tif") for p in STILLS}
    assert kinds == {".jpg", ".tif", ".png", ".webp"}


def test_a_tag_that_changes_unlisted_is_caught(written: dict[str, Any]) -> None:
    before = {"IFD0:PhotometricInterpretation": "RGB", "IPTC:TimeCreated": "15:41:25"}
    after = {"IPTC:TimeCreated": "15:41:25+00:00", "ExifTool:Warning": "IPTCDigest is not current"}
    assert unexplained(before, after, written, layout=True) == [
        "ExifTool:Warning: None -> 'IPTCDigest is not current'",
        "IFD0:PhotometricInterpretation: 'RGB' -> None",
        "IPTC:TimeCreated: '15:41:25' -> '15:41:25+00:00'",
    ]
