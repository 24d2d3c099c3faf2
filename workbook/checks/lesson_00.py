"""Checks for lesson 00: start here (time steps and the phone stand-in)."""
import io

import pyotp
import pyqrcode

from . import exercise, hidden_check

# A fixed secret for the checks (32 base32 characters = 160 bits), never a real one.
CHECK_SECRET = "CHECKCHECKCHECKCHECKCHECKCHECK22"


def _qr_png(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return picture.getvalue()


@exercise("0.1", "Count the 30-second steps", uses=["time_step"])
def check_time_step(time_step):
    for unix_time, expected in [(0, 0), (29, 0), (30, 1), (59, 1), (60, 2), (1111111109, 37037036)]:
        got = time_step(unix_time)
        assert got == expected, (
            f"time_step({unix_time}) gave {got!r}, expected {expected}: "
            "divide the seconds by 30 and keep only the whole part (// does that)."
        )
        assert isinstance(got, int), f"return an int, not {type(got).__name__}: try int(unix_time) // 30."


@hidden_check("0.1")
def check_time_step_floats_and_far_future(time_step):
    assert time_step(59.999) == 1, "a clock gives fractions of a second: 59.999 s is still step 1."
    assert isinstance(time_step(59.999), int), "return an int even when the time is a float."
    assert time_step(20000000000) == 666666666, "time_step(20000000000) should be 666666666."


@exercise("0.2", "Read a code with the phone stand-in", uses=["code_from_qr"])
def check_code_from_qr(code_from_qr):
    uri = pyotp.TOTP(CHECK_SECRET).provisioning_uri(name="checker", issuer_name="Flask 2FA Workbook")
    for unix_time in (1_700_000_000, 1_700_000_045):
        got = code_from_qr(_qr_png(uri), unix_time)
        expected = pyotp.TOTP(CHECK_SECRET).at(unix_time)
        assert isinstance(got, str), (
            f"return the code as a str, not {type(got).__name__}: a code can start with 0."
        )
        assert got == expected, (
            f"at time {unix_time} the phone should show {expected}, you returned {got!r}: "
            "scan the PNG with Phone().scan(png_bytes), then ask phone.code(at=unix_time)."
        )


@hidden_check("0.2")
def check_code_from_qr_other_account(code_from_qr):
    secret = "ZYXWVUTSRQPONMLKJIHGFEDCBA234567"
    uri = pyotp.TOTP(secret).provisioning_uri(name="someone@example.com", issuer_name="Another Site")
    assert code_from_qr(_qr_png(uri), 59) == pyotp.TOTP(secret).at(59), (
        "use the secret in the QR code you are given, at the time you are given."
    )
