"""The key that signs audit checkpoints: Ed25519 through ``cryptography`` (PyCA).

The private key is a file outside the database (``PLANFLOW_AUDIT_KEY``):
PKCS #8 PEM, unencrypted so that an unattended scheduler can use it, created
by ``planflow audit keygen`` with mode 0600. Whoever can read that file can
sign checkpoints, so keep it off the database host and out of the database's
backups. A key is named by its id, the SHA-256 of its 32-byte raw public
key (hex), which every statement carries (``planflow.core.checkpoints``).

The public key travels as the base64 of those 32 bytes (what ``keygen``
prints), or as a PEM file; ``load_verifier`` accepts either, or the private
key file itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from planflow.errors import ValidationError

log = logging.getLogger(__name__)

KEY_ENV = "PLANFLOW_AUDIT_KEY"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    public: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return hashlib.sha256(_raw(self.public)).hexdigest()

    @property
    def public_b64(self) -> str:
        return base64.b64encode(_raw(self.public)).decode("ascii")

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self.public.verify(signature, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey
    path: Path

    def verifier(self) -> Verifier:
        return Verifier(self.private.public_key())

    @property
    def key_id(self) -> str:
        return self.verifier().key_id

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def key_path_from_env() -> Path | None:
    raw = os.environ.get(KEY_ENV, "").strip()
    return Path(raw).expanduser() if raw else None


def generate(path: Path) -> Signer:
    """A new key, written to ``path`` (mode 0600); never overwrites a file."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ValidationError(f"{path} exists; a signing key is never overwritten") from None
    except OSError as exc:
        raise ValidationError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return Signer(private, path)


def load_signer(path: Path) -> Signer:
    """The private key in ``path``; ValidationError says what is wrong with it."""
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ValidationError(f"{KEY_ENV}={path}: cannot read it ({exc.strerror})") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            f"{KEY_ENV}={path}: not an unencrypted private key in PEM ({exc})"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise ValidationError(f"{KEY_ENV}={path}: not an Ed25519 key")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s: the signing key can be read by others (chmod 600 it)", path)
    return Signer(private, path)


def load_verifier(text: str) -> Verifier:
    """A public key: the base64 of its 32 bytes, or a file (PEM, that base64, the private key)."""
    candidate = text.strip()
    path = Path(candidate).expanduser()
    if path.is_file():
        data = path.read_bytes()
        if b"PRIVATE KEY" in data:
            return load_signer(path).verifier()
        if b"PUBLIC KEY" in data:
            try:
                public = serialization.load_pem_public_key(data)
            except ValueError as exc:
                raise ValidationError(f"{path}: not a public key in PEM ({exc})") from None
            if not isinstance(public, Ed25519PublicKey):
                raise ValidationError(f"{path}: not an Ed25519 public key")
            return Verifier(public)
        candidate = data.decode("ascii", "replace").strip()
    try:
        raw = base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(
            f"{text!r} is not a public key: give the base64 that `planflow audit keygen` "
            "printed, or a file holding it"
        )
    return Verifier(Ed25519PublicKey.from_public_bytes(raw))
