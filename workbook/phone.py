"""A stand-in for an authenticator app, for classes where phones are not allowed.

``Phone().scan(page_html)`` finds the QR code in a page, decodes it with a
real QR decoder and remembers the account, as Google Authenticator would;
``phone.code()`` then shows the current six-digit code.
"""
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp

from . import pages, qr


class PhoneError(ValueError):
    """What an authenticator app would refuse to scan, and why."""


@dataclass
class Account:
    issuer: str
    name: str
    secret: str
    uri: str

    @property
    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.secret)


def parse_otpauth_uri(uri: str) -> Account:
    """Read an ``otpauth://totp/...`` URI the way authenticator apps do."""
    parts = urlsplit(uri)
    if parts.scheme != "otpauth" or parts.netloc != "totp":
        raise PhoneError(f"Not a TOTP provisioning URI (it should start with otpauth://totp/): {uri[:60]!r}")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    secret = query.get("secret", "")
    if not secret:
        raise PhoneError("The URI has no secret= parameter, so there is nothing to generate codes from.")
    try:
        pyotp.TOTP(secret).at(0)
    except Exception as error:  # pyotp raises binascii.Error or ValueError for bad base32
        raise PhoneError(f"The secret is not valid base32: {error}.") from error
    for key, expected in (("digits", "6"), ("period", "30"), ("algorithm", "SHA1")):
        if key in query and query[key].upper() != expected:
            raise PhoneError(f"{key}={query[key]}: Google Authenticator only handles {key}={expected} everywhere.")
    # The label is "Issuer:account": split at the first colon (literal or %3A)
    # before decoding, so an account name may itself contain a colon.
    label = parts.path.lstrip("/").replace("%3A", ":").replace("%3a", ":")
    issuer_in_label, _, name = label.partition(":") if ":" in label else ("", "", label)
    return Account(issuer=query.get("issuer", unquote(issuer_in_label)), name=unquote(name), secret=secret, uri=uri)


class Phone:
    """An authenticator app: scan QR codes, then read the current codes."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.accounts = []

    def scan(self, source) -> Account:
        """Scan an HTML page, an ``<img>`` data URI, PNG bytes or an otpauth URI."""
        if isinstance(source, bytes) and source.startswith(b"\x89PNG"):
            uri = qr.decode_png(source)
        elif isinstance(source, str) and source.startswith("otpauth://"):
            uri = source
        elif isinstance(source, str) and source.startswith("data:"):
            uri = qr.decode_data_uri(source)
        else:
            images = pages.parse(source).data_uri_images()
            if len(images) != 1:
                raise PhoneError(f"Expected exactly one inline PNG image on the page, found {len(images)}.")
            uri = qr.decode_data_uri(images[0])
        account = parse_otpauth_uri(uri)
        self.accounts = [a for a in self.accounts if (a.issuer, a.name) != (account.issuer, account.name)]
        self.accounts.append(account)
        return account

    def _account(self, account):
        if account is not None:
            return account
        if not self.accounts:
            raise PhoneError("Nothing scanned yet: call phone.scan(...) with the page that shows the QR code.")
        return self.accounts[-1]

    def code(self, account=None, at=None) -> str:
        """The code the app shows now (or at Unix time ``at``) for the last account scanned."""
        return self._account(account).totp.at(self.clock() if at is None else at)

    def seconds_left(self, at=None) -> int:
        """Seconds until the code changes."""
        now = self.clock() if at is None else at
        return 30 - int(now) % 30

    def show(self, account=None):
        """What the app's screen shows: issuer, account, code and seconds left."""
        account = self._account(account)
        code = self.code(account)
        return f"{account.issuer} ({account.name})   {code[:3]} {code[3:]}   {self.seconds_left():2d}s left"
