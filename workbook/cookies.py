"""Read a Flask session cookie without the secret key, as anyone who sees it can.

Flask signs the cookie so that nobody can change it, but it does not encrypt
it: the part before the first dot is just (compressed) base64 JSON.
"""
import base64
import json
import zlib


def read_session_cookie(value: str):
    """The data inside a Flask session cookie, without checking its signature."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        raw = zlib.decompress(raw)
    return json.loads(raw)


def session_cookie_name(client):
    """The name a Flask test client's app gives its session cookie (each stage app names its own)."""
    return client.application.config["SESSION_COOKIE_NAME"]


def session_cookie(client):
    """The value of the session cookie a Flask test client holds, or None."""
    cookie = client.get_cookie(session_cookie_name(client))
    return cookie.value if cookie else None
