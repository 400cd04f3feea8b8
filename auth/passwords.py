"""Password hashing with argon2id (argon2-cffi); hashes made with older parameters are upgraded at sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; this bounds the work one request can ask for

_hasher = PasswordHasher()  # RFC 9106 low-memory profile: argon2id, t=3, m=64 MiB, p=4
_dummy: str | None = None


def configure(hasher: PasswordHasher) -> PasswordHasher:
    """Use other parameters from now on (tests use a cheap profile); returns the previous hasher."""
    global _hasher, _dummy
    previous, _hasher, _dummy = _hasher, hasher, None
    return previous


def check_policy(password: str) -> None:
    """ValueError saying what is wrong with a new password."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"a password has at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`. With no stored hash the same work is done, so timing tells nothing."""
    global _dummy
    if len(password) > MAX_LENGTH:
        return False
    if not stored:
        _dummy = _dummy or _hasher.hash("no such account, same work")
        stored, password = _dummy, password + "\0"
        try:
            _hasher.verify(stored, password)
        except VerificationError:
            pass
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
