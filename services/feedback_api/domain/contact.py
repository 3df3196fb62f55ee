"""The reporter's optional email: encrypted at rest, stored in its own table, readable only through
the internal endpoint case_api calls, and deletable by the reporter with their receipt.

AES-256-GCM with a random 96-bit nonce and the submission id as associated data (a ciphertext
moved to another row does not decrypt). Not Fernet: a Fernet token carries its creation time in
clear, and we store no fine-grained times.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_EMAIL = 254
VERSION = "g1:"
_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)


class ContactCipherError(Exception):
    pass


def is_valid_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and bool(_EMAIL.match(value))


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def decode_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("contact_encryption_key must be urlsafe base64") from exc
    if len(key) != 32:
        raise ValueError("contact_encryption_key must decode to 32 bytes")
    return key


class ContactCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, email: str, *, submission_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, email.encode(), submission_id.encode())
        return VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, *, submission_id: str) -> str:
        if not token.startswith(VERSION):
            raise ContactCipherError("unknown contact ciphertext version")
        try:
            blob = base64.urlsafe_b64decode(token[len(VERSION):].encode())
            return self._aead.decrypt(blob[:12], blob[12:], submission_id.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise ContactCipherError("the contact cannot be decrypted with the configured key") from exc
