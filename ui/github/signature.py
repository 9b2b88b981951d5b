"""GitHub's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the secret>``.

>>> sig = sign(b"s3cret", b'{"zen": "hi"}')
>>> sig.startswith("sha256="), verify(b"s3cret", b'{"zen": "hi"}', sig), verify(b"other", b'{"zen": "hi"}', sig)
(True, True, False)
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (constant-time compare; a missing header is False)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), header.strip().encode("utf-8", "replace"))


__all__ = ["HEADER", "sign", "verify"]
