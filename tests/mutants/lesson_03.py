"""Answers to lesson 03's exercises."""
from . import Mutant

MUTANTS = [
    Mutant("3.1", "pyotp with name= and issuer_name=", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
""", True),
    Mutant("3.1", "by hand, every part quoted", """
def provisioning_uri(secret, account_name):
    return f"otpauth://totp/{quote(ISSUER)}:{quote(account_name)}?secret={secret}&issuer={quote(ISSUER)}"
""", True),
    Mutant("3.1", "name and issuer swapped", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=ISSUER, issuer_name=account_name)
""", False, "you swapped the two"),
    Mutant("3.1", "no issuer", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=account_name)
""", False, "add the issuer parameter"),
    Mutant("3.1", "the guide's placeholder issuer", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name="YourAppName")
""", False, "YourAppName is the guide's placeholder"),
    Mutant("3.1", "the guide's undefined username", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
""", False, "Use the account_name parameter"),
    Mutant("3.1", "by hand, nothing quoted", """
def provisioning_uri(secret, account_name):
    return f"otpauth://totp/{ISSUER}:{account_name}?secret={secret}&issuer={ISSUER}"
""", False, "must be URL-encoded"),
    Mutant("3.1", "the account name quoted before pyotp quotes it", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=quote(account_name), issuer_name=ISSUER)
""", False, "URL-encoded twice"),
    Mutant("3.1", "the issuer quoted before pyotp quotes it", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=quote(ISSUER))
""", False, "URL-encoded twice"),
    # Issue 22: double-encoding once got "add the issuer parameter".
    Mutant("3.1", "by hand, every part quoted twice", """
def provisioning_uri(secret, account_name):
    label = quote(quote(ISSUER)) + ":" + quote(quote(account_name))
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(quote(ISSUER))}"
""", False, "URL-encoded twice"),
    Mutant("3.1", "the whole URI quoted", """
def provisioning_uri(secret, account_name):
    return quote(pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER))
""", False, "the whole URI was URL-encoded"),
    Mutant("3.1", "a new random secret", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(pyotp.random_base32()).provisioning_uri(name=account_name, issuer_name=ISSUER)
""", False, "carry the secret you were given"),

    Mutant("3.2", "base64 of the PNG, decoded to text", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode("ascii")
""", True),
    Mutant("3.2", "pyqrcode's own base64", """
def qr_data_uri(text):
    return "data:image/png;base64," + pyqrcode.create(text).png_as_base64_str(scale=5)
""", True),
    Mutant("3.2", "bytes put into the string", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64," + str(base64.b64encode(picture.getvalue()))
""", False, "contains b'...'"),
    Mutant("3.2", "bytes returned", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return b"data:image/png;base64," + base64.b64encode(picture.getvalue())
""", False, "Turn those bytes into text"),
    Mutant("3.2", "no comma after base64", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64" + base64.b64encode(picture.getvalue()).decode("ascii")
""", False, "starts with 'data:image/png;base64,'"),
    Mutant("3.2", "the text itself, not a picture of it", """
def qr_data_uri(text):
    return "data:image/png;base64," + base64.b64encode(text.encode()).decode("ascii")
""", False, "the base64 part is not a PNG"),

    Mutant("3.3", "unquote, split at the first ':', spaces off the account", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"))
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", True),
    Mutant("3.3", "%3A turned into ':', split, then unquote", """
def read_label(uri):
    label = urlsplit(uri).path.lstrip("/").replace("%3A", ":").replace("%3a", ":")
    if ":" not in label:
        return None, unquote(label)
    issuer, account = label.split(":", 1)
    return unquote(issuer), unquote(account).lstrip()
""", True),
    Mutant("3.3", "split at the raw ':' before unquoting", """
def read_label(uri):
    label = urlsplit(uri).path.lstrip("/")
    if ":" not in label:
        return None, unquote(label)
    issuer, account = label.split(":", 1)
    return unquote(issuer), unquote(account)
""", False, "may itself arrive URL-encoded, as %3A"),
    Mutant("3.3", "spaces before the account kept", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"))
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account
""", False, "optional spaces may come between the separator and the account name"),
    Mutant("3.3", "no unquote", """
def read_label(uri):
    label = urlsplit(uri).path.lstrip("/")
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "decode it with unquote()"),
    Mutant("3.3", "always expects an issuer", """
def read_label(uri):
    issuer, account = unquote(urlsplit(uri).path.lstrip("/")).split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "when the label has no ':' there is no issuer"),
    Mutant("3.3", "the issuer from the issuer= parameter", """
def read_label(uri):
    parts = urlsplit(uri)
    label = unquote(parts.path.lstrip("/"))
    account = label.rsplit(":", 1)[-1].lstrip(" ")
    issuer = parse_qs(parts.query).get("issuer", [None])[0]
    return issuer, account
""", False, "split it at the first ':' into issuer and account"),

    Mutant("3.Q1", 'the right option,  b ', 'answer_3_q1 = " b "\n', True),
    Mutant("3.Q1", "(a) the QR code holds one code", 'answer_3_q1 = "a"\n', False,
           "the QR code holds the secret, not a code"),
    Mutant("3.Q1", "(c) the QR code is encrypted", 'answer_3_q1 = "c"\n', False,
           "nothing in it is encrypted"),
    Mutant("3.Q1", "(d) the secret stays on the server", 'answer_3_q1 = "d"\n', False,
           "the one time the secret leaves the server"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("3.1", "letters outside ASCII dropped from the name", """
def provisioning_uri(secret, account_name):
    name = account_name.encode("ascii", "ignore").decode("ascii")
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)
""", False, "letters outside ASCII too"),
    Mutant("3.2", "the QR code of the check's text only", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text[:120], error="M").png(picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode("ascii")
""", False, "encode exactly the text you are given"),
    Mutant("3.3", "letters outside ASCII dropped while decoding", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"), encoding="ascii", errors="ignore")
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "accents and other scripts included"),

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("3.1", "the example's account name always", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name="student", issuer_name=ISSUER)
""", False, "Use the account_name parameter"),
    Mutant("3.1", "the issuer only in the label, no issuer parameter", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=f"{ISSUER}:{account_name}")
""", False, "add the issuer parameter"),
    Mutant("3.1", "eight digits asked for", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret, digits=8).provisioning_uri(name=account_name, issuer_name=ISSUER)
""", False, "leave digits"),
    Mutant("3.1", "the account name lower-cased", """
def provisioning_uri(secret, account_name):
    return pyotp.TOTP(secret).provisioning_uri(name=account_name.strip().lower(), issuer_name=ISSUER)
""", False, "the account name exactly as given"),
    Mutant("3.1", "by hand, the issuer parameter left unencoded", """
def provisioning_uri(secret, account_name):
    return f"otpauth://totp/{quote(ISSUER)}:{quote(account_name)}?secret={secret}&issuer={ISSUER}"
""", False, "must be URL-encoded"),
    Mutant("3.1", "by hand with quote_plus", """
from urllib.parse import quote_plus

def provisioning_uri(secret, account_name):
    return (f"otpauth://totp/{quote_plus(ISSUER)}:{quote_plus(account_name)}"
            f"?secret={secret}&issuer={quote_plus(ISSUER)}")
""", False, "a + is a plus"),
    Mutant("3.1", "by hand, the separator encoded as %3A, urlencode for the parameters", """
from urllib.parse import urlencode

def provisioning_uri(secret, account_name):
    label = quote(f"{ISSUER}:{account_name}", safe="@")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": ISSUER}, quote_via=quote)
""", False, "the app contract"),
    Mutant("3.2", "the PNG's bytes as text, not base64", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64," + picture.getvalue().decode("latin-1")
""", False, "base64-encode them"),
    Mutant("3.2", "a JPEG's media type", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/jpeg;base64," + base64.b64encode(picture.getvalue()).decode()
""", False, "starts with 'data:image/png;base64,'"),
    Mutant("3.2", "URL-safe base64", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64," + base64.urlsafe_b64encode(picture.getvalue()).decode()
""", False, "standard alphabet"),
    Mutant("3.2", "read() at the end of the stream", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(picture.read()).decode()
""", False, "no picture"),
    Mutant("3.2", "one stream kept for every call", """
_picture = io.BytesIO()

def qr_data_uri(text):
    pyqrcode.create(text, error="M").png(_picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(_picture.getvalue()).decode()
""", False, "encode exactly the text you are given"),
    Mutant("3.2", "an SVG under a PNG's name", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").svg(picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode()
""", False, "the base64 part is not a PNG"),
    Mutant("3.2", "letters outside ASCII dropped", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text.encode("ascii", "ignore").decode(), error="M").png(picture, scale=5)
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode()
""", False, "letters outside ASCII too"),
    Mutant("3.2", "smaller squares, a lower error level, seek and read", """
def qr_data_uri(text):
    picture = io.BytesIO()
    pyqrcode.create(text, error="L").png(picture, scale=3)
    picture.seek(0)
    encoded = base64.b64encode(picture.read())
    return f"data:image/png;base64,{encoded.decode('ascii')}"
""", True),
    Mutant("3.3", "every space taken out", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/")).replace(" ", "")
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account
""", False, "only the spaces after the separator"),
    Mutant("3.3", "a list instead of a pair", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"))
    if ":" not in label:
        return [None, label]
    return [part.lstrip(" ") for part in label.split(":", 1)]
""", False, "return a tuple"),
    Mutant("3.3", "unquote_plus, which reads + as a space", """
from urllib.parse import unquote_plus

def read_label(uri):
    label = unquote_plus(urlsplit(uri).path.lstrip("/"))
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "a + in a path is a plus"),
    Mutant("3.3", "%3A and %20 replaced, nothing else decoded", """
def read_label(uri):
    label = urlsplit(uri).path.lstrip("/").replace("%3A", ":").replace("%20", " ")
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "decode it with unquote()"),
    Mutant("3.3", "decoded as Latin-1", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"), encoding="latin-1")
    if ":" not in label:
        return None, label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "accents and other scripts included"),
    Mutant("3.3", "partition, whose issuer is the account when there is no separator", """
def read_label(uri):
    issuer, _, account = unquote(urlsplit(uri).path.lstrip("/")).partition(":")
    return issuer, account.lstrip(" ")
""", False, "when the label has no ':' there is no issuer"),
    Mutant("3.3", "the characters of %20 stripped before decoding", """
def read_label(uri):
    label = urlsplit(uri).path.lstrip("/").replace("%3A", ":").replace("%3a", ":")
    if ":" not in label:
        return None, unquote(label)
    issuer, account = label.split(":", 1)
    return unquote(issuer), unquote(account.lstrip("%20"))
""", False, "took characters of the account name off"),
    Mutant("3.3", "an empty issuer when there is no separator", """
def read_label(uri):
    label = unquote(urlsplit(uri).path.lstrip("/"))
    if ":" not in label:
        return "", label
    issuer, account = label.split(":", 1)
    return issuer, account.lstrip(" ")
""", False, "there is no issuer: None"),
    Mutant("3.1", "by hand, the account quoted with nothing safe, urlencode for the parameters", """
from urllib.parse import urlencode

def provisioning_uri(secret, account_name):
    label = quote(ISSUER) + ":" + quote(account_name, safe="")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": ISSUER}, quote_via=quote)
""", True),
    Mutant("3.3", "a regular expression on the decoded label", """
import re

def read_label(uri):
    label = unquote(urlsplit(uri).path[1:])
    found = re.fullmatch(r"(?:([^:]*):)? *(.*)", label, re.DOTALL)
    return (found[1], found[2])
""", True),

    # Issue 22, second catalogue (2026-12-06), questions: answers that are not one letter
    Mutant("3.Q1", "two letters, to be safe", 'answer_3_q1 = "b, c"\n', False, "answer with the letter of one option"),
    Mutant("3.Q1", "the letter in a list", 'answer_3_q1 = ["b"]\n', False, "answer with the letter of one option"),
]
