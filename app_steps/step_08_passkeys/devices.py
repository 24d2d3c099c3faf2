"""Device cookies (OWASP's "device cookies"): the browsers an account trusts.

A browser that completes a full login (password and code) gets a cookie with a random id;
the server keeps the id's sha256 per account, for 90 days. Its failed passwords and codes
count on their own (throttle.py), so strangers failing on purpose never close the owner's
way in. Logging out keeps the cookie: it marks the browser, not a session. A new password
or a new phone ends every other browser's trust.
"""
import hashlib
import secrets

from flask import current_app, g, request

from db import get_db

LIFETIME = 90 * 24 * 3600  # seconds


def cookie_name():
    # __Host-: over HTTPS the browser takes this cookie only from this host, path / and Secure.
    prefix = "__Host-" if current_app.config["SESSION_COOKIE_SECURE"] else ""
    return prefix + current_app.config["DEVICE_COOKIE_NAME"]


def _key(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def this_browser():
    """The id hash of this browser's device cookie, or None (no cookie, or not one of ours)."""
    token = request.cookies.get(cookie_name(), "")
    return _key(token) if 20 <= len(token) <= 100 and token.isascii() else None


def trusted(user_id, now):
    """The id hash of this browser if it is trusted for ``user_id``, else None."""
    device = this_browser()
    if device is None:
        return None
    row = get_db().execute("SELECT 1 FROM devices WHERE id_hash = ? AND user_id = ? AND expires > ?",
                           (device, user_id, now)).fetchone()
    return device if row else None


def trust(user_id, now):
    """This browser completed a full login for ``user_id``: trusted for 90 more days.
    True if it was not trusted before (a new browser: a security event)."""
    token = request.cookies.get(cookie_name(), "")
    if this_browser() is None:
        token = secrets.token_urlsafe(32)
    db = get_db()
    known = db.execute("SELECT 1 FROM devices WHERE id_hash = ? AND user_id = ? AND expires > ?",
                       (_key(token), user_id, now)).fetchone()
    db.execute("INSERT OR REPLACE INTO devices (id_hash, user_id, expires) VALUES (?, ?, ?)",
               (_key(token), user_id, now + LIFETIME))
    g.device_cookie = token  # set on the response (set_cookie below)
    return known is None


def forget_all(user_id, db=None, but=None):
    """No browser is trusted for ``user_id`` any more (``but`` the one with this id hash)."""
    (db or get_db()).execute("DELETE FROM devices WHERE user_id = ? AND id_hash IS NOT ?", (user_id, but))


def set_cookie(response):
    token = g.pop("device_cookie", None)
    if token is not None:
        response.set_cookie(cookie_name(), token, max_age=LIFETIME, path="/", httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def purge(now, db=None):
    (db or get_db()).execute("DELETE FROM devices WHERE expires <= ?", (now,))


def init_app(app):
    app.after_request(set_cookie)
