"""Password hashing (argon2), random tokens and their keyed digests, CSRF tokens for the login form."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A real hash of a throwaway password: verifying against it for unknown user names costs the same
# time as for real ones, so response time does not tell which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A random token for a cookie, an API token or a CSRF token (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(secret: str, token: str) -> str:
    """What the database keeps of a token: HMAC-SHA-256 keyed with the server secret.

    Tokens are random, so a fast keyed hash is enough (argon2 protects guessable passwords).
    """
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())
