"""TOTP secrets encrypted in the database, so a stolen database file alone gives none of them.

A password can be stored as a hash, because the server only ever compares it. A TOTP
secret cannot: the server needs it back to compute the code. So it is encrypted, with
Fernet (AES in CBC mode plus an HMAC, from ``cryptography``), under keys that live in
the environment (``FLASK_TOTP_ENCRYPTION_KEYS``), never in the database.

MultiFernet takes several keys: the first encrypts, every one of them decrypts. To
rotate, put a new key first and keep the old one after it; at start-up every secret
is encrypted anew under the first key, and after that the old key can go.
"""
import os
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

KEY_FILE = "totp_encryption_keys"  # in the instance folder, for debug mode and local runs only
PLAIN_SECRET = re.compile("[A-Z2-7]{16,}={0,6}")  # a base32 secret written by an older stage 7


def parse_keys(value):
    """The keys of a setting: a comma-separated string, or a list. Raises ValueError if one is not a Fernet key."""
    keys = value.split(",") if isinstance(value, str) else list(value)
    keys = [key.strip() for key in keys if key and key.strip()]
    if not keys:
        raise ValueError("no key in it")
    for key in keys:
        Fernet(key)  # ValueError unless 32 url-safe base64-encoded bytes
    return keys


def key_file_keys(instance_path):
    """The keys kept in the instance folder (made there the first time, readable by its owner only)."""
    path = os.path.join(instance_path, KEY_FILE)
    os.makedirs(instance_path, exist_ok=True)
    if not os.path.exists(path):
        temporary = f"{path}.{os.getpid()}.new"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(Fernet.generate_key().decode("ascii") + "\n")
        try:
            os.link(temporary, path)  # fails if another process made it first: then theirs is used
        except FileExistsError:
            pass
        finally:
            os.remove(temporary)
    with open(path, encoding="ascii") as file:
        return parse_keys(file.read())


def init_app(app, keys):
    app.extensions["totp_fernet"] = MultiFernet([Fernet(key) for key in keys])
    app.extensions["totp_rotating"] = len(keys) > 1


def _fernet():
    return current_app.extensions["totp_fernet"]


def encrypt(secret):
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(stored):
    """The secret, or None if no key given can open it (a database from elsewhere, a key removed too soon)."""
    if stored is None:
        return None
    if PLAIN_SECRET.fullmatch(stored):  # written before secrets were encrypted: encrypt_all() fixes that
        return stored
    try:
        return _fernet().decrypt(stored.encode("ascii")).decode("ascii")
    except InvalidToken:
        return None


def encrypt_all(db):
    """At start-up: encrypt any secret kept in plain text, and encrypt every secret anew under the
    first key (rotation). A secret no key opens is left as it is, with a warning."""
    rows = db.execute("SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL").fetchall()
    unreadable = 0
    for row in rows:
        stored = row["totp_secret"]
        if PLAIN_SECRET.fullmatch(stored):
            new = encrypt(stored)
        elif not current_app.extensions["totp_rotating"]:
            continue
        else:
            try:
                new = _fernet().rotate(stored.encode("ascii")).decode("ascii")
            except InvalidToken:
                unreadable += 1
                continue
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ? AND totp_secret = ?", (new, row["id"], stored))
    if unreadable:
        current_app.logger.warning(
            "%d TOTP secrets cannot be decrypted with TOTP_ENCRYPTION_KEYS: those users cannot log in "
            "until the key they were encrypted with is listed again.", unreadable)
