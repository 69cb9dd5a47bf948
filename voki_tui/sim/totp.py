"""RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits) with the standard library only.

The demo MFA account needs codes an authenticator app (or a test) can compute from the
printed base32 secret; this is the same algorithm those apps use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import struct
import time

STEP_S = 30
DIGITS = 6


def random_base32_secret(rng: random.Random) -> str:
    """A 160-bit secret in unpadded base32, as authenticator apps expect."""
    return base64.b32encode(rng.getrandbits(160).to_bytes(20, "big")).decode("ascii")


def totp(secret: str, at: float | None = None) -> str:
    """The 6-digit code for ``secret`` at epoch second ``at`` (now by default)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // STEP_S)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{code % 10**DIGITS:0{DIGITS}d}"


def verify(secret: str, code: str, at: float | None = None, window: int = 1) -> bool:
    """True if ``code`` matches a step within ``window`` steps of ``at`` (clock drift)."""
    now = time.time() if at is None else at
    return any(
        hmac.compare_digest(totp(secret, now + k * STEP_S), code)
        for k in range(-window, window + 1)
    )
