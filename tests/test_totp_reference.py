"""The tests' hand-written TOTP agrees with RFC 6238's test vectors, and so does pyotp."""
import base64
import hashlib

import pyotp
import pytest

from totp_reference import hotp, totp

# RFC 6238, Appendix B: SHA-1 rows (key "12345678901234567890", 8 digits).
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
RFC_KEY = b"12345678901234567890"
RFC_SECRET = base64.b32encode(RFC_KEY).decode()


@pytest.mark.parametrize("unix_time, expected", RFC6238_SHA1)
def test_reference_matches_rfc6238(unix_time, expected):
    assert totp(RFC_SECRET, unix_time, digits=8) == expected


@pytest.mark.parametrize("unix_time, expected", RFC6238_SHA1)
def test_pyotp_matches_rfc6238(unix_time, expected):
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(unix_time) == expected


def test_rfc4226_hotp_vectors():
    # RFC 4226, Appendix D: the first HOTP values for the same key.
    expected = ["755224", "287082", "359152", "969429", "338314"]
    assert [hotp(RFC_KEY, counter) for counter in range(5)] == expected


def test_six_digit_codes_are_the_last_six_digits():
    # What authenticator apps show: the same number, mod 10**6.
    for unix_time, expected in RFC6238_SHA1:
        assert totp(RFC_SECRET, unix_time) == expected[-6:]
        assert pyotp.TOTP(RFC_SECRET).at(unix_time) == expected[-6:]


def test_sha1_is_the_digest():
    assert hotp(RFC_KEY, 1, digest=hashlib.sha256) != hotp(RFC_KEY, 1)
