"""Checks for lesson 00: start here (time steps and the phone stand-in)."""
import functools
import io
import re
import time

import pyotp
import pyqrcode

from . import exercise, for_all, hidden_check, question
from .student_side import type_name

# A fixed secret for the checks (32 base32 characters = 160 bits), never a real one.
CHECK_SECRET = "CHECKCHECKCHECKCHECKCHECKCHECK22"
CHECK_URI = pyotp.TOTP(CHECK_SECRET).provisioning_uri(name="checker", issuer_name="Flask 2FA Workbook")
OTHER_SECRET = "ZYXWVUTSRQPONMLKJIHGFEDCBA234567"
OTHER_URI = pyotp.TOTP(OTHER_SECRET).provisioning_uri(name="someone@example.com", issuer_name="Another Site")


@functools.cache  # the same few codes every time: pyqrcode takes about 30 ms to build one
def _qr_png(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return picture.getvalue()


def prepare():
    """Build the QR codes these checks show (the grader's fork server calls this before it forks)."""
    for uri in (CHECK_URI, OTHER_URI):
        _qr_png(uri)


@exercise("0.1", "Count the 30-second steps", uses=["time_step"])
def check_time_step(time_step):
    # 59.999 comes from a real clock (time.time() is a float): it is still step 1, and an int.
    for unix_time, expected in [(0, 0), (29, 0), (30, 1), (59, 1), (60, 2), (1111111109, 37037036), (59.999, 1),
                                (20000000000, 666666666)]:
        got = time_step(unix_time)
        if isinstance(unix_time, int):
            why = "/ always gives a float, even 60 / 30"
        else:
            why = "a float time like 59.999 stays a float even with //: which of the two operators, and in what " \
                  "order, end with an int?"
        # type() is int, not isinstance: an int subclass can make == say yes to anything.
        assert type(got) is int, (
            f"time_step({unix_time!r}) gave {got!r}, a {type_name(got)}: return an int ({why}): Python's tutorial, \"Numbers\", says "
            "which operators keep an int an int."
        )
        now_step = int(time.time()) // 30
        assert not (got != expected and abs(got - now_step) <= 1), (
            f"time_step({unix_time!r}) gave {got!r}, the step of the clock right now, expected {expected}: count "
            "the steps of the time you are given (the argument), not of time.time()."
        )
        assert got != expected + 1, (
            f"time_step({unix_time!r}) gave {got!r}, expected {expected}: that counts a step before its 30 seconds "
            "are over (rounding up, or rounding the time first, or adding a second does): divide the seconds by "
            "30 and keep only the whole part (// does that, round() does not)."
        )
        assert got == expected, (
            f"time_step({unix_time!r}) gave {got!r}, expected {expected}: "
            "divide the seconds by 30 and keep only the whole part (// does that, round() does not)."
        )


    from hypothesis import strategies as st

    def any_time(unix_time):
        got, expected = time_step(unix_time), int(unix_time) // 30
        assert type(got) is int and got == expected, (
            f"time_step({unix_time!r}) gave {got!r}, expected {expected}: count the whole 30-second steps of "
            "any time you are given, from the time alone (a table of the examples above, or a value kept from "
            "an earlier call, is not enough)."
        )
    for_all(st.one_of(st.integers(0, 2 ** 40), st.floats(0, 2 ** 34, allow_nan=False, allow_infinity=False)), any_time)


@hidden_check("0.1")
def check_time_step_far_future(time_step):
    assert time_step(20000000000) == 666666666, "time_step(20000000000) should be 666666666."
    assert time_step(1_700_000_039.5) == 56_666_667, "time_step(1700000039.5) should be 56666667."


@exercise("0.2", "Read a code with the phone stand-in", uses=["code_from_qr"])
def check_code_from_qr(code_from_qr):
    # 1_700_000_015 is in another 30-second step than the start of its minute: a code of the minute fails.
    # 1_700_000_009.6 is a clock's float time, still in the step before 1_700_000_010: rounding it moves it on.
    for unix_time in (1_700_000_000, 1_700_000_015, 1_700_000_045, 1_700_000_009.6):
        got = code_from_qr(_qr_png(CHECK_URI), unix_time)
        expected = pyotp.TOTP(CHECK_SECRET).at(unix_time)
        assert type(got) is str, (
            f"return the code as a str, not {type_name(got)}: a code can start with 0."
        )
        assert got == expected or re.fullmatch(r"[0-9]{6}", got), (
            f"at time {unix_time} you returned {got!r}: return the code alone, a str of six digits and nothing "
            "else (not what the phone's screen shows around it)."
        )
        assert got == expected, (
            f"at time {unix_time} the phone should show {expected}, you returned {got!r}: "
            "scan the PNG you are given with a Phone (not a secret of your own), then ask that phone for its "
            "code at the time you are given (not now): help(Phone.code) says how."
        )


    from hypothesis import strategies as st

    def any_time(unix_time):
        for uri, secret in ((OTHER_URI, OTHER_SECRET), (CHECK_URI, CHECK_SECRET)):
            got, expected = code_from_qr(_qr_png(uri), unix_time), pyotp.TOTP(secret).at(unix_time)
            assert got == expected, (
                f"for another QR code, at time {unix_time}, the phone shows {expected}, you returned {got!r}: "
                "scan the PNG you are given each time (not one from an earlier call), and ask for the code at "
                "the time you are given."
            )
    for_all(st.integers(0, 4 * 10 ** 9), any_time, max_examples=5)


@hidden_check("0.2")
def check_code_from_qr_other_account(code_from_qr):
    assert code_from_qr(_qr_png(OTHER_URI), 59) == pyotp.TOTP(OTHER_SECRET).at(59), (
        "use the secret in the QR code you are given, at the time you are given."
    )
    # A QR code and a time drawn for this run only: no table made for the checks' own codes knows them.
    import random
    secret, unix_time = pyotp.random_base32(), random.SystemRandom().randrange(4 * 10 ** 9)
    uri = pyotp.TOTP(secret).provisioning_uri(name="drawn@example.com", issuer_name="Drawn For This Run")
    assert code_from_qr(_qr_png.__wrapped__(uri), unix_time) == pyotp.TOTP(secret).at(unix_time), (
        f"for a QR code you had not seen before, at time {unix_time}, you returned another code than the phone "
        "shows: scan the PNG you are given, and ask for the code at the time you are given."
    )


# --- questions ----------------------------------------------------------------------

question(
    "0.Q1", "A fake login page that relays",
    prompt="A fake page that looks exactly like your bank's asks for your password, then for the six-digit "
           "code from your phone. As you type each one, it passes it on to the real bank. What happens?",
    options={
        "a": "The attacker is stopped: the code is only good for 30 seconds.",
        "b": "The attacker is stopped: the code only works when it is typed on your own phone.",
        "c": "The attacker is logged in as you: you typed both factors yourself, and the code is still fresh.",
        "d": "The attacker is stopped: the bank sees that the code was typed on another website.",
    },
    answer="c",
    why_not={
        "a": "30 seconds is plenty for a relay, which sends your code on within a second of your typing it. "
             "A short life stops a code from being used much later, not at once.",
        "b": "a code is six digits anyone can type anywhere: nothing in it says where it was typed. The phone "
             "is what you have; the code it shows can be handed over like a password.",
        "d": "the bank only sees a right code arrive; it cannot tell which page you typed it into. A factor that "
             "checks the site's address itself is what stops this: passkeys, lesson 08.",
    },
)
