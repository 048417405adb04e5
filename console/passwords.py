"""Password hashing with argon2id (argon2-cffi); the hash string carries its own parameters."""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .settings import ConsoleSettings


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher(settings: ConsoleSettings) -> PasswordHasher:
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


def check_strength(password: str, settings: ConsoleSettings) -> None:
    """ValueError when a new password is too short to accept."""
    if len(password) < settings.min_password_length:
        raise ValueError(f"password must have at least {settings.min_password_length} characters")


def hash_password(password: str, settings: ConsoleSettings) -> str:
    return hasher(settings).hash(password)


def verify(stored: str, password: str, settings: ConsoleSettings) -> bool:
    """True when `password` matches; a malformed stored hash never matches."""
    try:
        return hasher(settings).verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str, settings: ConsoleSettings) -> None:
    """Spend the time of one verification (an unknown user must not answer faster)."""
    verify(_dummy_hash(settings), password, settings)


@lru_cache(maxsize=1)
def _dummy_hash_for(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("not-a-password-of-anyone")


def _dummy_hash(settings: ConsoleSettings) -> str:
    return _dummy_hash_for(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
