"""Forged and malformed CMS signatures over a sign-off document: `signoff verify` must never say trusted.

Each SignedData is built by hand here (asn1crypto for the structure, cryptography for the keys and
certificates), one property changed from a good one at a time, so every case shows one thing refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from aidisclose.signoff import check_signature

DOCUMENT = b'{"signoff_version": 1, "reviewer": "R. Lead"}\n'
NOW = dt.datetime.now(dt.UTC)
DER = serialization.Encoding.DER


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
    *,
    ca: bool = False,
    eku: list[x509.ObjectIdentifier] | None = None,
    days: tuple[int, int] = (-1, 30),
    serial: int | None = None,
    extra: list[tuple[x509.ExtensionType, bool]] = [],  # noqa: B006 - read only
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    signer: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def anchors(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki() -> Pki:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("forgery test root", root_key, ca=True, days=(-1, 365))
    key = ec.generate_private_key(ec.SECP256R1())
    signer = _cert("forgery test signer", key, (root.subject, root_key), eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION])
    return Pki(root, root_key, signer, key)


@dataclass(frozen=True)
class Recipe:
    """What a SignedData holds; each forged case changes one of these."""

    signer: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    certificates: tuple[x509.Certificate, ...]
    content: bytes = DOCUMENT  # the bytes messageDigest is made over
    digest: str = "sha256"
    signature_algorithm: str = "sha256_ecdsa"
    attributes: Callable[[bytes], list[dict[str, Any]]] | None = None  # None: contentType and messageDigest
    signed_attrs: bool = True
    encapsulated: bytes | None = None
    encap_type: str = "data"
    signers: int = 1
    sid: str = "issuer_and_serial_number"


def _attributes(digest: bytes) -> list[dict[str, Any]]:
    return [
        {"type": "content_type", "values": ["data"]},
        {"type": "message_digest", "values": [digest]},
    ]


def build(recipe: Recipe) -> bytes:
    """The DER of a SignedData made as ``recipe`` says, signed with its key."""
    digest = hashlib.new(recipe.digest, recipe.content).digest()
    attrs = cms.CMSAttributes((recipe.attributes or _attributes)(digest))
    signed_over = attrs.dump() if recipe.signed_attrs else recipe.content
    ecdsa_hash = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}.get(
        recipe.digest, hashes.SHA256()
    )
    signature = recipe.key.sign(signed_over, ec.ECDSA(ecdsa_hash))
    cert = ax509.Certificate.load(recipe.signer.public_bytes(DER))
    if recipe.sid == "subject_key_identifier":
        sid = cms.SignerIdentifier({"subject_key_identifier": cert.key_identifier})
    else:
        sid = cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
        )
    info: dict[str, Any] = {
        "version": "v1" if recipe.sid == "issuer_and_serial_number" else "v3",
        "sid": sid,
        "digest_algorithm": {"algorithm": recipe.digest},
        "signature_algorithm": {"algorithm": recipe.signature_algorithm},
        "signature": signature,
    }
    if recipe.signed_attrs:
        info["signed_attrs"] = attrs
    encap: dict[str, Any] = {"content_type": recipe.encap_type}
    if recipe.encapsulated is not None:
        encap["content"] = recipe.encapsulated
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": recipe.digest}],
            "encap_content_info": encap,
            "certificates": [ax509.Certificate.load(c.public_bytes(DER)) for c in recipe.certificates],
            "signer_infos": [cms.SignerInfo(info)] * recipe.signers,
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def good(pki: Pki) -> Recipe:
    return Recipe(pki.signer, pki.key, (pki.signer,))


def state(pki: Pki, signature: bytes, anchors: bytes | None = None) -> tuple[str, str]:
    found = check_signature(DOCUMENT, signature, anchors if anchors is not None else pki.anchors)
    return found.state, found.message


def test_the_hand_made_signature_is_trusted_as_made(pki: Pki) -> None:
    assert state(pki, build(good(pki)))[0] == "trusted"  # the baseline every forged case changes one thing of
    assert state(pki, build(replace(good(pki), sid="subject_key_identifier")))[0] == "trusted"


def _no_digest(digest: bytes) -> list[dict[str, Any]]:
    return [{"type": "content_type", "values": ["data"]}]


def _no_type(digest: bytes) -> list[dict[str, Any]]:
    return [{"type": "message_digest", "values": [digest]}]


def _other_type(digest: bytes) -> list[dict[str, Any]]:
    return [{"type": "content_type", "values": ["signed_data"]}, {"type": "message_digest", "values": [digest]}]


def _two_digests(digest: bytes) -> list[dict[str, Any]]:
    return [
        {"type": "content_type", "values": ["data"]},
        {"type": "message_digest", "values": [digest]},
        {"type": "message_digest", "values": [hashlib.sha256(b"another").digest()]},
    ]


FORGED: dict[str, Callable[[Recipe], Recipe]] = {
    "no messageDigest": lambda r: replace(r, attributes=_no_digest),
    "no contentType": lambda r: replace(r, attributes=_no_type),
    "contentType not id-data": lambda r: replace(r, attributes=_other_type),
    "two messageDigest attributes": lambda r: replace(r, attributes=_two_digests),
    "MD5": lambda r: replace(r, digest="md5"),
    "SHA-1": lambda r: replace(r, digest="sha1", signature_algorithm="sha1_ecdsa"),
    "signature over the content, no signed attributes": lambda r: replace(r, signed_attrs=False),
    "two signers": lambda r: replace(r, signers=2),
    "signer's certificate not in the set": lambda r: replace(r, certificates=()),
    "embedded content differing from the document": lambda r: replace(r, encapsulated=b"another document"),
    "embedded content equal to the document": lambda r: replace(r, encapsulated=DOCUMENT),
    "digest of another document": lambda r: replace(r, content=b"another document"),
    "an RSA signature algorithm for an EC key": lambda r: replace(r, signature_algorithm="sha256_rsa"),
}


@pytest.mark.parametrize("case", FORGED, ids=list(FORGED))
def test_a_forged_or_weak_signature_is_never_trusted(pki: Pki, case: str) -> None:
    found, why = state(pki, build(FORGED[case](good(pki))))
    assert found == "invalid", why


def test_a_signature_algorithm_naming_another_digest_than_the_signer_used_is_refused(pki: Pki) -> None:
    # digestAlgorithm SHA-256 and the signature made with SHA-256, but signatureAlgorithm says ecdsa-with-SHA1:
    # the SignerInfo does not say how it was made, and openssl verifies it another way
    found, why = state(pki, build(replace(good(pki), signature_algorithm="sha1_ecdsa")))
    assert found == "invalid" and "signature algorithm" in why


def test_an_encapsulated_content_type_other_than_data_is_refused(pki: Pki) -> None:
    found, why = state(pki, build(replace(good(pki), encap_type="signed_data")))
    assert found == "invalid" and "content type" in why


def test_bytes_after_the_signature_are_refused(pki: Pki) -> None:
    found, why = state(pki, build(good(pki)) + b"\x00trailing")
    assert found == "invalid", why


def test_a_pem_signature_is_refused_as_not_der(pki: Pki) -> None:
    import base64

    pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(build(good(pki))) + b"-----END CMS-----\n"
    assert state(pki, pem)[0] == "invalid"


def test_deeply_nested_der_is_refused_as_unreadable(pki: Pki) -> None:
    deep = b"\x30\x80" * (1 << 19)  # a SEQUENCE in a SEQUENCE ..., indefinite lengths, 1 MB: the most read
    found, why = state(pki, deep)
    assert found == "invalid" and "not a CMS signature" in why


def test_another_certificate_with_the_signers_issuer_and_serial_does_not_take_its_place(pki: Pki) -> None:
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    self_issued = ec.generate_private_key(ec.SECP256R1())
    impostor = _cert("impostor", impostor_key, (pki.root.subject, self_issued), serial=pki.signer.serial_number)
    # signed by the impostor, who names itself as the real signer (same issuer and serial), both in the set
    forged = replace(good(pki), signer=pki.signer, key=impostor_key, certificates=(impostor, pki.signer))
    assert state(pki, build(forged))[0] != "trusted"
    forged = replace(good(pki), signer=impostor, key=impostor_key, certificates=(impostor, pki.signer))
    assert state(pki, build(forged))[0] != "trusted"


def test_a_certificate_with_another_key_than_the_signature_is_invalid(pki: Pki) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    found, why = state(pki, build(replace(good(pki), key=other)))
    assert found == "invalid" and "does not verify" in why


def _leaf(pki: Pki, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey], **kwargs: Any) -> Recipe:
    key = ec.generate_private_key(ec.SECP256R1())
    eku = kwargs.pop("eku", [ExtendedKeyUsageOID.EMAIL_PROTECTION])
    leaf = _cert("leaf", key, issuer, eku=eku, **kwargs)
    return Recipe(leaf, key, (leaf,))


def test_an_intermediate_that_is_not_a_ca_does_not_vouch(pki: Pki) -> None:
    middle_key = ec.generate_private_key(ec.SECP256R1())
    middle = _cert("not a CA", middle_key, (pki.root.subject, pki.root_key), ca=False)
    recipe = _leaf(pki, (middle.subject, middle_key))
    found, why = state(pki, build(replace(recipe, certificates=(recipe.signer, middle))))
    assert found == "valid" and "not trusted" in why
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("a CA", ca_key, (pki.root.subject, pki.root_key), ca=True)
    recipe = _leaf(pki, (ca.subject, ca_key))
    assert state(pki, build(replace(recipe, certificates=(recipe.signer, ca))))[0] == "trusted"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": (-30, -1)},  # expired
        {"days": (1, 30)},  # not yet valid
        {"eku": [ExtendedKeyUsageOID.SERVER_AUTH]},  # for TLS servers only
        {"extra": [(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"), True)]},
    ],
    ids=["expired", "not yet valid", "server-auth EKU only", "unknown critical extension"],
)
def test_a_signer_certificate_unfit_now_is_not_trusted(pki: Pki, kwargs: dict[str, Any]) -> None:
    found, why = state(pki, build(_leaf(pki, (pki.root.subject, pki.root_key), **kwargs)))
    assert found == "valid" and "not trusted" in why


def test_a_signer_certificate_that_is_a_ca_is_not_trusted(pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("a CA signing documents", key, (pki.root.subject, pki.root_key), ca=True)
    found, why = state(pki, build(Recipe(leaf, key, (leaf,))))
    assert found == "valid" and "not trusted" in why


def test_a_digest_in_signed_data_is_checked_with_the_algorithm_named(pki: Pki) -> None:
    recipe = replace(good(pki), digest="sha384", signature_algorithm="sha384_ecdsa")
    assert state(pki, build(recipe))[0] == "trusted"


@pytest.mark.parametrize("weak", ["rsa1024", "secp192r1"])
def test_a_signer_key_too_weak_to_rely_on_is_refused(pki: Pki, weak: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs7

    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        if weak == "rsa1024"
        else ec.generate_private_key(ec.SECP192R1())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(weak))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.root_key.public_key()), critical=False)
        .sign(pki.root_key, hashes.SHA256())
    )  # the root signs it with P-256: the chain itself is sound, only the signer's own key is weak
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    builder = pkcs7.PKCS7SignatureBuilder().set_data(DOCUMENT).add_signer(leaf, key, hashes.SHA256())
    signature = builder.sign(DER, options)
    found, why = state(pki, signature)
    assert found == "invalid" and "signer's" in why
