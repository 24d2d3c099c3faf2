"""Answers to lesson 02's exercises."""
from . import Mutant

MUTANTS = [
    Mutant("2.1", "Flask's signing serializer", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)
""", True),
    Mutant("2.1", "the key given to get_signing_serializer", """
def forge_session_cookie(secret_key, data):
    return SecureCookieSessionInterface().get_signing_serializer(secret_key).dumps(data)
""", False, "get_signing_serializer() wants a Flask app, not the key itself"),
    Mutant("2.1", "secret_key never set", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)
""", False, "set forger.secret_key = secret_key"),
    Mutant("2.1", "a fixed key", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = "my_secret_key"
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)
""", False, "sign with the secret_key argument"),
    Mutant("2.1", "unsigned base64 JSON", """
import json
def forge_session_cookie(secret_key, data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
""", False, "does not accept your cookie"),
    Mutant("2.1", "fixed data", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps({"username": "admin", "two_factor_done": True})
""", False, "sign the data argument"),

    Mutant("2.2", "struct '>Q' of whole steps", """
def counter_bytes(unix_time):
    return struct.pack(">Q", int(unix_time) // 30)
""", True),
    Mutant("2.2", "int.to_bytes", """
def counter_bytes(unix_time):
    return (int(unix_time) // 30).to_bytes(8, "big")
""", True),
    Mutant("2.2", "a float step from a float time", """
def counter_bytes(unix_time):
    return struct.pack(">Q", unix_time // 30)
""", False, "make the step an int first"),
    Mutant("2.2", "little-endian", """
def counter_bytes(unix_time):
    return struct.pack("<Q", int(unix_time) // 30)
""", False, "bytes backwards"),
    Mutant("2.2", "four bytes", """
def counter_bytes(unix_time):
    return struct.pack(">I", int(unix_time) // 30)
""", False, "the counter is always 8 bytes"),
    Mutant("2.2", "the seconds, not the steps", """
def counter_bytes(unix_time):
    return struct.pack(">Q", int(unix_time))
""", False, "number of whole 30-second steps"),

    Mutant("2.3", "RFC 4226 dynamic truncation", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", True),
    Mutant("2.3", "offset from the first byte", """
def truncate(mac, digits=6):
    offset = mac[0] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "LAST byte"),
    Mutant("2.3", "top bit kept", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big")
    return str(number % 10 ** digits).zfill(digits)
""", False, "clear the top bit"),
    Mutant("2.3", "no zero padding", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits)
""", False, "pad with zeros"),
    Mutant("2.3", "abs() of the signed number for the top bit", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = abs(int.from_bytes(mac[offset:offset + 4], "big", signed=True))
    return str(number % 10 ** digits).zfill(digits)
""", False, "abs() is not clearing the top bit"),
    # Issue 22: abs() once got "pad with zeros"; with the padding there too, it must still name abs().
    Mutant("2.3", "abs() of the signed number, unpadded", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = abs(int.from_bytes(mac[offset:offset + 4], "big", signed=True))
    return str(number % 10 ** digits)
""", False, "abs() is not clearing the top bit"),
    Mutant("2.3", "an int code", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return number % 10 ** digits
""", False, "return a str"),
    Mutant("2.3", "always six digits", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** 6).zfill(6)
""", False, "with digits=8, keep 8 digits"),

    Mutant("2.4", "HMAC-SHA1 of the counter, truncated", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", True),
    Mutant("2.4", "SHA-256", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha256).digest()
    return truncate(mac, digits)
""", False, "HMAC-SHA1"),
    Mutant("2.4", "key and message swapped", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(counter_bytes(unix_time), key, hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "you swapped the key and the message"),
    Mutant("2.4", "hexdigest", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).hexdigest()
    return truncate(mac, digits)
""", False, "not .hexdigest()"),
    Mutant("2.4", "RFC 6238's table looked up", """
RFC6238 = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471", 1234567890: "89005924",
           2000000000: "69279037", 20000000000: "65353130"}

def totp_by_hand(key, unix_time, digits=6):
    return RFC6238[unix_time][-digits:]
""", False, "cannot make other codes"),
    Mutant("2.4", "RFC 6238's table, then the RFC key for other times", """
RFC6238 = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471", 1234567890: "89005924"}

def totp_by_hand(key, unix_time, digits=6):
    if unix_time in RFC6238:
        return RFC6238[unix_time][-digits:]
    mac = hmac.new(b"12345678901234567890", counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "cannot make other codes"),
    # Issue 22: a hard-coded RFC table once got "make digits=6 the default".
    Mutant("2.4", "RFC 6238's table, zeros for the rest", """
RFC6238 = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471", 1234567890: "89005924",
           2000000000: "69279037", 20000000000: "65353130"}

def totp_by_hand(key, unix_time, digits=6):
    if unix_time in RFC6238:
        return RFC6238[unix_time][-digits:]
    return "0" * digits
""", False, "you give RFC 6238's codes for its key, not this key's"),
    Mutant("2.4", "eight digits by default", """
def totp_by_hand(key, unix_time, digits=8):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "called without digits"),

    Mutant("2.Q1", 'the right option, (b)', 'answer_2_q1 = "(b)"\n', True),
    Mutant("2.Q1", "(a) a signed cookie is secret", 'answer_2_q1 = "a"\n', False,
           "a signed cookie is not a secret one"),
    Mutant("2.Q1", "(c) a signature ties a cookie to its browser", 'answer_2_q1 = "c"\n', False,
           "nothing ties a cookie to a browser"),
    Mutant("2.Q1", "(d) a random key makes the cookie a safe place for secrets", 'answer_2_q1 = "d"\n', False,
           "the key only signs; it encrypts nothing"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("2.2", "a table of the examples, the seconds for the rest", """
TABLE = {59: 1, 1111111109: 37037036, 1234567890: 41152263, 20000000000: 666666666, 29.9: 0, 59.5: 1}

def counter_bytes(unix_time):
    return struct.pack(">Q", TABLE.get(unix_time, int(unix_time) // 60))
""", False, "not a table of the examples above"),
    Mutant("2.3", "digits ignored past the examples", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    if digits == 7:
        digits = 6
    return str(number % 10 ** digits).zfill(digits)
""", False, "`digits` says how many digits to keep"),
    Mutant("2.4", "digits passed on only when it is 8", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, 8 if digits == 8 else 6)
""", False, "(all three)"),

    # Not by hand (the walk of 2026-12-05): pyotp makes the code, a table answers RFC 6238's vectors.
    Mutant("2.4", "pyotp makes the code", """
def totp_by_hand(key, unix_time, digits=6):
    return pyotp.TOTP(base64.b32encode(key).decode(), digits=digits).at(unix_time)
""", False, "asks pyotp"),
    Mutant("2.4", "RFC 6238's table, pyotp for the rest", """
RFC6238 = {59: "94287082", 1111111109: "07081804", 1111111111: "14050471", 1234567890: "89005924",
           2000000000: "69279037", 20000000000: "65353130"}

def totp_by_hand(key, unix_time, digits=6):
    if key == b"12345678901234567890" and unix_time in RFC6238:
        return RFC6238[unix_time][-digits:]
    return pyotp.TOTP(base64.b32encode(key).decode(), digits=digits).at(unix_time)
""", False, "asks pyotp"),
    Mutant("2.4", "pyotp's HOTP on the step", """
def totp_by_hand(key, unix_time, digits=6):
    return pyotp.HOTP(base64.b32encode(key).decode(), digits=digits).at(int(unix_time) // 30)
""", False, "asks pyotp"),
    # Misdiagnosed by the old hint (it blamed the HMAC step): the HMAC is right, the cut-down or the digits not.
    Mutant("2.4", "digits not handed on to truncate", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac)
""", False, "hand `digits` on"),
    Mutant("2.4", "right HMAC, a truncate that reads the offset from the first byte", """
def truncate(mac, digits=6):
    offset = mac[0] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)

def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "the HMAC step is right"),
    Mutant("2.4", "right HMAC, a truncate that drops the leading zeros", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits)

def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "the HMAC step is right"),

    # Tuned to the check's own inputs (issue 20): the drawn key and data find them out.
    Mutant("2.1", "the check's keys only, a key of its own otherwise", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key if secret_key in ("my_secret_key", "another key", "0f" * 32) else "my_secret_key"
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)
""", False, "sign the data argument with the secret_key argument"),
]
