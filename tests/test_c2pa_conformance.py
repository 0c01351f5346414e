"""C2PA manifests as the specification asks: signer-attributed assertions, v2 actions, per-use training and
mining in step with the XMP, one small thumbnail, personal data left out unless asked, and a second,
independent implementation (@trustnxt/c2pa-ts) that agrees."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import c2pa
import pytest
from PIL import Image

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity
from aidisclose.formats import detect
from aidisclose.record import DisclosureRecord

from .conftest import EXAMPLE_RECORD, SIGNED_EMBEDDED, SIGNED_SIDECAR, exiftool_json, run_cli

EMBEDDED, SIDECAR = SIGNED_EMBEDDED, SIGNED_SIDECAR
JPEG, PNG, WEBP = EMBEDDED[0], EMBEDDED[1], EMBEDDED[3]
OWN_LABELS = ("c2pa.actions.v2", "cawg.training-mining", "org.aidisclose.record")
PLUS = "http://ns.useplus.org/ldf/vocab/"
ALLOWED, NOT_ALLOWED = {"use": "allowed"}, {"use": "notAllowed"}
TRAINING = ("cawg.ai_generative_training", "cawg.ai_training")
EVERY_USE = (*TRAINING, "cawg.ai_inference", "cawg.data_mining")
#: What each PLUS DataMining term says about each CAWG use (PLUS LDF definitions): AIMLTRAINING forbids
#: training only and says nothing of inference or other mining, so those entries are left unspecified.
CAWG_FOR_PLUS: dict[str, dict[str, dict[str, str]]] = {
    PLUS + "DMI-ALLOWED": dict.fromkeys(EVERY_USE, ALLOWED),
    PLUS + "DMI-PROHIBITED-AIMLTRAINING": dict.fromkeys(TRAINING, NOT_ALLOWED),
    PLUS + "DMI-PROHIBITED-SEECONSTRAINT": {
        use: {"use": "constrained", "constraint_info": "Internal review only until release"} for use in EVERY_USE
    },
}
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
names = lambda p: p.name  # noqa: E731


@pytest.fixture(scope="module")
def signed_example(tmp_path_factory: pytest.TempPathFactory, identity: SigningIdentity) -> dict[Path, Path]:
    """Each fixture signed once with the example record (read-only for the tests that share it)."""
    folder = tmp_path_factory.mktemp("signed")
    return {
        source: stamp(source, load_record(EXAMPLE_RECORD), output_dir=folder, signing=identity).destination
        for source in EMBEDDED + SIDECAR
    }


def sign(source: Path, folder: Path, identity: SigningIdentity, record: DisclosureRecord | None = None) -> Path:
    return stamp(source, record or load_record(EXAMPLE_RECORD), output_dir=folder, signing=identity).destination


def sdk_manifest(path: Path) -> tuple[str, dict[str, Any], Any]:
    """The SDK's validation state and active manifest of ``path`` (embedded or its NAME.EXT.c2pa), and a reader."""
    sidecar = path.with_name(path.name + ".c2pa")
    if sidecar.exists():
        with open(path, "rb") as stream:
            reader = c2pa.Reader(detect(path).manifest_place.mime, stream, manifest_data=sidecar.read_bytes())
    else:
        reader = c2pa.Reader(str(path))
    return reader.get_validation_state(), reader.get_active_manifest(), reader


def assertions_of(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["label"]: a for a in manifest["assertions"]}


def ai_actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    actions = assertions_of(manifest)["c2pa.actions.v2"]["data"]["actions"]
    return [a for a in actions if a["action"] != "c2pa.opened"]


@pytest.mark.parametrize("source", EMBEDDED + SIDECAR, ids=names)
def test_every_signed_format_attributes_its_disclosure_to_the_signer(
    source: Path, signed_example: dict[Path, Path]
) -> None:
    state, manifest, _ = sdk_manifest(signed_example[source])
    assert state == "Valid"
    own = assertions_of(manifest)
    assert {label: own[label].get("created") for label in OWN_LABELS} == dict.fromkeys(OWN_LABELS, True)


@pytest.mark.parametrize("source", EMBEDDED + SIDECAR, ids=names)
def test_every_signed_format_says_in_c2pa_what_its_metadata_says(
    source: Path, signed_example: dict[Path, Path]
) -> None:
    signed = signed_example[source]
    _, manifest, _ = sdk_manifest(signed)
    record = inspect_file(signed, technical=False).record  # from the file's metadata carriers only
    actions = assertions_of(manifest)["c2pa.actions.v2"]["data"]
    systems = [{"name": s.name, "version": s.version} for s in record.ai_systems]
    assert actions["softwareAgents"] == systems
    ai = ai_actions(manifest)
    assert [a["softwareAgentIndex"] for a in ai] == list(range(len(systems)))  # every AI system, not the first
    assert all("softwareAgent" not in a and a.get("when") for a in ai)
    assert ai[0]["description"] == record.usage_description and "parameters" not in ai[0]  # v2: on the action
    assert ai[1]["description"] == record.ai_systems[1].purpose
    assert record.digital_source_type is not None and record.training_mining is not None
    assert {a["digitalSourceType"] for a in ai} == {record.digital_source_type.uri}
    entries = assertions_of(manifest)["cawg.training-mining"]["data"]["entries"]
    xmp = detect(signed).store.read(signed).get("xmp")
    if xmp:  # field by field against the XMP itself
        assert {a["digitalSourceType"] for a in ai} == {xmp["Xmp.iptcExt.DigitalSourceType"]}
        assert [s["name"] for s in systems] == xmp["Xmp.iptcExt.AISystemUsed"].split("; ")
        assert [s["version"] for s in systems] == xmp["Xmp.iptcExt.AISystemVersionUsed"].split("; ")
        assert entries == CAWG_FOR_PLUS[xmp["Xmp.plus.DataMining"]]
    else:
        assert entries == CAWG_FOR_PLUS[PLUS + "DMI-PROHIBITED-AIMLTRAINING"]  # what the record's choice means


def test_training_mining_says_per_use_what_plus_data_mining_says(tmp_path: Path, identity: SigningIdentity) -> None:
    for choice in ("allowed", "not-allowed", "constrained"):
        record = load_record(EXAMPLE_RECORD, [f"training_mining={choice}"])
        signed = sign(JPEG, tmp_path / choice, identity, record)
        data_mining = exiftool_json(signed, "-XMP-plus:DataMining", "-n")["DataMining"]  # ExifTool as the witness
        _, manifest, _ = sdk_manifest(signed)
        assert assertions_of(manifest)["cawg.training-mining"]["data"]["entries"] == CAWG_FOR_PLUS[data_mining], choice


def test_trained_algorithmic_data_is_the_c2pa_term_in_both_manifest_and_xmp(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    record = load_record(EXAMPLE_RECORD, ["digital_source_type=trainedAlgorithmicData"])
    signed = sign(JPEG, tmp_path, identity, record)
    uri = "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData"
    _, manifest, _ = sdk_manifest(signed)
    assert {a["digitalSourceType"] for a in ai_actions(manifest)} == {uri}
    assert exiftool_json(signed, "-XMP-iptcExt:DigitalSourceType")["DigitalSourceType"] == uri
    found = inspect_file(signed)
    assert found.record.digital_source_type == "trainedAlgorithmicData"
    assert found.c2pa.digital_source_types == ["trainedAlgorithmicData", "trainedAlgorithmicData"]
    assert found.provenance.conflicts == []


def sign_with_sdk(source: Path, target: Path, identity: SigningIdentity, actions: dict[str, Any]) -> None:
    """A manifest aidisclose did not write, as other tools make them."""
    definition = {
        "claim_generator_info": [{"name": "other"}],
        "assertions": [{"label": "c2pa.actions", "data": actions}],
    }
    with (
        c2pa.Builder.from_json(json.dumps(definition)) as builder,
        open(source, "rb") as src,
        open(target, "w+b") as dst,
    ):
        builder.sign(identity.signer(), "image/jpeg", src, dst)


@pytest.mark.parametrize(
    ("uri", "term"),
    [
        (" http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture", "digitalCapture"),
        ("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData", "trainedAlgorithmicData"),
    ],
)
def test_source_types_of_other_tools_read_back_as_terms(
    uri: str, term: str, tmp_path: Path, identity: SigningIdentity
) -> None:
    signed = tmp_path / "other.jpg"
    sign_with_sdk(JPEG, signed, identity, {"actions": [{"action": "c2pa.created", "digitalSourceType": uri}]})
    assert inspect_file(signed).c2pa.digital_source_types == [term]


def test_software_agents_of_v1_and_v2_actions_read_back_in_order(tmp_path: Path, identity: SigningIdentity) -> None:
    signed = tmp_path / "other.jpg"
    actions = {
        "softwareAgents": [{"name": "Indexed", "version": "2"}],
        "actions": [
            {"action": "c2pa.created", "softwareAgent": {"name": "Inline", "version": "1"}, "digitalSourceType": DST},
            {"action": "c2pa.edited", "softwareAgentIndex": 0},
            {"action": "c2pa.edited", "softwareAgentIndex": 7},  # out of range: names nothing
        ],
    }
    sign_with_sdk(JPEG, signed, identity, actions)
    found = inspect_file(signed).c2pa
    assert found.software_agents == [{"name": "Inline", "version": "1"}, {"name": "Indexed", "version": "2"}]


def test_restamp_of_metadata_only_records_a_metadata_edit(tmp_path: Path, identity: SigningIdentity) -> None:
    first = sign(JPEG, tmp_path / "one", identity)
    second = sign(first, tmp_path / "two", identity, load_record(EXAMPLE_RECORD, ["asset_id=V2"]))
    _, manifest, _ = sdk_manifest(second)
    actions = assertions_of(manifest)["c2pa.actions.v2"]["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited.metadata"]
    assert all(a.get("when") for a in actions)
    found = inspect_file(second)
    assert found.c2pa.state == "valid"
    assert found.c2pa.digital_source_types == ["compositeWithTrainedAlgorithmicMedia"] * 2  # from the parent
    results = run_cli("check", second, "-f", "json").json()["files"][0]["results"]
    assert {r["rule"]: r["outcome"] for r in results}["metadata.c2pa-source-type-agrees"] == "pass"


def test_restamp_that_changes_the_ai_disclosure_records_the_ai_edit(tmp_path: Path, identity: SigningIdentity) -> None:
    first = sign(JPEG, tmp_path / "one", identity)
    changed = load_record(EXAMPLE_RECORD, ["digital_source_type=trainedAlgorithmicMedia"])
    _, manifest, _ = sdk_manifest(sign(first, tmp_path / "two", identity, changed))
    actions = assertions_of(manifest)["c2pa.actions.v2"]["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited", "c2pa.edited"]


@pytest.mark.parametrize("source", [JPEG, PNG, WEBP, EMBEDDED[2]], ids=names)
def test_one_jpeg_thumbnail_never_larger_than_the_image(
    source: Path, tmp_path: Path, identity: SigningIdentity
) -> None:
    with Image.open(source) as image:
        size = image.size
    signed = sign(source, tmp_path, identity)
    _, manifest, reader = sdk_manifest(signed)
    thumbnail = manifest["thumbnail"]
    assert thumbnail["format"] == "image/jpeg"
    assert [i.get("thumbnail") for i in manifest["ingredients"]] == [None]  # one picture, not two copies
    data = io.BytesIO()
    reader.resource_to_stream(thumbnail["identifier"], data)
    with Image.open(io.BytesIO(data.getvalue())) as picture:
        assert (picture.format, picture.size) == ("JPEG", size)  # 64x48 stays 64x48
    assert signed.stat().st_size < source.stat().st_size + 16_000  # not 575 KB for a 70-byte WebP


def test_personal_data_stays_out_of_the_manifest_unless_asked(tmp_path: Path, keys: dict[str, Path]) -> None:
    sign_options = ["--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]
    default = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path / "default", *sign_options)
    asked = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path / "all", "--redact", "none", *sign_options)
    assert default.exit_code == asked.exit_code == 0, default.stderr + asked.stderr
    kept = inspect_file(tmp_path / "default" / JPEG.name).c2pa.record
    assert kept is not None and "prompts" not in kept and "creators" not in kept
    assert kept["likeness"][0]["person"] == "[redacted]"
    assert inspect_file(tmp_path / "all" / JPEG.name).c2pa.record == load_record(EXAMPLE_RECORD).to_json_dict()
    help_words = run_cli("stamp", "--help").stdout.replace("│", " ").split()
    assert "By default both are left out" in " ".join(help_words)


WITNESS = Path(__file__).parent / "js" / "c2pa_ts_validate.mjs"


def c2pa_ts(path: Path) -> dict[str, Any]:
    """@trustnxt/c2pa-ts's verdict on ``path`` (installed into tests/js/node_modules by `make system-deps`)."""
    node = shutil.which("node")
    assert node is not None, "Node.js is missing: run `make system-deps`"
    assert (WITNESS.parent / "node_modules" / "@trustnxt" / "c2pa-ts").is_dir(), "run `make system-deps`"
    done = subprocess.run([node, str(WITNESS), str(path)], capture_output=True, text=True, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("source", [JPEG, PNG], ids=names)
def test_an_independent_implementation_validates_signed_jpeg_and_png(
    source: Path, signed_example: dict[Path, Path]
) -> None:
    verdict = c2pa_ts(signed_example[source])
    assert (verdict["valid"], verdict["errors"]) == (True, [])
    assert "assertion.dataHash.match" in verdict["codes"] and "claimSignature.validated" in verdict["codes"]
    assert set(OWN_LABELS) | {"c2pa.hash.data"} <= set(verdict["created"])
    assert not set(OWN_LABELS) & set(verdict["gathered"])


@pytest.mark.parametrize("source", [EMBEDDED[7], EMBEDDED[8], EMBEDDED[9]], ids=names)
def test_independent_implementation_known_bug_two_uuid_boxes_in_bmff(
    source: Path, signed_example: dict[Path, Path]
) -> None:
    """c2pa-ts 0.9.4 matches a bmffHash exclusion (``/uuid``) against the first uuid box only.

    Our MP4, MOV and M4A hold two top-level uuid boxes (XMP, then the manifest store), so it hashes
    the store into the content and reports a mismatch the SDK does not; every other check passes.
    """
    verdict = c2pa_ts(signed_example[source])
    assert verdict["errors"] == ["assertion.bmffHash.mismatch"]
    assert "claimSignature.validated" in verdict["codes"]
    assert set(OWN_LABELS) <= set(verdict["created"])


def test_independent_implementation_known_bug_current_id3_media_type(signed_example: dict[Path, Path]) -> None:
    """c2pa-ts 0.9.4 looks for the GEOB frame under the deprecated ``application/x-c2pa-manifest-store``
    only, while the SDK writes the current ``application/c2pa``, so it finds no manifest in our MP3."""
    signed = signed_example[EMBEDDED[4]]
    assert b"application/c2pa\x00" in signed.read_bytes()[:65536]
    verdict = c2pa_ts(signed)
    assert (verdict["format"], verdict["errors"], verdict["exception"]) == (
        "MP3",
        ["general.error"],
        "no manifest store found",
    )


def test_independent_implementation_known_bug_v2_time_stamps(
    tmp_path: Path, keys: dict[str, Path], tsa: dict[str, Path | str]
) -> None:
    """c2pa-ts 0.9.4 parses each ``sigTst2`` token as an RFC 3161 TimeStampResp, while a v2 time-stamp
    (C2PA 2.2 §10.3.2.5) holds the bare TimeStampToken the SDK writes, so it rejects the whole signature
    of a time-stamped JPEG that the SDK validates, time-stamp and all."""
    identity = SigningIdentity.from_files(keys["chain"], keys["key"], tsa_url=str(tsa["url"]))
    signed = sign(JPEG, tmp_path, identity)
    state, _, reader = sdk_manifest(signed)
    codes = [entry["code"] for entry in reader.get_validation_results()["activeManifest"]["success"]]
    assert (state, "timeStamp.validated" in codes) == ("Valid", True), codes
    verdict = c2pa_ts(signed)
    assert (verdict["format"], verdict["valid"], verdict["errors"], verdict["exception"]) == (
        "JPEG",
        False,
        ["signingCredential.invalid"],
        "Failed to deserialize signature content",
    )


def _id3_frames(path: Path) -> tuple[int, list[tuple[str, int]], int]:
    """(ID3v2 major version, [(frame ID, size)], padding bytes): v2.4 sizes read as synchsafe (ID3v2.4 §4)."""
    data = path.read_bytes()
    synchsafe = lambda b: (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]  # noqa: E731
    version, end = data[3], 10 + synchsafe(data[6:10])
    frames, at = [], 10
    while at + 10 <= end and data[at : at + 4] != b"\0\0\0\0":
        raw = data[at + 4 : at + 8]
        size = synchsafe(raw) if version == 4 else int.from_bytes(raw, "big")
        frames.append((data[at : at + 4].decode(), size))
        at += 10 + size
    assert at <= end, "a frame runs past the tag"
    return version, frames, end - at


def _exiftool_warnings(path: Path) -> list[str]:
    found = exiftool_json(path, "-a", "-Warning")
    warnings = found.get("Warning", [])
    return warnings if isinstance(warnings, list) else [warnings]


def test_the_sdk_rewrites_an_mp3_tag_as_v24_without_padding_which_exiftool_misreads(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    """The SDK's bytes are right and ExifTool 12.57's warning is wrong (README, "Signing").

    c2pa-python 0.38.1 rewrites an MP3's ID3 tag as v2.4 (a v2.3 tag too), re-encodes its text
    frames, drops its padding and puts the manifest's GEOB frame last. Every v2.4 frame size is a
    correct synchsafe integer. ExifTool's check for iTunes' non-synchsafe sizes wants room for one
    more frame header after each frame over 127 bytes, so a last frame that ends the tag exactly
    reads as "Invalid ID3 frame size" though ExifTool then reads it whole. mutagen alone, with no
    SDK, makes the same warning from a v2.4 tag without padding.
    """
    from mutagen.id3 import ID3, TIT2, TXXX

    bare = tmp_path / "bare.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.3",
         "-ac", "1", "-ar", "22050", "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0", str(bare)],
        check=True, timeout=60,
    )  # fmt: skip
    tagged = tmp_path / "tagged.mp3"
    shutil.copy(bare, tagged)
    tag = ID3()
    tag.add(TIT2(encoding=1, text="Tone"))  # UTF-16, as v2.3 writes it
    tag.save(tagged, v2_version=3, padding=lambda info: 256)
    assert (_id3_frames(tagged), _exiftool_warnings(tagged)) == ((3, [("TIT2", 13)], 256), [])

    signed = tmp_path / "signed.mp3"
    created = {"action": "c2pa.created", "digitalSourceType": DST}
    definition = {
        "claim_generator_info": [{"name": "other"}],
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [created]}}],
    }
    with c2pa.Builder.from_json(json.dumps(definition)) as builder:
        builder.sign_file(str(tagged), str(signed), identity.signer())  # the SDK alone, no aidisclose step
    version, frames, padding = _id3_frames(signed)
    assert (version, [name for name, _ in frames], padding) == (4, ["TIT2", "GEOB"], 0)
    assert frames[0][1] == 5  # "Tone" re-encoded from UTF-16 (13 bytes) as UTF-8: 1 + 4 bytes
    assert frames[1][1] > 0x7F
    (title,) = ID3(signed).getall("TIT2")
    assert (str(title), title.encoding) == ("Tone", 3)
    assert c2pa.Reader(str(signed)).get_validation_state() == "Valid"
    assert _exiftool_warnings(signed) == ["Invalid ID3 frame size"]
    assert exiftool_json(signed, "-ID3:Title")["Title"] == "Tone"  # read whole all the same

    for padding, warnings in ((0, ["Invalid ID3 frame size"]), (10, [])):
        minimal = tmp_path / f"mutagen-padding-{padding}.mp3"
        shutil.copy(bare, minimal)
        tag = ID3()
        tag.add(TXXX(encoding=3, desc="x", text="y" * 200))
        tag.save(minimal, v2_version=4, padding=lambda info, p=padding: p)
        assert (_id3_frames(minimal)[2], _exiftool_warnings(minimal)) == (padding, warnings)
