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

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("2.1", "itsdangerous's timed serializer with its defaults", """
from itsdangerous import URLSafeTimedSerializer

def forge_session_cookie(secret_key, data):
    return URLSafeTimedSerializer(secret_key).dumps(data)
""", False, "does not accept your cookie"),
    Mutant("2.1", "an HMAC-SHA256 of the JSON, made by hand", """
import json

def forge_session_cookie(secret_key, data):
    payload = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    signature = hmac.new(secret_key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return payload + "." + signature
""", False, "does not accept your cookie"),
    Mutant("2.1", "the serializer made once, for the first key", """
_serializer = []

def forge_session_cookie(secret_key, data):
    if not _serializer:
        forger = flask.Flask("forger")
        forger.secret_key = secret_key
        _serializer.append(SecureCookieSessionInterface().get_signing_serializer(forger))
    return _serializer[0].dumps(data)
""", False, "nor one kept from an earlier call"),
    Mutant("2.1", "the data turned into JSON before signing", """
import json

def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(json.dumps(data))
""", False, "holds a JSON string"),
    Mutant("2.1", "the cookie's name in front of its value", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key
    return "session=" + SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)
""", False, "only the cookie's value"),
    Mutant("2.1", "every value turned into a string", """
def forge_session_cookie(secret_key, data):
    forger = flask.Flask("forger")
    forger.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps({k: str(v) for k, v in data.items()})
""", False, "sign the data argument"),
    Mutant("2.1", "the key set through the app's config", """
def forge_session_cookie(secret_key, data):
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps(dict(data))
""", True),
    Mutant("2.2", "round instead of floor", """
def counter_bytes(unix_time):
    return struct.pack(">Q", round(unix_time / 30))
""", False, "counts a step that has not finished"),
    Mutant("2.2", "the step written out in digits", """
def counter_bytes(unix_time):
    return str(int(unix_time) // 30).encode()
""", False, "the counter is always 8 bytes"),
    Mutant("2.2", "one byte per step number", """
def counter_bytes(unix_time):
    return bytes(7) + bytes([int(unix_time) // 30 % 256])
""", False, "pack the whole step number into the 8 bytes"),
    Mutant("2.2", "the clock read instead of the time given", """
import time

def counter_bytes(unix_time):
    return struct.pack(">Q", int(time.time()) // 30)
""", False, "not of time.time()"),
    Mutant("2.2", "the step packed as a float", """
def counter_bytes(unix_time):
    return struct.pack(">d", unix_time // 30)
""", False, "an unsigned 64-bit number"),
    Mutant("2.2", "a signed 64-bit number", """
def counter_bytes(unix_time):
    return struct.pack(">q", int(unix_time // 30))
""", True),
    Mutant("2.3", "three bytes read", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 3], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "4 bytes"),
    Mutant("2.3", "the four bytes read little-endian", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "little") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "big-endian"),
    Mutant("2.3", "byte 19 as the last byte", """
def truncate(mac, digits=6):
    offset = mac[19] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "LAST byte"),
    Mutant("2.3", "padded to six whatever digits says", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(6)
""", False, "pad with zeros"),
    Mutant("2.3", "the RFC's worked example looked up", """
def truncate(mac, digits=6):
    if mac == bytes.fromhex("1f8698690e02ca16618550ef7f19da8e945b555a"):
        return "872921"
    number = int.from_bytes(mac[:4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "not from a table of the lesson's example"),
    Mutant("2.3", "the high 4 bits of the last byte", """
def truncate(mac, digits=6):
    offset = mac[-1] >> 4
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)
""", False, "low 4 bits"),
    Mutant("2.3", "10 ^ digits, an XOR, for a power", """
def truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % (10 ^ digits)).zfill(digits)
""", False, "10 ** digits"),
    Mutant("2.3", "the last digits of the number as text, then padded", """
def truncate(mac, digits=6):
    offset = mac[-1] % 16
    number = int.from_bytes(mac[offset:offset + 4], byteorder="big") & 0x7FFFFFFF
    return f"{number % 10 ** digits:0{digits}d}"
""", True),
    Mutant("2.4", "a plain SHA-1 of key and counter", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hashlib.sha1(key + counter_bytes(unix_time)).digest()
    return truncate(mac, digits)
""", False, "HMAC-SHA1"),
    Mutant("2.4", "the clock read instead of the time given", """
import time

def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(time.time()), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "not time.time()"),
    Mutant("2.4", "the seconds as the counter", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, struct.pack(">Q", int(unix_time)), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "counter_bytes(unix_time)"),
    Mutant("2.4", "the first key kept for every call", """
_keys = []

def totp_by_hand(key, unix_time, digits=6):
    if not _keys:
        _keys.append(key)
    mac = hmac.new(_keys[0], counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "the key you are given"),
    Mutant("2.4", "the key decoded from base32 again", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(base64.b32decode(key), counter_bytes(unix_time), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "already the secret's bytes"),
    Mutant("2.4", "the time rounded to a whole second", """
def totp_by_hand(key, unix_time, digits=6):
    mac = hmac.new(key, counter_bytes(round(unix_time)), hashlib.sha1).digest()
    return truncate(mac, digits)
""", False, "counter_bytes(unix_time) as it is"),
    Mutant("2.4", "hmac.digest with the hash's name", """
def totp_by_hand(key, unix_time, digits=6):
    return truncate(hmac.digest(key, counter_bytes(unix_time), "sha1"), digits=digits)
""", True),

    # Issue 22, second catalogue (2026-12-06), questions: answers that are not one letter
    Mutant("2.Q1", "two letters, to be safe", 'answer_2_q1 = "b, a"\n', False, "answer with the letter of one option"),
    Mutant("2.Q1", "the letter in a list", 'answer_2_q1 = ["b"]\n', False, "answer with the letter of one option"),
]
