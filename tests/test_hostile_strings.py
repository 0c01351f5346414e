"""Hostile strings are data: file names, metadata values, box types and signers' names never act as markup or
control in any output, and file names that are not UTF-8 work in every command and format."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aidisclose import load_record, stamp
from aidisclose.carriers.c2pa.identity import DOCUMENT_SIGNING_OID, SigningIdentity
from aidisclose.cli import app
from aidisclose.display import csv_cell, terminal_text, xml_text
from aidisclose.preview import thumbnail

from .conftest import EXAMPLE_RECORD, FIXTURES, ctrl_c_reaches_it, run_cli

JPEG = FIXTURES / "images" / "photo.jpg"
#: A failing file whose name rewrites its own line to read "PASS    shot010.jpg" and sets the window title.
FORGES_PASS = "x\x1b]0;PWNED\x1b\\\x1b[2K\x1b[1GPASS    shot010.jpg"
#: Reversed and hidden text: "\u202e" makes "gpj.exe" read as "exe.jpg".
BIDI = "shot\u202egpj.exe\u200b\u2066.jpg"
#: What a terminal acts on or hides: C0 (but line feed), DEL, C1 (CSI U+009B), bidi, zero-width, BOM.
RAW = {chr(c) for c in [*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | set(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u2028\u2029"
)
AIDISCLOSE = Path(sys.executable).with_name("aidisclose")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def shown(data: bytes) -> str:
    """Output as a terminal would get it: valid UTF-8, with no character it acts on or hides."""
    text = data.decode("utf-8")  # strict: bytes of a non-UTF-8 name never reach the output raw
    found = sorted({f"U+{ord(c):04X}" for c in text if c in RAW})
    assert not found, f"raw control characters in the output: {found}\n{text}"
    return text


def test_terminal_text_shows_controls_bidi_zero_width_and_surrogates_as_escapes() -> None:
    assert terminal_text(FORGES_PASS) == "x\\x1b]0;PWNED\\x1b\\\\x1b[2K\\x1b[1GPASS    shot010.jpg"
    assert terminal_text("a\u202eb\u2066c\u200bd\ufeffe\x9bf\x7fg") == "a\\u202eb\\u2066c\\u200bd\\ufeffe\\x9bf\\x7fg"
    assert terminal_text("caf" + os.fsdecode(b"\xe9") + ".jpg") == "caf\\udce9.jpg"
    assert terminal_text("two\nlines\r\t") == "two\\nlines\\r\\t"
    assert terminal_text("two\nlines\x1b", keep_newlines=True) == "two\nlines\\x1b"
    assert terminal_text("Café 東京 [red]x[/] :warning:") == "Café 東京 [red]x[/] :warning:"  # text stays text


@pytest.mark.parametrize("stderr", [False, True])
def test_plain_messages_are_written_as_the_rich_console_writes_them(
    stderr: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command line writes plain messages without loading rich: byte for byte what its console would."""
    from aidisclose.console import LazyConsole
    from aidisclose.terminal import TerminalConsole

    texts = [FORGES_PASS, BIDI, "two\nlines\x1b\t", "Café 東京 [red]x[/] :warning: [bold]", "", "a" * 300, *sorted(RAW)]
    expected = io.StringIO()
    console = TerminalConsole(file=expected, soft_wrap=True)
    lazy = LazyConsole(stderr=stderr)
    for text in texts:
        console.print(text)
        lazy.print(text)
        console.print(text, "and", text, end="")
        lazy.print(text, "and", text, end="")
    console.print()
    lazy.print()
    captured = capsys.readouterr()
    assert (captured.err if stderr else captured.out) == expected.getvalue()
    assert lazy._rich is None  # plain messages only: no rich console was made


def test_xml_text_and_csv_cell_make_valid_documents_and_plain_cells() -> None:
    assert xml_text("a\x01\x1b\ufffe\udce9\u202e\tb\nc") == "a\\x01\\x1b\\ufffe\\udce9\\u202e\tb\nc"
    for start in ("=", "+", "-", "@"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert [csv_cell(c + "1+1") for c in "\t\r\0"] == ["\\t1+1", "\\r1+1", "\\x001+1"]  # shown, not run
    assert csv_cell("plain") == "plain"


def _copy(target: Path) -> Path:
    shutil.copyfile(JPEG, target)
    return target


def test_check_inspect_and_stamp_text_show_hostile_file_names_as_text(tmp_path: Path) -> None:
    """A FAIL stays a FAIL: the name that rewrites its line, reversed text and a non-media file's error line."""
    folder = tmp_path / "delivery"
    folder.mkdir()
    _copy(folder / FORGES_PASS)
    _copy(folder / BIDI)
    notes = tmp_path / "\x1b[2Jnotes.jpg"
    notes.write_text("not pixels")  # named: an error row, and an error line on stderr
    checked = invoke("check", folder, notes, "-j", "2")
    out, err = shown(checked.stdout_bytes), shown(checked.stderr_bytes)
    assert checked.exit_code == 2
    assert f"FAIL    {folder}/x\\x1b]0;PWNED\\x1b\\\\x1b[2K\\x1b[1GPASS    shot010.jpg" in out
    assert "shot\\u202egpj.exe\\u200b\\u2066.jpg" in out
    assert "\\x1b[2Jnotes.jpg" in out and "\\x1b[2Jnotes.jpg" in err
    assert not any(line.startswith("PASS") for line in out.splitlines())

    inspected = invoke("inspect", folder, notes)
    assert "x\\x1b]0;PWNED" in shown(inspected.stdout_bytes) and "\\x1b[2Jnotes" in shown(inspected.stderr_bytes)

    stamped = invoke("stamp", folder / FORGES_PASS, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out")
    assert stamped.exit_code == 0, stamped.stderr
    assert "PASS    shot010.jpg" in shown(stamped.stdout_bytes)
    assert (tmp_path / "out" / FORGES_PASS).exists()


def _exiftool(path: Path, *assignments: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)], check=True)


def test_inspect_and_check_show_hostile_values_as_text(tmp_path: Path) -> None:
    """Markup, hyperlinks, hidden text, emoji codes, bidi and escape sequences in values are printed as written."""
    hostile = _copy(tmp_path / "a.jpg")
    title = "[/]SHOT[red]010[/red] [link=http://evil.invalid]x[/link] [conceal]hidden[/conceal] :warning: \u202eabc"
    _exiftool(hostile, f"-XMP-dc:Title={title}", "-IPTC:ObjectName=T\x1b[2J\x1b]0;PWNED\x07")
    _copy(tmp_path / "b.jpg")  # shown after the hostile file: the batch goes on
    inspected = invoke("inspect", tmp_path)
    out = shown(inspected.stdout_bytes)
    assert inspected.exit_code == 0
    for part in ("[/]SHOT[red]010[/red]", "[link=http://evil.invalid]x[/link]", "[conceal]hidden[/conceal]"):
        assert part in out  # the value may wrap in its column, between words
    assert ":warning: \\u202eabc" in out and "\\x1b[2J" in out
    assert f"{tmp_path}/b.jpg" in out
    checked = invoke("check", tmp_path)
    assert f"{tmp_path}/b.jpg" in shown(checked.stdout_bytes)


def test_box_type_with_an_escape_sequence_is_shown_escaped_in_every_format(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes((FIXTURES / "video" / "clip.mp4").read_bytes() + b"\x00\x00\x10\x00\x1b[2J")
    text = invoke("check", clip)
    assert "box '\\x1b[2J'" in shown(text.stdout_bytes) and "box '\\x1b[2J'" in shown(text.stderr_bytes)
    junit = ET.fromstring(invoke("check", clip, "-f", "junit").stdout_bytes)
    assert "box '\\x1b[2J'" in (junit.find(".//error").text or "")  # type: ignore[union-attr]
    assert "\x1b" not in invoke("check", clip, "-f", "csv").stdout


def _keys_with_signer_name(folder: Path, common_name: str) -> SigningIdentity:
    """A test CA and a signing certificate whose subject CN is ``common_name`` (as make_test_ca builds them)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile test CA")])

    def certificate(subject: x509.Name, public: ec.EllipticCurvePublicKey, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        if not ca:
            usages = [ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier(DOCUMENT_SIGNING_OID)]
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        return builder.sign(ca_key, hashes.SHA256())

    ca_cert = certificate(ca_name, ca_key.public_key(), ca=True)
    signer = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]), key.public_key(), False)
    pem = serialization.Encoding.PEM
    (folder / "chain.pem").write_bytes(signer.public_bytes(pem) + ca_cert.public_bytes(pem))
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (folder / "key.pem").write_bytes(private)
    (folder / "key.pem").chmod(0o600)
    return SigningIdentity.from_files(folder / "chain.pem", folder / "key.pem")


def test_a_signer_name_cannot_erase_the_signer_not_trusted_warning(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    identity = _keys_with_signer_name(keys, "Studio\r\x1b[2K\x1b[1A\x1b[32mtrusted\x1b[0m \u202eevil")
    signed = stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "out", signing=identity).destination
    out = shown(invoke("inspect", signed).stdout_bytes)
    (line,) = [line for line in out.splitlines() if line.startswith("  c2pa:")]
    assert "valid (signer not trusted: give --trust)" in line
    assert "signed by Studio\\r\\x1b[2K\\x1b[1A\\x1b[32mtrusted\\x1b[0m \\u202eevil" in line


def test_junit_is_well_formed_with_control_characters_in_file_names(tmp_path: Path) -> None:
    names = ["bell\x07.jpg", "del\x7f.jpg", "esc\x1b[31m.jpg", "nul-free\x01\x02\x1f.jpg", "c1\x85\x9b.jpg"]
    for name in names:
        _copy(tmp_path / name)
    document = invoke("check", tmp_path, "-f", "junit").stdout_bytes
    suites = ET.fromstring(document)  # well-formed XML 1.0
    assert {s.get("name") for s in suites.iter("testsuite")} == {f"{tmp_path}/{xml_text(n)}" for n in names}


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    """No value from a file, in the check or credits CSV, runs in a spreadsheet."""
    target = tmp_path / "a.jpg"
    record = load_record(EXAMPLE_RECORD, ['ai_credit_line==HYPERLINK("http://evil.invalid","x")'])
    shutil.copyfile(stamp(JPEG, record, output_dir=tmp_path / "out").destination, target)
    _exiftool(target, "-XMP-dc:Title=@SUM(1+1)")  # a carrier disagreeing with another: an "actual" value
    rows = list(csv.reader(io.StringIO(invoke("check", target, "-f", "csv").stdout)))
    credit_rows = list(csv.reader(io.StringIO(invoke("credits", tmp_path, "-f", "csv").stdout)))
    cells = [cell for row in rows + credit_rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil.invalid","x")' in cells


def _latin1_folder(tmp_path: Path) -> tuple[Path, bytes]:
    folder = tmp_path / "delivery"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9.jpg"
    stamped = stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "stamped").destination
    shutil.copyfile(stamped, os.fsdecode(raw))
    shutil.copyfile(stamped, folder / "b.jpg")  # two files: results cross processes
    return folder, raw


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "junit", "html"])
def test_check_works_with_a_file_name_that_is_not_utf8(fmt: str, tmp_path: Path) -> None:
    folder, raw = _latin1_folder(tmp_path)
    result = invoke("check", folder, "-j", "2", "-f", fmt)
    assert result.exit_code in (0, 1), result.stderr  # a verdict, not an error
    text = result.stdout_bytes.decode("utf-8")  # valid UTF-8
    if fmt != "json":
        assert "caf\\udce9.jpg" in text
    else:
        (entry,) = [f for f in json.loads(text)["files"] if "caf" in f["path"]]
        assert base64.b64decode(entry["path_bytes_b64"]) == raw  # lossless
        assert entry["verdict"] in ("pass", "fail")
    if fmt == "junit":
        ET.fromstring(result.stdout_bytes)


def test_inspect_credits_and_stamp_work_with_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder, raw = _latin1_folder(tmp_path)
    inspected = invoke("inspect", folder, "-j", "2", "-f", "json")
    assert inspected.exit_code == 0, inspected.stderr
    (entry,) = [f for f in json.loads(inspected.stdout_bytes.decode("utf-8"))["files"] if "caf" in f["path"]]
    assert entry["path"] == f"{folder}/caf\\udce9.jpg" and base64.b64decode(entry["path_bytes_b64"]) == raw
    assert "caf\\udce9.jpg" in shown(invoke("inspect", folder).stdout_bytes)
    for fmt in ("text", "csv", "json"):
        credits = invoke("credits", folder, "-j", "2", "-f", fmt)
        assert credits.exit_code == 0, credits.stderr
        credits.stdout_bytes.decode("utf-8")
    (line,) = json.loads(invoke("credits", folder, "-f", "json").stdout)["credit_lines"]
    assert f"{folder}/caf\\udce9.jpg" in line["files"]
    for fmt in ("text", "json"):
        stamped = invoke("stamp", folder, "-r", EXAMPLE_RECORD, "-o", tmp_path / f"out-{fmt}", "-j", "2", "-f", fmt)
        assert stamped.exit_code == 0, stamped.stderr
        out = stamped.stdout_bytes.decode("utf-8")
        sources = [s["source"] for s in json.loads(out)["stamped"]] if fmt == "json" else out.splitlines()
        assert any("caf\\udce9.jpg" in source for source in sources)
        assert os.path.exists(os.fsencode(tmp_path / f"out-{fmt}") + b"/caf\xe9.jpg")


def test_thumbnail_never_reads_a_file_name_as_an_ffmpeg_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``concat:innocent.mov`` is that file, not the frames of innocent.mov; a real video so named still shows."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(FIXTURES / "video" / "clip.mov", "innocent.mov")
    Path("concat:innocent.mov").write_text("not a video")
    assert thumbnail(Path("innocent.mov"), "mov") is not None
    assert thumbnail(Path("concat:innocent.mov"), "mov") is None
    shutil.copyfile(FIXTURES / "video" / "clip.mov", "concat:clip.mov")
    Path("innocent.mov").unlink()
    assert thumbnail(Path("concat:clip.mov"), "mov") is not None


@pytest.mark.slow
def test_watch_shows_a_hostile_file_name_as_text(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [str(AIDISCLOSE), "watch", str(tmp_path), "--settle", "0.3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_reaches_it,
    )
    try:
        assert child.stderr is not None
        assert child.stderr.readline().startswith(b"watching")  # printed once its observer runs
        _copy(tmp_path / "[")
        _copy(tmp_path / FORGES_PASS)
        time.sleep(4)  # settled for 0.3 s, then checked
    finally:
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=20)
    assert child.returncode == 0
    text = shown(out)
    assert f"{tmp_path}/[" in text and "x\\x1b]0;PWNED" in text


def test_a_policy_rule_message_is_one_line_of_text(tmp_path: Path) -> None:
    """A policy is hostile input too: its message can neither restyle nor add a line to the report."""
    policy = tmp_path / "studio.toml"
    policy.write_text(
        '[[rules]]\nid = "studio.asset-id"\nmessage = "[red]Need[/red] an id\\u001b[2K\\nPASS    forged line"\n'
        'test = { field = "asset_id", matches = "^NEVER" }\n',
        encoding="utf-8",
    )
    run = subprocess.run(
        [AIDISCLOSE, "check", FIXTURES / "images" / "photo.jpg", "-p", policy], capture_output=True, timeout=60
    )
    text = shown(run.stdout)
    assert "[red]Need[/red] an id\\x1b[2K\\nPASS    forged line" in text
    assert not any(line.startswith("PASS    forged") for line in text.splitlines())


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--record", "{big}"], "too large to be a record"),
        (["--record", "{ok}", "--sign", "--sign-cert", "{big}", "--sign-key", "{big}"], "too large to be a signing"),
        # a manifest may be far larger than a record: 17 MB of NULs is read, and refused as CSV in one line
        (["--record", "{ok}", "--records", "{big}"], "is not CSV the manifest can use"),
    ],
)
def test_an_input_file_far_too_large_is_one_line_not_a_full_read(
    tmp_path: Path, options: list[str], reason: str
) -> None:
    big = tmp_path / ("huge.csv" if "--records" in options else "huge.toml")
    with big.open("wb") as out:  # sparse: 17 MB of zeros costs no disk
        out.truncate(17 << 20)
    ok = tmp_path / "ok.toml"
    ok.write_text('ai_used = false\n')
    source = tmp_path / "in.jpg"
    shutil.copyfile(FIXTURES / "images" / "photo.jpg", source)
    before = source.read_bytes()
    args = [a.format(big=big, ok=ok) for a in options]
    result = run_cli("stamp", source, *args, "--output", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert reason in result.stderr and big.name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert source.read_bytes() == before and not (tmp_path / "out" / "in.jpg").exists()


def test_a_policy_far_too_large_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "policy.toml"
    with big.open("wb") as out:
        out.truncate(17 << 20)
    result = run_cli("check", FIXTURES / "images" / "photo.jpg", "--policy", big)
    assert result.exit_code == 2 and "too large to be a policy" in result.stderr


def _dpx(path: Path, colour: str) -> None:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color={colour}:size=32x32", "-frames:v", "1", "-update", "1",
         "-y", str(path)],
        check=True,
    )


def test_a_poster_frame_is_drawn_from_the_named_file_never_from_a_sequence_its_name_spells(tmp_path: Path) -> None:
    """ffmpeg left to guess reads 'shot%d.dpx' as the sequence shot1.dpx, shot2.dpx...: another file's pixels."""
    from PIL import Image

    planted, other = tmp_path / "shot%d.dpx", tmp_path / "shot1.dpx"
    _dpx(planted, "blue")
    _dpx(other, "red")
    uri = thumbnail(planted, "dpx")
    assert uri is not None
    picture = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")
    red, green, blue = picture.getpixel((picture.width // 2, picture.height // 2))
    assert blue > 200 and red < 60, (red, green, blue)


def test_every_format_drawn_by_ffmpeg_names_its_demuxer() -> None:
    from aidisclose.formats import FORMATS, Preview
    from aidisclose.preview import DEMUXERS

    drawn = {f.format for f in FORMATS if f.preview is Preview.FFMPEG}
    assert drawn == set(DEMUXERS)
