"""Checks for lesson 03: the otpauth:// URI and its QR code as an inline PNG."""
import base64
import binascii
import re
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .. import ISSUER, qr
from . import exercise, for_all, hidden_check, question, reference_only
from .student_side import plain_result, raised, raised_message, type_name

CHECK_SECRET = "CHECKCHECKCHECKCHECKCHECKCHECK22"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _names():
    """Account or issuer names as people type them: any letters (accents, other scripts), no ':' (the
    Key Uri Format forbids it), no '/' (a label is a path), not starting with a space."""
    from hypothesis import strategies as st
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=":/"),
                   min_size=1, max_size=16)
    return text.filter(lambda name: not name[0].isspace())

PREFIX = "data:image/png;base64,"


@reference_only
def contract_uri(secret, account_name):
    """The exact provisioning URI of docs/app_contract.md (pyotp's format)."""
    issuer = quote(ISSUER)
    return f"otpauth://totp/{issuer}:{quote(account_name)}?secret={secret}&issuer={issuer}"


def _call_uri(provisioning_uri, secret, account_name):
    try:
        return plain_result(provisioning_uri(secret, account_name), "provisioning_uri(secret, account_name)")
    except Exception as error:
        if not raised(error, "NameError"):
            raise
        raise AssertionError(
            f"your code raised NameError ({raised_message(error)}): like the guide's `username`, that name is not defined "
            "inside your function. Use the account_name parameter."
        ) from None


def _name_the_label_mistake(got, expected, account):
    """For a URI that is not the contract's: say what is wrong with its label, if that is where it differs."""
    label, wanted = urlsplit(got).path[1:], urlsplit(expected).path[1:]
    assert not (re.sub("%3[aA]", ":", label) == wanted and label != wanted), (
        f"for account {account!r} you returned\n    {got}\nexpected\n    {expected}\nthe Key Uri Format allows "
        "the separator encoded as %3A, but the app contract (docs/app_contract.md) spells out the exact URI your "
        "app's QR code holds: a literal ':' between the issuer and the account."
    )
    issuer_and_account = unquote(label).split(":", 1)
    if len(issuer_and_account) == 2 and issuer_and_account[0] == ISSUER:
        named = issuer_and_account[1]
        assert not (named != account and named.lower() == account.strip().lower()), (
            f"for account {account!r} your URI names the account {named!r}: keep the account name exactly as "
            "given, its capitals and spaces too (it is the name the user sees in the app)."
        )
        assert named == account or named != "student", (
            f"for account {account!r} your URI names the account {named!r}, the lesson's example: Use the "
            "account_name parameter, whatever account it holds."
        )


@exercise("3.1", "Build the provisioning URI", uses=["provisioning_uri"])
def check_provisioning_uri(provisioning_uri):
    for account in ("student", "ana@example.com", "Ana Lee"):
        got = _call_uri(provisioning_uri, CHECK_SECRET, account)
        expected = contract_uri(CHECK_SECRET, account)
        assert type(got) is str, f"return the URI as a str, not {type_name(got)}."
        assert "YourAppName" not in got, "YourAppName is the guide's placeholder: the issuer is 'Flask 2FA Workbook'."
        assert not got.lower().startswith("otpauth%3a"), (
            f"your URI starts {got[:20]!r}: the whole URI was URL-encoded, its ':' and '/' too. Only the parts "
            "inside it (the label, the issuer) are encoded; the URI itself is left as it is.")
        assert got.startswith("otpauth://totp/"), f"a TOTP URI starts with otpauth://totp/, yours is {got[:30]!r}."
        assert f"secret={CHECK_SECRET}" in got, "the URI must carry the secret you were given in secret=."
        assert f"issuer={quote(account)}" not in got, (
            f"your URI names {account!r} as the issuer: you swapped the two. name= is the account "
            "(account_name), issuer_name= is the site (ISSUER)."
        )
        extra = sorted(set(parse_qs(urlsplit(got).query)) & {"digits", "period", "algorithm"})
        assert not extra, (
            f"your URI asks for {', '.join(extra)}: leave digits, period and algorithm out (the defaults, 6 "
            "digits every 30 seconds with SHA1, are what every app makes; some ignore other values)."
        )
        assert "+" not in got or "+" in account, (
            f"your URI has a + where a space was ({got}): a + is a plus in a URI's path, not a space, and apps "
            "would list it as one. Spaces are %20: quote(), not quote_plus(), or let pyotp encode."
        )
        assert "%25" not in got, (
            f"your URI holds %25, an encoded '%': a part was URL-encoded twice ({got}). pyotp encodes the name "
            "and the issuer itself, so pass them as they are, not quote()d."
        )
        assert " " not in got, (
            "your URI has a space in it: a URI cannot carry spaces, so every part must be URL-encoded "
            "(%20). pyotp's provisioning_uri() does that for you."
        )
        assert f"issuer={quote(ISSUER)}" in got, (
            "add the issuer parameter (issuer_name=ISSUER in pyotp): apps use it to name the account."
        )
        if got != expected:
            _name_the_label_mistake(got, expected, account)
        assert got == expected, (
            f"for account {account!r} you returned\n    {got}\nexpected\n    {expected}\n"
            "build it with pyotp's provisioning_uri from the secret and the account you were given, with ISSUER "
            "as the issuer, and let pyotp do the URL-encoding."
        )


    from hypothesis import strategies as st

    def any_account(case):
        secret, account = case
        got, expected = _call_uri(provisioning_uri, secret, account), contract_uri(secret, account)
        assert got == expected, (
            f"for the account {account!r} you returned\n    {got}\nexpected\n    {expected}\n"
            "every character of the name must reach the URI, URL-encoded (letters outside ASCII too), with the "
            "secret you are given."
        )
    for_all(st.tuples(st.text(alphabet=BASE32, min_size=32, max_size=32), _names()), any_account, max_examples=25)


    for account in ("Zoë Ñúñez", "山田"):
        got = _call_uri(provisioning_uri, CHECK_SECRET, account)
        assert got == contract_uri(CHECK_SECRET, account), (
            f"for the account {account!r} you returned\n    {got}\nexpected\n    {contract_uri(CHECK_SECRET, account)}\n"
            "every character of the name must reach the URI, URL-encoded (letters outside ASCII too)."
        )


@hidden_check("3.1")
def check_provisioning_uri_awkward_names(provisioning_uri):
    for account in ("Zoë", "a&b=c?d", "ana+1@example.com"):
        got = _call_uri(provisioning_uri, CHECK_SECRET, account)
        assert got == contract_uri(CHECK_SECRET, account), (
            f"account {account!r}: accents, &, = and + in the name must be URL-encoded."
        )
    other = "ZYXWVUTSRQPONMLKJIHGFEDCBA234567"
    assert _call_uri(provisioning_uri, other, "ana") == contract_uri(other, "ana"), "use the secret passed in."


@exercise("3.2", "Make the QR code data URI", uses=["qr_data_uri"])
def check_qr_data_uri(qr_data_uri):
    text = contract_uri(CHECK_SECRET, "student")
    got = qr_data_uri(text)
    assert type(got) is not bytes, (
        "return a str: base64 encoding gives bytes, and a data URI is text. Turn those bytes into text (they are "
        "plain ASCII) before adding the prefix."
    )
    assert type(got) is str, f"return a str, not {type_name(got)}."
    assert "b'" not in got[:40], (
        "the data URI contains b'...': you put the bytes object itself into a string (str() or an f-string of "
        "bytes shows its repr). Turn the bytes into text first."
    )
    assert got.startswith(PREFIX), f"a data URI for a PNG starts with {PREFIX!r}; yours starts {got[:30]!r}."
    assert got.isascii(), (
        "your data URI holds characters outside ASCII: the PNG's raw bytes turned into text. base64-encode them "
        "(base64.b64encode) first: base64 is plain ASCII."
    )
    try:
        png_bytes = base64.b64decode(got[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise AssertionError("the part after the comma is not valid base64: encode the PNG's bytes with the "
                             "base64 module (standard alphabet, as the lesson's data URI shows).") from None
    assert png_bytes, (
        "the base64 part is empty, so there is no picture: after .png(stream) the stream's position is at its "
        "end, and read() gives b''. Ask the stream for its whole contents (as in Exercise 1.3)."
    )
    assert png_bytes.startswith(b"\x89PNG"), (
        "the base64 part is not a PNG: encode the bytes the QR code wrote as a PNG (as in Exercise 1.3).")
    decoded = qr.decode_data_uri(got)
    assert decoded == text, f"the QR code reads {decoded!r}, not the text you were given."
    longer = contract_uri("ZYXWVUTSRQPONMLKJIHGFEDCBA234567", "a.rather.long.account.name@example.com")
    assert qr.decode_data_uri(qr_data_uri(longer)) == longer, (
        "for a longer text the QR code reads something else: encode exactly the text you are given, all of it."
    )
    # Letters outside ASCII, in a name drawn for this run: they are part of the text too.
    import random
    accented = f"Zoë Müller, café n° {random.SystemRandom().randrange(10 ** 6)}"
    read_back = qr.decode_data_uri(qr_data_uri(accented))
    assert read_back == accented, (
        f"the QR code of {accented!r} reads {read_back!r}: encode exactly the text you are given, letters "
        "outside ASCII too (pyqrcode takes the str as it is)."
    )


@hidden_check("3.2")
def check_qr_data_uri_other_text(qr_data_uri):
    text = contract_uri("ZYXWVUTSRQPONMLKJIHGFEDCBA234567", "someone.with.a.long.name@example.com")
    assert qr.decode_data_uri(qr_data_uri(text)) == text, "encode exactly the text you are given."
    # A text drawn for this run: no picture made in advance shows it.
    import secrets
    drawn = contract_uri(base64.b32encode(secrets.token_bytes(20)).decode(), secrets.token_urlsafe(10) + "@example.com")
    got = plain_result(qr_data_uri(drawn), "qr_data_uri(text)")
    assert type(got) is str and got.startswith(PREFIX) and qr.decode_data_uri(got) == drawn, (
        "for a text drawn for this run, your data URI's QR code reads something else: encode exactly the text "
        "you are given."
    )


# The Key Uri Format (github.com/google/google-authenticator/wiki/Key-Uri-Format): the label is
# "issuer:account"; the separator may be a literal ':' or URL-encoded (%3A), optional spaces may precede
# the account name, and neither the issuer nor the account may contain a ':' of its own.
READ_LABEL_CASES = [
    (contract_uri(CHECK_SECRET, "student"), (ISSUER, "student")),
    (contract_uri(CHECK_SECRET, "ana lee@example.com"), (ISSUER, "ana lee@example.com")),
    (f"otpauth://totp/student?secret={CHECK_SECRET}", (None, "student")),
    # The issuer= parameter is optional: the label alone names the issuer.
    (f"otpauth://totp/Example:alice?secret={CHECK_SECRET}", ("Example", "alice")),
    # The separator itself URL-encoded.
    (f"otpauth://totp/Example%3Aalice?secret={CHECK_SECRET}", ("Example", "alice")),
    (f"otpauth://totp/Big%20Bank%3abob%40example.com?secret={CHECK_SECRET}", ("Big Bank", "bob@example.com")),
    # Optional spaces before the account name, literal or encoded.
    (f"otpauth://totp/Example:%20%20alice?secret={CHECK_SECRET}", ("Example", "alice")),
    (f"otpauth://totp/Example%3A%20alice?secret={CHECK_SECRET}&issuer=Example", ("Example", "alice")),
    # Names outside ASCII, as pyotp writes them (UTF-8, URL-encoded).
    (f"otpauth://totp/Zo%C3%AB%20%26%20Co:Ren%C3%A9e?secret={CHECK_SECRET}", ("Zoë & Co", "Renée")),
    # A + in a path is a plus (RFC 3986), not a space; an account may begin with the digits of %20.
    (f"otpauth://totp/Example:ana+work%40example.com?secret={CHECK_SECRET}", ("Example", "ana+work@example.com")),
    (f"otpauth://totp/Example:%2020alice?secret={CHECK_SECRET}", ("Example", "20alice")),
]
ENCODED_SEPARATOR = ("the separator between issuer and account may itself arrive URL-encoded, as %3A "
                     "(Key Uri Format): unquote() the whole label first, then split it at the first ':'. "
                     "Neither name may contain a ':' of its own, so the first one is always the separator.")
LEADING_SPACES = ("optional spaces may come between the separator and the account name (Key Uri Format): "
                  "they are not part of the name, so take them off the front of the account.")


@exercise("3.3", "Read the label back", uses=["read_label"])
def check_read_label(read_label):
    for uri, expected in READ_LABEL_CASES:
        try:
            got = plain_result(read_label(uri), f"read_label({uri!r})")
        except Exception as error:
            if not raised(error, "ValueError"):
                raise
            raise AssertionError(
                f"read_label({uri!r}) raised ValueError ({raised_message(error)}): split at the first ':' only, and when the "
                "label has no ':' there is no issuer: return (None, account)."
            ) from None
        label = uri.split("/", 3)[3].split("?")[0]
        if got == expected:
            continue
        assert not (type(got) is list and tuple(got) == expected), (
            f"read_label({uri!r}) gave the list {got!r}: return a tuple, (issuer, account), a pair."
        )
        assert not (expected[0] is None and isinstance(got, tuple) and got[:1] != (None,)), (
            f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: when the label has no ':' there is "
            "no issuer: None (not '' and not the account), and the whole label is the account."
        )
        if isinstance(got, tuple) and len(got) == 2 and all(isinstance(part, str) for part in got):
            assert not ("+" in expected[1] and got[1] == expected[1].replace("+", " ")), (
                f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: a + in a path is a plus, not a "
                "space (unquote_plus is for form data; a URI's path wants unquote)."
            )
            assert not (got[0] == expected[0] and len(got[1]) < len(expected[1]) and expected[1].endswith(got[1])), (
                f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: you took characters of the account "
                "name off with the spaces. Decode first, then take only spaces off the front of the account "
                "(lstrip(\"%20\") strips the characters %, 2 and 0, not the text %20)."
            )
            assert not (got[0] is not None and expected[0] is not None and got != expected
                        and (got[0].replace(" ", ""), got[1].replace(" ", ""))
                        == (expected[0].replace(" ", ""), expected[1].replace(" ", ""))
                        and " " not in "".join(got)), (
                f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: take off only the spaces after "
                "the separator; a space inside a name is part of it."
            )
        if "%3a" in label.lower():
            raise AssertionError(f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: {ENCODED_SEPARATOR}")
        if isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], str) and got[1].strip() == expected[1] \
                and got[0] == expected[0]:
            raise AssertionError(f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: {LEADING_SPACES}")
        raise AssertionError(
            f"read_label({uri!r})\n    gave {got!r}, expected {expected!r}: the label is the path after "
            "otpauth://totp/ and before '?'; decode it with unquote() (every character, accents and other scripts "
            "included) and split it at the first ':' into issuer and account. With no ':' there is no issuer (None)."
        )


    from hypothesis import strategies as st

    def any_label(case):
        issuer, account, separator, spaces = case
        label = quote(account) if issuer is None else quote(issuer) + separator + "%20" * spaces + quote(account)
        uri = f"otpauth://totp/{label}?secret={CHECK_SECRET}"
        got = plain_result(read_label(uri), f"read_label({uri!r})")
        assert got == (issuer, account), (
            f"read_label({uri!r})\n    gave {got!r}, expected {(issuer, account)!r}: decode the whole label "
            "(every character, accents and other scripts included), split at the first ':', and take the "
            "spaces off the front of the account."
        )
    for_all(st.tuples(st.none() | _names(), _names(), st.sampled_from([":", "%3A", "%3a"]), st.integers(0, 2)),
            any_label, max_examples=40)


@hidden_check("3.3")
def check_read_label_other_names(read_label):
    uri = f"otpauth://totp/Z%C3%B6e%20%26%20Co:bo%40example.com?secret={CHECK_SECRET}"
    assert read_label(uri) == ("Zöe & Co", "bo@example.com"), "unquote both parts (accents, & and @ included)."
    uri = f"otpauth://totp/Z%C3%B6e%20%26%20Co%3A%20bo%40example.com?secret={CHECK_SECRET}"
    assert read_label(uri) == ("Zöe & Co", "bo@example.com"), f"{ENCODED_SEPARATOR} {LEADING_SPACES}"


# --- questions ----------------------------------------------------------------------

question(
    "3.Q1", "What a photo of the QR code gives",
    prompt="While you enrol, someone takes a photo of the QR code on your screen. You scan it once and never "
           "see it again. What does their photo give them?",
    options={
        "a": "Nothing lasting: the QR code holds one code, which expires within 30 seconds.",
        "b": "Your TOTP secret: their phone makes the same codes as yours, for as long as that secret is in use.",
        "c": "Nothing without your password: the QR code is encrypted with it.",
        "d": "Only the account name and the issuer: the secret itself stays on the server.",
    },
    answer="b",
    why_not={
        "a": "the QR code holds the secret, not a code: secret=... in the Key URI. From the secret, any phone "
             "makes every future code.",
        "c": "the QR code is plain text, an otpauth:// URI, that any camera reads; nothing in it is encrypted.",
        "d": "secret= in the Key URI is the secret itself, in base32. Showing the QR code is the one time the "
             "secret leaves the server, which is why it must be shown once only (lesson 06).",
    },
)
