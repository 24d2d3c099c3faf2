"""TOTP from RFC 6238 written out by hand: the tests' own authenticator app.

The tests check every app with these codes rather than with pyotp, so that a
bug shared by an app and pyotp cannot hide. test_totp_reference.py checks
this code against the RFC's published test vectors.
"""
import base64
import hashlib
import hmac
import struct


def hotp(key: bytes, counter: int, digits: int = 6, digest=hashlib.sha1) -> str:
    """RFC 4226: HMAC the counter, take 31 bits at the offset the last nibble names."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def totp(secret_base32: str, unix_time: float, digits: int = 6, step: int = 30) -> str:
    """RFC 6238: HOTP with the number of 30-second steps since 1970 as the counter."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    return hotp(key, int(unix_time) // step, digits)
