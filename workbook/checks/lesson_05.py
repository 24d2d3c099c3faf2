"""Checks for lesson 05: the route that verifies the code, and the guesser that beats it."""
import functools
import math
import random
import secrets

import pyotp
from flask import request

from ..app_loader import load_module
from ..stages import stage
from . import RUN_SEED, exercise, for_all, hidden_check, question
from .student_side import plain_result, raised, raised_kind, raised_message, student_side, type_name

SECRET = "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
NOW = 1_700_000_011                  # one second after a 30-second step begins
TOTP = pyotp.TOTP(SECRET)


def code_at(offset_seconds, when=NOW):
    return TOTP.at(when + offset_seconds)


def wrong_code(when=NOW):
    """A well-formed code that matches no step from two before to two after ``when``."""
    taken = {code_at(30 * step, when) for step in range(-2, 3)}
    candidate = code_at(0, when)
    while candidate in taken:
        candidate = f"{(int(candidate) + 1) % 1_000_000:06d}"
    return candidate


def to_digits(code, zero):
    """``code`` written with another script's digits (zero = the code point of that script's 0)."""
    return "".join(chr(zero + int(ch)) for ch in code)


FULLWIDTH, ARABIC_INDIC = 0xFF10, 0x0660


# --- 5.1 ------------------------------------------------------------------------------

@exercise("5.1", "Accept codes one step either side", uses=["code_is_valid"])
def check_code_is_valid(code_is_valid):
    got = code_is_valid(SECRET, code_at(0), NOW)
    if got is not True and code_is_valid(SECRET, TOTP.at(NOW // 30), NOW) is True:
        raise AssertionError(
            f"the code of the step at `now` gave {got!r}, and the code of the time now // 30 passed: `now` is a "
            "Unix time in seconds, to pass on as it is; pyotp works out the 30-second step from it itself."
        )
    assert got is True, (
        f"the code of the step at `now` gave {got!r}, expected True: check it at the time you are given, "
        "never at the real clock, and accept one step either side (pyotp's verify documents both; the "
        "lesson's section \"Clock drift and valid_window\")."
    )
    old = 1_000_000_000
    if code_is_valid(SECRET, code_at(0, old), old) is not True:
        raise AssertionError(
            "a code made at the time `now` (here a day in 2001) was refused: check it at the `now` you are given, "
            + ("never at the real clock, so tests and the app's CLOCK decide the time."
               if code_is_valid(SECRET, TOTP.now(), old) is True else
               "each call: the codes of an earlier call (kept from an earlier call, in a cache or a global) are not "
               "this call's.")
        )
    assert code_is_valid(SECRET, code_at(-2), NOW) is True, (
        "the phone showed this code 2 seconds ago, just before the 30-second boundary, and it was refused: "
        "accept the step before too (pyotp's verify has a parameter for that window)."
    )
    for offset, what in ((-30, "one step behind"), (30, "one step ahead")):
        assert code_is_valid(SECRET, code_at(offset), NOW) is True, (
            f"a code {what} (a phone clock a little off) was refused: the window should reach one step either "
            "side."
        )
    for offset, what in ((-60, "two steps behind"), (60, "two steps ahead")):
        assert code_is_valid(SECRET, code_at(offset), NOW) is False, (
            f"a code {what} was accepted: the window is too wide. One step either side, no more."
        )
    assert code_is_valid(SECRET, wrong_code(), NOW) is False, "a wrong code was accepted."
    when = NOW
    while not code_at(0, when).startswith("0"):
        when += 30
    assert code_is_valid(SECRET, code_at(0, when)[1:], when) is False, (
        f"{code_at(0, when)[1:]!r}, the right code {code_at(0, when)!r} without its leading zero, was accepted: a "
        "code is six digits, compared as a string, never as a number."
    )
    assert code_is_valid(SECRET, code_at(0), NOW + 120) is False, (
        "the code of `now`, checked again two minutes later, was accepted: it is four steps old by then. Is an "
        "answer kept from an earlier call? Work it out from this call's secret, code and time every time."
    )


    from hypothesis import strategies as st

    def any_secret_and_time(case):
        secret, now, offset = case
        code = pyotp.TOTP(secret).at(now + offset)
        expected = pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)
        got = code_is_valid(secret, code, now)
        assert got is expected, (
            f"code_is_valid({secret!r}, {code!r}, {now}) gave {got!r}, expected {expected}: the code made "
            f"{offset:+d} s from `now` is {'within' if expected else 'outside'} one step either side. Check "
            "against the secret and the time you are given, every time."
        )
    for_all(st.tuples(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=32, max_size=32),
                      st.integers(10 ** 9, 4 * 10 ** 9), st.integers(-75, 75)), any_secret_and_time)


@hidden_check("5.1")
def check_code_is_valid_edges(code_is_valid):
    boundary = 1_700_000_039.9            # a float, a tenth of a second before the step ends
    assert code_is_valid(SECRET, TOTP.at(boundary), boundary) is True, "a float time should work like an int."
    assert code_is_valid(SECRET, TOTP.at(boundary + 0.2), boundary) is True, (
        "the code of the next step, 0.2 s later, should pass: one step either side."
    )
    other = pyotp.random_base32()
    assert code_is_valid(other, code_at(0), NOW) is (pyotp.TOTP(other).at(NOW) == code_at(0)), (
        "the code must be checked against the secret passed in."
    )


# --- 5.2 ------------------------------------------------------------------------------

GOOD = {"123456": "123456", "123 456": "123456", "012345": "012345", " 654 321 ": "654321"}
BAD = {
    None: "a missing field (None)",
    "": "an empty field",
    "12345": "five digits",
    "1234567": "seven digits (match the whole string, not six digits found somewhere in it)",
    "abcdef": "letters",
    "12345a": "five digits and a letter",
    "-12345": "a minus sign (int() reads it as a number: allow only the ten ASCII digits)",
    to_digits("123456", FULLWIDTH): "fullwidth digits '１２３４５６' (str.isdigit() and \\d accept them: allow only "
                                    "the ten ASCII digits)",
    to_digits("123456", ARABIC_INDIC): "Arabic-Indic digits '١٢٣٤٥٦' (str.isdigit() and \\d accept them: allow only "
                                       "the ten ASCII digits)",
    "123456\n": "a trailing newline (remove only ' ', and note that '$' matches before a final newline: "
                "match the whole string, as the re module's docs explain)",
    "12\t3456": "a tab (only ordinary spaces are removed)",
    "123\u00a0456": "a non-breaking space (only ordinary spaces ' ' are removed)",
    "1" * 5000: "5000 characters",
}


@exercise("5.2", "Normalise the typed code", uses=["normalise_code"])
def check_normalise_code(normalise_code):
    try:
        missing = normalise_code(None)
    except Exception as error:
        if not raised(error, "AttributeError", "TypeError"):
            raise
        raise AssertionError(
            f"normalise_code(None) raised {raised_kind(error)}: a missing field arrives as None "
            "(request.form.get('otp')), so return None for it before anything else."
        ) from None
    assert missing is None, f"normalise_code(None) gave {missing!r}, expected None" + (
        ": return None for a malformed code, and return the code as a string (not True) for a well-formed one."
        if type(missing) is bool else ".")
    for raw, expected in GOOD.items():
        got = normalise_code(raw)
        assert got is not None, (
            f"normalise_code({raw!r}) gave None, expected {expected!r}"
            + (": remove every ordinary space, the ones between the digits too; strip() only takes them off the "
               "ends (Python's docs list the str methods)." if " " in raw.strip() else
               ": six ASCII digits, with spaces removed, are a well-formed code.")
        )
        assert type(got) is str, (
            f"normalise_code({raw!r}) gave {got!r}, a {type_name(got)}: return the code as a string (a number would lose "
            "the leading 0 of codes like 012345)."
        )
        assert got == expected, (
            f"normalise_code({raw!r}) gave {got!r}, expected {expected!r}"
            + (": keep it a string, or the leading 0 is lost." if raw == "012345" else
               ": give back the six digits without its spaces." if got.replace(" ", "") == expected else
               ": remove the ordinary spaces before checking.")
        )
    for raw, what in BAD.items():
        got = normalise_code(raw)
        assert got is None, f"{what} gave {got!r}, expected None."
    # The length limit: anything over 20 characters is refused before the spaces are removed.
    for padding, expected in ((14, "123456"), (15, None), (5000, None)):
        raw = " " * padding + "123456"
        got = normalise_code(raw)
        assert got == expected, (
            f"{len(raw)} characters (spaces, then 123456) gave {got!r}, expected {expected!r}: "
            + ("refuse anything longer than 20 characters, before removing the spaces or any other work "
               "(a huge field must cost the server nothing)." if expected is None else
               "20 characters is still within the limit: refuse only what is longer than 20.")
        )


    from hypothesis import strategies as st

    def any_typing(raw):
        got, expected = normalise_code(raw), _reference_normalise(raw)
        assert got == expected, (
            f"normalise_code({raw!r}) gave {got!r}, expected {expected!r}: at most 20 characters, then every "
            "ordinary space removed, then exactly six ASCII digits."
        )
    digits = st.text(alphabet="0123456789", min_size=5, max_size=7)
    typed = st.text(alphabet=st.sampled_from(list("0123456789 ") + ["\t", "\n", "a", "-", "１", "٣", "\u00a0"]),
                    max_size=24)
    spaced = st.tuples(digits, st.integers(0, 6), st.integers(0, 16)).map(
        lambda case: " " * case[2] + case[0][:case[1]] + " " + case[0][case[1]:])
    for_all(st.one_of(typed, spaced, digits), any_typing, max_examples=60)


def _reference_normalise(raw):
    if raw is None or len(raw) > 20:
        return None
    code = raw.replace(" ", "")
    return code if len(code) == 6 and all(ch in "0123456789" for ch in code) else None


@hidden_check("5.2")
def check_normalise_code_other_inputs(normalise_code):
    assert normalise_code("000000") == "000000", "000000 is a valid code."
    assert normalise_code("1 2 3 4 5 6") == "123456", "spaces anywhere between the digits are fine."


# --- 5.3 ------------------------------------------------------------------------------

@exercise("5.3", "Choose the status of the answer", uses=["status_for"])
def check_status_for(status_for):
    right = code_at(0)
    cases = [
        (right, 200, "the right code"),
        (f"{right[:3]} {right[3:]}", 200, "the right code typed as the app shows it, '123 456' (check the "
         "code normalise_code gives back, not the raw value)"),
        (code_at(-2), 200, "the code of the step that ended 2 seconds ago (one step either side: Use your "
                           "code_is_valid from Exercise 5.1)"),
        (wrong_code(), 401, "a wrong but well-formed code (401: that code did not prove who you are)"),
        (code_at(60), 401, "a code two steps ahead"),
        (None, 400, "a missing field (400: the request itself is malformed)"),
        ("", 400, "an empty field (400: malformed, not a wrong code)"),
        ("abc", 400, "letters (400: malformed, not a wrong code)"),
        (to_digits(right, FULLWIDTH), 400,
         "the right code in fullwidth digits: pyotp would accept it (it normalises Unicode), "
         "so normalise_code must refuse it first"),
        (" " * 30 + right, 400, "the right code after 30 spaces: too long, so normalise_code refuses it first"),
    ]
    for raw, expected, what in cases:
        try:
            got = status_for(SECRET, raw, NOW)
        except Exception as error:
            if not raised(error, "TypeError", "AttributeError"):
                raise
            raise AssertionError(
                f"{what}: your code raised {raised_kind(error)} ({raised_message(error)}): call normalise_code(raw) first, "
                "and answer 400 when it gives None, before anything else touches the value."
            ) from None
        if expected == 200 and got != 200 and status_for(SECRET, TOTP.now(), NOW) == 200:
            raise AssertionError(
                f"{what}: you answered {got!r}, expected 200, yet today's code passes: the code was checked "
                "at the real clock, not at `now`. Either your code_is_valid ignores its `now` (does "
                "check(\"5.1\", code_is_valid) pass?), or status_for does not hand its `now` on to it."
            )
        assert type(got) is not str, (
            f"{what}: you answered {got!r}, a string: return the status as a number ({expected}, not '{expected}').")
        assert got == expected, f"{what}: you answered {got!r}, expected {expected}."
    assert status_for(SECRET, code_at(0, 1_000_000_000), 1_000_000_000) == 200, (
        "a code made at the time `now` (a day in 2001) got no 200: the code was checked at another time. Either "
        "your code_is_valid ignores its `now` (does check(\"5.1\", code_is_valid) pass?), or status_for does not "
        "hand its `now` on to it."
    )
    assert status_for(SECRET, code_at(0), NOW + 120) == 401, (
        "the right code of `now`, sent again two minutes later, did not get 401: it is four steps old by then. Is "
        "an answer kept from an earlier call, in status_for or in your code_is_valid? Work the status out from this "
        "call's values every time."
    )


@hidden_check("5.3")
def check_status_for_edges(status_for):
    assert status_for(SECRET, "9" * 100_000, NOW) == 400, "an oversized field is malformed: 400."
    assert status_for(SECRET, to_digits(code_at(0), ARABIC_INDIC), NOW) == 400, "Arabic-Indic digits: 400."
    other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert status_for(other, pyotp.TOTP(other).at(NOW), NOW) == 200, "check the code against the secret passed in."
    # A secret, a time and codes drawn for this run: the answer must come from them, not from a table.
    draw = random.SystemRandom()
    secret, now = pyotp.random_base32(), draw.randrange(10 ** 9, 4 * 10 ** 9)
    totp = pyotp.TOTP(secret)
    step = draw.choice((-1, 0, 1))
    code = totp.at(now + 30 * step)
    typed = code if draw.random() < .5 else f"{code[:3]} {code[3:]}"
    assert status_for(secret, typed, now) == 200, (
        f"the code {typed!r}, of the step {step:+d} from `now` for a secret drawn for this run, got no 200: "
        "normalise it, then check it against the secret and the time you are given."
    )
    taken = {totp.at(now + 30 * near) for near in range(-2, 3)}
    wrong = next(guess for guess in (f"{draw.randrange(CODES):06d}" for _ in range(100)) if guess not in taken)
    assert status_for(secret, wrong, now) == 401, (
        f"a wrong but well-formed code ({wrong!r}) for a secret drawn for this run got no 401."
    )
    assert status_for(secret, code[:5], now) == 400, "five digits are malformed: 400."


# --- 5.4 and 5.5: the attack, before any defence -----------------------------------------

RIGHT_CODES_AT_ONCE = 3          # valid_window=1: the code of this step and of one step either side
CODES = 10 ** 6


def _chance(tries):
    return 1 - (1 - RIGHT_CODES_AT_ONCE / CODES) ** tries


@exercise("5.4", "The odds of a blind guesser", uses=["chance_within"])
def check_chance_within(chance_within):
    from hypothesis import strategies as st
    none = chance_within(0)
    assert none == 0, f"no guess at all gave {none!r}: zero tries never get in (0)." + (
        " You returned the chance that every try misses: the guesser gets in at least once unless all of them "
        "miss." if none == 1 and math.isclose(chance_within(1), 1 - 3 / CODES, rel_tol=1e-9) else "")
    one = plain_result(chance_within(1), "chance_within(1)")
    assert math.isclose(one, 3 / CODES, rel_tol=1e-5), (
        f"one guess gave {one!r}. With valid_window=1 three codes are right at any moment (this step's and one "
        "either side), out of 1,000,000 six-digit codes."
        + (" You counted one right code only." if math.isclose(one, 1 / CODES, rel_tol=1e-9) else "")
        + (" A chance is a number from 0 to 1, not a percentage." if math.isclose(one, 3e-4, rel_tol=1e-9) else "")
        + (" The chance that one try misses came out as 0: `//` rounds it down; divide with /." if one == 1 else "")
        + (" Do not round the chance: 3 in a million rounds to 0." if any(
            one == round(3 / CODES, places) for places in range(6)) else "")
    )
    many = plain_result(chance_within(CODES), "chance_within(1_000_000)")
    assert 0 <= many <= 1, (
        f"a million tries gave {many!r}: a chance is never above 1. Adding up the chances of hitting counts "
        "some runs twice: multiply the chances of missing instead."
    )

    def agrees(tries):
        got, expected = plain_result(chance_within(tries), f"chance_within({tries})"), _chance(tries)
        assert math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-12), (
            f"{tries} tries gave {got!r}, expected {expected:.6g}. Work out the chance that every one of the "
            "tries misses, then take the opposite: the guesser gets in unless all of them miss."
            + (" Adding up the chances of hitting counts the runs where two guesses hit twice."
               if math.isclose(got, min(1, 3 * tries / CODES), rel_tol=1e-9) else "")
        )
    for_all(st.integers(min_value=100, max_value=20 * CODES), agrees)


def stage_5_under_attack(now, secret, restart_after=None):
    """Stage 5 with its clock stopped at ``now``, handing every new visitor ``secret`` (chosen by the check, not
    known to the guesser), and noting each POST it answered in ``app.config["POSTS_ANSWERED"]``: (otp, status).
    With ``restart_after=n`` the server "restarts" with a new key after its n-th POST: the guesser's session
    cookie is no longer valid, so every later POST is a browser that never saw a QR code (400).

    The app is stage 5 as listed, except that it draws each QR code once: a 401 shows the enrolment page
    again, with the same secret and so the same QR code, and redrawing it (a tenth of a second, pyqrcode
    choosing its mask) was nearly all of this check's time. The pages it answers are the same.

    Built where the student's code runs (``student_side.module("workbook.checks.lesson_05")``)."""
    stage_5 = load_module(stage(5).folder)
    stage_5.qr_data_uri = functools.lru_cache(maxsize=None)(stage_5.qr_data_uri)
    app = stage_5.create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(32), "CLOCK": lambda: now,
                              "POSTS_ANSWERED": []})
    drawn_by_pyotp = pyotp.random_base32

    @app.before_request
    def hand_out_the_checks_secret():
        pyotp.random_base32 = lambda *args, **kwargs: secret

    @app.teardown_request
    def put_pyotp_back(error=None):
        pyotp.random_base32 = drawn_by_pyotp

    @app.after_request
    def count_posts(response):
        if request.method == "POST":
            app.config["POSTS_ANSWERED"].append((request.form.get("otp"), response.status_code))
            if len(app.config["POSTS_ANSWERED"]) == restart_after:
                app.config["SECRET_KEY"] = secrets.token_hex(32)
        return response

    return app


def _posts(app):
    """The POSTs ``app`` (from stage_5_under_attack) answered: [(the otp field, the status)]."""
    return [tuple(post) for post in plain_result(app.config["POSTS_ANSWERED"], "the app's log")]


def _wrong_codes(rng, right, count):
    """``count`` distinct well-formed codes, none of them right, a fifth of them with a leading zero."""
    codes = set()
    while len(codes) < count:
        number = rng.randrange(100_000) if len(codes) % 5 == 0 else rng.randrange(CODES)
        code = f"{number:06d}"
        if code not in right:
            codes.add(code)
    return sorted(codes, key=lambda _: rng.random())


@exercise("5.5", "Guess the code", uses=["guess_code"])
def check_guess_code(guess_code):
    rng = random.Random(RUN_SEED)
    secret = pyotp.random_base32()                          # the check picks the secret stage 5 hands out...
    totp = pyotp.TOTP(secret)
    now = rng.randrange(1_600_000_000, 2_000_000_000)      # ...and a time whose right code starts with a 0
    while not totp.at(now - 30).startswith("0"):
        now += 30
    right = {totp.at(now + 30 * step) for step in (-1, 0, 1)}
    bounded = 80
    at = rng.randrange(50, bounded - 10)     # never the last: a guesser that keeps going must show it
    candidates = _wrong_codes(rng, right, bounded)
    target = totp.at(now - 30)             # the code of the step before: valid_window=1 lets it in too
    candidates[at] = target

    lesson = student_side.module("workbook.checks.lesson_05")
    app = lesson.stage_5_under_attack(now, secret)
    got = plain_result(guess_code(app.test_client(), list(candidates)), "guess_code(client, codes)")
    posts = _posts(app)
    sent = [otp for otp, _ in posts]
    assert posts, "your guesser sent nothing: post each code to '/' as the form field otp."
    assert any(otp is not None for otp in sent), (
        "the app got your posts without an otp field: post each code to '/' as the form field otp, "
        "the name the page's form gives it.")
    assert all(otp is None or len(otp) == 6 for otp in sent), (
        "you sent codes shorter than six digits: send each code as the string you are given (a code is six "
        "digits, leading zeros included; a number loses them).")
    assert not all(status == 400 for _, status in posts), (
        "every answer was 400: open the page first (a GET of '/'), as a browser would, "
        "so the session holds a QR code to check codes against; only a 200 means you are in.")
    answered = dict(posts)
    if got != target and got in answered and answered[got] != 200:
        raise AssertionError(
            f"your guesser returned {got!r}, which the app answered with a {answered[got]}, not a 200: only a 200 "
            "means you are in (a 401 is a wrong code, a 400 a malformed request: the table under \"Answers that "
            "help\"). Decide by the status, not by words on the page.")
    assert target in sent, (
        f"your guesser sent {len(posts)} of the {bounded} codes and never the right one at position {at + 1}: "
        "send every code, in order, until the app lets you in: stage 5 never stops a guesser.")
    assert got == target, (
        f"your guesser returned {got!r}; the code the app let in was at position {at + 1}, {target!r}. "
        "Return the code that got a 200 (the page that says 2FA is on), as the string you sent; "
        "only a 200 means you are in: a 401 is a wrong code, a 400 a malformed request.")
    assert len(posts) == at + 1, (
        f"the app let you in at try {at + 1}, but your guesser sent {len(posts)} codes: stop at the first "
        "one that gets in (every extra try is one more line in the server's log).")

    # No right code this time, and the server restarts part-way (a new key: the guesser's session is gone), so
    # that the later posts are answered 400 (the lesson's table: a browser that never saw a QR code).
    restart_after = rng.randrange(5, 20)
    app = lesson.stage_5_under_attack(now, secret, restart_after)
    nothing = _wrong_codes(rng, right, 30)
    got = plain_result(guess_code(app.test_client(), list(nothing)), "guess_code(client, codes)")
    posts = _posts(app)
    sent = [otp for otp, _ in posts]
    stopped_at = next((status for otp, status in posts[-1:] if otp == got), None)
    if got is not None and stopped_at is not None and len(posts) < len(nothing):
        raise AssertionError(
            f"your guesser returned {got!r}, which the app answered with a {stopped_at}, not a 200: only a 200 "
            "means you are in. Here the server restarted part-way, so its later answers were 400s (look at the "
            "table under \"Answers that help\" for what each status means).")
    assert got is None, f"none of 30 wrong codes gets in, and your guesser returned {got!r}: return None then."
    assert set(nothing) <= set(sent), (
        f"30 wrong codes, and your guesser sent {len(set(sent) & set(nothing))} of them: try every code you are "
        "given before giving up.")


# --- questions ----------------------------------------------------------------------

question(
    "5.Q1", "What valid_window=0 changes",
    prompt="A colleague changes the route to `valid_window=0`: \"fewer codes accepted, so it is more secure\". "
           "What does the change do?",
    options={
        "a": "It is more secure, and nothing else changes: a right code still passes.",
        "b": "A code used once can no longer be used again.",
        "c": "Right codes typed near the end of their 30 seconds, or from a phone whose clock is a little off, "
             "are refused; a blind guess goes from 3 to 1 chance in a million per try.",
        "d": "No code passes any more: a window of 0 accepts no step at all.",
    },
    answer="c",
    why_not={
        "a": "a code read in the last seconds of its step reaches the server in the next step and is refused, "
             "as the boundary demo showed: real users fail. Limiting tries (lesson 07) answers guessing instead.",
        "b": "valid_window says which time steps count, not how often a code may be used: within its step a code "
             "passes again and again. Refusing a used code is a check of its own (lesson 07).",
        "d": "valid_window=0 still accepts the current step: it is the default, and the guide's.",
    },
)
