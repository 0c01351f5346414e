"""Test certificate authorities, and a real RFC 3161 time-stamp authority on 127.0.0.1.

The TSA is OpenSSL's ``ts -reply`` behind a small HTTP server.

Each POST of an ``application/timestamp-query`` (RFC 3161 §3.4) is answered by running
``openssl ts -reply`` with the TSA's certificate and key, and its ``application/timestamp-reply``
sent back as it came. One request at a time: OpenSSL keeps the serial number in a file.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

_CONFIG = """\
[ tsa ]
default_tsa = aidisclose_test_tsa

[ aidisclose_test_tsa ]
serial = {folder}/serial
crypto_device = builtin
signer_cert = {cert}
certs = {chain}
signer_key = {key}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
_MAX_QUERY = 64 * 1024


def make_ca(folder: Path, name: str, ekus: list[ObjectIdentifier]) -> dict[str, Path]:
    """A CA and an end-entity certificate under it with the given extended key usages (C2PA's other extensions)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    timestamping = ekus == [ExtendedKeyUsageOID.TIME_STAMPING]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} signer")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=timestamping)  # RFC 3161 §2.3: critical for a TSA
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {
        "chain": folder / "chain.pem",
        "key": folder / "key.pem",
        "ca": folder / "ca.pem",
        "cert": folder / "cert.pem",
    }
    paths["chain"].write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    paths["cert"].write_bytes(cert.public_bytes(pem))
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


@contextmanager
def timestamp_authority(cert: Path, chain: Path, key: Path) -> Iterator[str]:
    """Run a TSA signing with ``cert`` (EKU id-kp-timeStamping, critical) and ``key``; its URL while it runs."""
    with tempfile.TemporaryDirectory(prefix="aidisclose-tsa-") as scratch:
        folder = Path(scratch)
        (folder / "serial").write_text("01\n")
        config = folder / "tsa.cnf"
        config.write_text(_CONFIG.format(folder=folder, cert=cert, chain=chain, key=key))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Content-Type") != "application/timestamp-query" or not 0 < length <= _MAX_QUERY:
                    self.send_error(400, "expected an application/timestamp-query")
                    return
                query = folder / "query.tsq"
                query.write_bytes(self.rfile.read(length))
                reply = folder / "reply.tsr"
                done = subprocess.run(
                    ["openssl", "ts", "-reply", "-config", str(config), "-queryfile", str(query),
                     "-inkey", str(key), "-signer", str(cert), "-chain", str(chain), "-out", str(reply)],
                    capture_output=True, check=False, timeout=30,
                )  # fmt: skip
                if done.returncode != 0:
                    self.send_error(500, done.stderr.decode(errors="replace")[:200])
                    return
                body = reply.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
