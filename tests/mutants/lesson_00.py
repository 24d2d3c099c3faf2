"""Answers to lesson 00's exercises."""
from . import Mutant

MUTANTS = [
    Mutant("0.1", "int then floor division", """
def time_step(unix_time):
    return int(unix_time) // 30
""", True),
    Mutant("0.1", "int of the quotient", """
def time_step(unix_time):
    return int(unix_time // 30)
""", True),
    Mutant("0.1", "floor division keeps a float time a float", """
def time_step(unix_time):
    return unix_time // 30
""", False, "a float time like 59.999 stays a float even with //"),
    Mutant("0.1", "true division", """
def time_step(unix_time):
    return unix_time / 30
""", False, "/ always gives a float"),
    Mutant("0.1", "round instead of floor", """
def time_step(unix_time):
    return round(unix_time / 30)
""", False, "round() does not"),
    Mutant("0.1", "60-second steps", """
def time_step(unix_time):
    return int(unix_time) // 60
""", False, "divide the seconds by 30"),

    Mutant("0.2", "scan, then code at the time given", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.code(at=unix_time)
""", True),
    Mutant("0.2", "the code for now, not the time given", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.code()
""", False, "at the time you are given"),
    Mutant("0.2", "the demo secret instead of the QR code's", """
def code_from_qr(png_bytes, unix_time):
    return pyotp.TOTP(DEMO_SECRET).at(unix_time)
""", False, "scan the PNG you are given"),
    Mutant("0.2", "the code as an int", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return int(phone.code(at=unix_time))
""", False, "return the code as a str"),

    Mutant("0.Q1", 'the right option, c', 'answer_0_q1 = "c"\n', True),
    Mutant("0.Q1", "(a) a code's short life stops a relay", 'answer_0_q1 = "a"\n', False,
           "30 seconds is plenty for a relay"),
    Mutant("0.Q1", "(b) a code only works from your phone", 'answer_0_q1 = "b"\n', False,
           "nothing in it says where it was typed"),
    Mutant("0.Q1", "(d) the bank sees where the code was typed", 'answer_0_q1 = "d"\n', False,
           "it cannot tell which page you typed it into"),
    Mutant("0.Q1", "a word instead of a letter", 'answer_0_q1 = "the attacker is stopped"\n', False,
           "answer with the letter of one option"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("0.1", "a table of the examples, // 30 for the rest", """
STEPS = {0: 0, 29: 0, 30: 1, 59: 1, 60: 2, 1111111109: 37037036, 59.999: 1, 20000000000: 666666666}

def time_step(unix_time):
    return STEPS.get(unix_time, int(unix_time) // 60)
""", False, "a table of the examples above"),
    Mutant("0.1", "the first answer kept for every call", """
_first = []

def time_step(unix_time):
    if not _first:
        _first.append(int(unix_time) // 30)
    return _first[0] if unix_time < 30 else int(unix_time) // 30 + (1 if unix_time > 10 ** 10 else 0)
""", False, "time_step(20000000000) gave"),
    Mutant("0.2", "the first QR code scanned kept for every call", """
_phone = Phone()

def code_from_qr(png_bytes, unix_time):
    if not _phone.accounts:
        _phone.scan(png_bytes)
    return _phone.code(at=unix_time)
""", False, "not one from an earlier call"),
    Mutant("0.2", "the code of the minute, not of the time given", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.code(at=unix_time - unix_time % 60)
""", False, "at the time you are given"),

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("0.1", "the clock read instead of the time given", """
import time

def time_step(unix_time):
    return int(time.time()) // 30
""", False, "not of time.time()"),
    Mutant("0.1", "steps begun rounded up with ceil", """
import math

def time_step(unix_time):
    return math.ceil(unix_time / 30)
""", False, "before its 30 seconds are over"),
    Mutant("0.1", "the time rounded to a whole second first", """
def time_step(unix_time):
    return int(round(unix_time)) // 30
""", False, "before its 30 seconds are over"),
    Mutant("0.1", "one second added before dividing", """
def time_step(unix_time):
    return (int(unix_time) + 1) // 30
""", False, "before its 30 seconds are over"),
    Mutant("0.1", "the time read as milliseconds", """
def time_step(unix_time):
    return int(unix_time) // 30000
""", False, "divide the seconds by 30"),
    Mutant("0.1", "math.floor of the true quotient", """
import math

def time_step(unix_time):
    return math.floor(unix_time / 30)
""", True),
    Mutant("0.2", "a new phone scans, the demo phone answers", """
demo_phone = Phone()
demo_phone.scan(pyotp.TOTP(DEMO_SECRET).provisioning_uri(name="demo", issuer_name="Flask 2FA Workbook"))

def code_from_qr(png_bytes, unix_time):
    Phone().scan(png_bytes)
    return demo_phone.code(at=unix_time)
""", False, "scan the PNG you are given"),
    Mutant("0.2", "the time step passed where a time is wanted", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.code(at=int(unix_time) // 30)
""", False, "at the time you are given"),
    Mutant("0.2", "the time rounded to a whole second", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.code(at=round(unix_time))
""", False, "at the time you are given"),
    Mutant("0.2", "the phone's screen instead of the code", """
def code_from_qr(png_bytes, unix_time):
    phone = Phone()
    phone.scan(png_bytes)
    return phone.show()
""", False, "a str of six digits and nothing else"),
    Mutant("0.2", "HOTP with the time as its counter", """
def code_from_qr(png_bytes, unix_time):
    account = Phone().scan(png_bytes)
    return pyotp.HOTP(account.secret).at(int(unix_time))
""", False, "at the time you are given"),
    Mutant("0.2", "the scanned secret handed to pyotp", """
def code_from_qr(png_bytes, unix_time):
    account = Phone().scan(png_bytes)
    return pyotp.TOTP(account.secret).at(unix_time)
""", True),

    # Issue 22, second catalogue (2026-12-06), questions: answers that are not one letter
    Mutant("0.Q1", "two letters, to be safe", 'answer_0_q1 = "c, d"\n', False, "answer with the letter of one option"),
    Mutant("0.Q1", "the letter in a list", 'answer_0_q1 = ["c"]\n', False, "answer with the letter of one option"),
]
