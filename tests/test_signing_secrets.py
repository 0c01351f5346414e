"""Signing material is handled as a secret: test keys made without exposure, keys and URL credentials never printed."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from aidisclose import inspect_file
from aidisclose.carriers.c2pa.identity import make_test_ca

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

JPEG = FIXTURES / "images" / "photo.jpg"
KEY_FILES = ("chain.pem", "ca.pem", "key.pem", "README.txt")
PASSPHRASE = "correct horse battery staple"
PASSPHRASE_ENV = "AIDISCLOSE_SIGN_KEY_PASSPHRASE"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_ca(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIDISCLOSE_SIGN_CERT", "AIDISCLOSE_SIGN_KEY", PASSPHRASE_ENV):
        monkeypatch.delenv(name, raising=False)


def stamp_signed(out: Path, *args: str | Path) -> tuple[int, str]:
    result = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", out, "--sign", *args)
    return result.exit_code, result.stdout + result.stderr


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1 and "Traceback" not in text


# -- keys init ---------------------------------------------------------------------------------------


def plant_links(folder: Path, victims: Path, names: tuple[str, ...]) -> dict[Path, bytes]:
    """A link under each name in ``folder`` to a file of someone else's; their bytes, to compare after."""
    folder.mkdir()
    victims.mkdir()
    before = {}
    for name in names:
        victim = victims / name
        victim.write_bytes(f"someone else's {name}\n".encode())
        (folder / name).symlink_to(victim)
        before[victim] = victim.read_bytes()
    return before


@pytest.mark.parametrize("name", ["chain.pem", "ca.pem", "README.txt"])
def test_keys_init_refuses_a_planted_link_and_leaves_its_target_alone(tmp_path: Path, name: str) -> None:
    folder, victims = tmp_path / "keys", tmp_path / "elsewhere"
    before = plant_links(folder, victims, (name,))
    result = run_cli("keys", "init", folder)
    assert result.exit_code == 2 and one_line(result.stderr), result.stderr
    assert f"{folder / name}: is a symbolic link" in result.stderr
    assert {v: v.read_bytes() for v in before} == before
    assert sorted(p.name for p in folder.iterdir()) == [name] and (folder / name).is_symlink()


def test_keys_init_refuses_a_dangling_key_link_and_creates_nothing_at_its_target(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir()
    target = tmp_path / "elsewhere-key.pem"
    (folder / "key.pem").symlink_to(target)
    result = run_cli("keys", "init", folder)
    assert result.exit_code == 2 and one_line(result.stderr), result.stderr
    assert not target.exists()
    assert sorted(p.name for p in folder.iterdir()) == ["key.pem"]


def test_keys_init_force_replaces_planted_links_never_their_targets(tmp_path: Path) -> None:
    folder, victims = tmp_path / "keys", tmp_path / "elsewhere"
    before = plant_links(folder, victims, KEY_FILES)
    result = run_cli("keys", "init", folder, "--force")
    assert result.exit_code == 0, result.stderr
    assert {v: v.read_bytes() for v in before} == before
    for name in KEY_FILES:
        assert (folder / name).is_file() and not (folder / name).is_symlink(), name
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted(KEY_FILES)  # no temporary file left behind
    assert b"PRIVATE KEY" in (folder / "key.pem").read_bytes()


WATCH_KEY_FILES = """
import json, os, stat, sys
os.umask(0o022)
folder = sys.argv[1]
key = os.path.join(folder, "key.pem")
old_key = open(key, "rb").read() if os.path.exists(key) else None
exposed, busy = set(), []
def watch(event, args):
    # At every audited operation (opens, writes, chmods, renames, imports): is a private key other than
    # the old one in a file of the folder that others may read?
    if busy:
        return
    busy.append(1)
    try:
        for entry in os.scandir(folder):
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) and mode & 0o077:
                with open(entry.path, "rb") as file:
                    data = file.read()
                if b"PRIVATE KEY" in data and data != old_key:
                    exposed.add(f"{entry.name} {oct(stat.S_IMODE(mode))}")
    except FileNotFoundError:
        pass
    finally:
        busy.pop()
sys.addaudithook(watch)
from aidisclose.cli import app
try:
    app(["keys", "init", *sys.argv[1:]])
except SystemExit:
    pass
print(json.dumps(sorted(exposed)))
"""


@pytest.mark.parametrize("force", [False, True], ids=["new", "force"])
def test_a_new_key_is_never_readable_by_others_even_while_it_is_written(tmp_path: Path, force: bool) -> None:
    folder = tmp_path / "keys"
    if force:  # replacing a key someone left readable: the new one is never readable, not even at first
        make_test_ca(folder)
        (folder / "key.pem").chmod(0o644)
    args = [str(folder), *(["--force"] if force else [])]
    done = subprocess.run([sys.executable, "-c", WATCH_KEY_FILES, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600


# -- keys and URL credentials are never printed ------------------------------------------------------


def pem_body(keys: dict[str, Path], name: str) -> str:
    lines = keys[name].read_text().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


@pytest.mark.parametrize("name", ["key", "chain"])
@pytest.mark.parametrize("how", ["option", "environment", "config"])
def test_a_pasted_pem_is_refused_and_never_printed(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch, name: str, how: str
) -> None:
    pem = keys[name].read_text()
    other = "chain" if name == "key" else "key"
    option = {"key": "--sign-key", "chain": "--sign-cert"}
    args: list[str | Path] = [option[other], keys[other]]
    if how == "option":
        args += [option[name], pem]
    elif how == "environment":
        monkeypatch.setenv({"key": "AIDISCLOSE_SIGN_KEY", "chain": "AIDISCLOSE_SIGN_CERT"}[name], pem)
    else:
        config = tmp_path / "sign.toml"
        config.write_text(f'{ {"key": "key", "chain": "cert"}[name] } = """{pem}"""\n')
        args += ["--sign-config", config]
    code, output = stamp_signed(tmp_path / "out", *args)
    assert code == 2 and one_line(output), output
    assert "expected a file path, not the key itself" in output
    body = pem_body(keys, name)
    assert "-----BEGIN" not in output
    assert not any(body[i : i + 16] in output for i in range(0, len(body) - 16, 8)), output
    assert not (tmp_path / "out").exists()


def test_a_pasted_key_body_without_its_pem_lines_is_never_printed(tmp_path: Path, keys: dict[str, Path]) -> None:
    body = pem_body(keys, "key")
    code, output = stamp_signed(tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", body)
    assert code == 2 and one_line(output), output
    assert "expected a file path, not the key itself" in output
    assert body[:16] not in output and body[-24:-8] not in output


def test_a_missing_key_file_is_named_as_the_signing_key(tmp_path: Path, keys: dict[str, Path]) -> None:
    missing = tmp_path / "no-such-key.pem"
    code, output = stamp_signed(tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", missing)
    assert code == 2 and one_line(output) and f"{missing}: cannot read the signing key" in output, output


SECRET_URL = "http://tsa-user:s3cret-pw@127.0.0.1:9/timestamp?token=t0ken-value&x=1"  # nothing listens on port 9


def assert_no_url_secrets(output: str) -> None:
    for secret in ("tsa-user", "s3cret-pw", "t0ken-value"):
        assert secret not in output, output


def test_tsa_url_credentials_are_never_printed_when_signing_fails(tmp_path: Path, keys: dict[str, Path]) -> None:
    code, output = stamp_signed(
        tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", keys["key"], "--tsa-url", SECRET_URL
    )
    assert code == 2 and one_line(output), output
    assert "C2PA signing failed" in output and "127.0.0.1:9/timestamp" in output  # the URL is still recognisable
    assert_no_url_secrets(output)


def test_tsa_url_from_the_config_is_redacted_too(tmp_path: Path, keys: dict[str, Path]) -> None:
    config = tmp_path / "sign.toml"
    config.write_text(f'cert = "{keys["chain"]}"\nkey = "{keys["key"]}"\ntsa_url = "{SECRET_URL}"\n')
    code, output = stamp_signed(tmp_path / "out", "--sign-config", config)
    assert code == 2 and one_line(output) and "C2PA signing failed" in output, output
    assert_no_url_secrets(output)


@pytest.mark.parametrize("url", ["ftp://tsa-user:s3cret-pw@tsa.example/", "tsa-user:s3cret-pw t0ken-value"])
def test_a_tsa_url_that_is_not_http_is_refused_without_printing_it(
    tmp_path: Path, keys: dict[str, Path], url: str
) -> None:
    code, output = stamp_signed(
        tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", keys["key"], "--tsa-url", url
    )
    assert code == 2 and one_line(output) and "--tsa-url: is not an http or https URL" in output, output
    assert_no_url_secrets(output)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("setting", ["key = 5", "cert = ['a.pem']", "tsa_url = 9"])
def test_a_signing_config_value_of_the_wrong_type_is_one_line(
    tmp_path: Path, keys: dict[str, Path], setting: str
) -> None:
    config = tmp_path / "sign.toml"
    lines = {"cert": f'cert = "{keys["chain"]}"', "key": f'key = "{keys["key"]}"'}
    lines[setting.split()[0]] = setting
    config.write_text("\n".join(lines.values()) + "\n")
    result = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out", "--sign-config", config)
    assert result.exit_code == 2 and one_line(result.stderr), result.stderr
    assert f"{config}: {setting.split()[0]} must be a" in result.stderr


# -- encrypted keys ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def encrypted_key(keys: dict[str, Path]) -> Path:
    key = serialization.load_pem_private_key(keys["key"].read_bytes(), password=None)
    path = keys["key"].with_name("encrypted-key.pem")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    return path


def test_an_encrypted_key_signs_with_the_passphrase_from_the_environment(
    tmp_path: Path, keys: dict[str, Path], encrypted_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    folder = encrypted_key.parent
    before = sorted(p.name for p in folder.iterdir())
    code, output = stamp_signed(tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", encrypted_key)
    assert code == 0, output
    found = inspect_file(tmp_path / "out" / JPEG.name, trust_anchors=keys["ca"].read_bytes()).c2pa
    assert found.state == "trusted"
    assert PASSPHRASE not in output
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing decrypted was left beside the key


def test_a_wrong_passphrase_is_one_line(
    tmp_path: Path, keys: dict[str, Path], encrypted_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "not the passphrase")
    code, output = stamp_signed(tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", encrypted_key)
    assert code == 2 and one_line(output), output
    assert f"{encrypted_key}: cannot decrypt the signing key with the passphrase given" in output
    assert "not the passphrase" not in output and "-----BEGIN" not in output
    assert not (tmp_path / "out").exists()


def test_an_encrypted_key_without_a_passphrase_or_terminal_says_how_to_give_one(
    tmp_path: Path, keys: dict[str, Path], encrypted_key: Path
) -> None:
    code, output = stamp_signed(tmp_path / "out", "--sign-cert", keys["chain"], "--sign-key", encrypted_key)
    assert code == 2 and one_line(output), output
    assert f"{encrypted_key}: is encrypted" in output and PASSPHRASE_ENV in output
    assert not (tmp_path / "out").exists()


def echo_off_in_time(terminal: int) -> None:
    for _ in range(600):
        if not termios.tcgetattr(terminal)[3] & termios.ECHO:
            return
        time.sleep(0.1)
    pytest.fail("the terminal still echoes a minute after the prompt")


def test_an_encrypted_key_asks_for_its_passphrase_at_a_terminal(
    tmp_path: Path, keys: dict[str, Path], encrypted_key: Path
) -> None:
    out = tmp_path / "out"
    argv = [sys.executable, "-c", "from aidisclose.cli import main; main()", "stamp", str(JPEG), "-r",
            str(EXAMPLE_RECORD), "-o", str(out), "--sign", "--sign-cert", str(keys["chain"]),
            "--sign-key", str(encrypted_key)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIDISCLOSE_SIGN")}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the terminal is its stdin, stdout, stderr and controlling terminal
        try:
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)  # never back into the test runner
    seen, answered = b"", False
    while True:
        ready, _, _ = select.select([terminal], [], [], 60)
        assert ready, seen
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"passphrase" in seen.lower():
            echo_off_in_time(terminal)  # typed before, the answer would be echoed, then flushed
            os.write(terminal, PASSPHRASE.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    assert answered and os.waitstatus_to_exitcode(status) == 0, seen
    assert PASSPHRASE.encode() not in seen  # not echoed
    assert inspect_file(out / JPEG.name).c2pa.state == "valid"
