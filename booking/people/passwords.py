"""Hashing of staff passwords and resident PINs with argon2id.

werkzeug's default (scrypt with its default cost) is below OWASP ASVS 5.0's minimum;
argon2-cffi's defaults (argon2id, t=3, m=64 MiB) are above it.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher; the test suite uses a cheap one so it does not spend minutes hashing."""
    global _hasher
    _hasher = hasher


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# Verified against when a phone or username is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH: str | None = None


def burn_verification(secret: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("linli-no-such-account")
    verify_secret(_DUMMY_HASH, secret)
