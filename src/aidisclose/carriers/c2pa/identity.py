"""Who signs: a PEM certificate chain and key (from options, the environment or a config), and a test CA.

Signing material is a secret: no message ever holds a key pasted where a path belongs, nor the user,
password or query of a timestamp authority's URL; an encrypted key is decrypted in memory only.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ...errors import DisclosureError
from ...inputs import read_input, read_input_text
from .sdk import sdk

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

DOCUMENT_SIGNING_OID = "1.3.6.1.5.5.7.3.36"
PASSPHRASE_ENV = "AIDISCLOSE_SIGN_KEY_PASSPHRASE"
AskPassphrase = Callable[[Path], str]
"""Asked for the passphrase of the encrypted key at the path given (the CLI prompts at a terminal)."""


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (signer first) and its private key, plus an optional timestamp authority."""

    cert_chain: bytes
    private_key: bytes = field(repr=False)  # unencrypted PEM, held in memory only
    alg: str
    tsa_url: str | None = field(default=None, repr=False)

    @classmethod
    def from_files(
        cls,
        cert: Path,
        key: Path,
        tsa_url: str | None = None,
        passphrase: bytes | None = None,
        ask: AskPassphrase | None = None,
    ) -> SigningIdentity:
        """Read ``cert`` and ``key``; an encrypted key is opened with ``passphrase``, else with ``ask(key)``."""
        chain, pem = _read(cert, "certificate"), _read(key, "key")
        private_key, alg = _usable_key(pem, key, passphrase, ask)
        return cls(chain, private_key, alg, tsa_url)

    def expires(self) -> str | None:
        """When the signing certificate expires (UTC, ISO 8601); None if the SDK alone can read it."""
        from cryptography import x509

        try:
            certificate = x509.load_pem_x509_certificates(self.cert_chain)[0]
        except (ValueError, IndexError):
            return None
        return certificate.not_valid_after_utc.isoformat(timespec="seconds")

    def signer(self) -> Any:
        info = sdk().C2paSignerInfo(
            alg=self.alg.encode(),
            sign_cert=self.cert_chain,
            private_key=self.private_key,
            ta_url=self.tsa_url.encode() if self.tsa_url else None,
        )
        try:
            return sdk().Signer.from_info(info)
        except sdk().C2paError as exc:
            reason = redact_urls(str(exc), self.tsa_url)
            raise DisclosureError("signing key", f"the C2PA SDK refused the certificate or key: {reason}") from None


def _read(path: Path, what: str) -> bytes:
    try:
        return read_input(path, f"a signing {what}")
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the signing {what}: {exc.strerror or exc}") from None


def _usable_key(pem: bytes, where: Path, passphrase: bytes | None, ask: AskPassphrase | None) -> tuple[bytes, str]:
    """The key as the SDK takes it, an unencrypted PEM (decrypted in memory if need be), and its algorithm."""
    from cryptography.hazmat.primitives import serialization

    try:
        return pem, _algorithm(serialization.load_pem_private_key(pem, password=None), where)
    except TypeError:  # what cryptography raises for an encrypted key loaded without a password
        pass
    except ValueError as exc:
        raise DisclosureError(where, f"is not a PEM private key ({exc})") from None
    if not passphrase and ask is not None:
        passphrase = os.fsencode(ask(where))
    if not passphrase:
        raise DisclosureError(
            where, "is encrypted and no passphrase was given", f"set {PASSPHRASE_ENV}, or run at a terminal to be asked"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError):
        raise DisclosureError(
            where, "cannot decrypt the signing key with the passphrase given", f"check {PASSPHRASE_ENV}"
        ) from None
    alg = _algorithm(key, where)
    unencrypted = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return unencrypted, alg


def _algorithm(key: PrivateKeyTypes, where: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise DisclosureError(where, "key type is not one C2PA signs with (ES256/ES384/ES512, PS256, Ed25519)")


def identity_from_settings(
    cert: Path | None,
    key: Path | None,
    config: Path | None = None,
    tsa_url: str | None = None,
    ask: AskPassphrase | None = None,
) -> SigningIdentity:
    """Options first, then ``AIDISCLOSE_SIGN_CERT`` / ``AIDISCLOSE_SIGN_KEY``, then a TOML config file.

    An encrypted key is opened with ``AIDISCLOSE_SIGN_KEY_PASSPHRASE``, else with ``ask(key)`` if given.
    """
    env = os.environ.get
    cert = _file_setting(cert, "--sign-cert") or _file_setting(env("AIDISCLOSE_SIGN_CERT"), "AIDISCLOSE_SIGN_CERT")
    key = _file_setting(key, "--sign-key") or _file_setting(env("AIDISCLOSE_SIGN_KEY"), "AIDISCLOSE_SIGN_KEY")
    tsa_url = _tsa_setting(tsa_url, "--tsa-url")
    if (cert is None or key is None) and config is not None:
        data = _read_config(config)
        base = config.parent
        cert = cert or _file_setting(_config_string(data, "cert", config), f"{config}: cert", base)
        key = key or _file_setting(_config_string(data, "key", config), f"{config}: key", base)
        tsa_url = tsa_url or _tsa_setting(_config_string(data, "tsa_url", config), f"{config}: tsa_url")
    if cert is None or key is None:
        raise DisclosureError(
            "--sign",
            "no signing certificate and key",
            "pass --sign-cert and --sign-key, set AIDISCLOSE_SIGN_CERT and AIDISCLOSE_SIGN_KEY, "
            "or make test ones with `aidisclose keys init DIR`",
        )
    passphrase = env(PASSPHRASE_ENV)
    return SigningIdentity.from_files(cert, key, tsa_url, os.fsencode(passphrase) if passphrase else None, ask)


def _read_config(config: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(read_input_text(config, "a signing config"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc
        raise DisclosureError(config, f"cannot read the signing config: {reason}") from None


def _config_string(data: dict[str, Any], name: str, config: Path) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        what = "URL" if name == "tsa_url" else "file path"
        raise DisclosureError(config, f"{name} must be a {what} (a TOML string)")
    return value


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}")


def _file_setting(value: str | Path | None, where: str, base: Path | None = None) -> Path | None:
    """A setting naming a certificate or key file; a key pasted in its place is refused, never printed."""
    if value is None or value == "":
        return None
    text = str(value)
    path = base / text if base is not None else Path(text)
    if _is_key_material(text, path):
        raise DisclosureError(where, "expected a file path, not the key itself", "save the PEM in a file")
    return path


def _is_key_material(text: str, path: Path) -> bool:
    """A PEM or its base64 body rather than a path: marker lines, line breaks, lengths no path has."""
    if "-----BEGIN" in text or "-----END" in text or len(text) > 4096 or any(len(p) > 255 for p in text.split("/")):
        return True
    if any(ch < " " or ch == "\x7f" for ch in text):
        return True
    run = _BASE64_RUN.search(text)
    if run is None or os.path.lexists(path):
        return False
    kinds = (str.isdigit, str.isupper, str.islower)
    return all(any(kind(ch) for ch in run.group()) for kind in kinds)


def _tsa_setting(value: str | None, where: str) -> str | None:
    """A timestamp authority's URL: http or https with a host; a refusal never prints it (it may hold a password)."""
    if not value:
        return None
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or any(ch <= " " or ch == "\x7f" for ch in value):
        raise DisclosureError(where, "is not an http or https URL", "give the timestamp authority's URL")
    return value


_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S*")


def redact_urls(text: str, known: str | None = None) -> str:
    """``text`` with each URL's user, password and query shown as ``***``, and the secret parts of ``known`` too."""

    def redact(match: re.Match[str]) -> str:
        scheme, _, rest = match.group().partition("://")
        end = next((i for i, ch in enumerate(rest) if ch in "/?#"), len(rest))
        authority, tail = rest[:end], rest[end:]
        if "@" in authority:
            authority = "***@" + authority.rpartition("@")[2]
        cut = next((i for i, ch in enumerate(tail) if ch in "?#"), None)
        return f"{scheme}://{authority}{tail if cut is None else tail[: cut + 1] + '***'}"

    text = _URL.sub(redact, text)
    if known:
        try:
            parts = urlsplit(known)
            pieces = [parts.username, parts.password, parts.query, parts.fragment]
        except ValueError:
            pieces = []
        for piece in {p for raw in pieces if raw for p in (raw, unquote(raw)) if len(p) >= 4}:
            text = text.replace(piece, "***")
    return text


def make_test_ca(folder: Path, force: bool = False) -> dict[str, Path]:
    """A local test CA and signing certificate with the extensions C2PA requires. Untrusted, for testing only.

    Refuses to write where any of its files (or a link by that name) already is, unless ``force``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    document_signing = ObjectIdentifier(DOCUMENT_SIGNING_OID)
    now = dt.datetime.now(dt.UTC)
    org = "aidisclose TEST ONLY - untrusted, not for production"

    def name(common: str) -> x509.Name:
        return x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
        )

    def usage(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(sign, False, False, False, False, ca, ca, False, False)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("aidisclose TEST CA (untrusted)"))
        .issuer_name(name("aidisclose TEST CA (untrusted)"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("aidisclose TEST signer (untrusted)"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, document_signing]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = {
        "chain.pem": (cert.public_bytes(pem) + ca_cert.public_bytes(pem), 0o644),
        "ca.pem": (ca_cert.public_bytes(pem), 0o644),
        "key.pem": (key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600),
        "README.txt": (TEST_CA_README.encode(), 0o644),
    }
    _write_own_files(folder, files, force)
    return {"chain": folder / "chain.pem", "key": folder / "key.pem", "ca": folder / "ca.pem"}


TEST_CA_README = """TEST ONLY - UNTRUSTED. Made by `aidisclose keys init`.
chain.pem: signing certificate + test CA; key.pem: its private key; ca.pem: the trust anchor.
Manifests signed with these read as 'valid' (untrusted), or 'trusted' only with --trust ca.pem.
Never use them for deliveries.
"""


def _write_own_files(folder: Path, files: dict[str, tuple[bytes, int]], force: bool) -> None:
    """Write each file with its mode from its first byte, never through a link planted under its name.

    Without ``force`` anything already under one of the names is refused before a file is written; with
    it each file is written under a fresh name and renamed over the old one, which replaces a link, never
    its target.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not force:
            for name in files:
                if (folder / name).is_symlink():
                    raise DisclosureError(
                        folder / name, "is a symbolic link", "remove it, or pass --force to replace the link itself"
                    )
                if os.path.lexists(folder / name):
                    raise DisclosureError(folder / name, "already exists", "pass --force to replace it")
        for name, (data, mode) in files.items():
            if not force:
                _create_file(folder / name, data, mode)
                continue
            temp = folder / f".{name}.{secrets.token_hex(8)}.tmp"
            _create_file(temp, data, mode)
            try:
                os.replace(temp, folder / name)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
    except OSError as exc:
        raise DisclosureError(exc.filename or folder, f"cannot write the test keys: {exc.strerror or exc}") from None


def _create_file(path: Path, data: bytes, mode: int) -> None:
    """A new file (nothing, not even a link, may be at ``path``) with ``mode`` from the start."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, mode)
    try:
        with open(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
