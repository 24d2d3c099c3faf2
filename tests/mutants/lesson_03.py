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
]
