"""The server's TLS certificate: the operator's files, or a self-signed one made once.

The self-signed certificate lives in `data_dir/tls/` (key file 0600, written with O_EXCL and
renamed into place), is reused on later starts and replaced when it is about to expire, no
longer names every requested host, or no longer matches its key (e.g. after a crash between
the two renames).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=14)
CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"


class TlsConfigError(ValueError):
    """The configured certificate or key cannot be used (the message never shows contents)."""


@dataclass(frozen=True)
class CertPaths:
    cert_file: Path
    key_file: Path
    self_signed: bool


def _utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_certificate(
    *,
    data_dir: Path,
    cert_file: Path | None,
    key_file: Path | None,
    hostnames: Sequence[str],
    clock: Callable[[], datetime] = _utcnow,
) -> CertPaths:
    """The certificate to serve: the configured pair after checking it loads, else the
    self-signed one in `data_dir/tls/`, generated when missing, stale or not matching."""
    if cert_file is not None or key_file is not None:
        return _check_configured(cert_file, key_file)
    directory = data_dir / "tls"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = CertPaths(directory / CERT_NAME, directory / KEY_NAME, self_signed=True)
    names = _names(hostnames)
    reason = _why_regenerate(paths, names=names, now=clock())
    if reason:
        log.info("generating a self-signed TLS certificate", extra={"reason": reason})
        _generate(paths, names=names, now=clock())
    return paths


def _names(hostnames: Sequence[str]) -> list[str]:
    wildcard = {"", "0.0.0.0", "::"}  # bind-all addresses are not names a client uses
    names = [*DEFAULT_NAMES, *(h.strip("[]") for h in hostnames if h not in wildcard)]
    return list(dict.fromkeys(_canonical(n) for n in names))


def _canonical(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def _check_configured(cert_file: Path | None, key_file: Path | None) -> CertPaths:
    if cert_file is None or key_file is None:
        raise TlsConfigError(
            "set both HEADSHOT_TLS_CERT_FILE and HEADSHOT_TLS_KEY_FILE, or neither"
        )
    for label, path in (("certificate", cert_file), ("private key", key_file)):
        if not path.is_file():
            raise TlsConfigError(f"TLS {label} file {path} does not exist or is not a file")
        if not os.access(path, os.R_OK):
            raise TlsConfigError(f"TLS {label} file {path} is not readable by this user")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as exc:
        # The SSL error names the failing step only; we still say nothing of the contents.
        raise TlsConfigError(
            f"TLS certificate {cert_file} and key {key_file} are not a matching PEM pair "
            f"({type(exc).__name__})"
        ) from None
    return CertPaths(cert_file, key_file, self_signed=False)


def _why_regenerate(paths: CertPaths, *, names: Sequence[str], now: datetime) -> str | None:
    if not (paths.cert_file.is_file() and paths.key_file.is_file()):
        return "missing"
    try:
        cert = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
        key = serialization.load_pem_private_key(paths.key_file.read_bytes(), password=None)
    except ValueError:
        return "unreadable"
    if cert.not_valid_after_utc - RENEW_BEFORE <= now:
        return "expiring"
    if _public_bytes(cert.public_key()) != _public_bytes(key.public_key()):
        return "key mismatch"
    if not set(names) <= _san_names(cert):
        return "new hostname"
    return None


def _public_bytes(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _san_names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    dns = san.get_values_for_type(x509.DNSName)
    ips = san.get_values_for_type(x509.IPAddress)
    return {d.lower() for d in dns} | {str(ip) for ip in ips}


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _build(key: ec.EllipticCurvePrivateKey, *, names: Sequence[str], now: datetime) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Headshot self-signed")])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate small clock skew
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _generate(paths: CertPaths, *, names: Sequence[str], now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = _build(key, names=names, now=now)
    # Key first: a crash between the renames leaves a pair that fails the match check.
    _write_atomically(paths.key_file, key_pem, mode=0o600)
    _write_atomically(paths.cert_file, cert_pem, mode=0o644)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through a file or symlink someone else placed there.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
