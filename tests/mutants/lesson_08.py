"""Right and wrong answers to lesson 08 (the relay, and passkeys), written from the lesson's text.

Each wrong answer is a mistake the lesson warns against or a student would plausibly make; its
❌ must name the mistake (``hint``, a piece of the check's message).
"""
from . import Mutant

SETUP = """
import base64
import hashlib
import ipaddress
import json
import struct
from urllib.parse import urlsplit

from webauthn import verify_authentication_response
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse
"""

TAKE_OVER_LAST_ONLY = """
def take_over(loot):
    name, value = list(loot["cookies"].items())[-1]
    return {"Cookie": f"{name}={value}"}
"""

READ_CLIENT_DATA = """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
"""

READ_AUTHENTICATOR_DATA = """
def read_authenticator_data(data, rp_id):
    flags = data[32]
    return {
        "rp_id_ok": data[:32] == hashlib.sha256(rp_id.encode()).digest(),
        "UP": bool(flags & 0x01), "UV": bool(flags & 0x04), "BE": bool(flags & 0x08), "BS": bool(flags & 0x10),
        "sign_count": struct.unpack(">I", data[33:37])[0],
    }
"""

RP_ID_ALLOWED = """
def rp_id_allowed(origin, rp_id):
    parts = urlsplit(origin)
    host = parts.hostname
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    local = host == "localhost" or host.endswith(".localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return False
    return host == rp_id or ("." in rp_id and host.endswith("." + rp_id))
"""


# How finish_passkey_login ends, after the library's verification: the counter moves only from the count read,
# and the login is refused when no row moved (a second login that read the same counter lost).
STORE_IF_UNMOVED = """
    with db:
        moved = db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count = ?",
                           (verified.new_sign_count, row["id"], row["sign_count"])).rowcount
    if moved != 1:
        return None"""

# The lesson's answer before the race was part of the exercise: the count written over whatever is there.
STORE_OVER = """
    with db:
        db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ?", (verified.new_sign_count, row["id"]))"""


def finish(pop="challenge = session.pop(\"challenge\", None)", origin="origin", rp_id="rp_id",
           uv="True", count='row["sign_count"]', store=True, update=STORE_IF_UNMOVED):
    """A finish_passkey_login answer with one part changed: ``update`` is what follows the verification (``store``
    False: nothing)."""
    update = update if store else ""
    return f"""
def finish_passkey_login(db, session, credential, rp_id, origin):
    {pop}
    if challenge is None:
        return None
    try:
        parsed = parse_authentication_credential_json(credential)
    except Exception:
        return None
    row = db.execute("SELECT * FROM passkeys WHERE credential_id = ?", (parsed.raw_id,)).fetchone()
    if row is None:
        return None
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id={rp_id},
            expected_origin={origin},
            credential_public_key=row["public_key"],
            credential_current_sign_count={count},
            require_user_verification={uv},
        )
    except InvalidAuthenticationResponse:
        return None{update}
    return row["user_id"]
"""


MUTANTS = [
    # ---- 8.Q1: a mutant per option
    Mutant("8.Q1", "e: none of them", 'answer_8_q1 = "e"', True),
    Mutant("8.Q1", "a: replay protection", 'answer_8_q1 = "a"', False, "the relay uses Alice's code once, and first"),
    Mutant("8.Q1", "b: throttling", 'answer_8_q1 = "b"', False, "the relay does not guess"),
    Mutant("8.Q1", "c: CSRF tokens", 'answer_8_q1 = "c"', False, "the real site sees its own token"),
    Mutant("8.Q1", "d: form-action 'self'", 'answer_8_q1 = "(D)"', False, "'self' is the relay"),
    Mutant("8.Q1", "not a letter", "answer_8_q1 = 5", False, "answer with the letter"),

    # ---- 8.1: the attacker's half
    Mutant("8.1", "only the last cookie the site set (stage 7 sets its device cookie after the session's)",
           TAKE_OVER_LAST_ONLY, False, "Send the cookies the site set"),
    Mutant("8.1", "every cookie the relay kept, joined", """
def take_over(loot):
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in loot["cookies"].items())}
""", True),
    Mutant("8.1", "stage 7's cookie name typed in", """
def take_over(loot):
    return {"Cookie": "stage7_session=" + loot["cookies"]["stage7_session"]}
""", False, "your code raised KeyError"),
    Mutant("8.1", "stage 7's cookie name typed in, any value", """
def take_over(loot):
    return {"Cookie": "stage7_session=" + list(loot["cookies"].values())[0]}
""", False, "take the name from loot['cookies'] too"),
    Mutant("8.1", "Flask's default cookie name", """
def take_over(loot):
    return {"Cookie": "session=" + list(loot["cookies"].values())[0]}
""", False, "take the name from loot['cookies'] too"),
    Mutant("8.1", "the value without its name", """
def take_over(loot):
    return {"Cookie": list(loot["cookies"].values())[0]}
""", False, "a Cookie header is name=value"),
    Mutant("8.1", "the password and code again, as basic auth", """
def take_over(loot):
    fields = {k: v for form in loot["forms"] for k, v in form["fields"].items()}
    token = base64.b64encode(f"{fields['username']}:{fields['password']}".encode()).decode()
    return {"Authorization": "Basic " + token, "X-OTP": fields["otp"]}
""", False, "the password and the code are used up"),
    Mutant("8.1", "the CSRF token as the cookie", """
def take_over(loot):
    return {"X-CSRFToken": loot["forms"][-1]["fields"]["csrf_token"]}
""", False, "no Cookie header"),
    Mutant("8.1", "the loot itself", """
def take_over(loot):
    return loot["cookies"]
""", False, "no Cookie header"),

    # ---- 8.2: clientDataJSON
    Mutant("8.2", "base64url with the padding put back, then json.loads", READ_CLIENT_DATA, True),
    Mutant("8.2", "base64url without the padding", """
def read_client_data(credential):
    return json.loads(base64.urlsafe_b64decode(credential["response"]["clientDataJSON"]))
""", False, "padding"),
    Mutant("8.2", "plain base64 with the padding (the JSON is ASCII: no '-' or '_' in it)", """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    return json.loads(base64.b64decode(text + "=" * (-len(text) % 4)))
""", True),
    Mutant("8.2", "the authenticatorData field decoded", """
def read_client_data(credential):
    text = credential["response"]["authenticatorData"]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
""", False, "decode response['clientDataJSON']"),
    Mutant("8.2", "the text, not parsed", """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
""", False, "not the text"),
    Mutant("8.2", "the response object itself", """
def read_client_data(credential):
    return credential["response"]
""", False, "response['clientDataJSON']"),
    Mutant("8.2", "one run's values typed in", """
def read_client_data(credential):
    return {"type": "webauthn.get", "challenge": "Y2hhbGxlbmdl", "origin": "https://www.example.test",
            "crossOrigin": False}
""", False, "decode response['clientDataJSON']"),

    # ---- 8.3: authenticatorData
    Mutant("8.3", "offsets 0-31, 32, 33-36, big-endian", READ_AUTHENTICATOR_DATA, True),
    Mutant("8.3", "int.from_bytes, big-endian", """
def read_authenticator_data(data, rp_id):
    return {"rp_id_ok": data[:32] == hashlib.sha256(rp_id.encode()).digest(),
            **{name: bool(data[32] >> bit & 1) for name, bit in (("UP", 0), ("UV", 2), ("BE", 3), ("BS", 4))},
            "sign_count": int.from_bytes(data[33:37], "big")}
""", True),
    Mutant("8.3", "counter read little-endian", READ_AUTHENTICATOR_DATA.replace('">I"', '"<I"'), False,
           "big-endian"),
    Mutant("8.3", "counter one byte early", READ_AUTHENTICATOR_DATA.replace("data[33:37]", "data[32:36]"), False,
           "data[33:37]"),
    Mutant("8.3", "flags one byte late", READ_AUTHENTICATOR_DATA.replace("flags = data[32]", "flags = data[33]"),
           False, "data[32], right after the 32-byte rpIdHash"),
    Mutant("8.3", "UV taken as bit 1 (0x02)", READ_AUTHENTICATOR_DATA.replace('"UV": bool(flags & 0x04)',
                                                                              '"UV": bool(flags & 0x02)'),
           False, "UV wrong"),
    Mutant("8.3", "BE and BS swapped", READ_AUTHENTICATOR_DATA.replace(
        '"BE": bool(flags & 0x08), "BS": bool(flags & 0x10)', '"BE": bool(flags & 0x10), "BS": bool(flags & 0x08)'),
           False, "BE, BS wrong"),
    Mutant("8.3", "rpIdHash compared as a hexdigest", READ_AUTHENTICATOR_DATA.replace(
        "hashlib.sha256(rp_id.encode()).digest()", "hashlib.sha256(rp_id.encode()).hexdigest()"), False,
           "compared as bytes"),
    Mutant("8.3", "rpIdHash never checked", READ_AUTHENTICATOR_DATA.replace(
        'data[:32] == hashlib.sha256(rp_id.encode()).digest()', "True"), False, "rp_id_ok should be False"),

    # ---- 8.4: the browser's RP ID rule
    Mutant("8.4", "scheme, no IP address, host or a dot-bounded parent", RP_ID_ALLOWED, True),
    Mutant("8.4", "a single label as a parent (localhost for app.localhost)", RP_ID_ALLOWED.replace(
        '("." in rp_id and host.endswith("." + rp_id))', 'host.endswith("." + rp_id)'), False, "a name of one label"),
    Mutant("8.4", "endswith without a dot", RP_ID_ALLOWED.replace('host.endswith("." + rp_id)',
                                                                  "host.endswith(rp_id)"), False, "dot boundary"),
    Mutant("8.4", "the RP ID anywhere in the host", RP_ID_ALLOWED.replace(
        'return host == rp_id or ("." in rp_id and host.endswith("." + rp_id))', "return rp_id in host"), False,
           "only"),
    Mutant("8.4", "IP addresses accepted", RP_ID_ALLOWED.replace("        return False\n    except ValueError",
                                                                 "        pass\n    except ValueError"), False,
           "an IP address is never an RP ID"),
    Mutant("8.4", "http accepted anywhere", RP_ID_ALLOWED.replace(
        'if parts.scheme != "https" and not (parts.scheme == "http" and local):',
        'if parts.scheme not in ("http", "https"):'), False, "not a secure context"),
    Mutant("8.4", "the host only, no parent", RP_ID_ALLOWED.replace(
        'return host == rp_id or ("." in rp_id and host.endswith("." + rp_id))', "return host == rp_id"), False, "a parent domain"),
    Mutant("8.4", "a child accepted too", RP_ID_ALLOWED.replace(
        'return host == rp_id or ("." in rp_id and host.endswith("." + rp_id))',
        'return host == rp_id or ("." in rp_id and host.endswith("." + rp_id)) or rp_id.endswith("." + host)'), False, "never a child"),
    Mutant("8.4", "https only (http://localhost refused)", RP_ID_ALLOWED.replace(
        'if parts.scheme != "https" and not (parts.scheme == "http" and local):',
        'if parts.scheme != "https":'), False, "http://localhost"),

    # ---- 8.5: the server's verification
    Mutant("8.5", "pop the challenge, exact origin and RP ID, UV required, count stored", finish(), True),
    Mutant("8.5", "no origin check (the origin the browser wrote)", finish(
        origin='json.loads(base64.urlsafe_b64decode(credential["response"]["clientDataJSON"] + "==="))["origin"]'),
           False, "expected_origin must be exactly the origin argument"),
    Mutant("8.5", "a list of origins that takes in the relay's", finish(
        origin='[origin, "https://login.example.test"]'), False, "never a list"),
    Mutant("8.5", "challenge removed only when the login passes", finish(
        pop='challenge = session.get("challenge")').replace(
        '    return row["user_id"]', '    session.pop("challenge")\n    return row["user_id"]'), False,
           "remove it whether the login passes or fails"),
    Mutant("8.5", "challenge never removed", finish(pop='challenge = session.get("challenge")'), False,
           "remove it whether the login passes or fails"),
    Mutant("8.5", "user verification not required", finish(uv="False"), False, "insist on user verification"),
    Mutant("8.5", "sign count not stored", finish(store=False), False, "store the new sign count"),
    Mutant("8.5", "sign count always 0", finish(count="0", store=False), False, "store the new sign count"),
    Mutant("8.5", "an IP address as RP ID", finish(rp_id='"127.0.0.1"'), False, "is an IP address"),
    Mutant("8.5", "the origin as RP ID", finish(rp_id="origin"), False, "expected_rp_id must be the rp_id argument"),
    Mutant("8.5", "lets the library's error through", finish().replace(
        "    except InvalidAuthenticationResponse:\n        return None", "    finally:\n        pass"), False,
           "When a login fails, return None"),
    # Two logins of one passkey at once, with one counter value: the second one that read the count must lose.
    Mutant("8.5", "by credential_id, SELECT changes()", finish(update="""
    db.execute("UPDATE passkeys SET sign_count = ? WHERE credential_id = ? AND sign_count = ?",
               (verified.new_sign_count, parsed.raw_id, row["sign_count"]))
    won = db.execute("SELECT changes()").fetchone()[0] == 1
    db.commit()
    if not won:
        return None"""), True),
    Mutant("8.5", "total_changes before and after", finish(update="""
    before = db.total_changes
    with db:
        db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count = ?",
                   (verified.new_sign_count, row["id"], row["sign_count"]))
    if db.total_changes - before != 1:
        return None"""), True),
    Mutant("8.5", "the write lock taken before the read (BEGIN IMMEDIATE), a plain UPDATE", finish(update=STORE_OVER)
           .replace('    row = db.execute("SELECT', '    db.execute("BEGIN IMMEDIATE")\n    row = db.execute("SELECT')
           .replace("\n    if row is None:\n        return None", "\n    if row is None:\n        db.rollback()\n        return None")
           .replace("    except InvalidAuthenticationResponse:\n        return None",
                    "    except InvalidAuthenticationResponse:\n        db.rollback()\n        return None"), True),
    Mutant("8.5", "the count written over whatever is there (a plain UPDATE)", finish(update=STORE_OVER), False,
           "Two logins, one counter"),
    Mutant("8.5", "a plain UPDATE, its rowcount checked", finish(update="""
    with db:
        moved = db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ?", (verified.new_sign_count, row["id"])).rowcount
    if moved != 1:
        return None"""), False, "Two logins, one counter"),
    Mutant("8.5", "a conditional UPDATE whose rowcount is ignored", finish(update="""
    with db:
        db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count = ?",
                   (verified.new_sign_count, row["id"], row["sign_count"]))"""), False, "Two logins, one counter"),
    Mutant("8.5", "the count read again just before the write", finish(update="""
    now = db.execute("SELECT sign_count FROM passkeys WHERE id = ?", (row["id"],)).fetchone()[0]
    if now != row["sign_count"]:
        return None""" + STORE_OVER), False, "Two logins, one counter"),
    Mutant("8.5", "with db: around the read and the write", """
def finish_passkey_login(db, session, credential, rp_id, origin):
    challenge = session.pop("challenge", None)
    if challenge is None:
        return None
    try:
        parsed = parse_authentication_credential_json(credential)
    except Exception:
        return None
    with db:  # one transaction, so no other login gets in between?
        row = db.execute("SELECT * FROM passkeys WHERE credential_id = ?", (parsed.raw_id,)).fetchone()
        if row is None:
            return None
        try:
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
                credential_public_key=row["public_key"], credential_current_sign_count=row["sign_count"],
                require_user_verification=True)
        except InvalidAuthenticationResponse:
            return None
        db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ?", (verified.new_sign_count, row["id"]))
    return row["user_id"]
""", False, "Two logins, one counter"),
    Mutant("8.5", "the UPDATE's WHERE compares with the new count", finish(update="""
    with db:
        moved = db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count = ?",
                           (verified.new_sign_count, row["id"], verified.new_sign_count)).rowcount
    if moved != 1:
        return None"""), False, "your UPDATE moved no row"),
    Mutant("8.5", "the counter moved only while below the new count", finish(update="""
    with db:
        moved = db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count < ?",
                           (verified.new_sign_count, row["id"], verified.new_sign_count)).rowcount
    if moved != 1:
        return None"""), False, "as a synced passkey's does"),

    # ---- 8.Q2: a mutant per option
    Mutant("8.Q2", "d: the stolen session cookie", 'answer_8_q2 = "d"', True),
    Mutant("8.Q2", "a: password and code", 'answer_8_q2 = "a"', False, "nothing to fall back to"),
    Mutant("8.Q2", "b: a sibling subdomain", 'answer_8_q2 = "b"', False, "exact origin check"),
    Mutant("8.Q2", "c: its own RP ID", 'answer_8_q2 = "c"', False, "only to its own RP ID"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("8.1", "the cookie whose name holds 'session'", """
def take_over(loot):
    name = next(name for name in loot["cookies"] if "session" in name)
    return {"Cookie": f"{name}={loot['cookies'][name]}"}
""", True),
    Mutant("8.1", "Set-Cookie sent back instead of Cookie", """
def take_over(loot):
    return {"Set-Cookie": "; ".join(f"{name}={value}" for name, value in loot["cookies"].items())}
""", False, "no Cookie header"),
    Mutant("8.1", "the cookies joined with commas", """
def take_over(loot):
    return {"Cookie": ", ".join(f"{name}={value}" for name, value in loot["cookies"].items())}
""", False, "Send the cookies the site set"),
    Mutant("8.1", "name: value pairs", """
def take_over(loot):
    return {"Cookie": "; ".join(f"{name}: {value}" for name, value in loot["cookies"].items())}
""", False, "a Cookie header is name=value"),
    Mutant("8.1", "the session as a bearer token", """
def take_over(loot):
    return {"Authorization": "Bearer " + list(loot["cookies"].values())[0]}
""", False, "no Cookie header"),
    Mutant("8.1", "the first cookie only", """
def take_over(loot):
    name, value = next(iter(loot["cookies"].items()))
    return {"Cookie": f"{name}={value}"}
""", False, "Send the cookies the site set"),

    Mutant("8.2", "bytes decoded to text first, padding from len % 4", """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    padded = text + "=" * ((4 - len(text) % 4) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
""", True),
    Mutant("8.2", "read with ast.literal_eval", """
import ast

def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    return ast.literal_eval(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
""", False, "JSON"),
    Mutant("8.2", "kept for each credential id", """
SEEN = {}

def read_client_data(credential):
    if credential["id"] not in SEEN:
        text = credential["response"]["clientDataJSON"]
        SEEN[credential["id"]] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return SEEN[credential["id"]]
""", False, "clientDataJSON"),
    Mutant("8.2", "only the origin", """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))["origin"]
""", False, "a dict"),
    Mutant("8.2", "the three fields the lesson names, the rest dropped", """
def read_client_data(credential):
    text = credential["response"]["clientDataJSON"]
    data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return {name: data[name] for name in ("type", "challenge", "origin")}
""", False, "this should give"),
    Mutant("8.2", "the padding stripped, not added", """
def read_client_data(credential):
    return json.loads(base64.urlsafe_b64decode(credential["response"]["clientDataJSON"].rstrip("=")))
""", False, "padding"),

    Mutant("8.3", "flags left as numbers", READ_AUTHENTICATOR_DATA.replace(
        '"UP": bool(flags & 0x01), "UV": bool(flags & 0x04), "BE": bool(flags & 0x08), "BS": bool(flags & 0x10)',
        '"UP": flags & 0x01, "UV": flags & 0x04, "BE": flags & 0x08, "BS": flags & 0x10'), False, "True or False"),
    Mutant("8.3", "UP read from 0x40", READ_AUTHENTICATOR_DATA.replace('"UP": bool(flags & 0x01)',
                                                                      '"UP": bool(flags & 0x40)'), False, "UP wrong"),
    Mutant("8.3", "the hash of localhost, whatever rp_id says", READ_AUTHENTICATOR_DATA.replace(
        "hashlib.sha256(rp_id.encode()).digest()", 'hashlib.sha256(b"localhost").digest()'), False, "rp_id_ok"),
    Mutant("8.3", "only the first 8 bytes of rpIdHash compared", READ_AUTHENTICATOR_DATA.replace(
        "data[:32] == hashlib.sha256(rp_id.encode()).digest()", "data[:8] == hashlib.sha256(rp_id.encode()).digest()[:8]"),
           False, "rp_id_ok"),
    Mutant("8.3", "the counter from the last 4 bytes", READ_AUTHENTICATOR_DATA.replace("data[33:37]", "data[-4:]"),
           False, "data[33:37]"),
    Mutant("8.3", "the counter as one byte", READ_AUTHENTICATOR_DATA.replace('struct.unpack(">I", data[33:37])[0]',
                                                                            "data[36]"), False, "the 4 bytes after the flags byte"),

    Mutant("8.4", "labels compared from the right", """
def rp_id_allowed(origin, rp_id):
    parts = urlsplit(origin)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    secure = parts.scheme == "https" or (parts.scheme == "http" and (host == "localhost" or host.endswith(".localhost")))
    if not secure:
        return False
    host_labels, rp_labels = host.split("."), rp_id.split(".")
    if host == rp_id:
        return True
    return len(rp_labels) >= 2 and len(host_labels) > len(rp_labels) and host_labels[-len(rp_labels):] == rp_labels
""", True),
    Mutant("8.4", "the host with its port (netloc)", RP_ID_ALLOWED.replace("host = parts.hostname", "host = parts.netloc"),
           False, "the port is not part of the host name"),
    Mutant("8.4", "an IPv4 pattern for IP addresses", RP_ID_ALLOWED.replace("""    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
""", """    import re
    if re.fullmatch(r"[0-9.]+", host):
        return False
"""), False, "an IP address is never an RP ID"),
    Mutant("8.4", "'localhost' anywhere in the host counts as this machine", RP_ID_ALLOWED.replace(
        'local = host == "localhost" or host.endswith(".localhost")', 'local = "localhost" in host'), False,
           "not a secure context"),
    Mutant("8.4", "only localhost itself over http", RP_ID_ALLOWED.replace(
        'local = host == "localhost" or host.endswith(".localhost")', 'local = host == "localhost"'), False,
           ".localhost"),
    Mutant("8.4", "a single-label RP ID refused even as the host itself", RP_ID_ALLOWED.replace(
        'return host == rp_id or ("." in rp_id and host.endswith("." + rp_id))',
        'return "." in rp_id and (host == rp_id or host.endswith("." + rp_id))'), False, "http://localhost"),

    Mutant("8.5", "the challenge popped after the passkey's row is found", finish().replace(
        '    challenge = session.pop("challenge", None)\n    if challenge is None:\n        return None\n', "").replace(
        "    if row is None:\n        return None\n",
        '    if row is None:\n        return None\n    challenge = session.pop("challenge", None)\n'
        "    if challenge is None:\n        return None\n"), False, "challenge"),
    Mutant("8.5", "a passkey the site never registered crashes", finish().replace(
        "    if row is None:\n        return None\n", ""), False, "never registered"),
    Mutant("8.5", "looked up by the credential's id text", finish().replace("(parsed.raw_id,)", '(credential["id"],)'),
           False, "raw_id"),
    Mutant("8.5", "the old count plus one stored", finish(update="""
    with db:
        moved = db.execute("UPDATE passkeys SET sign_count = ? WHERE id = ? AND sign_count = ?",
                           (row["sign_count"] + 1, row["id"], row["sign_count"])).rowcount
    if moved != 1:
        return None"""), False, "store the new sign count"),
    Mutant("8.5", "the RP ID taken from the origin's host", finish(rp_id="urlsplit(origin).hostname"), False,
           "expected_rp_id must be the rp_id argument"),

    Mutant("8.Q1", "E in capitals", 'answer_8_q1 = "E"', True),
    Mutant("8.Q1", "a and e together", 'answer_8_q1 = "a, e"', False, "answer with the letter"),
    Mutant("8.Q2", "(D) in brackets", 'answer_8_q2 = "(D)"', True),
    Mutant("8.Q2", "the option written out", 'answer_8_q2 = "malware"', False, "answer with the letter"),
]
