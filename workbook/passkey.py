"""A stand-in for a passkey, for classes without a browser or a phone that has one.

Like ``workbook.phone.Phone`` for TOTP, this plays both halves of what happens on the
student's side of a WebAuthn ceremony, in plain Python:

* ``Authenticator``: the authenticator (the phone, the laptop's TPM, a password manager).
  One P-256 key pair per credential, each kept for one RP ID; a signature counter; the user
  handle the site gave; whether it verified its user (PIN, fingerprint); attestation "none".
* ``Browser``: the browser's rules around it (``navigator.credentials.create()`` and
  ``.get()``). Only in a secure context (https, or http on localhost); the RP ID must be the
  page's host name or a parent of it, never an IP address; the page's real origin goes into
  ``clientDataJSON``, which the authenticator signs; only credentials of that RP ID are offered.

What it returns is what ``PublicKeyCredential.toJSON()`` gives in a browser, so the server's
library (py_webauthn) verifies it unchanged::

    browser = Browser(Authenticator())
    options = client.post("/passkeys/register/options", ...).get_json()
    credential = browser.create("http://localhost:5008", options)   # the page's origin
    client.post("/passkeys/register/verify", json={"credential": credential, "nickname": "laptop"})

Where it is simpler than a real browser (and says so in the message if it matters):

* No Public Suffix List: a real browser also refuses an RP ID that is a public suffix
  ("com", "github.io"); here any parent domain of the host is accepted.
* No related origins (WebAuthn Level 3, ``/.well-known/webauthn``): a real browser may accept an
  RP ID that is not a parent of the host when that RP ID's site lists the origin; here never.
* No user interface: ``get()`` takes the first passkey of the RP ID unless told which (``choose``);
  "the user agreed" is always true.
* ``Authenticator(user_verification=False)`` is an authenticator that cannot verify its user and,
  unlike a compliant one, does not refuse when the site requires it: the flag it signs says so,
  and the server must notice. ``Browser`` does not refuse on its behalf either.
* Secure contexts: https anywhere, and http only on this machine (``localhost``, ``*.localhost``,
  127.0.0.1; an IP address is then refused as an RP ID, as browsers do).
"""
import base64
import copy
import hashlib
import ipaddress
import json
import os
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ES256 = -7  # COSE algorithm number of ECDSA with P-256 and SHA-256, the one every site accepts

# authenticatorData flags (WebAuthn §6.1)
USER_PRESENT = 0x01
USER_VERIFIED = 0x04
BACKUP_ELIGIBLE = 0x08
BACKED_UP = 0x10
ATTESTED_CREDENTIAL_DATA = 0x40


class PasskeyError(Exception):
    """What the browser or the authenticator refuses, named like the browser's DOMException."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One passkey: its id, the site (RP ID) it belongs to, the user handle and its private key."""
    credential_id: bytes
    rp_id: str
    user_handle: bytes
    user_name: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        """The public key as COSE_Key (RFC 9052): what the site stores."""
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: ES256, -1: 1,  # kty EC2, alg ES256, crv P-256
                            -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def public_key_der(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)


class Authenticator:
    """A platform authenticator that keeps its passkeys (discoverable credentials) in memory.

    ``user_verification``: whether it verifies its user (a PIN, a fingerprint) before it signs.
    ``counter``: whether it counts signatures (synced passkeys often always send 0).
    ``synced``: whether its passkeys are backed up to a cloud account (the BE and BS flags).
    """

    aaguid = bytes(16)  # attestation "none": the authenticator's model is not told

    def __init__(self, user_verification=True, counter=True, synced=False):
        self.user_verification = user_verification
        self.counter = counter
        self.synced = synced
        self.credentials = []

    def passkeys_for(self, rp_id):
        return [c for c in self.credentials if c.rp_id == rp_id]

    def _flags(self, *extra):
        flags = USER_PRESENT | (USER_VERIFIED if self.user_verification else 0)
        if self.synced:
            flags |= BACKUP_ELIGIBLE | BACKED_UP
        for flag in extra:
            flags |= flag
        return flags

    def _count(self, credential):
        if self.counter:
            credential.sign_count += 1
        return credential.sign_count if self.counter else 0

    def make_credential(self, rp_id, client_data_hash, user_handle, user_name, exclude_ids=()):
        """authenticatorMakeCredential: a new key pair for ``rp_id``; the attestation object and the credential."""
        if any(c.credential_id in exclude_ids for c in self.passkeys_for(rp_id)):
            raise PasskeyError("InvalidStateError", "this authenticator already holds a passkey for this account")
        # One passkey per account and site: a new one replaces the old (as platform authenticators do).
        self.credentials = [c for c in self.credentials if not (c.rp_id == rp_id and c.user_handle == user_handle)]
        credential = Credential(os.urandom(32), rp_id, user_handle, user_name, ec.generate_private_key(ec.SECP256R1()))
        self.credentials.append(credential)
        attested = self.aaguid + struct.pack(">H", len(credential.credential_id)) + credential.credential_id \
            + credential.cose_public_key()
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags(ATTESTED_CREDENTIAL_DATA)])
                     + struct.pack(">I", 0) + attested)
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return credential, auth_data, attestation_object

    def get_assertion(self, rp_id, client_data_hash, allow_ids=(), choose=None):
        """authenticatorGetAssertion: the signed authenticator data from one of ``rp_id``'s passkeys."""
        candidates = self.passkeys_for(rp_id)
        if allow_ids:
            candidates = [c for c in candidates if c.credential_id in allow_ids]
        if not candidates:
            raise PasskeyError("NotAllowedError", f"no passkey for {rp_id} on this authenticator")
        credential = choose(candidates) if choose else candidates[0]
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", self._count(credential)))
        signature = credential.private_key.sign(auth_data + client_data_hash, ec.ECDSA(hashes.SHA256()))
        return credential, auth_data, signature

    def clone(self):
        """A copy of this authenticator, keys and counters included: what a thief who copied it has."""
        return copy.deepcopy(self)


def _origin_parts(origin):
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise PasskeyError("SecurityError", f"{origin!r} is not an origin like https://example.com")
    return parts.scheme, parts.hostname.lower()


def _is_ip_address(host):
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_loopback(host):
    return _is_ip_address(host) and ipaddress.ip_address(host.strip("[]")).is_loopback


def check_rp_id(origin, rp_id=None):
    """The RP ID a page at ``origin`` may use (the host name when ``rp_id`` is None); PasskeyError if none.

    The browser's rule: only in a secure context, and the RP ID must be the page's host name
    or a parent domain of it (app.example.com may use example.com, never other.com nor
    an IP address). A parent is never a single label (com, localhost: Chromium refuses
    localhost from app.localhost); a real browser also refuses the other public suffixes
    (github.io, co.uk) from the Public Suffix List: not done here.
    """
    scheme, host = _origin_parts(origin)
    secure = scheme == "https" or host == "localhost" or host.endswith(".localhost") or _is_loopback(host)
    if not secure:
        raise PasskeyError("SecurityError", f"{origin} is not a secure context: passkeys need https "
                                            "(or http://localhost on your own machine)")
    if _is_ip_address(host):
        raise PasskeyError("SecurityError", f"{host} is an IP address: an RP ID must be a domain name; "
                                            "open the site at http://localhost instead")
    rp_id = host if rp_id is None else rp_id.lower()
    if not (rp_id == host or ("." in rp_id and host.endswith("." + rp_id))):
        raise PasskeyError("SecurityError", f"the RP ID {rp_id!r} is neither {host} nor a parent domain of it: "
                                            "a page may only use passkeys of its own site")
    return rp_id


def _client_data(kind, challenge, origin):
    """clientDataJSON, as the browser writes it: the challenge from the page, the origin from the address bar."""
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
                      separators=(",", ":")).encode()


def _options(options):
    return json.loads(options) if isinstance(options, (str, bytes)) else options


class Browser:
    """The browser's side of ``navigator.credentials``, with one authenticator plugged in."""

    def __init__(self, authenticator=None):
        self.authenticator = authenticator if authenticator is not None else Authenticator()

    def create(self, origin, options):
        """``navigator.credentials.create({publicKey: options})`` on a page at ``origin``, then ``.toJSON()``.

        ``options``: the PublicKeyCredentialCreationOptionsJSON the site sent (a dict or its JSON text).
        """
        options = _options(options)
        rp_id = check_rp_id(origin, options.get("rp", {}).get("id"))
        if not any(p.get("alg") == ES256 for p in options.get("pubKeyCredParams", [])):
            raise PasskeyError("NotSupportedError", "the site accepts none of this authenticator's algorithms (ES256)")
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        user = options["user"]
        exclude = [from_b64url(c["id"]) for c in options.get("excludeCredentials", [])]
        credential, auth_data, attestation_object = self.authenticator.make_credential(
            rp_id, hashlib.sha256(client_data).digest(), from_b64url(user["id"]), user["name"], exclude)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "authenticatorData": b64url(auth_data),
                "transports": ["internal"],
                "publicKey": b64url(credential.public_key_der()),
                "publicKeyAlgorithm": ES256,
            },
        }

    def get(self, origin, options, choose=None):
        """``navigator.credentials.get({publicKey: options})`` on a page at ``origin``, then ``.toJSON()``.

        ``options``: the PublicKeyCredentialRequestOptionsJSON the site sent. ``choose``: which of
        several passkeys the user picks (a function of the list), else the first.
        """
        options = _options(options)
        rp_id = check_rp_id(origin, options.get("rpId"))
        client_data = _client_data("webauthn.get", options["challenge"], origin)
        allow = [from_b64url(c["id"]) for c in options.get("allowCredentials", [])]
        credential, auth_data, signature = self.authenticator.get_assertion(
            rp_id, hashlib.sha256(client_data).digest(), allow, choose)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
        }


def decode_client_data(credential):
    """The clientDataJSON of a credential (the ``toJSON()`` form), as a dict: type, challenge, origin."""
    return json.loads(from_b64url(credential["response"]["clientDataJSON"]))


def decode_authenticator_data(credential):
    """The authenticatorData of a credential: rpIdHash, flags (by name) and the signature counter."""
    response = credential["response"]
    data = from_b64url(response.get("authenticatorData") or "")
    if not data and "attestationObject" in response:
        data = cbor2.loads(from_b64url(response["attestationObject"]))["authData"]
    flags = data[32]
    names = {"UP": USER_PRESENT, "UV": USER_VERIFIED, "BE": BACKUP_ELIGIBLE, "BS": BACKED_UP,
             "AT": ATTESTED_CREDENTIAL_DATA}
    return {"rpIdHash": data[:32].hex(), "flags": {name: bool(flags & bit) for name, bit in names.items()},
            "signCount": struct.unpack(">I", data[33:37])[0]}
