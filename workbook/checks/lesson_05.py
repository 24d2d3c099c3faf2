"""Checks for lesson 05: the route that verifies the code."""
import pyotp

from . import exercise, for_all, hidden_check, question

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
    assert got is True, (
        f"the code of the step at `now` gave {got!r}, expected True: check it at the time you are given, "
        "never at the real clock (verify's for_time=), with one step either side (valid_window=1)."
    )
    old = 1_000_000_000
    assert code_is_valid(SECRET, code_at(0, old), old) is True, (
        "a code made at the time `now` (here a day in 2001) was refused: check it at for_time=now, "
        "never at the real clock, so tests and the app's CLOCK decide the time."
    )
    assert code_is_valid(SECRET, code_at(-2), NOW) is True, (
        "the phone showed this code 2 seconds ago, just before the 30-second boundary, and it was refused: "
        "valid_window=1 also accepts the step before."
    )
    for offset, what in ((-30, "one step behind"), (30, "one step ahead")):
        assert code_is_valid(SECRET, code_at(offset), NOW) is True, (
            f"a code {what} (a phone clock a little off) was refused: use valid_window=1."
        )
    for offset, what in ((-60, "two steps behind"), (60, "two steps ahead")):
        assert code_is_valid(SECRET, code_at(offset), NOW) is False, (
            f"a code {what} was accepted: the window is too wide. valid_window=1 means one step either side."
        )
    assert code_is_valid(SECRET, wrong_code(), NOW) is False, "a wrong code was accepted."


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
        "the code of the next step, 0.2 s later, should pass with valid_window=1."
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
    "1234567": "seven digits",
    "abcdef": "letters",
    "12345a": "five digits and a letter",
    "-12345": "a minus sign",
    to_digits("123456", FULLWIDTH): "fullwidth digits '１２３４５６' (str.isdigit() and \\d accept them: use [0-9])",
    to_digits("123456", ARABIC_INDIC): "Arabic-Indic digits '١٢٣٤٥٦' (str.isdigit() and \\d accept them: use [0-9])",
    "123456\n": "a trailing newline (remove only ' ', and note that '$' matches before a final newline: "
                "use re.fullmatch)",
    "12\t3456": "a tab (only ordinary spaces are removed)",
    "123\u00a0456": "a non-breaking space (only ordinary spaces ' ' are removed)",
    "1" * 5000: "5000 characters",
}


@exercise("5.2", "Normalise the typed code", uses=["normalise_code"])
def check_normalise_code(normalise_code):
    try:
        missing = normalise_code(None)
    except (AttributeError, TypeError) as error:
        raise AssertionError(
            f"normalise_code(None) raised {type(error).__name__}: a missing field arrives as None "
            "(request.form.get('otp')), so return None for it before anything else."
        ) from None
    assert missing is None, f"normalise_code(None) gave {missing!r}, expected None."
    for raw, expected in GOOD.items():
        got = normalise_code(raw)
        assert got is not None, (
            f"normalise_code({raw!r}) gave None, expected {expected!r}"
            + (": remove every ordinary space, the ones between the digits too (raw.replace(' ', '')); strip() "
               "only takes them off the ends." if " " in raw.strip() else
               ": six ASCII digits, with spaces removed, are a well-formed code.")
        )
        assert isinstance(got, str), (
            f"normalise_code({raw!r}) gave {got!r}: return the code as a string (a number would lose "
            "the leading 0 of codes like 012345)."
        )
        assert got == expected, (
            f"normalise_code({raw!r}) gave {got!r}, expected {expected!r}"
            + (": keep it a string, or the leading 0 is lost." if raw == "012345" else
               ": remove the spaces (raw.replace(' ', '')) before checking.")
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
               "(if len(raw) > 20: return None)." if expected is None else
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
        (code_at(-2), 200, "the code of the step that ended 2 seconds ago"),
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
        except (TypeError, AttributeError) as error:
            raise AssertionError(
                f"{what}: your code raised {type(error).__name__} ({error}): call normalise_code(raw) first, "
                "and answer 400 when it gives None, before anything else touches the value."
            ) from None
        if expected == 200 and got != 200 and status_for(SECRET, TOTP.now(), NOW) == 200:
            raise AssertionError(
                f"{what}: you answered {got!r}, expected 200, yet today's code passes: you checked the code "
                "at the real clock. Pass `now` on to code_is_valid(secret, code, now)."
            )
        assert got == expected, f"{what}: you answered {got!r}, expected {expected}."
    assert status_for(SECRET, code_at(0, 1_000_000_000), 1_000_000_000) == 200, (
        "a code made at the time `now` (a day in 2001) got no 200: pass `now` on to code_is_valid."
    )


@hidden_check("5.3")
def check_status_for_edges(status_for):
    assert status_for(SECRET, "9" * 100_000, NOW) == 400, "an oversized field is malformed: 400."
    assert status_for(SECRET, to_digits(code_at(0), ARABIC_INDIC), NOW) == 400, "Arabic-Indic digits: 400."
    other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert status_for(other, pyotp.TOTP(other).at(NOW), NOW) == 200, "check the code against the secret passed in."


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
