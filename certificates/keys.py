"""The cluster's Ed25519 signing key for Open Badges credentials: where it comes from, and its
public form.

One key signs every credential. It is either configured as a PEM string (the plugin reads it
from its setting and calls `key_from_pem`), or kept in a file that the first app worker to
start creates (`load_or_create_key`). `load_signing_key` applies that precedence. The public
half is published as a JWK (`public_jwk`) whose `kid` is, by default, the key's RFC 7638
thumbprint (`kid_for`), so the id changes exactly when the key does.

Pure: no Flask, no database. Key files are PKCS#8 PEM without a passphrase, mode 0600.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_FILE_MODE = 0o600


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_from_pem(text: str | bytes) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM string (PKCS#8 "PRIVATE KEY", unencrypted).

    A PEM put in an environment variable on one line with literal ``\\n`` separators is
    accepted too. Raises ValueError for anything that is not an Ed25519 private key."""
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="strict")
    text = text.strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a usable unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the PEM holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of the private key, unencrypted (the file mode protects it)."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key stored at `path`; created there (mode 0600) if the file does not exist yet.

    Creation is atomic and never replaces a key: the PEM is written to a temporary file in the
    same folder and hard-linked to `path`, so a reader never sees half a file, and when several
    workers start at once exactly one key wins and every worker uses it (the others read the
    winner's file). The folder is created with mode 0700 if missing."""
    path = Path(path)
    try:
        return key_from_pem(path.read_bytes())
    except FileNotFoundError:
        pass

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), KEY_FILE_MODE)  # whatever the umask was
            handle.write(key_to_pem(key))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            # Another worker created the key first: use theirs, never overwrite it.
            return key_from_pem(path.read_bytes())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)
    return key


def load_signing_key(path: Path, pem: str | None = None) -> Ed25519PrivateKey:
    """The signing key: the configured PEM when there is one, otherwise the key file
    (created at first start)."""
    if pem is not None and pem.strip():
        return key_from_pem(pem)
    return load_or_create_key(path)


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise TypeError(f"expected an Ed25519 key, got {type(key).__name__}")


def _x(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    raw = _public(key).public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return b64url_encode(raw)


def kid_for(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The key's JWK SHA-256 thumbprint (RFC 7638; for OKP keys RFC 8037 section 2): stable
    for a key, different for every other key, computable by anyone holding the public JWK."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _x(key)}  # required members, sorted
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey, kid: str | None = None) -> dict:
    """The public key as a JWK (RFC 8037 "OKP"/"Ed25519"), never with the private part "d".
    `kid` defaults to `kid_for(key)`."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _x(key),
        "kid": kid if kid is not None else kid_for(key),
        "alg": "EdDSA",
        "use": "sig",
    }


def public_key_from_jwk(jwk: dict) -> Ed25519PublicKey:
    """The Ed25519 public key of a JWK; ValueError for any other kind of key, or for a JWK
    that carries a private part (a published key set must never hold one)."""
    if not isinstance(jwk, dict):
        raise ValueError("a JWK must be a JSON object")
    if "d" in jwk:
        raise ValueError("the JWK contains a private key part ('d')")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("only OKP/Ed25519 JWKs are accepted")
    if jwk.get("alg", "EdDSA") != "EdDSA":
        raise ValueError("the JWK is not meant for EdDSA")
    if jwk.get("use", "sig") != "sig":
        raise ValueError("the JWK is not meant for signatures")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError("the JWK has no 'x'")
    raw = b64url_decode(x)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


_B64URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: ValueError for padding, other characters, or a
    length no encoder produces."""
    if not isinstance(text, str) or not set(text) <= _B64URL_CHARS or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:  # non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return data


def _fsync_dir(folder: Path) -> None:
    """Make the new directory entry durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
