"""Checks for lesson 02: the two secrets (Flask's session key, the TOTP shared secret) and TOTP by hand."""
import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import struct
import time

import flask
import pyotp

from ..cookies import read_session_cookie
from ..rfc_test_vectors import RFC4226_MAC, RFC6238_KEY, RFC6238_SHA1
from . import exercise, for_all, hidden_check, question, reference_only
from .student_side import plain_result, raised, raised_kind, raised_message, student_side, type_name


def session_seen_by(secret_key, cookie):
    """What an app signing with ``secret_key`` finds in its session when sent ``cookie``."""
    app = flask.Flask("lesson_02_check")
    app.secret_key = secret_key
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return dict(flask.session)


@reference_only
def _reference_counter(unix_time):
    return struct.pack(">Q", int(unix_time) // 30)


@reference_only
def _reference_truncate(mac, digits=6):
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def _blame_unfinished(call, own_id):
    """Run ``call``; a stub of *another* exercise is reported as 'finish that one first'."""
    try:
        return call()
    except NotImplementedError as error:
        if f"Exercise {own_id}:" in str(error):
            raise
        raise AssertionError(
            f"your function uses a function that is still a stub ({error}): finish that one first.") from error


def _json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _forge(forge_session_cookie, secret_key, data):
    """Call the student's forger, turning the usual crashes into hints."""
    try:
        return plain_result(forge_session_cookie(secret_key, data), "forge_session_cookie(secret_key, data)")
    except Exception as error:
        if raised(error, "AttributeError"):
            if "'NoneType'" in raised_message(error):
                hint = ("get_signing_serializer(app) gave None, which it does when the app has no secret_key: "
                        "set forger.secret_key = secret_key before asking for the serializer.")
            else:
                hint = ("get_signing_serializer() wants a Flask app, not the key itself: make a throwaway "
                        "app (forger = flask.Flask('forger')), set forger.secret_key = secret_key, and pass forger.")
            raise AssertionError(f"your code raised AttributeError ({raised_message(error)}): {hint}") from None
        if raised(error, "TypeError"):
            raise AssertionError(
                f"your code raised TypeError ({raised_message(error)}): call the method on an instance, "
                "make one with SecureCookieSessionInterface() (note the ()), then ask it for your app's signing "
                "serializer, and give dumps() the data dict."
            ) from None
        raise


@exercise("2.1", "Forge a session cookie", uses=["forge_session_cookie"])
def check_forge_session_cookie(forge_session_cookie):
    wanted = {"username": "admin", "two_factor_done": True}
    cookie = _forge(forge_session_cookie, "my_secret_key", wanted)
    assert type(cookie) is str, (
        f"return the cookie value as a str, not {type_name(cookie)}: the serializer's dumps() gives one."
    )
    assert not re.match(r"[A-Za-z_][\w-]*=[.\w-]", cookie), (
        f"your cookie begins {cookie[:cookie.index('=') + 1]!r}: return only the cookie's value, without its "
        "name in front (the browser, or set_cookie, adds the name)."
    )
    try:
        readable = read_session_cookie(cookie)
    except Exception:
        raise AssertionError(
            "that does not look like a Flask session cookie: sign the data with "
            "the serializer that Flask's session interface gives for an app with your key (its dumps method)."
        ) from None
    assert not (type(readable) is str and _json_or_none(readable) == wanted), (
        f"the cookie holds a JSON string, {readable!r}, not the dict you were given: give dumps() the data dict "
        "itself (the serializer turns it into JSON once; turning it into JSON before makes it a string)."
    )
    assert readable == wanted, (
        f"the cookie holds {readable!r}, not the data you were given ({wanted!r}): sign the data argument as it "
        "is, every value with its own type (True stays True)."
    )
    accepted = session_seen_by("my_secret_key", cookie)
    assert accepted == wanted, (
        "an app whose secret_key is 'my_secret_key' does not accept your cookie: make the serializer "
        "from a Flask app whose secret_key is the key you were given (Flask's serializer, with its own "
        "salt and key derivation, not a plain itsdangerous one)."
    )
    assert session_seen_by("some other key", cookie) == {}, (
        "an app with a different key accepts your cookie: it must be signed, with the key you were given."
    )
    other_data = {"enrolment_id": "chosen-by-the-attacker"}
    other = _forge(forge_session_cookie, "another key", other_data)
    assert session_seen_by("another key", other) != {}, (
        "with the key 'another key', an app using that key rejects your cookie: sign with the secret_key "
        "argument of each call, not a fixed key, nor one kept from an earlier call."
    )
    assert session_seen_by("another key", other) == other_data, (
        "for other data your cookie holds something else: sign the data argument, not fixed data."
    )
    # A key and data drawn for this run: only a forger that signs what it is given makes this cookie.
    key, draw = secrets.token_hex(16), random.SystemRandom()
    data = {"user_id": draw.randrange(1, 10 ** 6), "name": secrets.token_urlsafe(8), "two_factor_done": draw.random() < .5}
    cookie = _forge(forge_session_cookie, key, data)
    assert session_seen_by(key, cookie) == data, (
        f"with the key {key!r} and the data {data!r}, an app using that key finds something else in your cookie: "
        "sign the data argument with the secret_key argument."
    )


@hidden_check("2.1")
def check_forge_uses_the_given_key(forge_session_cookie):
    key = "0f" * 32
    cookie = _forge(forge_session_cookie, key, {"user_id": 1, "nested": {"a": [1, 2]}})
    assert session_seen_by(key, cookie) == {"user_id": 1, "nested": {"a": [1, 2]}}, (
        "sign the data and the key passed in."
    )
    assert session_seen_by("my_secret_key", cookie) == {}, "sign with the key passed in, not a fixed one."


@exercise("2.2", "Pack the time step counter", uses=["counter_bytes"])
def check_counter_bytes(counter_bytes):
    _check_counter_at(counter_bytes, (59, 1111111109, 1234567890, 20000000000, 29.9, 59.5))

    from hypothesis import strategies as st

    def any_time(unix_time):
        got, expected = counter_bytes(unix_time), _reference_counter(unix_time)
        assert got == expected, (
            f"counter_bytes({unix_time!r}) gave {got!r}, expected {expected!r}: pack the whole number of "
            "30-second steps of the time you are given, whatever it is (not a table of the examples above)."
        )
    # Steps below 2**32: the hidden check alone tries the steps that need all 8 bytes (tests/test_gradescope.py
    # grades an answer that passes this check and fails that one).
    for_all(st.one_of(st.integers(0, 2 ** 32 * 30 - 1), st.floats(0, 2 ** 34, allow_nan=False, allow_infinity=False)),
            any_time)


def _check_counter_at(counter_bytes, times):
    """counter_bytes at each of ``times``, its mistakes named."""
    for unix_time in times:
        try:
            got = counter_bytes(unix_time)
        except Exception as error:
            if not raised(error, "error", "TypeError"):   # struct.error's name is "error"
                raise
            if isinstance(unix_time, float) and "integer" in raised_message(error):
                hint = (f"unix_time can be a float ({unix_time}), and so is unix_time // 30: make the step "
                        "an int first (lesson 00's time_step met the same float).")
            else:
                hint = ("the counter is an unsigned 64-bit number: look up the struct module's format characters "
                        "for its size and sign.")
            kind = "struct.error" if raised(error, "error") else "TypeError"
            raise AssertionError(f"counter_bytes({unix_time}) failed ({kind}: {raised_message(error)}): {hint}") from None
        expected = _reference_counter(unix_time)
        assert type(got) is bytes, (
            f"return bytes, not {type_name(got)}: the counter goes into the HMAC as 8 bytes (the lesson's section "
            "\"TOTP by hand\" shows them)."
        )
        assert len(got) == 8, (
            f"counter_bytes({unix_time}) gave {len(got)} bytes: the counter is always 8 bytes (check the size of "
            "the format character you packed with, in the struct module's table)."
        )
        assert got != expected[::-1] or got == expected, (
            f"counter_bytes({unix_time}) has its bytes backwards: the RFC wants big-endian, the most significant "
            "byte first (the struct module's docs say which prefix gives that byte order)."
        )
        if got != expected:   # which mistake made it wrong
            step, packed = int(unix_time) // 30, int.from_bytes(got, "big")
            assert not (packed != step and abs(packed - int(time.time()) // 30) <= 1), (
                f"counter_bytes({unix_time}) gave {got.hex()}, the step of the clock right now, expected "
                f"{expected.hex()}: pack the step of the time you are given (the argument), not of time.time()."
            )
            assert packed != step + 1, (
                f"counter_bytes({unix_time}) gave {got.hex()}, expected {expected.hex()}: one step too many, which "
                "counts a step that has not finished (round() and ceil round up): keep only the whole steps, as "
                "lesson 00's time_step does."
            )
            assert struct.unpack(">d", got)[0] != step, (
                f"counter_bytes({unix_time}) gave {got.hex()}, the 8 bytes of a float: the counter is an unsigned "
                "64-bit number (the struct module's table of format characters says which letter packs one)."
            )
            assert not (packed == step % 256 and packed != step), (
                f"counter_bytes({unix_time}) gave {got.hex()}, expected {expected.hex()}: only the lowest byte of the "
                "step is there: pack the whole step number into the 8 bytes."
            )
            assert packed != int(unix_time), (
                f"counter_bytes({unix_time}) gave {got.hex()}, expected {expected.hex()}: "
                "the counter is the number of whole 30-second steps since 1970, not the seconds (lesson 00's time_step)."
            )
        assert got == expected, (
            f"counter_bytes({unix_time}) gave {got.hex()}, expected {expected.hex()}: the counter is the number of "
            "whole 30-second steps since 1970 of the time you are given (lesson 00's time_step), as 8 bytes."
        )



@hidden_check("2.2")
def check_counter_bytes_beyond_32_bits(counter_bytes):
    unix_time = 2 ** 33 * 30 + 7
    try:
        got = counter_bytes(unix_time)
    except Exception as error:
        if not raised(error, "error"):
            raise
        got = None
    assert got == _reference_counter(unix_time), (
        "steps beyond 2**32 need all 8 bytes: pack an unsigned 64-bit number."
    )


@exercise("2.3", "Cut the HMAC down to a code", uses=["truncate"])
def check_truncate(truncate):
    got = truncate(RFC4226_MAC, 6)
    assert type(got) is str, f"return a str, not {type_name(got)}: codes may start with 0."
    xor_power = str((int.from_bytes(RFC4226_MAC[10:14], "big") & 0x7FFFFFFF) % (10 ^ 6)).zfill(6)
    assert got == "872921" or got != xor_power, (
        f"for RFC 4226's example HMAC you returned {got!r}, expected '872921': in Python ^ is an XOR (10 ^ 6 is "
        "12), not a power: keep the last digits with % 10 ** digits."
    )
    assert got == "872921", (
        f"for RFC 4226's example HMAC you returned {got!r}, expected '872921': the offset is the low "
        "4 bits of the LAST byte (mac[-1] & 0x0F), then read 4 bytes from there, big-endian."
    )
    eight = truncate(RFC4226_MAC, 8)
    if eight != "57872921":
        other_mac = hmac.new(b"another mac", b"", hashlib.sha1).digest()
        assert eight != "872921" or len(str(truncate(other_mac, 8))) != 8, (
            f"for RFC 4226's example with digits=8 you returned {eight!r}, yet other macs get 8 digits: work the "
            "example out like any other mac, not from a table of the lesson's example."
        )
    assert eight == "57872921", "with digits=8, keep 8 digits: number % 10**digits."
    # RFC 6238 also allows HMAC-SHA256 (32 bytes): the offset is still in the low 4 bits of the last byte.
    longer = hmac.new(b"a longer mac", RFC4226_MAC, hashlib.sha256).digest()
    got_longer = truncate(longer, 6)
    assert got_longer == _reference_truncate(longer, 6), (
        f"for a 32-byte mac (an HMAC-SHA256, which RFC 6238 allows too) you returned {got_longer!r}, expected "
        f"{_reference_truncate(longer, 6)!r}: the offset is the low 4 bits of the LAST byte of the mac, however "
        "long the mac is (mac[-1], not a fixed position)."
    )
    # Offset 0, top bit set, and a remainder that needs zero padding.
    tricky = (0x80000000 | 1_000_001_234).to_bytes(4, "big") + bytes(15) + b"\x00"
    got = plain_result(truncate(tricky, 6), "truncate(mac, 6)")
    assert got != str((0x80000000 | 1_000_001_234) % 10 ** 6).zfill(6), (
        "clear the top bit of the 4 bytes (& 0x7FFFFFFF) before taking the remainder."
    )
    signed = abs(int.from_bytes(tricky[:4], "big", signed=True))
    assert got.lstrip("0") != str(signed % 10 ** 6).lstrip("0") or got == "001234", (
        f"you returned {got!r}, expected '001234': abs() is not clearing the top bit. Read the 4 bytes as an "
        "unsigned number and keep its low 31 bits with & 0x7FFFFFFF (abs of the signed number is another number)."
    )
    assert got.lstrip("0") != "1234" or got == "001234", (
        f"you returned {got!r}, expected '001234': pad with zeros on the left to the number of digits "
        "(str(...).zfill(digits))."
    )
    assert got == "001234", (
        f"for 4 bytes {tricky[:4].hex()} at offset 0 you returned {got!r}, expected '001234': read the 4 bytes "
        "from the offset, big-endian, keep the low 31 bits (& 0x7FFFFFFF), then number % 10 ** digits."
    )
    got = plain_result(truncate(tricky, 8), "truncate(mac, 8)")
    assert got.lstrip("0") != "1234" or got == "00001234", (
        f"with digits=8 you returned {got!r}, expected '00001234': pad with zeros on the left to the number of "
        "digits you are given, 8 here (str(...).zfill(digits)), not a fixed width."
    )


    from hypothesis import strategies as st

    def any_mac(case):
        mac, digits = case
        got, expected = truncate(mac, digits), _reference_truncate(mac, digits)
        assert got == expected, (
            f"truncate(bytes.fromhex('{mac.hex()}'), {digits}) gave {got!r}, expected {expected!r}: the offset "
            "comes from the last byte of the mac you are given, and `digits` says how many digits to keep, for "
            "any mac (not only the RFC's example)."
        )
    for_all(st.tuples(st.binary(min_size=20, max_size=20), st.integers(6, 8)), any_mac)


@hidden_check("2.3")
def check_truncate_highest_offset(truncate):
    mac = bytes(range(0x30, 0x43)) + b"\x3f"  # last byte's low nibble is 15: bytes 15..18
    assert truncate(mac, 6) == _reference_truncate(mac, 6), "an offset of 15 reads bytes 15, 16, 17 and 18."


class PyotpWatch:
    """Counts the codes pyotp makes while in force (``with PyotpWatch() as watch: ...; watch.calls``).

    Built where the student's code runs (``_lesson().PyotpWatch()``): exercise 2.4 asks for the code computed
    by hand, so its check watches whether the answer hands the work to pyotp instead. Every pyotp code (TOTP,
    HOTP, ``at``, ``now``, ``verify``) goes through ``OTP.generate_otp``, which is what it wraps.
    """

    def __init__(self):
        self.calls = 0
        self.original = None

    def __enter__(self):
        original = self.original = pyotp.otp.OTP.generate_otp

        def counted(otp, counter):
            self.calls += 1
            return original(otp, counter)

        pyotp.otp.OTP.generate_otp = counted
        return self

    def __exit__(self, *error):
        pyotp.otp.OTP.generate_otp = self.original
        return False


def _lesson():
    """This module where the student's code runs (2.4's PyotpWatch is made there)."""
    return student_side.module(__name__)


def _right_code(key, unix_time, digits):
    return _reference_truncate(hmac.new(key, _reference_counter(unix_time), hashlib.sha1).digest(), digits)


def _cut_down_wrongly(mac, digits):
    """What the usual mistakes of Exercise 2.3 make of a right HMAC: an answer that gives one of them has the HMAC
    step right and the cut-down wrong."""
    offset = mac[-1] & 0x0F
    four = mac[offset:offset + 4]
    first = mac[0] & 0x0F
    numbers = (int.from_bytes(four, "big"),                                    # no & 0x7FFFFFFF
               abs(int.from_bytes(four, "big", signed=True)),                  # abs() of the signed number
               int.from_bytes(four, "little") & 0x7FFFFFFF,                    # little-endian
               int.from_bytes(mac[first:first + 4], "big") & 0x7FFFFFFF)       # offset from the first byte
    wrong = {str(number % 10 ** digits).zfill(digits) for number in numbers}
    wrong.add(str((int.from_bytes(four, "big") & 0x7FFFFFFF) % 10 ** digits))  # no zero padding
    return wrong - {_reference_truncate(mac, digits)}


def _which_step(got, key, unix_time, digits):
    """The hint for a code that is not the right one: which step of totp_by_hand made it wrong."""
    mac = hmac.new(key, _reference_counter(unix_time), hashlib.sha1).digest()
    if got in _cut_down_wrongly(mac, digits):
        return ("the HMAC step is right, the cut-down is not: this is what a truncate with one of Exercise 2.3's "
                "mistakes makes of the right HMAC. Run check(\"2.3\", truncate) and fix truncate there.")
    if type(got) is str and got.isdigit() and len(got) != digits and got in {
            _reference_truncate(mac, size) for size in range(1, 11)}:
        return (f"asked for {digits} digits you returned {len(got)} ({got!r}): totp_by_hand takes `digits`, so hand "
                "`digits` on to the cut-down step instead of leaving it at its default.")
    step = int(unix_time) // 30
    if got in {_right_code(key, 30 * (step + ahead), digits) for ahead in (1, 2)}:
        return (f"your code is that of a later step than t={unix_time}'s: a time stays in its step until all 30 "
                "seconds have passed, so hand unix_time to counter_bytes(unix_time) as it is (no rounding, nothing "
                "added).")
    if got in {_right_code(key, time.time() + 30 * ahead, digits) for ahead in (-1, 0, 1)}:
        return ("that is the code of the clock right now: compute it at the unix_time you are given, not "
                "time.time().")
    if got == _reference_truncate(hmac.new(_reference_counter(unix_time), key, hashlib.sha1).digest(), digits):
        return ("you swapped the key and the message: hmac.new takes the key first, then the message (the "
                "counter's 8 bytes).")
    return ("the HMAC step is off (if check(\"2.3\", truncate) passes): HMAC-SHA1 takes the key you are given as "
            "the key and the 8 bytes of counter_bytes(unix_time) as the message, and truncate wants the raw bytes "
            "of the digest. See the lesson's section \"TOTP by hand\", step by step.")


@exercise("2.4", "Compute a TOTP code by hand", uses=["totp_by_hand"])
def check_totp_by_hand(totp_by_hand):
    draw = random.SystemRandom()
    with _lesson().PyotpWatch() as watch:
        key, unix_time = secrets.token_bytes(20), draw.randrange(0, 2 ** 34)
        try:
            _blame_unfinished(lambda: totp_by_hand(key, unix_time, 6), "2.4")
        except (AssertionError, NotImplementedError):
            raise
        except Exception:  # noqa: BLE001, S110 - what it got wrong is named below; here only pyotp is watched
            pass
        _by_hand_only(watch)
        _check_totp_by_hand(totp_by_hand, draw)
        _by_hand_only(watch)


def _by_hand_only(watch):
    assert plain_result(watch.calls, "the watch") == 0, (
        "your totp_by_hand asks pyotp for the code: this exercise is the computation pyotp does, done by hand. "
        "Build it from the pieces of this lesson (the HMAC of counter_bytes with the key, then truncate), "
        "without pyotp."
    )


def _check_totp_by_hand(totp_by_hand, draw):
    for unix_time, expected in RFC6238_SHA1[:4]:
        try:
            got = _blame_unfinished(lambda at=unix_time: totp_by_hand(RFC6238_KEY, at, 8), "2.4")
        except Exception as error:
            if raised(error, "Error"):   # binascii.Error
                raise AssertionError(
                    f"your code raised binascii.Error ({raised_message(error)}): the key you are given is "
                    "already the secret's bytes (the lesson decodes the base32 secret before it calls "
                    "totp_by_hand): give it to hmac.new as it is."
                ) from None
            if not raised(error, "TypeError"):
                raise
            raise AssertionError(
                f"your code raised TypeError ({raised_message(error)}): truncate() needs the HMAC as raw bytes, "
                ".digest() (not .hexdigest(), which is text), and hmac.new() needs the counter as bytes, "
                "counter_bytes(unix_time)."
            ) from None
        got = plain_result(got, "totp_by_hand(key, unix_time, 8)")
        assert got == expected, (
            f"at t={unix_time} with 8 digits, RFC 6238 says {expected}, you returned {got!r}: "
            + _which_step(got, RFC6238_KEY, unix_time, 8)
        )
    key = secrets.token_bytes(draw.choice((16, 20, 32)))   # drawn for this run: no table knows its codes
    # The third is a clock's float time in the last second of its step: it is still that step.
    for unix_time in (draw.randrange(1_600_000_000, 2_000_000_000), draw.randrange(0, 2 ** 34),
                      draw.randrange(1_600_000_000, 2_000_000_000) // 30 * 30 + 29.6):
        expected = _right_code(key, unix_time, 6)
        try:
            six = plain_result(totp_by_hand(key, unix_time, 6), "totp_by_hand(key, unix_time, 6)")
        except Exception as error:
            if not raised(error, "KeyError", "IndexError"):
                raise
            raise AssertionError(
                f"for another key at t={unix_time} your code raised {raised_kind(error)} ({raised_message(error)}): "
                "an answer that looks codes up in RFC 6238's table cannot make other codes. Compute it from the "
                "key and the time you are given."
            ) from None
        if six != expected:
            hint = _which_step(six, key, unix_time, 6)
            if hint.startswith("the HMAC step is off"):
                # RFC 6238's own vectors passed just above: the HMAC and the cut-down work for its key.
                hint = ("you give RFC 6238's codes for its key, not this key's: an answer that only knows RFC "
                        "6238's table, or only its key, cannot make other codes. Compute the code from the key "
                        "and the time you are given.")
            raise AssertionError(f"for another key (bytes.fromhex('{key.hex()}')) at t={unix_time}, with digits=6, "
                                 f"you returned {six!r}, not {expected}: {hint}")
        got = plain_result(totp_by_hand(key, unix_time), "totp_by_hand(key, unix_time)")
        assert got == expected, (
            f"with digits=6 you give the right code, but called without digits you return {got!r}: "
            "the exercise says how many digits a call without `digits` gives (look at the function's first line)."
        )

    from hypothesis import strategies as st

    def any_key_and_time(case):
        key, unix_time, digits = case
        expected = _right_code(key, unix_time, digits)
        got = totp_by_hand(key, unix_time, digits)
        assert got == expected, (
            f"totp_by_hand(bytes.fromhex('{key.hex()}'), {unix_time}, {digits}) gave {got!r}, expected "
            f"{expected!r}: compute the code from the key, the time and the digits you are given (all three), "
            "not from a table or a fixed key."
        )
    for_all(st.tuples(st.binary(min_size=16, max_size=40), st.integers(0, 2 ** 34), st.integers(6, 8)),
            any_key_and_time)


@hidden_check("2.4")
def check_totp_by_hand_all_vectors_and_another_key(totp_by_hand):
    for unix_time, expected in RFC6238_SHA1:
        assert totp_by_hand(RFC6238_KEY, unix_time, 8) == expected, f"RFC 6238 vector t={unix_time} fails."
    key = hashlib.sha1(b"another key").digest()
    secret = base64.b32encode(key).decode()
    for unix_time in (0, 29.5, 30, 1_234_567_890.9):
        assert totp_by_hand(key, unix_time) == pyotp.TOTP(secret).at(unix_time), (
            f"for another key at t={unix_time}, you differ from pyotp."
        )
    assert hmac.compare_digest(totp_by_hand(key, 0), pyotp.TOTP(secret).at(0))


# --- questions ----------------------------------------------------------------------

question(
    "2.Q1", "What the session cookie's signature protects",
    prompt="Flask signs its session cookie with the app's `secret_key`, which only the server knows. "
           "What does that signature protect?",
    options={
        "a": "What is in the cookie: without the key nobody can read it.",
        "b": "The cookie from being changed: the server throws away a cookie whose signature does not match.",
        "c": "The cookie from being copied: it only works in the browser it was made for.",
        "d": "Both what is in it and its integrity, so with a random key it is a safe place for the TOTP secret.",
    },
    answer="b",
    why_not={
        "a": "a signed cookie is not a secret one: its data is base64, which anyone can decode without the key "
             "(read_session_cookie did). Signed means it cannot be changed, not that it cannot be read.",
        "c": "nothing ties a cookie to a browser: a copied cookie, sent as it is, still carries a right "
             "signature. Ending sessions on the server (lesson 07) is what limits a stolen one.",
        "d": "the key only signs; it encrypts nothing. Whoever sees the cookie reads the TOTP secret in it and "
             "makes your codes: keep only an id in the session, and the secret on the server.",
    },
)
