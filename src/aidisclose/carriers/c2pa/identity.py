"""Who signs: a PEM certificate chain and key (from options, the environment or a config), and a test CA."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import DisclosureError
from .sdk import sdk

DOCUMENT_SIGNING_OID = "1.3.6.1.5.5.7.3.36"


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (signer first) and its private key, plus an optional timestamp authority."""

    cert_chain: bytes
    private_key: bytes
    alg: str
    tsa_url: str | None = None

    @classmethod
    def from_files(cls, cert: Path, key: Path, tsa_url: str | None = None) -> SigningIdentity:
        try:
            chain, pem = cert.read_bytes(), key.read_bytes()
        except OSError as exc:
            raise DisclosureError(exc.filename, f"cannot read the signing {exc.strerror or exc}") from None
        return cls(chain, pem, _algorithm(pem, key), tsa_url)

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
            raise DisclosureError("signing key", f"the C2PA SDK refused the certificate or key: {exc}") from None


def _algorithm(pem: bytes, where: Path) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DisclosureError(where, f"is not an unencrypted PEM private key ({exc})") from None
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
    cert: Path | None, key: Path | None, config: Path | None = None, tsa_url: str | None = None
) -> SigningIdentity:
    """Options first, then ``AIDISCLOSE_SIGN_CERT`` / ``AIDISCLOSE_SIGN_KEY``, then a TOML config file."""
    import tomllib

    cert = cert or _env_path("AIDISCLOSE_SIGN_CERT")
    key = key or _env_path("AIDISCLOSE_SIGN_KEY")
    if (cert is None or key is None) and config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DisclosureError(config, f"cannot read the signing config: {exc}") from None
        base = config.parent
        cert = cert or (base / data["cert"] if "cert" in data else None)
        key = key or (base / data["key"] if "key" in data else None)
        tsa_url = tsa_url or data.get("tsa_url")
    if cert is None or key is None:
        raise DisclosureError(
            "--sign",
            "no signing certificate and key",
            "pass --sign-cert and --sign-key, set AIDISCLOSE_SIGN_CERT and AIDISCLOSE_SIGN_KEY, "
            "or make test ones with `aidisclose keys init DIR`",
        )
    return SigningIdentity.from_files(cert, key, tsa_url)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def make_test_ca(folder: Path) -> dict[str, Path]:
    """A local test CA and signing certificate with the extensions C2PA requires. Untrusted, for testing only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    folder.mkdir(parents=True, exist_ok=True)
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
    paths = {"chain": folder / "chain.pem", "key": folder / "key.pem", "ca": folder / "ca.pem"}
    paths["chain"].write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    paths["ca"].write_bytes(ca_cert.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    (folder / "README.txt").write_text(
        "TEST ONLY - UNTRUSTED. Made by `aidisclose keys init`.\n"
        "chain.pem: signing certificate + test CA; key.pem: its private key; ca.pem: the trust anchor.\n"
        "Manifests signed with these read as 'valid' (untrusted), or 'trusted' only with --trust ca.pem.\n"
        "Never use them for deliveries.\n"
    )
    return paths
