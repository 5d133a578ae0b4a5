"""What an API key looks like: `ak_` and 40 random URL-safe characters.

The prefix lets secret scanners recognise a leaked key. Keys are random, not chosen, so a
plain SHA-256 is the right hash (a slow password hash protects guessable secrets).
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "ak_"
SHOWN_CHARS = 11  # `ak_` and 8 more: enough to tell keys apart in a list, useless to an attacker


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(30)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shown_part(token: str) -> str:
    return token[:SHOWN_CHARS]


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX) and 20 <= len(value) <= 100 and value.isascii()
