"""Self-signed certificate generation, reuse, renewal, permissions; configured files."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from headshot.server.tls import CertPaths, TlsConfigError, ensure_certificate


def _self_signed(tmp_path: Path, *hostnames: str, now: datetime | None = None) -> CertPaths:
    when = now or datetime.now(UTC)
    return ensure_certificate(
        data_dir=tmp_path,
        cert_file=None,
        key_file=None,
        hostnames=list(hostnames),
        clock=lambda: when,
    )


def _sans(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return set(san.get_values_for_type(x509.DNSName)) | ips


def test_generates_a_self_signed_certificate_with_a_private_key(tmp_path: Path) -> None:
    paths = _self_signed(tmp_path, "headshot.lan", "192.168.1.20")

    assert paths.self_signed
    assert paths.cert_file.parent == tmp_path / "tls"
    assert stat.S_IMODE(paths.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.cert_file.parent.stat().st_mode) == 0o700
    assert _sans(paths.cert_file) == {
        "localhost",
        "127.0.0.1",
        "::1",
        "headshot.lan",
        "192.168.1.20",
    }
    cert = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert timedelta(days=360) < lifetime < timedelta(days=370)
    assert not list(paths.cert_file.parent.glob(".*.tmp"))  # no temporary files left behind


def test_reuses_the_certificate_on_later_starts(tmp_path: Path) -> None:
    first = _self_signed(tmp_path, "headshot.lan")
    cert, key = first.cert_file.read_bytes(), first.key_file.read_bytes()

    again = _self_signed(tmp_path, "HEADSHOT.lan", "0.0.0.0")  # same names; bind-all is ignored

    assert again == first
    assert (again.cert_file.read_bytes(), again.key_file.read_bytes()) == (cert, key)


@pytest.mark.parametrize(
    "later",
    [
        pytest.param({"now": datetime.now(UTC) + timedelta(days=400)}, id="expired"),
        pytest.param({"now": datetime.now(UTC) + timedelta(days=360)}, id="about-to-expire"),
        pytest.param({"hostnames": ("new.example",)}, id="new-hostname"),
    ],
)
def test_regenerates_when_stale(tmp_path: Path, later: dict[str, object]) -> None:
    first = _self_signed(tmp_path).cert_file.read_bytes()
    hostnames = later.get("hostnames", ())
    assert isinstance(hostnames, tuple)
    now = later.get("now")
    assert now is None or isinstance(now, datetime)

    paths = _self_signed(tmp_path, *hostnames, now=now)

    assert paths.cert_file.read_bytes() != first
    assert set(hostnames) <= _sans(paths.cert_file)


def test_regenerates_when_the_key_does_not_match(tmp_path: Path) -> None:
    paths = _self_signed(tmp_path)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    paths.key_file.write_bytes(other)

    _self_signed(tmp_path)

    cert = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
    key = serialization.load_pem_private_key(paths.key_file.read_bytes(), password=None)
    assert cert.public_key() == key.public_key()
    assert stat.S_IMODE(paths.key_file.stat().st_mode) == 0o600


def test_configured_files_are_used_as_they_are(tmp_path: Path) -> None:
    made = _self_signed(tmp_path / "elsewhere")

    paths = ensure_certificate(
        data_dir=tmp_path, cert_file=made.cert_file, key_file=made.key_file, hostnames=[]
    )

    assert paths == CertPaths(made.cert_file, made.key_file, self_signed=False)
    assert not (tmp_path / "tls").exists()


def test_configured_files_that_are_missing_or_mismatched_fail_without_contents(
    tmp_path: Path,
) -> None:
    one, two = _self_signed(tmp_path / "one"), _self_signed(tmp_path / "two")

    with pytest.raises(TlsConfigError, match="does not exist"):
        ensure_certificate(
            data_dir=tmp_path, cert_file=tmp_path / "nope.pem", key_file=one.key_file, hostnames=[]
        )
    with pytest.raises(TlsConfigError, match="both") as only_one:
        ensure_certificate(data_dir=tmp_path, cert_file=one.cert_file, key_file=None, hostnames=[])
    with pytest.raises(TlsConfigError, match="matching PEM pair") as mismatch:
        ensure_certificate(
            data_dir=tmp_path, cert_file=one.cert_file, key_file=two.key_file, hostnames=[]
        )
    for error in (only_one.value, mismatch.value):
        assert "BEGIN" not in str(error)
        assert error.__cause__ is None


def test_ip_hostnames_are_compared_canonically(tmp_path: Path) -> None:
    first = _self_signed(tmp_path, "0:0:0:0:0:0:0:1", "fe80:0::1").cert_file.read_bytes()

    paths = _self_signed(tmp_path, "::1", "fe80::1")

    assert paths.cert_file.read_bytes() == first
    assert str(ipaddress.ip_address("fe80::1")) in _sans(paths.cert_file)
