"""Feishu's event encryption (AES-256-CBC) and request signature, both directions.

Used by the webhook to decrypt and verify, and by the local simulator to encrypt and sign
exactly as Feishu does.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class DecryptError(ValueError):
    """The body could not be decrypted with the configured Encrypt Key."""


def _key(encrypt_key: str) -> bytes:
    return hashlib.sha256(encrypt_key.encode("utf-8")).digest()


@functools.lru_cache(maxsize=8)  # one Encrypt Key per app: its digest is taken once, not per event
def _aes(encrypt_key: str) -> algorithms.AES:
    return algorithms.AES(_key(encrypt_key))


def decrypt(encrypt_key: str, token: str) -> str:
    """Decrypt the ``encrypt`` field of an event body to its JSON text."""
    try:
        raw = base64.b64decode(token, validate=True)
    except (ValueError, TypeError) as exc:
        raise DecryptError("encrypt field is not base64") from exc
    if len(raw) < 32 or len(raw) % 16:
        raise DecryptError("ciphertext has a wrong length")
    iv, body = raw[:16], raw[16:]
    decryptor = Cipher(_aes(encrypt_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    # PKCS#7: the last byte n (1-16) says how many bytes of value n end the text. Checked here,
    # not by cryptography's unpadder object (a third of the call's cost), in constant time.
    n = padded[-1]
    if not hmac.compare_digest(padded[-n:] if 1 <= n <= 16 else b"", bytes((n,)) * n if 1 <= n <= 16 else b"x"):
        raise DecryptError("cannot decrypt with this Encrypt Key")  # wrong key or forged body
    try:
        return padded[:-n].decode("utf-8")
    except ValueError as exc:  # not UTF-8: wrong key or forged body
        raise DecryptError("cannot decrypt with this Encrypt Key") from exc


def encrypt(encrypt_key: str, plaintext: str, iv: bytes | None = None) -> str:
    """Encrypt as Feishu does: base64(iv + AES-256-CBC(PKCS#7(plaintext)))."""
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(encrypt_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """Hex SHA-256 of timestamp + nonce + encrypt_key + raw body (X-Lark-Signature)."""
    digest = hashlib.sha256()
    digest.update((timestamp + nonce + encrypt_key).encode("utf-8"))
    digest.update(body)
    return digest.hexdigest()


def signature_ok(timestamp: str, nonce: str, encrypt_key: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(signature(timestamp, nonce, encrypt_key, body), given or "")


def token_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.encode())
