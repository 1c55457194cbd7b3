"""The agent's self-signed certificate, and a client context pinned to it.

The control plane does not trust any CA for an agent: it keeps the SHA-256
fingerprint of the agent's certificate (from the agent's info file) and a
client refuses any other certificate before it sends a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import socket
import ssl
from pathlib import Path

from computenet.errors import AuthError, TransferError


def ensure_certificate(state_dir: Path, host: str) -> tuple[Path, Path]:
    """Make ``cert.pem``/``key.pem`` in ``state_dir`` on first start; reuse them after."""
    cert_path, key_path = state_dir / "cert.pem", state_dir / "key.pem"
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "computenet-agent")])
    now = dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        import ipaddress

        alt.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alt.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a key file left from before keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def fingerprint_pem(pem: bytes) -> str:
    return fingerprint_der(ssl.PEM_cert_to_DER_cert(pem.decode()))


def fingerprint_der(der: bytes) -> str:
    return "sha256:" + hashlib.sha256(der).hexdigest()


def fetch_certificate(url_host: str, port: int, timeout_s: float = 10.0) -> bytes:
    """The DER certificate the server presents (no trust decision yet)."""
    # a bare context: the default one loads the system CA store (~20 ms) only to ignore it
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((url_host, port), timeout=timeout_s) as sock,
            ctx.wrap_socket(sock, server_hostname=url_host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        raise TransferError(
            f"agent at {url_host}:{port} unreachable: {exc}", transient=True
        ) from exc
    if der is None:
        raise TransferError(f"agent at {url_host}:{port} sent no certificate")
    return der


_PINNED: dict[tuple[str, int, str], ssl.SSLContext] = {}


def pinned_context(host: str, port: int, fingerprint: str) -> ssl.SSLContext:
    """A client context that trusts exactly the certificate with ``fingerprint``.

    The presented certificate is fetched and compared first; it then becomes
    the only trust anchor, so OpenSSL itself rejects any other on every
    later connection (no token is ever sent to an unpinned peer). Contexts are
    kept per process: the server mints a token on the agent for every copy,
    and a certificate that no longer matches the pin fails the handshake anyway.
    """
    key = (host, port, fingerprint.lower())
    ctx = _PINNED.get(key)
    if ctx is None:
        ctx = _PINNED[key] = _pin(host, port, fingerprint)
    return ctx


def _pin(host: str, port: int, fingerprint: str) -> ssl.SSLContext:
    der = fetch_certificate(host, port)
    seen = fingerprint_der(der)
    if not hmac.compare_digest(seen.lower(), fingerprint.lower()):
        raise AuthError(
            f"agent at {host}:{port} presented certificate {seen}, expected {fingerprint} (pinned)"
        )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(der))
    return ctx


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The agent's side of a TLS listener (TLS 1.2 or later)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    return ctx
