"""The server's VAPID key pair for Web Push (RFC 8292): configured (`HEADSHOT_VAPID_PRIVATE_KEY`,
needed when several machines serve one instance), else generated once into a 0600 file in the
data dir, like the master key file. Two processes starting at once end up with the same file."""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02


def load_vapid(*, configured: str | None, key_file: Path) -> Vapid02:
    if configured:
        text = configured.strip()
        if text.startswith("-----BEGIN"):
            return Vapid02.from_pem(text.encode())
        return Vapid02.from_string(text)
    if not key_file.exists():
        _create(key_file)
    return Vapid02.from_pem(key_file.read_bytes())


def application_server_key(vapid: Vapid02) -> str:
    """The public key as browsers take it (`applicationServerKey`): base64url, uncompressed."""
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _create(key_file: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp makes the file 0600; link() publishes it whole and fails if another process won.
    fd, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)
