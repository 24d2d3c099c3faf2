"""The tests' hand-written TOTP agrees with RFC 6238's test vectors, and so does pyotp."""
import base64
import hashlib

import pyotp
import pytest

from workbook.rfc_test_vectors import RFC4226_HOTP, RFC6238_SHA1
from workbook.rfc_test_vectors import RFC6238_KEY as RFC_KEY

from totp_reference import hotp, totp

RFC_SECRET = base64.b32encode(RFC_KEY).decode()


@pytest.mark.parametrize("unix_time, expected", RFC6238_SHA1)
def test_reference_matches_rfc6238(unix_time, expected):
    assert totp(RFC_SECRET, unix_time, digits=8) == expected


@pytest.mark.parametrize("unix_time, expected", RFC6238_SHA1)
def test_pyotp_matches_rfc6238(unix_time, expected):
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(unix_time) == expected


def test_rfc4226_hotp_vectors():
    assert [hotp(RFC_KEY, counter) for counter in range(10)] == RFC4226_HOTP


def test_six_digit_codes_are_the_last_six_digits():
    # What authenticator apps show: the same number, mod 10**6.
    for unix_time, expected in RFC6238_SHA1:
        assert totp(RFC_SECRET, unix_time) == expected[-6:]
        assert pyotp.TOTP(RFC_SECRET).at(unix_time) == expected[-6:]


def test_sha1_is_the_digest():
    assert hotp(RFC_KEY, 1, digest=hashlib.sha256) != hotp(RFC_KEY, 1)
